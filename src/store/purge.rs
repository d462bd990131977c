//! Housekeeping: expired sessions and verification tokens are deleted periodically, so
//! the tables do not grow with every abandoned sign-in.

use std::sync::Weak;
use std::time::Duration;

use crate::reload::LiveConfig;

/// Runs the purge every `database.purgeInterval` of the pipeline being served, until the
/// server is gone.
pub async fn purge_periodically(live: Weak<LiveConfig>) {
    loop {
        let interval = match live.upgrade() {
            Some(live) => purge_once(&live).await,
            None => return,
        };
        tokio::time::sleep(interval).await;
    }
}

/// One purge; returns how long to wait for the next.
async fn purge_once(live: &LiveConfig) -> Duration {
    let pipeline = live.snapshot();
    let Some(database) = &pipeline.config.database else {
        return Duration::from_secs(60);
    };
    let interval = database.purge_interval.as_std().max(Duration::from_secs(1));
    let Some(store) = &pipeline.store else {
        return interval;
    };
    let now = i64::try_from(pipeline.clock.unix_seconds()).unwrap_or(i64::MAX);
    match store.purge_expired(now).await {
        Ok(purged) if purged.sessions + purged.verification_tokens > 0 => {
            tracing::info!(
                sessions = purged.sessions,
                verification_tokens = purged.verification_tokens,
                "purged expired rows"
            );
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "purge of expired rows failed; will retry"),
    }
    interval
}
