//! The database backend (`state.backend: database`): the `shared_state` table of the
//! configured store, with compare-and-set writes (`store::shared_state`). Slower than Redis
//! and without broadcast: another instance sees a revocation through the store, within
//! `session.revocationStaleness`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::{SharedState, StateError, gcra};
use crate::store::{SqlStore, StoreError};

/// Attempts of a compare-and-set before giving up (each lost one means another instance
/// wrote in between, so progress was made).
const CAS_ATTEMPTS: usize = 8;

/// What an attempt that lost every compare-and-set waits: a key that busy is being
/// flooded, so refusing is right, and the backend is not at fault.
const CONTENDED_WAIT: Duration = Duration::from_secs(1);

pub struct DatabaseState {
    store: Arc<SqlStore>,
}

impl DatabaseState {
    pub fn new(store: Arc<SqlStore>) -> DatabaseState {
        DatabaseState { store }
    }
}

fn failed(error: StoreError) -> StateError {
    StateError(format!("database: {error}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn expiry(now: i64, ttl: Duration) -> i64 {
    now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

#[async_trait]
impl SharedState for DatabaseState {
    fn backend(&self) -> &'static str {
        "database"
    }

    async fn ping(&self) -> Result<(), StateError> {
        crate::store::Adapter::ping(self.store.as_ref())
            .await
            .map_err(failed)
    }

    async fn admit(
        &self,
        key: &str,
        interval_ms: i64,
        burst_ms: i64,
    ) -> Result<Option<Duration>, StateError> {
        for _ in 0..CAS_ATTEMPTS {
            let now = now_ms();
            // Compare-and-set below makes concurrent writers retry; the last loser waits.
            let entry = self.store.state_entry(key).await.map_err(failed)?;
            let tat = entry
                .as_ref()
                .filter(|entry| entry.expires_at > now)
                .and_then(|entry| entry.value.parse::<i64>().ok());
            let new_tat = match gcra::admit(now, tat, interval_ms, burst_ms) {
                Ok(new_tat) => new_tat,
                Err(wait) => return Ok(Some(Duration::from_millis(wait.unsigned_abs()))),
            };
            let current = entry.as_ref().map(|entry| entry.value.as_str());
            if self
                .store
                .state_compare_and_set(key, current, &new_tat.to_string(), new_tat)
                .await
                .map_err(failed)?
            {
                return Ok(None);
            }
        }
        Ok(Some(CONTENDED_WAIT))
    }

    async fn insert_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StateError> {
        let now = now_ms();
        self.store
            .state_insert_if_absent(key, value, expiry(now, ttl), now)
            .await
            .map_err(failed)
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StateError> {
        self.store
            .state_put(key, value, expiry(now_ms(), ttl))
            .await
            .map_err(failed)
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StateError> {
        let now = now_ms();
        Ok(self
            .store
            .state_entry(key)
            .await
            .map_err(failed)?
            .filter(|entry| entry.expires_at > now)
            .map(|entry| entry.value))
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        self.store.state_delete(key).await.map_err(failed)
    }

    async fn release(&self, key: &str, value: &str) -> Result<(), StateError> {
        self.store.state_release(key, value).await.map_err(failed)
    }

    async fn announce_revocation(&self, _user_id: &str) -> Result<(), StateError> {
        Ok(())
    }
}
