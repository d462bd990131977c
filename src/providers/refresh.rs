//! Automatic refresh-token rotation, single-flight: when many requests find the same
//! access token expiring, one of them calls the token endpoint and the others wait for
//! and share its answer (for a minute), so a rotated refresh token is used exactly once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::OAuthError;
use super::oauth_client::TokenSet;

/// How long a refresh's answer is shared with latecomers holding the old token.
const SHARED_FOR: Duration = Duration::from_secs(60);

/// The error Auth.js's refresh guide sets on the session; callbacks can look for it.
pub const REFRESH_ERROR: &str = "RefreshAccessTokenError";

type Flight = Arc<tokio::sync::Mutex<Option<(Instant, Result<TokenSet, String>)>>>;

fn flights() -> &'static Mutex<HashMap<String, Flight>> {
    static FLIGHTS: OnceLock<Mutex<HashMap<String, Flight>>> = OnceLock::new();
    FLIGHTS.get_or_init(Default::default)
}

/// The flight for a provider and refresh token (hashed: the map never holds the token).
fn flight(provider: &str, refresh_token: &str) -> Flight {
    let key = hex::encode(Sha256::digest(format!("{provider}\0{refresh_token}")));
    let mut flights = flights().lock().unwrap_or_else(PoisonError::into_inner);
    // Forget landed flights nobody waits on any more.
    flights.retain(|_, flight| {
        Arc::strong_count(flight) > 1
            || flight
                .try_lock()
                .map(|landed| {
                    landed
                        .as_ref()
                        .is_some_and(|(at, _)| at.elapsed() < SHARED_FOR)
                })
                .unwrap_or(true)
    });
    flights.entry(key).or_default().clone()
}

/// A failure is shared only this long, so a passing outage is retried soon.
const FAILURE_SHARED_FOR: Duration = Duration::from_secs(1);

/// Runs `refresh` unless a refresh of the same token is running or just landed, in which
/// case its answer is returned. The refresh runs as its own task: a caller that goes away
/// (a closed connection) cannot drop it halfway, after the provider rotated the token but
/// before the new one was recorded.
pub async fn refresh_once<F>(
    provider: &str,
    refresh_token: &str,
    refresh: F,
) -> Result<TokenSet, String>
where
    F: Future<Output = Result<TokenSet, OAuthError>> + Send + 'static,
{
    let flight = flight(provider, refresh_token);
    let mut landed = flight.lock().await;
    if let Some((at, result)) = landed.as_ref() {
        let fresh_for = if result.is_ok() {
            SHARED_FOR
        } else {
            FAILURE_SHARED_FOR
        };
        if at.elapsed() < fresh_for {
            return result.clone();
        }
    }
    let result = match tokio::spawn(refresh).await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(error) => Err(format!("the refresh task failed: {error}")),
    };
    *landed = Some((Instant::now(), result.clone()));
    result
}

/// Whether a token expiring at `expires_at` needs a refresh now.
pub fn is_due(expires_at: Option<i64>, now: i64, margin: i64) -> bool {
    expires_at.is_some_and(|expires_at| expires_at.saturating_sub(margin) <= now)
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
