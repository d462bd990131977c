//! The compiled, immutable runtime built from a checked configuration: providers resolved,
//! scripts compiled once to shared ASTs, cookie policy computed. A request reads one
//! `Pipeline` from start to end; a reload builds a new one and swaps it in whole.

use crate::config::codes::Code;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use crate::clock::{Clock, SystemClock};
use crate::config::model::{Config, SessionStrategy};
use crate::config::script_key::{ProviderScript, ScriptKey};
use crate::config::scripts::{configured_scripts, script_source};
use crate::config::semantic::effective_strategy;
use crate::config::{
    Diagnostic, Diagnostics, LoadedConfig, LoadedScript, ProviderConfig, ProviderKind,
};
use crate::email::sender::EmailSender;
use crate::error::AuthError;
use crate::forward_auth::TrustedProxies;
use crate::pages::Pages;
use crate::providers::discovery::ProviderRuntime;
use crate::rate_limit::RateLimiter;
use crate::script::{CompiledScript, ScriptRuntime, compile_script};
use crate::session::cookies::CookiePolicy;
use crate::session::keys::KeyFileText;
use crate::session::keys::SessionKeys;
use crate::session::revocation::RevocationCache;
use crate::store::lookup::PreparedLookup;
use crate::store::{Adapter, Dialect};

/// A provider ready to serve.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    /// Display name (the configured `name`, else the id).
    pub name: String,
    pub kind: ProviderKind,
    /// The merged provider configuration (preset plus overrides).
    pub config: ProviderConfig,
    /// A credentials `lookup`, prepared for the database's dialect.
    pub lookup: Option<PreparedLookup>,
    /// Its position in the merged `providers` list, which keys its scripts.
    pub index: usize,
    /// Discovered endpoints and keys, cached for the pipeline's life.
    pub runtime: Arc<ProviderRuntime>,
    /// An email provider's sender (transport, `from`, templates).
    pub email: Option<Arc<EmailSender>>,
}

/// Settings read once at start; a reload that changes them is reported as needing a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartSettings {
    pub listen: String,
    pub workers: Option<usize>,
    pub shutdown_timeout: u64,
    pub log_level: String,
    pub log_format: crate::config::model::LogFormat,
    pub max_cookie_header_bytes: usize,
    /// The admin listener's address, when it is enabled.
    pub admin_listen: Option<String>,
    pub audit: String,
    pub state: crate::config::operations::StateConfig,
    /// With `state.backend: database`, a digest of the URL of the database the shared
    /// state lives in (never the URL, which may carry a password).
    pub state_database: Option<String>,
    pub webhook_queue: usize,
}

impl RestartSettings {
    /// The settings `config` asks for.
    pub fn of(config: &Config) -> RestartSettings {
        RestartSettings {
            listen: config.server.listen.clone(),
            workers: config.server.workers,
            shutdown_timeout: config.server.shutdown_timeout.seconds(),
            log_level: config.logging.level.clone(),
            log_format: config.logging.format,
            max_cookie_header_bytes: config.server.max_cookie_header_bytes,
            admin_listen: config
                .server
                .admin
                .enabled
                .then(|| config.server.admin.listen.clone()),
            audit: config.logging.audit.clone(),
            state: config.state.clone(),
            state_database: (config.state.backend
                == crate::config::operations::StateBackend::Database)
                .then_some(config.database.as_ref())
                .flatten()
                .map(|database| {
                    use sha2::Digest;
                    crate::text::lower_hex(&sha2::Sha256::digest(database.url.expose().as_bytes()))
                }),
            webhook_queue: config.webhooks.queue,
        }
    }

    /// Names of the settings that differ, for "needs restart" reports.
    pub fn changed_from(&self, running: &RestartSettings) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.listen != running.listen {
            changed.push("server.listen");
        }
        if self.workers != running.workers {
            changed.push("server.workers");
        }
        if self.shutdown_timeout != running.shutdown_timeout {
            changed.push("server.shutdownTimeout");
        }
        if self.log_level != running.log_level {
            changed.push("logging.level");
        }
        if self.log_format != running.log_format {
            changed.push("logging.format");
        }
        if self.max_cookie_header_bytes != running.max_cookie_header_bytes {
            changed.push("server.maxCookieHeaderBytes");
        }
        if self.admin_listen != running.admin_listen {
            changed.push("server.admin");
        }
        if self.audit != running.audit {
            changed.push("logging.audit");
        }
        if self.state != running.state || self.state_database != running.state_database {
            changed.push("state");
        }
        if self.webhook_queue != running.webhook_queue {
            changed.push("webhooks.queue");
        }
        changed
    }
}

/// The live runtime of one configuration generation.
pub struct Pipeline {
    pub generation: u64,
    pub config: Arc<Config>,
    /// The public base URL, without a trailing slash.
    pub base_url: String,
    /// `basePath` without a trailing slash (empty when it is `/`).
    pub base_path: String,
    /// The origin of the configured `url`, worked out once.
    pub configured_origin: crate::actions::RequestOrigin,
    /// Newest first.
    pub secrets: Vec<String>,
    pub session_keys: SessionKeys,
    pub providers: Vec<Provider>,
    provider_index: HashMap<String, usize>,
    /// The cookies for the configured `url`.
    pub cookies: CookiePolicy,
    /// The cookies for a request a trusted proxy says is https (with `trustHost`).
    https_cookies: CookiePolicy,
    pub session_strategy: SessionStrategy,
    scripts: HashMap<ScriptKey, CompiledScript>,
    pub scripts_runtime: ScriptRuntime,
    /// What a password check for an unknown user verifies (`passwords.cost`).
    pub password_dummy: crate::password::DummyHash,
    pub clock: Arc<dyn Clock>,
    pub restart_settings: RestartSettings,
    pub watched_files: BTreeSet<PathBuf>,
    pub warnings: Diagnostics,
    /// The database, when one is configured and the pipeline is served (`authgate check`
    /// builds pipelines without connecting).
    pub store: Option<Arc<dyn Adapter>>,
    /// The sign-in attempt limits, when the pipeline is served: one limiter for the life of
    /// the server, so a reload does not reset the counts.
    pub rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// What the store said about tracked JWT sessions, when the pipeline is served: one
    /// cache for the life of the server.
    pub revocations: Option<Arc<RevocationCache>>,
    /// The built-in pages' templates, wording and theme.
    pub pages: Pages,
    /// The peers whose forward-auth headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// The sessions forward-auth read recently.
    pub forward_auth_sessions: crate::forward_auth::session_cache::SessionCache,
    /// The webhook queue, when the pipeline is served: one for the life of the server.
    pub webhooks: Option<Arc<crate::webhooks::Webhooks>>,
    /// The state shared with other instances (`state.backend`), when the pipeline is
    /// served with one.
    pub shared_state: Option<Arc<crate::state::Shared>>,
}

impl std::fmt::Debug for Pipeline {
    // Hand-written so that secrets can never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("generation", &self.generation)
            .field("base_url", &self.base_url)
            .field("base_path", &self.base_path)
            .field(
                "providers",
                &self.providers.iter().map(|p| &p.id).collect::<Vec<_>>(),
            )
            .field("session_strategy", &self.session_strategy)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Compiles a checked configuration; script syntax errors come back as diagnostics.
    pub fn compile(
        loaded: LoadedConfig,
        generation: u64,
        clock: Arc<dyn Clock>,
    ) -> Result<Pipeline, Diagnostics> {
        let config = loaded.config;
        let mut diagnostics = loaded.diagnostics;
        // Made per configuration (and remembered by cost), never from a request. A bad cost
        // is already a semantic error.
        let password_dummy = match crate::password::DummyHash::for_cost(&config.passwords.cost) {
            Ok(dummy) => dummy,
            Err(error) => {
                if !diagnostics.has_errors() {
                    diagnostics.push(Diagnostic::error(
                        Code::Passwords,
                        "passwords.cost",
                        error.to_string(),
                    ));
                }
                return Err(diagnostics);
            }
        };
        let runtime = ScriptRuntime::new(&config.scripting, clock.clone(), password_dummy.clone());
        let scripts = compile_scripts(&runtime, &config, &loaded.scripts, &mut diagnostics);
        // The semantic rules already reported an unusable `url`.
        let base_url = Url::parse(&config.url)
            .map(|url| url.as_str().trim_end_matches('/').to_string())
            .unwrap_or_default();
        let https = base_url.starts_with("https://");
        let cookies = CookiePolicy::new(&config.cookies, https);
        let https_cookies = CookiePolicy::new(&config.cookies, true);
        let secrets: Vec<String> = config
            .secret
            .all()
            .into_iter()
            .map(str::to_string)
            .collect();
        let session_keys = session_keys(
            &config,
            &secrets,
            &loaded.key_files,
            [&cookies, &https_cookies],
            &mut diagnostics,
        );
        let mut senders = email_senders(&config, &loaded.email_ca_files, &mut diagnostics);
        let pages = Pages::new(&config, &loaded.page_templates)
            .map_err(|errors| diagnostics.0.extend(errors))
            .ok();
        let (false, Some(session_keys), Some(pages)) =
            (diagnostics.has_errors(), session_keys, pages)
        else {
            diagnostics.0.sort_by_key(|d| !d.is_error());
            return Err(diagnostics);
        };
        let (providers, provider_index) = serving_providers(&config, &mut senders);
        let base_path = config.base_path.trim_end_matches('/').to_string();
        let configured_origin = crate::actions::RequestOrigin::of_url(&base_url, &base_path);
        Ok(Pipeline {
            generation,
            base_url,
            base_path,
            configured_origin,
            secrets,
            session_keys,
            cookies,
            https_cookies,
            session_strategy: effective_strategy(&config),
            restart_settings: RestartSettings::of(&config),
            providers,
            provider_index,
            scripts,
            scripts_runtime: runtime,
            password_dummy,
            clock,
            watched_files: loaded.watched_files,
            warnings: diagnostics,
            store: None,
            rate_limiter: None,
            revocations: None,
            pages,
            trusted_proxies: TrustedProxies::new(&config.forward_auth.trusted_proxies),
            forward_auth_sessions: Default::default(),
            webhooks: None,
            shared_state: None,
            config: Arc::new(config),
        })
    }

    /// The cookie policy for a request whose effective scheme is https or not.
    pub fn cookie_policy(&self, https: bool) -> &CookiePolicy {
        if https && !self.base_url.starts_with("https://") {
            &self.https_cookies
        } else {
            &self.cookies
        }
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.provider_index
            .get(id)
            .and_then(|index| self.providers.get(*index))
    }

    /// The compiled script under `key`: `None` when the configuration has none there, and
    /// an error when it has one that was not compiled. Compiling already refuses that case;
    /// this keeps a missing script from ever reading as "no script" (for `signIn`: allow).
    pub fn script(&self, key: ScriptKey) -> Result<Option<&CompiledScript>, AuthError> {
        match (self.scripts.get(&key), script_source(&self.config, key)) {
            (Some(script), _) => Ok(Some(script)),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(AuthError::configuration(format!(
                "{key} is configured but was not compiled"
            ))),
        }
    }

    /// Whether the configuration has a script under `key` (compiled or not: running it
    /// fails when it was not).
    pub fn has_script(&self, key: ScriptKey) -> bool {
        script_source(&self.config, key).is_some()
    }

    /// Whether running the script under `key` may stall an async worker (see
    /// `script::blocking`): it must then run on the blocking pool. A configured script
    /// that was not compiled counts as one that may.
    pub fn script_may_block(&self, key: ScriptKey) -> bool {
        match self.scripts.get(&key) {
            Some(script) => script.may_block,
            None => self.has_script(key),
        }
    }

    /// A script of `provider`.
    pub fn provider_script(
        &self,
        provider: &Provider,
        script: ProviderScript,
    ) -> Result<Option<&CompiledScript>, AuthError> {
        self.script(ScriptKey::Provider(provider.index, script))
    }

    pub fn script_count(&self) -> usize {
        self.scripts.len()
    }

    /// Secrets as `&str`, newest first.
    pub fn secret_refs(&self) -> Vec<&str> {
        self.secrets.iter().map(String::as_str).collect()
    }

    /// `https://host/api/auth/<action>`.
    pub fn action_url(&self, action: &str) -> String {
        format!("{}{}/{action}", self.base_url, self.base_path)
    }

    /// One line for `authgate check` and the start-up log.
    pub fn summary(&self) -> String {
        let ids: Vec<&str> = self.providers.iter().map(|p| p.id.as_str()).collect();
        let store = match &self.config.database {
            Some(database) => database
                .url
                .expose()
                .split_once(':')
                .map(|(scheme, _)| scheme.to_string())
                .unwrap_or_else(|| "unknown".into()),
            None => "none".into(),
        };
        let noun = if ids.len() == 1 {
            "provider"
        } else {
            "providers"
        };
        let list = if ids.is_empty() {
            String::new()
        } else {
            format!(" ({})", ids.join(", "))
        };
        format!(
            "{} {noun}{list}, session strategy {}, store {store}",
            ids.len(),
            self.session_strategy.as_str()
        )
    }
}

/// Every script compiled once, by key. A configured script the pipeline cannot find would
/// read as "no script", which for `signIn` means allow: it is a build error instead.
fn compile_scripts(
    runtime: &ScriptRuntime,
    config: &Config,
    loaded: &[LoadedScript],
    diagnostics: &mut Diagnostics,
) -> HashMap<ScriptKey, CompiledScript> {
    let mut scripts = HashMap::new();
    for script in loaded {
        match compile_script(runtime.engine(), script) {
            Ok(compiled) => {
                scripts.insert(script.key, compiled);
            }
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if !diagnostics.has_errors() {
        for (key, _) in configured_scripts(config) {
            if !scripts.contains_key(&key) {
                diagnostics.push(Diagnostic::error(
                    Code::Script,
                    key.to_string(),
                    "the script is configured but was not loaded",
                ));
            }
        }
    }
    scripts
}

/// The token keys, for the session cookie's name under both cookie policies. Key problems
/// the semantic rules already named are not repeated.
fn session_keys(
    config: &Config,
    secrets: &[String],
    key_files: &[KeyFileText],
    policies: [&CookiePolicy; 2],
    diagnostics: &mut Diagnostics,
) -> Option<SessionKeys> {
    let keys = SessionKeys::new(
        config.jwt.algorithm,
        config.jwt.encryption,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
        key_files,
        &policies.map(|policy| policy.session_token.name.as_str()),
    );
    match keys {
        Ok(keys) => Some(keys),
        Err(_) if diagnostics.has_errors() => None,
        Err(error) => {
            let path = match error.index {
                Some(index) => format!("jwt.keys[{index}]"),
                None => "jwt".to_string(),
            };
            diagnostics.push(Diagnostic::error(Code::Keys, path, error.message));
            None
        }
    }
}

/// The providers in their order, and their positions by id. A provider's `index` is its
/// position in the merged `providers` list, which keys its scripts.
fn serving_providers(
    config: &Config,
    senders: &mut HashMap<usize, Arc<EmailSender>>,
) -> (Vec<Provider>, HashMap<String, usize>) {
    let dialect = config
        .database
        .as_ref()
        .and_then(|database| Dialect::of_url(database.url.expose()));
    let mut providers = Vec::new();
    let mut provider_index = HashMap::new();
    for (index, provider) in config.providers.iter().enumerate() {
        let (Some(id), Some(kind)) = (provider.id.clone(), provider.kind) else {
            continue;
        };
        provider_index.insert(id.clone(), providers.len());
        let lookup = match (&provider.lookup, dialect) {
            (Some(lookup), Some(dialect)) => Some(PreparedLookup::new(&lookup.query, dialect)),
            _ => None,
        };
        providers.push(Provider {
            name: provider.name.clone().unwrap_or_else(|| id.clone()),
            id,
            kind,
            config: provider.clone(),
            lookup,
            index,
            runtime: Arc::default(),
            email: senders.remove(&index),
        });
    }
    (providers, provider_index)
}

/// The sender of each email provider, by position. A field that cannot be used is an
/// error at that field (the semantic rules already reported missing ones).
fn email_senders(
    config: &Config,
    ca_files: &BTreeMap<usize, String>,
    diagnostics: &mut Diagnostics,
) -> HashMap<usize, Arc<EmailSender>> {
    let mut senders = HashMap::new();
    for (index, provider) in config.providers.iter().enumerate() {
        if provider.kind != Some(ProviderKind::Email) {
            continue;
        }
        match EmailSender::build(provider, ca_files.get(&index).map(String::as_str)) {
            Ok(sender) => {
                senders.insert(index, Arc::new(sender));
            }
            Err(_) if diagnostics.has_errors() => {}
            Err(error) => diagnostics.push(Diagnostic::error(
                Code::Email,
                format!("providers[{index}].{}", error.field.replace('/', ".")),
                error.message,
            )),
        }
    }
    senders
}

/// Loads, checks and compiles in one step (`authgate check` and every reload), on the
/// wall clock.
pub fn build_pipeline(
    source: &crate::config::ConfigSource,
    env: &dyn crate::config::Environment,
    generation: u64,
) -> Result<Pipeline, Diagnostics> {
    build_pipeline_with_clock(source, env, generation, Arc::new(SystemClock))
}

/// [`build_pipeline`] with the clock scripts and sessions use.
pub fn build_pipeline_with_clock(
    source: &crate::config::ConfigSource,
    env: &dyn crate::config::Environment,
    generation: u64,
    clock: Arc<dyn Clock>,
) -> Result<Pipeline, Diagnostics> {
    let loaded = crate::config::load_config(source, env)?;
    Pipeline::compile(loaded, generation, clock)
}
