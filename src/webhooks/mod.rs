//! Event webhooks: each event a configured endpoint subscribes to is POSTed to it, signed
//! the Standard Webhooks way (`signing`), with an allow-list of fields (`payload`). Deliveries go
//! through one bounded queue per server and are retried with a doubling backoff; a full
//! queue drops a delivery (counted) rather than wait, so a webhook never delays or fails
//! the request that caused its event. The queue lives across reloads; each delivery
//! carries the endpoint and retry settings of the configuration that queued it.

pub mod payload;
pub mod signing;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

use crate::config::operations::WebhooksConfig;
use crate::config::script_key::Event;
use crate::telemetry::metrics::{self, WebhookOutcome};

/// Deliveries sent at the same time.
const CONCURRENT_DELIVERIES: usize = 16;

/// The most bytes of bodies waiting, whatever `webhooks.queue` allows.
const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;

/// Drops are logged at most this often (each is counted).
const LOG_DROPS_EVERY: Duration = Duration::from_secs(60);

/// One message for one endpoint.
struct Delivery {
    url: String,
    key: Vec<u8>,
    id: String,
    body: Arc<String>,
    attempts: u32,
    backoff: Duration,
    max_backoff: Duration,
    timeout: Duration,
}

/// The server's webhook queue.
pub struct Webhooks {
    sender: mpsc::UnboundedSender<Delivery>,
    /// Deliveries queued, in flight or waiting for a retry.
    depth: Arc<AtomicUsize>,
    /// The bytes of their bodies.
    bytes: Arc<AtomicUsize>,
    capacity: usize,
    /// When a drop was last logged.
    drop_logged: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("depth", &self.depth.load(Ordering::Relaxed))
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Webhooks {
    /// Starts the delivery worker on `runtime`; at most `capacity` deliveries wait.
    pub fn start(runtime: &tokio::runtime::Handle, capacity: usize) -> Arc<Webhooks> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let depth = Arc::new(AtomicUsize::new(0));
        let bytes = Arc::new(AtomicUsize::new(0));
        runtime.spawn(deliver_all(receiver, depth.clone(), bytes.clone()));
        Arc::new(Webhooks {
            sender,
            depth,
            bytes,
            capacity: capacity.max(1),
            drop_logged: std::sync::Mutex::new(None),
        })
    }

    /// Queues `event` for every endpoint of `config` that wants it. Never waits.
    pub fn send(
        &self,
        config: &WebhooksConfig,
        event: Event,
        arguments: &[(&'static str, &Value)],
    ) {
        let endpoints: Vec<_> = config
            .endpoints
            .iter()
            .filter(|endpoint| endpoint.wants(event))
            .collect();
        if endpoints.is_empty() {
            return;
        }
        let now = time::OffsetDateTime::now_utc();
        let timestamp = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let body = Arc::new(payload::body(event, arguments, &timestamp));
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        for endpoint in endpoints {
            // Checked when the configuration was loaded.
            let Ok(key) = signing::parse_secret(endpoint.secret.expose()) else {
                continue;
            };
            if !self.reserve(body.len()) {
                metrics::webhook(WebhookOutcome::DroppedFull);
                self.log_drop(event);
                continue;
            }
            let delivery = Delivery {
                url: endpoint.url.clone(),
                key,
                id: id.clone(),
                body: body.clone(),
                attempts: config.attempts.max(1),
                backoff: config.backoff.as_std(),
                max_backoff: config.max_backoff.as_std(),
                timeout: config.timeout.as_std(),
            };
            if self.sender.send(delivery).is_err() {
                self.depth.fetch_sub(1, Ordering::AcqRel);
                self.bytes.fetch_sub(body.len(), Ordering::AcqRel);
                metrics::webhook(WebhookOutcome::DroppedFull);
            }
        }
        metrics::webhook_queue_depth(self.depth.load(Ordering::Relaxed));
    }

    /// Takes a place in the queue for a body of `size` bytes; false when it is full.
    fn reserve(&self, size: usize) -> bool {
        let placed = self
            .depth
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |depth| {
                (depth < self.capacity).then_some(depth + 1)
            })
            .is_ok();
        if !placed {
            return false;
        }
        let sized = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bytes| {
                bytes
                    .checked_add(size)
                    .filter(|total| *total <= MAX_QUEUED_BYTES)
            })
            .is_ok();
        if !sized {
            self.depth.fetch_sub(1, Ordering::AcqRel);
        }
        sized
    }

    fn log_drop(&self, event: Event) {
        let Ok(mut logged) = self.drop_logged.lock() else {
            return;
        };
        if logged.is_none_or(|at| at.elapsed() >= LOG_DROPS_EVERY) {
            *logged = Some(std::time::Instant::now());
            tracing::warn!(target: "authgate::webhooks", event = event.field(), "webhook queue full; deliveries are dropped (counted in authgate_webhook_deliveries_total)");
        }
    }

    /// Deliveries queued, in flight or waiting for a retry.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}

async fn deliver_all(
    mut receiver: mpsc::UnboundedReceiver<Delivery>,
    depth: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
) {
    let slots = Arc::new(Semaphore::new(CONCURRENT_DELIVERIES));
    while let Some(delivery) = receiver.recv().await {
        let (slots, depth, bytes) = (slots.clone(), depth.clone(), bytes.clone());
        tokio::spawn(async move {
            // Gives the delivery's place back however the task ends.
            let _place = Place {
                depth,
                bytes,
                size: delivery.body.len(),
            };
            deliver(&delivery, &slots).await;
        });
    }
}

/// A delivery's place in the queue, given back when dropped.
struct Place {
    depth: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
    size: usize,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.bytes.fetch_sub(self.size, Ordering::AcqRel);
        let left = self.depth.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
        metrics::webhook_queue_depth(left);
    }
}

/// Attempts `delivery` until it is accepted or out of attempts; a slot is held only while
/// an attempt is on the wire.
async fn deliver(delivery: &Delivery, slots: &Semaphore) {
    let mut wait = delivery.backoff;
    for attempt in 1..=delivery.attempts {
        let result = match slots.acquire().await {
            Ok(_slot) => attempt_once(delivery).await,
            Err(_) => return,
        };
        match result {
            Ok(()) => {
                metrics::webhook(WebhookOutcome::Delivered);
                return;
            }
            Err(reason) if attempt == delivery.attempts => {
                metrics::webhook(WebhookOutcome::DroppedExhausted);
                tracing::warn!(target: "authgate::webhooks", id = %delivery.id, attempt, %reason, "webhook given up");
                return;
            }
            Err(reason) => {
                metrics::webhook(WebhookOutcome::Retried);
                tracing::info!(target: "authgate::webhooks", id = %delivery.id, attempt, %reason, retry_in_ms = wait.as_millis() as u64, "webhook attempt failed");
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2).min(delivery.max_backoff);
            }
        }
    }
}

/// One POST; any 2xx is accepted.
async fn attempt_once(delivery: &Delivery) -> Result<(), String> {
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = signing::sign(
        &delivery.key,
        &delivery.id,
        timestamp,
        delivery.body.as_bytes(),
    );
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(&delivery.url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.as_bytes().to_vec())
        .map_err(|error| error.to_string())?;
    let response = tokio::time::timeout(
        delivery.timeout,
        crate::providers::http_client::execute(request),
    )
    .await
    .map_err(|_| format!("no answer within {} ms", delivery.timeout.as_millis()))?
    .map_err(|error| error.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", response.status().as_u16()))
    }
}
