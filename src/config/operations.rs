//! The operating sections of the configuration: event webhooks (`webhooks`) and the state
//! several instances share (`state`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::script_key::Event;
use super::values::{Duration, SecretString};

/// Event webhooks: each event POSTed to the endpoints that subscribe to it, signed the
/// Standard Webhooks way, from a bounded queue with retries. A delivery never delays or
/// fails the request that caused it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhooksConfig {
    /// The HTTP endpoints events are POSTed to; none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<WebhookEndpoint>,
    /// Deliveries waiting at most; when full, new ones are dropped (and counted). Changing
    /// it needs a restart.
    #[serde(default = "default_queue")]
    #[schemars(range(min = 1, max = 1_000_000))]
    #[schemars(example = 10000, example = 100000)]
    pub queue: usize,
    /// Attempts per delivery, the first included.
    #[serde(default = "default_attempts")]
    #[schemars(range(min = 1, max = 30))]
    #[schemars(example = 8, example = 5)]
    pub attempts: u32,
    /// Wait before the first retry; it doubles with each further retry.
    #[serde(default = "default_backoff")]
    #[schemars(example = "5s", example = "30s")]
    pub backoff: Duration,
    /// The longest wait between two attempts.
    #[serde(default = "default_max_backoff")]
    #[schemars(example = "10m", example = "1h")]
    pub max_backoff: Duration,
    /// How long one attempt may take (at most 10s).
    #[serde(default = "default_timeout")]
    #[schemars(example = "10s", example = "5s")]
    pub timeout: Duration,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            endpoints: Vec::new(),
            queue: default_queue(),
            attempts: default_attempts(),
            backoff: default_backoff(),
            max_backoff: default_max_backoff(),
            timeout: default_timeout(),
        }
    }
}

fn default_queue() -> usize {
    10_000
}

fn default_attempts() -> u32 {
    8
}

fn default_backoff() -> Duration {
    Duration::from_seconds(5)
}

fn default_max_backoff() -> Duration {
    Duration::from_seconds(600)
}

fn default_timeout() -> Duration {
    Duration::from_seconds(10)
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookEndpoint {
    /// `https://...`; `http://` only for a loopback host.
    #[schemars(example = "https://hooks.example.com/authgate")]
    pub url: String,
    /// The signing secret, `whsec_` and base64 (24 to 64 bytes of key), from the
    /// environment: `${WEBHOOK_SECRET}`.
    #[schemars(example = "${WEBHOOK_SECRET}")]
    pub secret: SecretString,
    /// The events sent here; default: every event but `session` (one per session read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventName>>,
}

impl WebhookEndpoint {
    pub fn wants(&self, event: Event) -> bool {
        match &self.events {
            Some(events) => events.iter().any(|name| name.event() == event),
            None => event != Event::Session,
        }
    }
}

/// An event's name, as under `events:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum EventName {
    SignIn,
    SignOut,
    CreateUser,
    UpdateUser,
    LinkAccount,
    UnlinkAccount,
    Session,
}

impl EventName {
    pub fn event(self) -> Event {
        match self {
            EventName::SignIn => Event::SignIn,
            EventName::SignOut => Event::SignOut,
            EventName::CreateUser => Event::CreateUser,
            EventName::UpdateUser => Event::UpdateUser,
            EventName::LinkAccount => Event::LinkAccount,
            EventName::UnlinkAccount => Event::UnlinkAccount,
            EventName::Session => Event::Session,
        }
    }
}

/// Where the state lives that must be one for several instances: sign-in attempt counts,
/// revocations, the refresh lock, and the OAuth discovery and JWKS documents. Changing it
/// needs a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StateConfig {
    /// `local` (each process on its own, the default), `redis` or `database`.
    #[serde(default)]
    pub backend: StateBackend,
    /// With `backend: redis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisConfig>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StateBackend {
    /// In this process: right for one instance.
    #[default]
    Local,
    /// A Redis (or Valkey) server shared by every instance.
    Redis,
    /// The `database` (PostgreSQL or MySQL/MariaDB; SQLite for instances on one host).
    Database,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port/db`, or `rediss://` for TLS.
    #[schemars(example = "${REDIS_URL}", example = "redis://127.0.0.1:6379/0")]
    pub url: SecretString,
    /// Prefix of every key authgate writes, so that several deployments can share a server.
    #[serde(default = "default_key_prefix")]
    #[schemars(example = "authgate:", example = "authgate:prod:")]
    pub key_prefix: String,
    /// How long one Redis command may take before it counts as failed.
    #[serde(default = "default_redis_timeout")]
    #[schemars(example = "1s", example = "3s")]
    pub timeout: Duration,
}

fn default_key_prefix() -> String {
    "authgate:".to_string()
}

fn default_redis_timeout() -> Duration {
    Duration::from_seconds(1)
}
