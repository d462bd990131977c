//! Live configuration: the current `Pipeline` behind an `ArcSwap`, rebuilt on file changes
//! (see `watch`) and SIGHUP. A rebuild is swapped in only when it loaded, validated and
//! compiled completely; a failed one keeps the old pipeline and is recorded in the status
//! that `/readyz` shows (diagnostic headlines only: they never carry secrets).

mod watch;

use crate::config::codes::Code;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::clock::Clock;
use crate::config::operations::StateBackend;
use crate::config::{ConfigSource, Diagnostic, Diagnostics, Environment};
use crate::pipeline::{Pipeline, RestartSettings, build_pipeline_with_clock};
use crate::providers::discovery::SharedDocuments;
use crate::rate_limit::{LocalRateLimiter, RateLimiter};
use crate::session::revocation::RevocationCache;
use crate::state::Shared;
use crate::state::database::DatabaseState;
use crate::state::limiter::SharedRateLimiter;
use crate::state::redis::RedisState;
use crate::store::{Adapter, ConnectError, MeteredAdapter, StoreRegistry};
use crate::telemetry::metrics;
use crate::webhooks::Webhooks;

pub use watch::{WatcherHandle, spawn_watcher};

/// Most diagnostic headlines kept in the status.
const MAX_STATUS_ERRORS: usize = 20;

/// What the last reload did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReloadAttempt {
    /// Unix seconds.
    pub at: u64,
    /// What started it: `file change`, `SIGHUP`, `api`.
    pub trigger: String,
    /// `ok` or `failed`.
    pub result: &'static str,
    pub error_count: usize,
    /// Headlines of the diagnostics, secrets masked.
    pub errors: Vec<String>,
}

/// The reload state `/readyz` reports.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReloadStatus {
    /// Generation of the pipeline being served.
    pub generation: u64,
    /// Unix seconds at which it was swapped in.
    pub loaded_at: u64,
    pub reloads_succeeded: u64,
    pub reloads_failed: u64,
    pub last_reload: Option<ReloadAttempt>,
    /// Settings changed on disk that only take effect after a restart.
    pub needs_restart: Vec<String>,
}

/// The result of one reload.
#[derive(Debug)]
pub enum ReloadOutcome {
    Applied {
        generation: u64,
    },
    Failed(Diagnostics),
    /// The files changed while they were read: nothing was swapped or counted.
    Discarded,
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration has problems.
    Config(Diagnostics),
    /// The database could not be reached or migrated.
    Store(ConnectError),
    /// The store's runtime could not start.
    Runtime(std::io::Error),
    /// The shared state (`state`) could not be set up.
    State(String),
}

/// Builds a pipeline and attaches its store (connecting one when the settings changed).
fn build_served_pipeline(
    source: &ConfigSource,
    env: &dyn Environment,
    generation: u64,
    clock: Arc<dyn Clock>,
    stores: &StoreRegistry,
) -> Result<Pipeline, BuildError> {
    let mut pipeline =
        build_pipeline_with_clock(source, env, generation, clock).map_err(BuildError::Config)?;
    let config_dir = source
        .config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    pipeline.store = stores
        .store_for(pipeline.config.database.as_ref(), &config_dir)
        .map_err(BuildError::Store)?
        .map(|store| -> Arc<dyn Adapter> { Arc::new(MeteredAdapter::new(store)) });
    Ok(pipeline)
}

/// What the server keeps for its whole life and hands to every pipeline it serves, so that
/// a reload does not reset it.
struct ServerState {
    /// The sign-in attempt counts: shared when there is a shared state, else this
    /// process's own.
    limiter: Arc<dyn RateLimiter>,
    /// What the store said about tracked JWT sessions.
    revocations: Arc<RevocationCache>,
    /// The webhook queue.
    webhooks: Arc<Webhooks>,
    /// The state shared with other instances (`state.backend`).
    shared: Option<Arc<Shared>>,
}

impl ServerState {
    /// The server state the first pipeline's settings ask for; background work (webhook
    /// deliveries, following revocations) runs on `runtime`.
    fn new(
        pipeline: &Pipeline,
        stores: &StoreRegistry,
        runtime: &tokio::runtime::Handle,
    ) -> Result<ServerState, String> {
        let revocations = Arc::new(RevocationCache::default());
        let local = Arc::new(LocalRateLimiter::default());
        let shared = match pipeline.config.state.backend {
            StateBackend::Local => None,
            StateBackend::Redis => {
                let config = pipeline
                    .config
                    .state
                    .redis
                    .as_ref()
                    .ok_or("`state.backend: redis` needs `state.redis.url`")?;
                // The connection's own tasks run on the background runtime.
                let _entered = runtime.enter();
                let redis = Arc::new(RedisState::new(config).map_err(|error| error.to_string())?);
                runtime.spawn(redis.follow_revocations(revocations.clone()));
                Some(Arc::new(Shared::new(redis)))
            }
            StateBackend::Database => {
                let store = stores
                    .current()
                    .ok_or("`state.backend: database` needs a `database`")?;
                Some(Arc::new(Shared::new(Arc::new(DatabaseState::new(store)))))
            }
        };
        let limiter: Arc<dyn RateLimiter> = match (&shared, pipeline.secrets.first()) {
            (Some(shared), Some(secret)) => {
                Arc::new(SharedRateLimiter::new(shared.clone(), local, secret)?)
            }
            _ => local,
        };
        Ok(ServerState {
            limiter,
            revocations,
            webhooks: Webhooks::start(runtime, pipeline.config.webhooks.queue),
            shared,
        })
    }

    /// Hands the server's state to a pipeline about to be served.
    fn attach(&self, pipeline: &mut Pipeline) {
        pipeline.rate_limiter = Some(self.limiter.clone());
        pipeline.revocations = Some(self.revocations.clone());
        pipeline.webhooks = Some(self.webhooks.clone());
        pipeline.shared_state = self.shared.clone();
        if let Some(shared) = &self.shared {
            for provider in &pipeline.providers {
                provider.runtime.share_documents(SharedDocuments {
                    shared: shared.clone(),
                    secrets: pipeline.secrets.clone(),
                });
            }
        }
    }
}

enum BuildError {
    Config(Diagnostics),
    Store(ConnectError),
}

/// The pipeline being served, and how to rebuild it.
pub struct LiveConfig {
    current: ArcSwap<Pipeline>,
    status: ArcSwap<ReloadStatus>,
    source: ConfigSource,
    env: Arc<dyn Environment>,
    clock: Arc<dyn Clock>,
    running: RestartSettings,
    reload_lock: Mutex<()>,
    last_generation: AtomicU64,
    stores: StoreRegistry,
    shared: ServerState,
}

impl LiveConfig {
    /// Builds generation 1; the server does not start without it.
    pub fn start(
        source: ConfigSource,
        env: Arc<dyn Environment>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<LiveConfig>, StartError> {
        let stores = StoreRegistry::new().map_err(StartError::Runtime)?;
        let mut pipeline = build_served_pipeline(&source, env.as_ref(), 1, clock.clone(), &stores)
            .map_err(|error| match error {
                BuildError::Config(diagnostics) => StartError::Config(diagnostics),
                BuildError::Store(error) => StartError::Store(error),
            })?;
        let runtime = stores.handle().ok_or_else(|| {
            StartError::Runtime(std::io::Error::other("the store runtime has stopped"))
        })?;
        let shared = ServerState::new(&pipeline, &stores, &runtime).map_err(StartError::State)?;
        shared.attach(&mut pipeline);
        metrics::serving(1, clock.unix_seconds());
        let status = ReloadStatus {
            generation: 1,
            loaded_at: clock.unix_seconds(),
            reloads_succeeded: 0,
            reloads_failed: 0,
            last_reload: None,
            needs_restart: Vec::new(),
        };
        Ok(Arc::new(LiveConfig {
            running: pipeline.restart_settings.clone(),
            current: ArcSwap::from_pointee(pipeline),
            status: ArcSwap::from_pointee(status),
            source,
            env,
            clock,
            reload_lock: Mutex::new(()),
            last_generation: AtomicU64::new(1),
            stores,
            shared,
        }))
    }

    /// The pipeline a request uses from start to end.
    pub fn snapshot(&self) -> Arc<Pipeline> {
        self.current.load_full()
    }

    /// The runtime that runs background store work (the purge).
    pub fn store_runtime(&self) -> Option<tokio::runtime::Handle> {
        self.stores.handle()
    }

    /// The state shared with other instances, when `state.backend` names one.
    pub fn shared_state(&self) -> Option<&Arc<Shared>> {
        self.shared.shared.as_ref()
    }

    pub fn status(&self) -> Arc<ReloadStatus> {
        self.status.load_full()
    }

    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// The settings the server was started with.
    pub fn running_settings(&self) -> &RestartSettings {
        &self.running
    }

    /// Rebuilds from disk and swaps the result in when, and only when, it is complete.
    pub fn reload(&self, trigger: &str) -> ReloadOutcome {
        self.reload_unless_changed(trigger, || false)
    }

    /// Builds generation `generation` from the files, with every failure as diagnostics. A
    /// bug that panics while loading must not end the watcher, and with it every later
    /// reload: it fails this build, loudly, and the old configuration serves on.
    fn build_generation(&self, generation: u64) -> Result<Pipeline, Diagnostics> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            build_served_pipeline(
                &self.source,
                self.env.as_ref(),
                generation,
                self.clock.clone(),
                &self.stores,
            )
            .map(|mut pipeline| {
                self.shared.attach(&mut pipeline);
                pipeline
            })
        }))
        .unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(BuildError::Config(Diagnostics(vec![Diagnostic::error(
                Code::Internal,
                "configuration",
                format!("loading failed on an internal error (a bug; please report it): {message}"),
            )])))
        })
        .map_err(|error| match error {
            BuildError::Config(diagnostics) => diagnostics,
            BuildError::Store(error) => Diagnostics(vec![Diagnostic::error(
                Code::Store,
                "database",
                format!("{error}; keeping the running database"),
            )]),
        })
    }

    /// `reload`, except that a pipeline built while its files changed (`changed_meanwhile`
    /// answers after the build, before the swap) is thrown away: it may hold half of a
    /// write, and the watcher loads again once the files settle.
    pub fn reload_unless_changed(
        &self,
        trigger: &str,
        changed_meanwhile: impl FnOnce() -> bool,
    ) -> ReloadOutcome {
        // One rebuild at a time, so generations are swapped in the order they were built.
        let _guard = self
            .reload_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = self.last_generation.load(Ordering::SeqCst) + 1;
        let now = self.clock.unix_seconds();
        let previous = self.status();
        let built = self.build_generation(generation);
        if built.is_ok() && changed_meanwhile() {
            tracing::warn!(
                trigger,
                "configuration files changed while they were read; not swapping"
            );
            return ReloadOutcome::Discarded;
        }
        match built {
            Ok(pipeline) => {
                self.last_generation.store(generation, Ordering::SeqCst);
                let needs_restart: Vec<String> = pipeline
                    .restart_settings
                    .changed_from(&self.running)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                for setting in &needs_restart {
                    tracing::warn!(setting = %setting, "setting changed on disk; it takes effect after a restart");
                }
                for warning in pipeline.warnings.iter() {
                    tracing::warn!("{}", warning.headline());
                }
                tracing::info!(generation, trigger, summary = %pipeline.summary(), "configuration reloaded");
                metrics::reload(true);
                metrics::serving(generation, now);
                self.current.store(Arc::new(pipeline));
                self.status.store(Arc::new(ReloadStatus {
                    generation,
                    loaded_at: now,
                    reloads_succeeded: previous.reloads_succeeded + 1,
                    reloads_failed: previous.reloads_failed,
                    last_reload: Some(ReloadAttempt {
                        at: now,
                        trigger: trigger.to_string(),
                        result: "ok",
                        error_count: 0,
                        errors: Vec::new(),
                    }),
                    needs_restart,
                }));
                ReloadOutcome::Applied { generation }
            }
            Err(diagnostics) => {
                let errors: Vec<String> = diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .take(MAX_STATUS_ERRORS)
                    .map(|d| d.headline())
                    .collect();
                metrics::reload(false);
                tracing::warn!(
                    trigger,
                    errors = diagnostics.error_count(),
                    serving = previous.generation,
                    "configuration reload failed; keeping the running configuration"
                );
                for diagnostic in diagnostics.iter() {
                    tracing::warn!("{}", diagnostic.headline());
                }
                self.status.store(Arc::new(ReloadStatus {
                    reloads_failed: previous.reloads_failed + 1,
                    last_reload: Some(ReloadAttempt {
                        at: now,
                        trigger: trigger.to_string(),
                        result: "failed",
                        error_count: diagnostics.error_count(),
                        errors,
                    }),
                    ..(*previous).clone()
                }));
                ReloadOutcome::Failed(diagnostics)
            }
        }
    }
}

/// Starts listening for SIGHUP. Call it before the server accepts connections: until the
/// listener exists, SIGHUP keeps its default action and would end the process.
#[cfg(unix)]
pub fn listen_for_sighup() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
}

/// Reloads on every SIGHUP until the process ends.
#[cfg(unix)]
pub async fn reload_on_sighup(mut hangups: tokio::signal::unix::Signal, live: Arc<LiveConfig>) {
    while hangups.recv().await.is_some() {
        let live = live.clone();
        let _ = tokio::task::spawn_blocking(move || live.reload("SIGHUP")).await;
    }
}
