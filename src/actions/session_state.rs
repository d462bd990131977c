//! Whether a session may still be used, beyond its signature and expiry: with a store, JWT
//! sessions are recorded at sign-in under their `sid` claim, and a read asks the store (or,
//! within `session.revocationStaleness`, the answer it last gave) whether the session was
//! revoked, whether its user was disabled, and whether the token predates the user's "not
//! before" time. Database sessions need no such record: their row is the session.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::AuthRequest;
use super::issue::SESSION_ID_CLAIM;
use super::session::{seconds, token_max_age, unix_now};
use crate::error::AuthError;
use crate::pipeline::Pipeline;
use crate::store::{Adapter, JwtSession, JwtSessionStatus};

/// Whether JWT sessions are recorded and checked.
pub fn tracks_jwt_sessions(pipeline: &Pipeline) -> bool {
    pipeline.store.is_some() && pipeline.config.session.track_jwt_sessions
}

fn staleness(pipeline: &Pipeline) -> Duration {
    pipeline.config.session.revocation_staleness.as_std()
}

/// Records a new JWT session `sid` of `owner` (a store user's id, or
/// `credentials:<provider>:<id>`).
pub async fn record_jwt_session(
    request: &AuthRequest,
    pipeline: &Pipeline,
    sid: &str,
    owner: &str,
) -> Result<(), AuthError> {
    let Some(store) = pipeline
        .store
        .as_ref()
        .filter(|_| tracks_jwt_sessions(pipeline))
    else {
        return Ok(());
    };
    let now = unix_now(pipeline);
    store
        .create_jwt_session(JwtSession {
            sid: sid.to_string(),
            user_id: owner.to_string(),
            created_at: now,
            expires: now.saturating_add(seconds(token_max_age(pipeline))),
            user_agent: request.user_agent.clone(),
        })
        .await?;
    Ok(())
}

/// What a JWT's session stands as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Usable. `status` is the store's record, when sessions are tracked.
    Active { status: Option<JwtSessionStatus> },
    /// Not usable, and why (for the log).
    Revoked(&'static str),
}

/// The standing of a verified JWT's session. A store that cannot be reached is an error
/// (503), never "signed out".
pub async fn jwt_standing(
    pipeline: &Pipeline,
    token: &Map<String, Value>,
) -> Result<Standing, AuthError> {
    let Some(store) = pipeline
        .store
        .as_ref()
        .filter(|_| tracks_jwt_sessions(pipeline))
    else {
        return Ok(Standing::Active { status: None });
    };
    let Some(sid) = token.get(SESSION_ID_CLAIM).and_then(Value::as_str) else {
        return Ok(Standing::Revoked("a JWT without a recorded session"));
    };
    let status = match cached(pipeline, sid) {
        Some(status) => status,
        None => fetch(pipeline, store, sid).await?,
    };
    let Some(status) = status else {
        return Ok(Standing::Revoked("the session was revoked or has expired"));
    };
    if status.disabled {
        return Ok(Standing::Revoked("the user is disabled"));
    }
    let issued = token.get("iat").and_then(Value::as_i64).unwrap_or(0);
    if status
        .not_before
        .is_some_and(|not_before| issued < not_before)
    {
        return Ok(Standing::Revoked(
            "issued before the user's sessions were revoked",
        ));
    }
    Ok(Standing::Active {
        status: Some(status),
    })
}

fn cached(pipeline: &Pipeline, sid: &str) -> Option<Option<JwtSessionStatus>> {
    pipeline.revocations.as_ref()?.get(sid, staleness(pipeline))
}

async fn fetch(
    pipeline: &Pipeline,
    store: &Arc<dyn Adapter>,
    sid: &str,
) -> Result<Option<JwtSessionStatus>, AuthError> {
    let now = unix_now(pipeline);
    let expires = now.saturating_add(seconds(token_max_age(pipeline)));
    let epoch = pipeline.revocations.as_ref().map(|cache| cache.epoch());
    let status = store.jwt_session_status(sid, now, expires).await?;
    if let (Some(cache), Some(epoch)) = (&pipeline.revocations, epoch) {
        cache.put(sid, status.clone(), epoch, staleness(pipeline));
    }
    Ok(status)
}

/// After this process revoked sessions of `user_id` or disabled them: their next reads
/// here ask the store, and so do those on every instance that follows the shared state's
/// announcements (Redis); others see it within the staleness bound.
pub async fn forget_user(pipeline: &Pipeline, user_id: &str) {
    if let Some(cache) = &pipeline.revocations {
        cache.forget_user(user_id);
    }
    if let Some(shared) = &pipeline.shared_state {
        shared
            .call("announce_revocation", |backend| async move {
                backend.announce_revocation(user_id).await
            })
            .await;
    }
}

/// The signed-in user of a request, and which of their sessions it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// A store user's id, or `credentials:<provider>:<id>` for a user the store does not
    /// hold.
    pub user_id: String,
    /// The session's opaque id (as `/sessions` lists it).
    pub session_id: String,
    /// A JWT session's `sid` claim (what access tokens carry); `None` for a database
    /// session.
    pub sid: Option<String>,
}

/// The user and session a request is signed in with: a session that reads as a session
/// (`GET /session` would answer it), else `None`.
pub async fn current_session(
    request: &AuthRequest,
    pipeline: &Pipeline,
) -> Result<Option<Current>, AuthError> {
    use super::session::{SessionCookie, session_cookie};
    use crate::store::{SessionKind, session_id, token_digest};
    match session_cookie(request, pipeline) {
        Some(Ok(SessionCookie::Jwt(token))) => {
            let Standing::Active { status } = jwt_standing(pipeline, &token).await? else {
                return Ok(None);
            };
            // Only a tracked session names its owner reliably: an untracked JWT's `sub` may
            // be an id an `authorize` script made up, equal to some store user's.
            let (Some(status), Some(sid)) =
                (status, token.get(SESSION_ID_CLAIM).and_then(Value::as_str))
            else {
                return Ok(None);
            };
            Ok(Some(Current {
                user_id: status.user_id,
                session_id: session_id(SessionKind::Jwt, sid),
                sid: Some(sid.to_string()),
            }))
        }
        Some(Ok(SessionCookie::Database { token, store })) => {
            let now = unix_now(pipeline);
            Ok(store
                .get_session_and_user(&token)
                .await?
                .filter(|(session, user)| session.expires > now && user.disabled_at.is_none())
                .filter(|(session, _)| {
                    super::session::may_be_read_here(
                        request,
                        pipeline,
                        session.browser_binding.as_deref(),
                    )
                })
                .map(|(_, user)| Current {
                    user_id: user.id,
                    session_id: session_id(SessionKind::Database, &token_digest(&token)),
                    sid: None,
                }))
        }
        _ => Ok(None),
    }
}

/// Ends a tracked JWT session at sign-out: its record goes, so it is no longer listed and
/// a copy of the cookie kept elsewhere stops working too.
pub async fn end_jwt_session(
    pipeline: &Pipeline,
    token: &Map<String, Value>,
) -> Result<(), AuthError> {
    use crate::store::{Revoke, SessionKind, session_id};
    let (Some(store), Some(sid)) = (
        pipeline
            .store
            .as_ref()
            .filter(|_| tracks_jwt_sessions(pipeline)),
        token.get(SESSION_ID_CLAIM).and_then(Value::as_str),
    ) else {
        return Ok(());
    };
    let Standing::Active {
        status: Some(status),
    } = jwt_standing(pipeline, token).await?
    else {
        return Ok(());
    };
    let id = session_id(SessionKind::Jwt, sid);
    store
        .revoke_sessions(&status.user_id, Revoke::One(&id), unix_now(pipeline))
        .await?;
    forget_user(pipeline, &status.user_id).await;
    Ok(())
}
