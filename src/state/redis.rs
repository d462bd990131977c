//! The Redis backend (`state.backend: redis`): one multiplexed connection that reconnects
//! by itself, every key under `state.redis.keyPrefix`, the GCRA as a Lua script on the
//! server's clock, and revocations announced on a pub/sub channel that every instance
//! follows (`follow_revocations`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{SharedState, StateError};
use crate::config::operations::RedisConfig;
use crate::session::revocation::RevocationCache;

/// `gcra::admit`, atomically on the server: 0 when admitted, else the milliseconds to wait.
const GCRA: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local new_tat = tat + interval
local ahead = new_tat - now
if ahead > burst then return ahead - burst end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ahead)
return 0
";

/// Deletes KEYS[1] only while it holds ARGV[1].
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

pub struct RedisState {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    gcra: redis::Script,
    release: redis::Script,
}

fn failed(error: redis::RedisError) -> StateError {
    // A Redis error names the failure, never the URL (which may carry a password).
    StateError(format!("redis: {error}"))
}

impl RedisState {
    /// Prepares the connection; it is made on first use and remade after any failure.
    pub fn new(config: &RedisConfig) -> Result<RedisState, StateError> {
        let client = redis::Client::open(config.url.expose()).map_err(failed)?;
        let timeout = config.timeout.as_std().max(Duration::from_millis(50));
        let settings = ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            ConnectionManager::new_lazy_with_config(client.clone(), settings).map_err(failed)?;
        Ok(RedisState {
            client,
            connection,
            prefix: config.key_prefix.clone(),
            gcra: redis::Script::new(GCRA),
            release: redis::Script::new(RELEASE),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn channel(&self) -> String {
        self.key("revocations")
    }

    /// Follows the revocation channel for as long as the server runs, resubscribing after
    /// any failure. On each (re)subscription every cached answer is dropped: announcements
    /// made while not listening are unknown.
    pub fn follow_revocations(
        self: &Arc<Self>,
        cache: Arc<RevocationCache>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (client, channel) = (self.client.clone(), self.channel());
        async move {
            loop {
                if let Ok(mut pubsub) = client.get_async_pubsub().await
                    && pubsub.subscribe(&channel).await.is_ok()
                {
                    cache.forget_all();
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(user_id) = message.get_payload::<String>() {
                            cache.forget_user(&user_id);
                        }
                    }
                    tracing::warn!("lost the Redis revocation channel; resubscribing");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[async_trait]
impl SharedState for RedisState {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), StateError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(drop)
            .map_err(failed)
    }

    async fn admit(
        &self,
        key: &str,
        interval_ms: i64,
        burst_ms: i64,
    ) -> Result<Option<Duration>, StateError> {
        let mut connection = self.connection.clone();
        let wait: i64 = self
            .gcra
            .key(self.key(key))
            .arg(interval_ms)
            .arg(burst_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(failed)?;
        Ok((wait > 0).then(|| Duration::from_millis(wait.unsigned_abs())))
    }

    async fn insert_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StateError> {
        let mut connection = self.connection.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async(&mut connection)
            .await
            .map_err(failed)?;
        Ok(set.is_some())
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StateError> {
        let mut connection = self.connection.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async::<()>(&mut connection)
            .await
            .map_err(failed)
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StateError> {
        let mut connection = self.connection.clone();
        redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut connection)
            .await
            .map_err(failed)
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        let mut connection = self.connection.clone();
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut connection)
            .await
            .map_err(failed)
    }

    async fn release(&self, key: &str, value: &str) -> Result<(), StateError> {
        let mut connection = self.connection.clone();
        self.release
            .key(self.key(key))
            .arg(value)
            .invoke_async::<i64>(&mut connection)
            .await
            .map(drop)
            .map_err(failed)
    }

    async fn announce_revocation(&self, user_id: &str) -> Result<(), StateError> {
        let mut connection = self.connection.clone();
        redis::cmd("PUBLISH")
            .arg(self.channel())
            .arg(user_id)
            .query_async::<()>(&mut connection)
            .await
            .map_err(failed)
    }
}
