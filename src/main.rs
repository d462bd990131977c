//! The `authgate` command: a thin CLI over the library (serve, check, schema, providers).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use authgate::clock::SystemClock;
use authgate::config::model::LogFormat;
use authgate::config::presets::load_presets;
use authgate::config::schema::{SchemaKind, schema_text};
use authgate::config::{ConfigSource, Diagnostics, ProcessEnvironment, ProviderConfig};
use authgate::pipeline::build_pipeline;
use authgate::reload::{
    LiveConfig, StartError, listen_for_sighup, reload_on_sighup, spawn_watcher,
};
use authgate::store::purge::purge_periodically;
use authgate::store::{Adapter, SqlStore, StoreRegistry};
use authgate::telemetry::audit::AuditOutput;

/// mimalloc instead of the system allocator: a session read makes a few hundred small
/// allocations, and glibc's malloc and free were an eighth of its time (`perf`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "authgate",
    version,
    about = "An Auth.js-compatible auth server configured in YAML"
)]
struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "AUTHGATE_CONFIG",
        default_value = "authgate.yaml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default), reloading the configuration when its files change.
    Serve,
    /// Validate the configuration and report every problem found.
    Check {
        /// Also list the providers with their endpoints (human format only).
        #[arg(long)]
        verbose: bool,
        /// How to report: `human` (on stderr), or `json` / `sarif` (on stdout, every
        /// diagnostic with its file, range, severity and code).
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
    },
    /// Serve the Language Server Protocol on stdio, for editors: the diagnostics of
    /// `check` as you type, preset completion after `use:`, and hover documentation.
    Lsp,
    /// Print a JSON Schema for editors and CI.
    Schema {
        #[arg(value_enum, default_value_t = SchemaChoice::Config)]
        which: SchemaChoice,
    },
    /// List the provider presets and the fields each one needs.
    Providers,
    /// Session-token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Hash a password (read from standard input) with argon2id, for `verify_password`.
    HashPassword,
    /// Apply the database migrations (the server also applies them at start).
    Migrate,
    /// Users in the configured database. A user is named by id or by email.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// A user's sessions in the configured database.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// A page of users, by id, as JSON.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// One user with their linked accounts and sessions.
    Show { user: String },
    /// Disable a user: no sign-in by any method, and every session ends.
    Disable { user: String },
    /// Enable a disabled user again.
    Enable { user: String },
    /// Delete a user with their accounts and sessions.
    Delete { user: String },
    /// List stored emails not in the one spelling authgate compares (trimmed, lowercased,
    /// the domain in its ASCII form), written before it normalised them; `--apply`
    /// rewrites them. Users whose emails are one mailbox once normalised are listed and
    /// left alone.
    NormalizeEmails {
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// A user's active sessions (database and JWT).
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke one session of a user (`--id`), or all of them (`--all`).
    Revoke {
        #[arg(long)]
        user: String,
        #[arg(long, conflicts_with = "id", required_unless_present = "id")]
        all: bool,
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new private key as a JWK and as PEM.
    Generate {
        #[arg(long, value_enum)]
        alg: KeyAlgorithm,
        /// Key id to put in the JWK.
        #[arg(long)]
        kid: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum KeyAlgorithm {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "PS256")]
    Ps256,
    #[value(name = "ES256")]
    Es256,
    #[value(name = "EdDSA")]
    EdDsa,
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaChoice {
    /// `authgate.yaml`.
    Config,
    /// A file in `providers.d/`.
    Provider,
}

fn main() -> ExitCode {
    // Before anything else, while this is the only thread and no other descriptor is open.
    let activation = authgate::http::socket_activation::take_passed_socket();
    let cli = Cli::parse();
    let source = ConfigSource::new(&cli.config);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(source, activation),
        Command::Check { verbose, format } => Ok(check(&source, verbose, format)),
        Command::Lsp => authgate::lsp::run(&source.config_path).map(|()| ExitCode::SUCCESS),
        Command::Schema { which } => {
            let kind = match which {
                SchemaChoice::Config => SchemaKind::Config,
                SchemaChoice::Provider => SchemaKind::Provider,
            };
            print!("{}", schema_text(kind));
            Ok(ExitCode::SUCCESS)
        }
        Command::Providers => Ok(list_providers()),
        Command::Keys {
            command: KeysCommand::Generate { alg, kid },
        } => generate_key(alg, kid),
        Command::HashPassword => hash_password(),
        Command::Migrate => migrate(&source),
        Command::Users { command } => administer(&source, Administration::Users(command)),
        Command::Sessions { command } => administer(&source, Administration::Sessions(command)),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    })
}

fn print_diagnostics(diagnostics: &Diagnostics) {
    for diagnostic in diagnostics.iter() {
        eprintln!("{diagnostic}");
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
    Sarif,
}

fn check(source: &ConfigSource, verbose: bool, format: CheckFormat) -> ExitCode {
    let built = build_pipeline(source, &ProcessEnvironment, 1);
    // Through the loader's reader: a FIFO or `/dev/zero` named by a diagnostic is not read.
    let read =
        |file: &str| authgate::config::files::read_text_file(std::path::Path::new(file), file).ok();
    let report = |diagnostics: &Diagnostics| match format {
        CheckFormat::Human => None,
        CheckFormat::Json => Some(authgate::config::report::json(diagnostics, &read)),
        CheckFormat::Sarif => Some(authgate::config::report::sarif(
            diagnostics,
            &read,
            env!("CARGO_PKG_VERSION"),
        )),
    };
    let diagnostics = match &built {
        Ok(pipeline) => &pipeline.warnings,
        Err(diagnostics) => diagnostics,
    };
    if let Some(report) = report(diagnostics) {
        println!("{report:#}");
        return if built.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    match built {
        Ok(pipeline) => {
            print_diagnostics(&pipeline.warnings);
            println!(
                "ok: {}: {}",
                source.config_path.display(),
                pipeline.summary()
            );
            if verbose {
                for provider in &pipeline.providers {
                    println!(
                        "  {:<16} {:<12} {}",
                        provider.id,
                        provider.kind.as_str(),
                        pipeline.action_url(&format!("callback/{}", provider.id))
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            print_diagnostics(&diagnostics);
            let count = diagnostics.error_count();
            eprintln!(
                "error: {} has {count} {}",
                source.config_path.display(),
                if count == 1 { "problem" } else { "problems" }
            );
            ExitCode::FAILURE
        }
    }
}

fn list_providers() -> ExitCode {
    let (presets, diagnostics) = load_presets();
    println!("{:<24} {:<28} {:<12} needs", "preset", "name", "type");
    for preset in presets.values() {
        let provider: ProviderConfig =
            serde_json::from_value(preset.value().clone()).unwrap_or_default();
        let needs: Vec<&str> = provider.requires.iter().map(|field| field.key()).collect();
        println!(
            "{:<24} {:<28} {:<12} {}",
            preset.id,
            provider.name.as_deref().unwrap_or(&preset.id),
            provider.kind.map(|kind| kind.as_str()).unwrap_or("-"),
            if needs.is_empty() {
                "-".to_string()
            } else {
                needs.join(", ")
            }
        );
    }
    if diagnostics.is_empty() {
        ExitCode::SUCCESS
    } else {
        print_diagnostics(&Diagnostics(diagnostics));
        ExitCode::FAILURE
    }
}

fn generate_key(alg: KeyAlgorithm, kid: Option<String>) -> anyhow::Result<ExitCode> {
    use josekit::jwk::KeyPair;
    let (pair, name): (Box<dyn KeyPair>, &str) = match alg {
        KeyAlgorithm::Rs256 => (
            Box::new(josekit::jws::RS256.generate_key_pair(2048)?),
            "RS256",
        ),
        KeyAlgorithm::Ps256 => (
            Box::new(josekit::jws::PS256.generate_key_pair(2048)?),
            "PS256",
        ),
        KeyAlgorithm::Es256 => (Box::new(josekit::jws::ES256.generate_key_pair()?), "ES256"),
        KeyAlgorithm::EdDsa => (
            Box::new(
                josekit::jws::EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519)?,
            ),
            "EdDSA",
        ),
    };
    let mut jwk = pair.to_jwk_key_pair();
    jwk.set_algorithm(name);
    jwk.set_key_use("sig");
    jwk.set_key_id(kid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()));
    println!("{}", serde_json::to_string_pretty(jwk.as_ref())?);
    print!("{}", String::from_utf8(pair.to_pem_private_key())?);
    Ok(ExitCode::SUCCESS)
}

fn hash_password() -> anyhow::Result<ExitCode> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password")?;
    let password = line.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    println!("{}", authgate::password::hash_password(password)?);
    Ok(ExitCode::SUCCESS)
}

/// The exit code when the database cannot be reached or migrated at start.
const EXIT_DATABASE_UNAVAILABLE: u8 = 3;

/// The configured database, migrated, with the runtime that drives it; or the exit code
/// of why there is none.
fn open_store(
    source: &ConfigSource,
    what: &str,
) -> anyhow::Result<Result<(StoreRegistry, Arc<SqlStore>), ExitCode>> {
    let pipeline = match build_pipeline(source, &ProcessEnvironment, 1) {
        Ok(pipeline) => pipeline,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics);
            eprintln!("error: the configuration has problems; {what}");
            return Ok(Err(ExitCode::FAILURE));
        }
    };
    let Some(database) = pipeline.config.database.as_ref() else {
        anyhow::bail!("the configuration has no `database` section");
    };
    let config_dir = source
        .config_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let stores = StoreRegistry::new().context("cannot start the store runtime")?;
    match stores.store_for(Some(database), &config_dir) {
        Ok(Some(store)) => Ok(Ok((stores, store))),
        Ok(None) => anyhow::bail!("the configuration has no `database` section"),
        Err(error) => {
            eprintln!("error: {error}");
            Ok(Err(ExitCode::from(EXIT_DATABASE_UNAVAILABLE)))
        }
    }
}

fn migrate(source: &ConfigSource) -> anyhow::Result<ExitCode> {
    Ok(match open_store(source, "nothing was migrated")? {
        Ok((_stores, store)) => {
            println!("ok: the {} database is migrated", store.dialect().name());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    })
}

enum Administration {
    Users(UsersCommand),
    Sessions(SessionsCommand),
}

/// `authgate users ...` and `authgate sessions ...`: the admin operations on the
/// configured database, printing JSON.
fn administer(source: &ConfigSource, command: Administration) -> anyhow::Result<ExitCode> {
    let (stores, store) = match open_store(source, "nothing was done")? {
        Ok(opened) => opened,
        Err(code) => return Ok(code),
    };
    let runtime = stores.handle().context("the store runtime has stopped")?;
    let now = i64::try_from(authgate::clock::Clock::unix_seconds(&SystemClock)).unwrap_or(i64::MAX);
    let store: &dyn Adapter = store.as_ref();
    let (who, operation) = match command {
        Administration::Users(UsersCommand::List { limit, offset }) => {
            let listed = runtime.block_on(authgate::admin::list_users(store, limit, offset));
            return Ok(print_answer(listed.map(Some)));
        }
        Administration::Users(UsersCommand::NormalizeEmails { apply }) => {
            let answer = runtime.block_on(authgate::admin::normalize_emails(store, apply));
            return Ok(print_answer(answer.map(Some)));
        }
        Administration::Users(UsersCommand::Show { user }) => (user, UserOperation::Show),
        Administration::Users(UsersCommand::Disable { user }) => (user, UserOperation::Disable),
        Administration::Users(UsersCommand::Enable { user }) => (user, UserOperation::Enable),
        Administration::Users(UsersCommand::Delete { user }) => (user, UserOperation::Delete),
        Administration::Sessions(SessionsCommand::List { user }) => (user, UserOperation::Sessions),
        Administration::Sessions(SessionsCommand::Revoke { user, id, .. }) => {
            (user, UserOperation::Revoke(id))
        }
    };
    let result = runtime.block_on(async {
        use authgate::admin;
        let user = match operation {
            UserOperation::Sessions | UserOperation::Revoke(_) => {
                admin::find_session_owner(store, &who, now).await?
            }
            _ => admin::find_user(store, &who).await?,
        };
        let Some(user) = user else {
            return Ok(None);
        };
        let answer = match operation {
            UserOperation::Show => admin::show_user(store, &user, now).await?,
            UserOperation::Disable => admin::set_disabled(store, &user, true, now).await?,
            UserOperation::Enable => admin::set_disabled(store, &user, false, now).await?,
            UserOperation::Delete => admin::delete_user(store, &user).await?,
            UserOperation::Sessions => admin::list_sessions(store, &user, now).await?,
            UserOperation::Revoke(id) => {
                admin::revoke_sessions(store, &user, id.as_deref(), now).await?
            }
        };
        Ok(Some(answer))
    });
    Ok(print_answer(result))
}

/// What `authgate users` and `authgate sessions` do to one user.
enum UserOperation {
    Show,
    Disable,
    Enable,
    Delete,
    Sessions,
    Revoke(Option<String>),
}

/// Prints an admin answer as JSON; the exit code says how it went.
fn print_answer(
    result: Result<Option<serde_json::Value>, authgate::store::StoreError>,
) -> ExitCode {
    match result {
        Ok(Some(answer)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&answer).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("error: no user has this id or email");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_DATABASE_UNAVAILABLE)
        }
    }
}

fn init_tracing(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours off: the writer escapes every control character, ESC included.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(|| authgate::log_output::EscapingStderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn serve(
    source: ConfigSource,
    activation: authgate::http::socket_activation::Activation,
) -> anyhow::Result<ExitCode> {
    // First, so that what starting records (the serving generation) is kept.
    authgate::telemetry::metrics::install();
    let live = match LiveConfig::start(source, Arc::new(ProcessEnvironment), Arc::new(SystemClock))
    {
        Ok(live) => live,
        Err(StartError::Config(diagnostics)) => {
            print_diagnostics(&diagnostics);
            eprintln!("error: the configuration has problems; authgate did not start");
            return Ok(ExitCode::FAILURE);
        }
        Err(StartError::Store(error)) => {
            eprintln!("error: {error}; authgate did not start");
            return Ok(ExitCode::from(EXIT_DATABASE_UNAVAILABLE));
        }
        Err(StartError::Runtime(error)) => {
            return Err(error).context("cannot start the store runtime");
        }
        Err(StartError::State(error)) => {
            eprintln!("error: {error}; authgate did not start");
            return Ok(ExitCode::FAILURE);
        }
    };
    let settings = live.running_settings().clone();
    init_tracing(&settings.log_level, settings.log_format);
    if let Some(warning) = authgate::telemetry::backtraces::warning() {
        tracing::warn!("{warning}");
    }
    if let (Some(shared), Some(runtime)) = (live.shared_state(), live.store_runtime()) {
        // From the background runtime, where the connection's own tasks then run.
        if runtime.block_on(shared.answers()) {
            tracing::info!(backend = shared.backend(), "shared state answers");
        } else {
            tracing::error!(
                backend = shared.backend(),
                "shared state does not answer; each instance uses its own state until it does"
            );
        }
    }
    let audit = AuditOutput::parse(&settings.audit, &live.source().config_dir());
    authgate::telemetry::audit::install(&audit)
        .with_context(|| format!("cannot open the audit log {:?}", settings.audit))?;
    if let Some(note) = &activation.note {
        tracing::info!("{note}");
    }
    let pipeline = live.snapshot();
    for warning in pipeline.warnings.iter() {
        tracing::warn!("{}", warning.headline());
    }
    tracing::info!(generation = pipeline.generation, summary = %pipeline.summary(), "configuration loaded");
    drop(pipeline);
    let _watcher = spawn_watcher(live.clone()).context("cannot watch the configuration files")?;
    if let Some(store_runtime) = live.store_runtime() {
        store_runtime.spawn(purge_periodically(Arc::downgrade(&live)));
        store_runtime.spawn(authgate::telemetry::metrics::upkeep_periodically());
    }
    actix_web::rt::System::new().block_on(async move {
        match listen_for_sighup() {
            Ok(hangups) => {
                actix_web::rt::spawn(reload_on_sighup(hangups, live.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP; reload on signal is off")
            }
        }
        authgate::http::serve(live, activation.listener)
            .await
            .with_context(|| format!("cannot serve on {}", settings.listen))
    })?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
