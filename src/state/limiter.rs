//! Sign-in attempt counts shared by every instance: the GCRA on the shared backend, and the
//! "held back" marks of usernames that failed too often. Every attempt is also counted by
//! this instance's own `LocalRateLimiter` (a subset of the shared counts, so it never
//! refuses what the shared counts allow), which decides alone while the backend is
//! unavailable: limits then hold per instance, with this instance's history. Keys are
//! stored as SHA-256 digests: the backend never holds an address or IP.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{Shared, gcra};
use crate::config::values::Rate;
use crate::rate_limit::{Bucket, Limited, LocalRateLimiter, RateLimiter};

pub struct SharedRateLimiter {
    shared: Arc<Shared>,
    local: Arc<LocalRateLimiter>,
}

impl SharedRateLimiter {
    pub fn new(shared: Arc<Shared>, local: Arc<LocalRateLimiter>) -> SharedRateLimiter {
        SharedRateLimiter { shared, local }
    }
}

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn count_key(bucket: Bucket, key: &str) -> String {
    format!("rl:{}:{}", bucket.label(), digest(key))
}

fn held_key(bucket: Bucket, key: &str) -> String {
    format!("held:{}:{}", bucket.label(), digest(key))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

impl SharedRateLimiter {
    /// One count on the shared backend; `None` when it is unavailable or cannot keep
    /// `rate` (finer than a millisecond).
    async fn count(&self, bucket: Bucket, key: &str, rate: Rate) -> Option<Result<(), Limited>> {
        let Some((max, per)) = rate.limit() else {
            return Some(Ok(()));
        };
        let (interval, period) = gcra::interval(max, per.as_std())?;
        let state_key = count_key(bucket, key);
        let waited = self
            .shared
            .call("rate_limit", |backend| async move {
                backend.admit(&state_key, interval, period).await
            })
            .await?;
        Some(match waited {
            None => Ok(()),
            Some(retry_after) => Err(Limited { retry_after }),
        })
    }
}

#[async_trait]
impl RateLimiter for SharedRateLimiter {
    async fn check(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited> {
        let local = self.local.check_now(bucket, key, rate);
        self.count(bucket, key, rate).await.unwrap_or(local)
    }

    async fn count_failure(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited> {
        let local = self.local.count_failure_now(bucket, key, rate);
        let Some(counted) = self.count(bucket, key, rate).await else {
            return local;
        };
        if let Err(limited) = counted {
            let until = now_ms().saturating_add(limited.retry_after.as_millis() as u64);
            let state_key = held_key(bucket, key);
            let ttl = limited.retry_after.max(Duration::from_millis(1));
            self.shared
                .call("rate_limit", |backend| async move {
                    backend.put(&state_key, &until.to_string(), ttl).await
                })
                .await;
        }
        counted
    }

    async fn held_back(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        let state_key = held_key(bucket, key);
        let held = self
            .shared
            .call("rate_limit", |backend| async move {
                backend.get(&state_key).await
            })
            .await;
        let Some(held) = held else {
            return self.local.held_back_now(bucket, key);
        };
        let until = held.and_then(|until| until.parse::<u64>().ok());
        match until.map(|until| until.saturating_sub(now_ms())) {
            Some(wait) if wait > 0 => Err(Limited {
                retry_after: Duration::from_millis(wait),
            }),
            _ => Ok(()),
        }
    }
}
