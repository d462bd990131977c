//! State that several instances must share: sign-in attempt counts (`limiter`), revocation
//! announcements, the refresh-token lock and its result, and the OAuth discovery and JWKS
//! documents. `state.backend` picks Redis (`redis`) or the database (`database`); without
//! one, each process keeps its own (right for a single instance).
//!
//! A shared backend can fail. Every use goes through `Shared`, which counts the failure,
//! logs it at most once a minute, and stops asking for a moment (a circuit breaker), so
//! that an outage costs no request more than one timeout. Each caller then falls back to
//! its per-process state: limits count per instance, a refresh is single-flight per
//! instance, and revocations are seen through the store within the staleness bound.

pub mod database;
pub mod gcra;
pub mod limiter;
pub mod redis;
pub mod sealed;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::telemetry::metrics;

/// A shared backend's failure, for the log (never shown to a client).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StateError(pub String);

/// The operations a shared backend offers. Keys are authgate's own (never raw user
/// input); values are short text.
#[async_trait]
pub trait SharedState: Send + Sync {
    /// `redis` or `database`.
    fn backend(&self) -> &'static str;
    /// A round trip.
    async fn ping(&self) -> Result<(), StateError>;
    /// One attempt under `key` by the GCRA (`gcra`): `None` when admitted, else how long
    /// until the next attempt would be.
    async fn admit(
        &self,
        key: &str,
        interval_ms: i64,
        burst_ms: i64,
    ) -> Result<Option<Duration>, StateError>;
    /// Stores `value` under `key` for `ttl` unless a value is there; whether it was stored.
    async fn insert_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StateError>;
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StateError>;
    async fn get(&self, key: &str) -> Result<Option<String>, StateError>;
    async fn delete(&self, key: &str) -> Result<(), StateError>;
    /// Deletes `key` only while it holds `value` (a lock released by its holder only).
    async fn release(&self, key: &str, value: &str) -> Result<(), StateError>;
    /// Tells every instance that sessions of `user_id` were revoked. A backend that cannot
    /// broadcast does nothing: the store's answer is then seen within the staleness bound.
    async fn announce_revocation(&self, user_id: &str) -> Result<(), StateError>;
}

/// How long a failed backend is left alone before it is asked again.
const BREAK_FOR: Duration = Duration::from_secs(2);
/// The longest one call may take, whatever the backend's own timeouts (a database pool
/// waiting for a connection, a Redis reconnect).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Failures are logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The server's shared backend, behind the circuit breaker.
pub struct Shared {
    backend: Arc<dyn SharedState>,
    /// `monotonic_ms` until which the backend is not asked.
    open_until: AtomicU64,
    /// `monotonic_ms` of the last logged failure, or `NEVER`.
    logged_at: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("backend", &self.backend.backend())
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the first call: a monotonic clock, which no clock step moves.
fn monotonic_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(std::time::Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// `logged_at` before any failure was logged.
const NEVER: u64 = u64::MAX;

impl Shared {
    pub fn new(backend: Arc<dyn SharedState>) -> Shared {
        Shared {
            backend,
            open_until: AtomicU64::new(0),
            logged_at: AtomicU64::new(NEVER),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.backend.backend()
    }

    fn available(&self) -> bool {
        monotonic_ms() >= self.open_until.load(Ordering::Relaxed)
    }

    /// Whether the backend answers now (for the metrics and `/readyz`).
    pub async fn answers(&self) -> bool {
        self.call("ping", |backend| async move { backend.ping().await })
            .await
            .is_some()
    }

    /// Runs `call` on the backend unless the breaker is open; `None` when the backend is
    /// unavailable (the caller falls back).
    pub async fn call<T, F, Fut>(&self, operation: &'static str, call: F) -> Option<T>
    where
        F: FnOnce(Arc<dyn SharedState>) -> Fut,
        Fut: Future<Output = Result<T, StateError>>,
    {
        if !self.available() {
            metrics::shared_state_error(operation);
            return None;
        }
        let answered = tokio::time::timeout(CALL_TIMEOUT, call(self.backend.clone()))
            .await
            .unwrap_or_else(|_| Err(StateError(format!("no answer within {CALL_TIMEOUT:?}"))));
        match answered {
            Ok(value) => Some(value),
            Err(error) => {
                let now = monotonic_ms();
                self.open_until
                    .store(now + BREAK_FOR.as_millis() as u64, Ordering::Relaxed);
                metrics::shared_state_error(operation);
                let last = self.logged_at.load(Ordering::Relaxed);
                if (last == NEVER || now.saturating_sub(last) >= LOG_EVERY.as_millis() as u64)
                    && self
                        .logged_at
                        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    tracing::error!(
                        backend = self.backend(),
                        operation,
                        %error,
                        "shared state unavailable; falling back to this instance's own state"
                    );
                }
                None
            }
        }
    }
}
