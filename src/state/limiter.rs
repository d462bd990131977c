//! Sign-in attempt counts shared by every instance: the GCRA on the shared backend, and the
//! "held back" marks of usernames that failed too often. Every attempt is also counted by
//! this instance's own `LocalRateLimiter` (a subset of the shared counts, so it never
//! refuses what the shared counts allow), which decides alone while the backend is
//! unavailable: limits then hold per instance, with this instance's history. Keys are
//! stored as HMAC-SHA256 digests keyed from `secret`: the backend never holds an address
//! or IP, nor anything to try one against.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Shared, gcra};
use crate::config::values::Rate;
use crate::rate_limit::{Bucket, Limited, LocalRateLimiter, RateLimiter};
use crate::session::keys::derive_shared_state_key;

pub struct SharedRateLimiter {
    shared: Arc<Shared>,
    local: Arc<LocalRateLimiter>,
    /// Keys the digests that name buckets (derived from `secret` at start).
    digest_key: Vec<u8>,
}

impl SharedRateLimiter {
    pub fn new(
        shared: Arc<Shared>,
        local: Arc<LocalRateLimiter>,
        secret: &str,
    ) -> Result<SharedRateLimiter, String> {
        Ok(SharedRateLimiter {
            shared,
            local,
            digest_key: derive_shared_state_key(secret, "rate limit keys")?,
        })
    }

    /// A keyed digest of `key`: without the secret, an address or IP cannot be tried
    /// against it.
    fn digest(&self, key: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.digest_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(key.as_bytes());
        crate::text::lower_hex(&mac.finalize().into_bytes())
    }

    fn count_key(&self, bucket: Bucket, key: &str) -> String {
        format!("rl:{}:{}", bucket.label(), self.digest(key))
    }

    fn held_key(&self, bucket: Bucket, key: &str) -> String {
        format!("held:{}:{}", bucket.label(), self.digest(key))
    }
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
        let (interval, burst) = gcra::interval(max, per.as_std())?;
        let state_key = self.count_key(bucket, key);
        let waited = self
            .shared
            .call("rate_limit", |backend| async move {
                backend.admit(&state_key, interval, burst).await
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
            let state_key = self.held_key(bucket, key);
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
        let state_key = self.held_key(bucket, key);
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
