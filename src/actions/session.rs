//! `GET /session` (read, slide the expiry, re-issue the cookie) and `POST /session`
//! (update with `trigger: "update"`), for both strategies: a JWT cookie goes through the
//! jwt and session callbacks and is re-issued on every read; a database session token is
//! looked up in the store, deleted when expired, and extended at most once per
//! `updateAge`. An invalid, tampered, expired or foreign cookie reads as `null` and is
//! cleared; a failing callback reads as `null` but keeps the cookie, so a broken script
//! does not sign everyone out; an unreachable store answers 503 and keeps it too.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rhai::Dynamic;
use serde_json::{Map, Value, json};

use super::callbacks::{default_session, run_jwt_scripted, run_session};
use super::issue::{BROWSER_CLAIM, OwnClaims};
use super::session_state::{Standing, jwt_standing};
use super::{
    AuthRequest, AuthResponse, Body, PendingEvent, failure, off_workers, off_workers_on_request,
    session_cookie_writes,
};
use crate::config::model::SessionStrategy;
use crate::config::script_key::{Callback, Event, ScriptKey};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::Pipeline;
use crate::script::convert::{is_plain_json, to_dynamic, to_dynamic_map};
use crate::session::chunks::{chunk_index, read_value};
use crate::session::jwt::{decode, encode};
use crate::store::Adapter;
use crate::text::constant_time_eq;

/// How long a session token lives: `jwt.maxAge`, else `session.maxAge`.
pub fn token_max_age(pipeline: &Pipeline) -> Duration {
    pipeline
        .config
        .jwt
        .max_age
        .unwrap_or(pipeline.config.session.max_age)
        .as_std()
}

/// RFC 3339 with milliseconds, as JavaScript's `toISOString()`.
pub fn iso_time(time: SystemTime) -> String {
    let millis = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    crate::clock::iso_time_millis(millis)
}

/// The session cookie's value (chunks reassembled), or why it cannot be read.
pub fn session_cookie(
    request: &AuthRequest,
    pipeline: &Pipeline,
) -> Option<Result<SessionCookie, String>> {
    let name = &request.cookie_policy(pipeline).session_token.name;
    // A session cookie that came twice (a sibling subdomain's parent-domain copy beside
    // ours) is no session: neither copy can be told to be the one authgate issued here.
    if request
        .cookies
        .ambiguous
        .iter()
        .any(|cookie| cookie == name || chunk_index(name, cookie).is_some())
    {
        return Some(Err("the session cookie came more than once".into()));
    }
    let value = read_value(
        request
            .cookies
            .found
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
        name,
    )?;
    let value = match value {
        Ok(value) => value,
        Err(error) => return Some(Err(error.to_string())),
    };
    // A JWS has two dots, a JWE four; a database session token has none.
    if value.contains('.') {
        if !accepts_jwt_cookies(pipeline) {
            return Some(Err("a JWT cookie, but sessions are in the database".into()));
        }
        let Some(keys) = pipeline.session_keys.for_cookie(name) else {
            return Some(Err("no keys for the session cookie".into()));
        };
        let token = match decode(keys, &value, pipeline.clock.now()) {
            Ok(token) => token,
            Err(error) => return Some(Err(error.to_string())),
        };
        let bound = token.get(BROWSER_CLAIM).and_then(Value::as_str);
        if !may_be_read_here(request, pipeline, bound) {
            return Some(Err("the session was issued to another browser".into()));
        }
        Some(Ok(SessionCookie::Jwt(token)))
    } else {
        match &pipeline.store {
            Some(store) if pipeline.session_strategy == SessionStrategy::Database => {
                Some(Ok(SessionCookie::Database {
                    token: value,
                    store: store.clone(),
                }))
            }
            _ => Some(Err("a database session token, but sessions are JWTs".into())),
        }
    }
}

/// Whether a session bound to `bound` may be read by this request: a session issued to
/// another browser (a parent-domain cookie a sibling subdomain planted, holding the
/// attacker's own session) reads as no session, so a victim is never signed into the
/// attacker's account. A session without a binding (issued by Auth.js, or before
/// authgate recorded it) is read, but never counts for linking.
pub fn may_be_read_here(request: &AuthRequest, pipeline: &Pipeline, bound: Option<&str>) -> bool {
    match bound {
        None => true,
        Some(bound) => request
            .browser_binding(pipeline)
            .is_some_and(|browser| constant_time_eq(bound, &browser)),
    }
}

/// What the session cookie holds.
pub enum SessionCookie {
    /// A decoded, verified JWT's claims.
    Jwt(Map<String, Value>),
    /// A database session token, still to be looked up.
    Database {
        token: String,
        store: Arc<dyn Adapter>,
    },
}

/// JWT cookies are issued by the `jwt` strategy, and by credentials sign-ins under the
/// `database` strategy with `session.credentials: jwt`.
fn accepts_jwt_cookies(pipeline: &Pipeline) -> bool {
    pipeline.session_strategy == SessionStrategy::Jwt
        || pipeline.config.session.credentials == Some(SessionStrategy::Jwt)
}

/// "No session": `null` (Auth.js v5), or `{}` for v4 apps (cookie prefix `next-auth.`),
/// whose client reads the keys of the answer.
fn null_session(pipeline: &Pipeline) -> AuthResponse {
    let empty = if pipeline.config.cookies.prefix == "next-auth." {
        json!({})
    } else {
        Value::Null
    };
    AuthResponse::json(200, empty)
}

/// `GET /session`, or `POST /session` with `update` set to the submitted `data`. It runs
/// on the async workers; the callbacks hop to the blocking pool when they may block.
pub async fn handle(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    update: Option<Value>,
) -> AuthResponse {
    let (strategy, response) = read(request, pipeline, update).await;
    let outcome = if response.failure.is_some() {
        "error"
    } else if response.body != Body::Json(Value::Null) {
        "active"
    } else if response.cookies.is_empty() {
        "none"
    } else {
        // A cookie was there and is being cleared: expired, revoked, forged or refused
        // by a callback.
        "refused"
    };
    crate::telemetry::metrics::session_read(strategy, outcome);
    response
}

/// The session read, and the strategy of the cookie that was read (the configured one
/// when there was none).
async fn read(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    update: Option<Value>,
) -> (&'static str, AuthResponse) {
    let clear = |mut response: AuthResponse| {
        response.cookies = session_cookie_writes(request, pipeline, None, 0);
        response
    };
    let configured = match pipeline.session_strategy {
        crate::config::model::SessionStrategy::Jwt => "jwt",
        crate::config::model::SessionStrategy::Database => "database",
    };
    let response = match session_cookie(request, pipeline) {
        None => null_session(pipeline),
        Some(Err(reason)) => {
            tracing::debug!(%reason, "session cookie refused");
            clear(null_session(pipeline))
        }
        Some(Ok(SessionCookie::Jwt(mut token))) => {
            match jwt_standing(pipeline, &token).await {
                Ok(Standing::Active { .. }) => {}
                Ok(Standing::Revoked(reason)) => {
                    tracing::debug!(%reason, "session refused");
                    return ("jwt", clear(null_session(pipeline)));
                }
                Err(error) => return ("jwt", failure::json(error)),
            }
            super::token_refresh::refresh_token_claims(pipeline, &mut token).await;
            let may_block = pipeline.script_may_block(ScriptKey::Callback(Callback::Jwt))
                || pipeline.script_may_block(ScriptKey::Callback(Callback::Session));
            let response =
                off_workers_on_request(may_block, request, pipeline, move |request, pipeline| {
                    jwt_session(request, pipeline, token, update)
                })
                .await
                .unwrap_or_else(super::failure::json);
            return ("jwt", response);
        }
        Some(Ok(SessionCookie::Database { token, store })) => {
            let response =
                database_session(request, pipeline, &token, store.as_ref(), update).await;
            return ("database", response);
        }
    };
    (configured, response)
}

/// The JWT strategy: run the jwt and session callbacks, slide the expiry, re-issue.
fn jwt_session(
    request: &AuthRequest,
    pipeline: &Pipeline,
    token: Map<String, Value>,
    update: Option<Value>,
) -> AuthResponse {
    let max_age = token_max_age(pipeline);
    let clear = |mut response: AuthResponse| {
        response.cookies = session_cookie_writes(request, pipeline, None, 0);
        response
    };
    let mut arguments: Vec<(&str, Value)> = Vec::new();
    if let Some(data) = &update {
        arguments.push(("trigger", json!("update")));
        arguments.push(("session", data.clone()));
    }
    // The browser and the session id stay as they were, whatever the script does.
    let own = OwnClaims::of(&token);
    let (token, script_form) = match run_jwt_scripted(pipeline, token, &arguments) {
        Ok(Some(scripted)) => {
            // The jwt callback's own result goes on to the session callback when it is
            // the token as re-issued: authgate's claims as they were (here), and nothing
            // in it that JSON changes (when the session callback runs).
            let script_form = scripted.script_form.filter(|token| own.held_by(token));
            (own.apply(scripted.claims), script_form)
        }
        Ok(None) => return clear(null_session(pipeline)),
        Err(_) => return null_session(pipeline),
    };
    let now = crate::session::jwt::whole_seconds(pipeline.clock.now());
    let Some(expires_at) = now.checked_add(max_age) else {
        return AuthResponse::json(500, json!({ "error": ErrorCode::Configuration.as_str() }));
    };
    let expires = iso_time(expires_at);
    let name = &request.cookie_policy(pipeline).session_token.name;
    let Some(keys) = pipeline.session_keys.for_cookie(name) else {
        return null_session(pipeline);
    };
    // Encoded before the session callback, which cannot change the token, so that the
    // token can be handed to the callback rather than copied. A failing callback still
    // answers first, as when the encoding came after it.
    let encoded = encode(keys, &token, now, max_age);
    let default = default_session(&token, &expires);
    let arguments = || {
        let token = script_form
            .filter(is_plain_json)
            .unwrap_or_else(|| to_dynamic_map(&token));
        vec![("token", token)]
    };
    let session = match run_session(pipeline, default, arguments) {
        Ok(session) => session,
        Err(_) => return null_session(pipeline),
    };
    let encoded = match encoded {
        Ok(encoded) => encoded,
        Err(error) => {
            return failure::json(AuthError::configuration(format!(
                "cannot encode the session token: {error}"
            )));
        }
    };
    let event = PendingEvent::wanted(pipeline, Event::Session).then(|| {
        vec![
            ("session", session.clone()),
            ("token", Value::Object(token)),
        ]
    });
    let mut response = AuthResponse::json(200, session);
    response.cookies = session_cookie_writes(request, pipeline, Some(&encoded), max_age.as_secs());
    response
        .events
        .extend(event.and_then(|arguments| {
            PendingEvent::if_configured(pipeline, Event::Session, arguments)
        }));
    response
}

/// The database strategy: look the session up, delete it when expired, push the expiry
/// forward at most once per `updateAge`, and run the session callback with the user.
async fn database_session(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    token: &str,
    store: &dyn Adapter,
    update: Option<Value>,
) -> AuthResponse {
    let clear = |mut response: AuthResponse| {
        response.cookies = session_cookie_writes(request, pipeline, None, 0);
        response
    };
    let (mut session, user) = match store.get_session_and_user(token).await {
        Ok(Some(found)) => found,
        Ok(None) => return clear(null_session(pipeline)),
        Err(error) => return failure::json(error.into()),
    };
    if !may_be_read_here(request, pipeline, session.browser_binding.as_deref()) {
        tracing::debug!("database session issued to another browser");
        return clear(null_session(pipeline));
    }
    if user.disabled_at.is_some() {
        tracing::debug!("database session of a disabled user");
        return clear(null_session(pipeline));
    }
    let now = unix_now(pipeline);
    if session
        .last_seen
        .is_none_or(|seen| now.saturating_sub(seen) >= LAST_SEEN_RESOLUTION)
        && let Err(error) = store.touch_session(token, now).await
    {
        tracing::warn!(%error, "cannot record when a session was last seen");
    }
    if session.expires <= now {
        if let Err(error) = store.delete_session(token).await {
            tracing::warn!(%error, "cannot delete an expired session");
        }
        return clear(null_session(pipeline));
    }
    let max_age = seconds(pipeline.config.session.max_age.as_std());
    let update_age = seconds(pipeline.config.session.update_age.as_std());
    let mut extended = false;
    if session
        .expires
        .saturating_sub(max_age)
        .saturating_add(update_age)
        <= now
    {
        let expires = now.saturating_add(max_age);
        match store.update_session(token, expires).await {
            Ok(Some(updated)) => {
                session = updated;
                extended = true;
            }
            Ok(None) => return clear(null_session(pipeline)),
            Err(error) => return failure::json(error.into()),
        }
    }
    let refreshed = super::token_refresh::refresh_accounts(pipeline, store, &user.id).await;
    let expires = iso_time(unix_to_system(session.expires));
    let mut default = json!({
        "user": {"name": user.name, "email": user.email, "image": user.image},
        "expires": expires,
    });
    if !refreshed {
        default["error"] = json!(crate::providers::refresh::REFRESH_ERROR);
    }
    let arguments = move || {
        let user = serde_json::to_value(&user).unwrap_or(Value::Null);
        let mut arguments = vec![("user", to_dynamic(&user))];
        if let Some(data) = update {
            arguments.push(("trigger", Dynamic::from("update")));
            arguments.push(("newSession", to_dynamic(&data)));
        }
        arguments
    };
    let worker_pipeline = pipeline.clone();
    let may_block = pipeline.script_may_block(ScriptKey::Callback(Callback::Session));
    let session_json = match off_workers(may_block, move || {
        run_session(&worker_pipeline, default, arguments)
    })
    .await
    {
        Ok(Ok(session)) => session,
        Ok(Err(_)) | Err(_) => return null_session(pipeline),
    };
    let mut response = AuthResponse::json(200, session_json.clone());
    if extended {
        response.cookies =
            session_cookie_writes(request, pipeline, Some(token), max_age.unsigned_abs());
    }
    response.events.extend(PendingEvent::if_configured(
        pipeline,
        Event::Session,
        vec![("session", session_json), ("token", Value::Null)],
    ));
    response
}

/// How precisely a database session's "last seen" is kept, in seconds: at most one write
/// per session and period.
const LAST_SEEN_RESOLUTION: i64 = 60;

/// The pipeline clock in Unix seconds, as the store keeps time.
pub fn unix_now(pipeline: &Pipeline) -> i64 {
    i64::try_from(pipeline.clock.unix_seconds()).unwrap_or(i64::MAX)
}

pub fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// Unix seconds as `iso_time` writes them.
pub fn iso_time_of_unix(seconds: i64) -> String {
    iso_time(unix_to_system(seconds))
}

fn unix_to_system(seconds: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

/// `POST /session`: `{csrfToken, data}` with a valid CSRF token, else 400.
pub async fn update(request: &AuthRequest, pipeline: &Arc<Pipeline>) -> AuthResponse {
    if !request.csrf_is_valid(pipeline) {
        return AuthResponse::json(400, json!({ "error": ErrorCode::MissingCSRF.as_str() }));
    }
    let data = request
        .json
        .as_ref()
        .and_then(|body| body.get("data"))
        .cloned()
        .unwrap_or(Value::Null);
    handle(request, pipeline, Some(data)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_like_javascript_to_iso_string() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(iso_time(time), "2023-11-14T22:13:20.123Z");
        assert_eq!(iso_time(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(iso_time(leap), "2000-02-29T00:00:00.000Z");
    }
}
