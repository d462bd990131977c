//! Automatic refresh-token rotation, single-flight: when many requests find the same
//! access token expiring, one of them calls the token endpoint and the others wait for
//! and share its answer (for a minute), so a rotated refresh token is used exactly once.
//! Within a process a lock per token decides; across instances (`Across`) a lock in the
//! shared state does, and the answer is shared there, sealed with the secret. When the
//! shared state is unavailable, the refresh is single-flight per instance only.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::OAuthError;
use super::oauth_client::TokenSet;
use crate::state::sealed;

/// How long a refresh's answer is shared with latecomers holding the old token.
const SHARED_FOR: Duration = Duration::from_secs(60);

/// The error Auth.js's refresh guide sets on the session; callbacks can look for it.
pub const REFRESH_ERROR: &str = "RefreshAccessTokenError";

type Flight = Arc<tokio::sync::Mutex<Option<(Instant, Result<TokenSet, String>)>>>;

fn flights() -> &'static Mutex<HashMap<String, Flight>> {
    static FLIGHTS: OnceLock<Mutex<HashMap<String, Flight>>> = OnceLock::new();
    FLIGHTS.get_or_init(Default::default)
}

/// The key of a provider and refresh token (hashed: no map or store holds the token).
fn flight_key(provider: &str, refresh_token: &str) -> String {
    crate::text::lower_hex(&Sha256::digest(format!("{provider}\0{refresh_token}")))
}

/// The flight for `key`.
fn flight(key: &str) -> Flight {
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
    flights.entry(key.to_string()).or_default().clone()
}

/// A failure is shared only this long, so a passing outage is retried soon (and longer
/// than one call to the shared state may take, so no instance misses it).
const FAILURE_SHARED_FOR: Duration = Duration::from_secs(5);

/// The longest one refresh (discovery and the token request) may take: well inside
/// `LOCK_FOR`.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(20);

/// How long an instance may hold the shared refresh lock: longer than any token request
/// (the HTTP client gives up after 10 s); a holder that died frees it then.
const LOCK_FOR: Duration = Duration::from_secs(30);

/// How long an instance waits for another's refresh before answering without it (the
/// session is then served with its old tokens and the refresh error).
const WAIT_AT_MOST: Duration = Duration::from_secs(12);

/// How often an instance waiting for another's refresh looks for its answer.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Single-flight across instances: the shared state, and the secrets (newest first) that
/// seal and open answers.
#[derive(Clone)]
pub struct Across {
    pub shared: Arc<crate::state::Shared>,
    pub secrets: Vec<String>,
}

/// A refresh's answer as the shared state holds it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum SharedAnswer {
    Refreshed(TokenSet),
    Failed(String),
}

/// Runs `refresh` unless a refresh of the same token is running or just landed, in which
/// case its answer is returned. The whole flight (the refresh, sharing its answer, landing
/// it here) is one task: a caller that goes away (a closed connection) cannot drop it
/// halfway, after the provider rotated the token but before the new one was recorded.
pub async fn refresh_once<F>(
    provider: &str,
    refresh_token: &str,
    across: Option<Across>,
    refresh: F,
) -> Result<TokenSet, String>
where
    F: Future<Output = Result<TokenSet, OAuthError>> + Send + 'static,
{
    let key = flight_key(provider, refresh_token);
    let mut landed = flight(&key).lock_owned().await;
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
    // Counted when the provider is actually asked, not per waiting request.
    let label = provider.to_string();
    let refresh = async move {
        let result = tokio::time::timeout(REFRESH_TIMEOUT, refresh)
            .await
            .unwrap_or_else(|_| {
                Err(OAuthError::Provider(format!(
                    "no answer within {} s",
                    REFRESH_TIMEOUT.as_secs()
                )))
            })
            .map_err(|error| error.to_string());
        crate::telemetry::metrics::token_refresh(&label, result.is_ok());
        result
    };
    let flight = async move {
        let result = match across {
            Some(across) => refresh_across(&across, &key, refresh).await,
            None => refresh.await,
        };
        *landed = Some((Instant::now(), result.clone()));
        result
    };
    match tokio::spawn(flight).await {
        Ok(result) => result,
        Err(error) => Err(format!("the refresh task failed: {error}")),
    }
}

/// What the shared state holds for a refresh.
enum Lookup {
    Answer(Box<Result<TokenSet, String>>),
    /// An answer is there, but not one this instance can open (sealed under a secret it
    /// does not have): refreshing here would send a rotated token again.
    Unreadable,
    /// No answer, or the shared state did not say.
    Nothing,
}

/// The answer another instance shared under `answer_key`.
async fn shared_answer(across: &Across, answer_key: &str) -> Lookup {
    let lookup = answer_key.to_string();
    let sealed = across
        .shared
        .call(
            "refresh",
            |backend| async move { backend.get(&lookup).await },
        )
        .await
        .flatten();
    let Some(sealed) = sealed else {
        return Lookup::Nothing;
    };
    let answer = sealed::open(&across.secrets, answer_key, &sealed)
        .and_then(|plaintext| serde_json::from_slice::<SharedAnswer>(&plaintext).ok());
    match answer {
        Some(SharedAnswer::Refreshed(tokens)) => Lookup::Answer(Box::new(Ok(tokens))),
        Some(SharedAnswer::Failed(error)) => Lookup::Answer(Box::new(Err(error))),
        None => Lookup::Unreadable,
    }
}

const UNREADABLE: &str = "another instance refreshed this token, but its answer cannot be \
    opened here (is `secret` the same on every instance?)";

/// The refresh of `key`, by whichever instance takes the shared lock first; the others
/// wait (a bounded time) for its sealed answer. When the shared state does not answer,
/// the refresh runs here (single-flight per instance only), and its answer is left and the
/// lock released in case the lock was taken after all.
async fn refresh_across<F>(across: &Across, key: &str, refresh: F) -> Result<TokenSet, String>
where
    F: Future<Output = Result<TokenSet, String>>,
{
    let lock_key = format!("refresh:lock:{key}");
    let answer_key = format!("refresh:answer:{key}");
    let deadline = Instant::now() + WAIT_AT_MOST;
    // Who holds the lock: only the holder releases it.
    let holder = crate::session::tokens::random_token();
    loop {
        match shared_answer(across, &answer_key).await {
            Lookup::Answer(answer) => return *answer,
            Lookup::Unreadable => return Err(UNREADABLE.into()),
            Lookup::Nothing => {}
        }
        let (lock, value) = (lock_key.clone(), holder.clone());
        let taken = across
            .shared
            .call("refresh", |backend| async move {
                backend.insert_if_absent(&lock, &value, LOCK_FOR).await
            })
            .await;
        match taken {
            Some(false) if Instant::now() >= deadline => {
                return Err(
                    "another instance's refresh of this token did not finish in time".into(),
                );
            }
            Some(false) => tokio::time::sleep(POLL_EVERY).await,
            Some(true) | None => {
                // The holder before may have shared its answer and released the lock
                // between the look above and this lock: the answer decides.
                if taken.is_some() {
                    let earlier = match shared_answer(across, &answer_key).await {
                        Lookup::Answer(answer) => Some(*answer),
                        Lookup::Unreadable => Some(Err(UNREADABLE.into())),
                        Lookup::Nothing => None,
                    };
                    if let Some(answer) = earlier {
                        release(across, &lock_key, &holder).await;
                        return answer;
                    }
                }
                let result = refresh.await;
                share(across, &answer_key, &result).await;
                release(across, &lock_key, &holder).await;
                return result;
            }
        }
    }
}

/// Leaves `result` for the other instances, sealed for `answer_key`.
async fn share(across: &Across, answer_key: &str, result: &Result<TokenSet, String>) {
    let (answer, keep_for) = match result {
        Ok(tokens) => (SharedAnswer::Refreshed(tokens.clone()), SHARED_FOR),
        Err(error) => (SharedAnswer::Failed(error.clone()), FAILURE_SHARED_FOR),
    };
    let Some(secret) = across.secrets.first() else {
        return;
    };
    let sealed = serde_json::to_vec(&answer)
        .map_err(|error| error.to_string())
        .and_then(|plaintext| sealed::seal(secret, answer_key, keep_for, &plaintext));
    match sealed {
        Ok(sealed) => {
            let answer_key = answer_key.to_string();
            across
                .shared
                .call("refresh", |backend| async move {
                    backend.put(&answer_key, &sealed, keep_for).await
                })
                .await;
        }
        Err(error) => {
            tracing::warn!(%error, "cannot seal a refresh answer for the other instances")
        }
    }
}

/// Releases the lock if `holder` still holds it.
async fn release(across: &Across, lock_key: &str, holder: &str) {
    let (lock_key, holder) = (lock_key.to_string(), holder.to_string());
    across
        .shared
        .call("refresh", |backend| async move {
            backend.release(&lock_key, &holder).await
        })
        .await;
}

/// Whether a token expiring at `expires_at` needs a refresh now.
pub fn is_due(expires_at: Option<i64>, now: i64, margin: i64) -> bool {
    expires_at.is_some_and(|expires_at| expires_at.saturating_sub(margin) <= now)
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
