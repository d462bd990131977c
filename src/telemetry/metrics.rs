//! The Prometheus metrics, through the `metrics` facade: every name, its help text and its
//! labels are here, and callers record through the functions below, so no label can carry
//! user data (ids, emails, addresses). Label values are fixed words, configured provider
//! ids, script names and error codes. Without an installed recorder (the library's own
//! tests, `authgate check`) every call does nothing.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use metrics::{
    Counter, Histogram, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::rate_limit::Bucket;
use crate::store::{PoolStats, StoreError};

const HTTP_REQUESTS: &str = "authgate_http_requests_total";
const HTTP_DURATION: &str = "authgate_http_request_duration_seconds";
const SIGN_INS: &str = "authgate_sign_ins_total";
const SESSION_READS: &str = "authgate_session_reads_total";
const TOKEN_REFRESHES: &str = "authgate_token_refreshes_total";
const RELOADS: &str = "authgate_config_reloads_total";
const GENERATION: &str = "authgate_config_generation";
const LAST_RELOAD: &str = "authgate_config_last_success_timestamp_seconds";
const SCRIPT_RUNS: &str = "authgate_script_runs_total";
const STORE_OPERATIONS: &str = "authgate_store_operations_total";
const STORE_ERRORS: &str = "authgate_store_errors_total";
const STORE_IN_FLIGHT: &str = "authgate_store_operations_in_flight";
const POOL_CONNECTIONS: &str = "authgate_store_pool_connections";
const POOL_MAX: &str = "authgate_store_pool_max_connections";
const POOL_WAITERS: &str = "authgate_store_pool_waiters";
const RATE_LIMITED: &str = "authgate_rate_limit_rejections_total";
const WEBHOOKS: &str = "authgate_webhook_deliveries_total";
const WEBHOOK_QUEUE: &str = "authgate_webhook_queue_depth";
const SHARED_STATE_ERRORS: &str = "authgate_shared_state_errors_total";
const AUDIT_DROPPED: &str = "authgate_audit_lines_dropped_total";
const SHARED_STATE_UP: &str = "authgate_shared_state_up";

/// Latency buckets, in seconds: sub-millisecond session reads up to slow token exchanges.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls keep the first). Returns whether
/// metrics are recorded.
pub fn install() -> bool {
    if HANDLE.get().is_some() {
        return true;
    }
    let builder = match PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &LATENCY_BUCKETS)
    {
        Ok(builder) => builder,
        Err(error) => {
            tracing::warn!(%error, "metrics are off: cannot set the latency buckets");
            return false;
        }
    };
    match builder.install_recorder() {
        Ok(handle) => {
            let _ = HANDLE.set(handle);
            describe();
            true
        }
        Err(error) => {
            tracing::warn!(%error, "metrics are off: cannot install the recorder");
            false
        }
    }
}

/// How often the recorder drains recorded histogram samples into their buckets (it keeps
/// them until then).
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Drains the histogram samples every `UPKEEP_EVERY`, for as long as the process runs.
pub async fn upkeep_periodically() {
    let Some(handle) = HANDLE.get() else {
        return;
    };
    let mut ticks = tokio::time::interval(UPKEEP_EVERY);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// The exposition text, when metrics are recorded.
pub fn render() -> Option<String> {
    HANDLE.get().map(|handle| {
        handle.run_upkeep();
        handle.render()
    })
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by action and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by action."
    );
    describe_counter!(
        SIGN_INS,
        "Sign-in attempts by provider, method and outcome (success or the error code)."
    );
    describe_counter!(
        SESSION_READS,
        "Session reads by strategy and outcome (active, none, refused, error)."
    );
    describe_counter!(
        TOKEN_REFRESHES,
        "Provider access-token refreshes by provider and outcome."
    );
    describe_counter!(RELOADS, "Configuration reloads by result (ok, failed).");
    describe_gauge!(GENERATION, "Generation of the configuration being served.");
    describe_gauge!(
        LAST_RELOAD,
        Unit::Seconds,
        "Unix time at which the served configuration was loaded."
    );
    describe_counter!(
        SCRIPT_RUNS,
        "Rhai script runs by script and outcome (ok, error, budget)."
    );
    describe_counter!(STORE_OPERATIONS, "Store operations by operation.");
    describe_counter!(
        STORE_ERRORS,
        "Failed store operations by operation and kind."
    );
    describe_gauge!(STORE_IN_FLIGHT, "Store operations running now.");
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database pool connections by state (idle, busy)."
    );
    describe_gauge!(POOL_MAX, "Largest size of the database pool.");
    describe_gauge!(
        POOL_WAITERS,
        "Store operations waiting for a connection: those in flight beyond a full pool."
    );
    describe_counter!(RATE_LIMITED, "Attempts refused by a rate limit, by bucket.");
    describe_counter!(
        WEBHOOKS,
        "Webhook delivery attempts by outcome (delivered, failed, retried, dropped_full, dropped_exhausted)."
    );
    describe_gauge!(WEBHOOK_QUEUE, "Webhook deliveries waiting in the queue.");
    describe_counter!(
        SHARED_STATE_ERRORS,
        "Failed operations on the shared state (Redis or the database), by operation."
    );
    describe_gauge!(
        SHARED_STATE_UP,
        "1 while the shared state (state.backend) answers, 0 while instances fall back to their own."
    );
    describe_counter!(
        AUDIT_DROPPED,
        "Audit lines dropped because the audit writer fell behind."
    );
}

/// Handles of the metrics recorded on every request, by their label values: the
/// recorder is asked once per combination (the labels are bounded: fixed words and
/// statuses), and each request only adds to atomics.
struct Handles<K, V>(OnceLock<RwLock<HashMap<K, V>>>);

impl<K: Hash + Eq, V: Clone> Handles<K, V> {
    const fn new() -> Self {
        Handles(OnceLock::new())
    }

    fn get(&self, key: K, make: impl FnOnce() -> V) -> V {
        let map = self.0.get_or_init(Default::default);
        if let Some(value) = map.read().ok().and_then(|map| map.get(&key).cloned()) {
            return value;
        }
        let value = make();
        if let Ok(mut map) = map.write() {
            map.entry(key).or_insert_with(|| value.clone());
        }
        value
    }
}

static HTTP_HANDLES: Handles<(&'static str, u16), (Counter, Histogram)> = Handles::new();
static SESSION_HANDLES: Handles<(&'static str, &'static str), Counter> = Handles::new();

/// One answered HTTP request; `action` is a fixed route name.
pub fn http_request(action: &'static str, status: u16, elapsed: Duration) {
    let (requests, duration) = HTTP_HANDLES.get((action, status), || {
        (
            counter!(HTTP_REQUESTS, "action" => action, "status" => status.to_string()),
            histogram!(HTTP_DURATION, "action" => action),
        )
    });
    requests.increment(1);
    duration.record(elapsed.as_secs_f64());
}

/// One sign-in attempt that reached a configured provider; `outcome` is `success` or an
/// error code.
pub fn sign_in(provider: &str, method: &'static str, outcome: &'static str) {
    counter!(SIGN_INS, "provider" => provider.to_string(), "method" => method, "outcome" => outcome)
        .increment(1);
}

pub fn session_read(strategy: &'static str, outcome: &'static str) {
    SESSION_HANDLES
        .get(
            (strategy, outcome),
            || counter!(SESSION_READS, "strategy" => strategy, "outcome" => outcome),
        )
        .increment(1);
}

pub fn token_refresh(provider: &str, succeeded: bool) {
    let outcome = if succeeded { "refreshed" } else { "failed" };
    counter!(TOKEN_REFRESHES, "provider" => provider.to_string(), "outcome" => outcome)
        .increment(1);
}

/// A reload's result; a good one also sets the serving generation and time.
pub fn reload(succeeded: bool) {
    let result = if succeeded { "ok" } else { "failed" };
    counter!(RELOADS, "result" => result).increment(1);
}

/// The configuration now served.
pub fn serving(generation: u64, loaded_at_unix: u64) {
    gauge!(GENERATION).set(generation as f64);
    gauge!(LAST_RELOAD).set(loaded_at_unix as f64);
}

/// How a script run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptOutcome {
    Ok,
    Error,
    /// Out of operations, time, size or call depth.
    Budget,
}

/// The run counters of one compiled script, by outcome. Each is asked of the recorder on
/// its first run, and every run after that only adds to an atomic.
#[derive(Debug, Default)]
pub struct ScriptRuns {
    ok: OnceLock<Counter>,
    error: OnceLock<Counter>,
    budget: OnceLock<Counter>,
}

impl ScriptRuns {
    /// One run of the script named `script` (its config path) ended with `outcome`.
    pub fn count(&self, script: &str, outcome: ScriptOutcome) {
        let (handle, outcome) = match outcome {
            ScriptOutcome::Ok => (&self.ok, "ok"),
            ScriptOutcome::Error => (&self.error, "error"),
            ScriptOutcome::Budget => (&self.budget, "budget"),
        };
        handle
            .get_or_init(
                || counter!(SCRIPT_RUNS, "script" => script.to_string(), "outcome" => outcome),
            )
            .increment(1);
    }
}

/// A store operation starts: counted, and in flight until the guard drops.
pub fn store_operation(operation: &'static str) -> InFlight {
    counter!(STORE_OPERATIONS, "operation" => operation).increment(1);
    IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    InFlight { operation }
}

/// A store operation in flight.
pub struct InFlight {
    operation: &'static str,
}

impl InFlight {
    /// The operation failed with `error`.
    pub fn failed(&self, error: &StoreError) {
        let kind = match error {
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Conflict(_) => "conflict",
            StoreError::NotFound(_) => "not_found",
            StoreError::Other(_) => "other",
        };
        counter!(STORE_ERRORS, "operation" => self.operation, "kind" => kind).increment(1);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The pool as it is now (read when the metrics are scraped).
pub fn store_pool(stats: PoolStats) {
    let in_flight = IN_FLIGHT.load(Ordering::Relaxed).max(0) as f64;
    gauge!(STORE_IN_FLIGHT).set(in_flight);
    let busy = stats.size.saturating_sub(stats.idle);
    gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(stats.idle));
    gauge!(POOL_CONNECTIONS, "state" => "busy").set(f64::from(busy));
    gauge!(POOL_MAX).set(f64::from(stats.max));
    let waiting = if stats.size >= stats.max && stats.idle == 0 {
        (in_flight - f64::from(busy)).max(0.0)
    } else {
        0.0
    };
    gauge!(POOL_WAITERS).set(waiting);
}

pub fn rate_limited(bucket: Bucket) {
    counter!(RATE_LIMITED, "bucket" => bucket.label()).increment(1);
}

/// What happened to one webhook delivery attempt or message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Delivered,
    /// An attempt failed; another follows.
    Retried,
    /// The last attempt failed: the message is given up.
    DroppedExhausted,
    /// The queue was full: the message was never queued.
    DroppedFull,
}

pub fn webhook(outcome: WebhookOutcome) {
    let outcome = match outcome {
        WebhookOutcome::Delivered => "delivered",
        WebhookOutcome::Retried => "retried",
        WebhookOutcome::DroppedExhausted => "dropped_exhausted",
        WebhookOutcome::DroppedFull => "dropped_full",
    };
    counter!(WEBHOOKS, "outcome" => outcome).increment(1);
}

pub fn webhook_queue_depth(depth: usize) {
    gauge!(WEBHOOK_QUEUE).set(depth as f64);
}

pub fn shared_state_error(operation: &'static str) {
    counter!(SHARED_STATE_ERRORS, "operation" => operation).increment(1);
}

/// Whether the shared state answers; `None` without one (no series).
pub fn shared_state_up(up: Option<bool>) {
    if let Some(up) = up {
        gauge!(SHARED_STATE_UP).set(if up { 1.0 } else { 0.0 });
    }
}

pub fn audit_dropped() {
    counter!(AUDIT_DROPPED).increment(1);
}

/// Store operations in flight, kept here and published when the metrics are scraped.
static IN_FLIGHT: AtomicI64 = AtomicI64::new(0);
