//! `POST /introspect` (RFC 7662): for a client listed under `introspection.clients`
//! (HTTP Basic, or `client_id`/`client_secret` fields), whether a token is active, and its
//! claims. It knows authgate's access tokens (`/token`), JWT session tokens and database
//! session tokens; a token whose session was revoked, whose user was disabled, or that
//! expired, is `{"active": false}`, as is anything else.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::access_tokens::issuer;
use super::session::unix_now;
use super::session_state::{Standing, jwt_standing};
use super::{AuthRequest, AuthResponse, failure};
use crate::pipeline::Pipeline;
use crate::session::jwt::{decode, decode_access_token};
use crate::text::constant_time_eq;

/// The client id and secret the request presents.
fn presented_client(request: &AuthRequest) -> Option<(String, String)> {
    if let Some(basic) = request
        .authorization
        .as_deref()
        .and_then(|value| value.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |text: &str| {
            url::form_urlencoded::parse(format!("x={text}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default()
        };
        return Some((unescape(id), unescape(secret)));
    }
    Some((
        request.form.get("client_id")?.clone(),
        request.form.get("client_secret")?.clone(),
    ))
}

/// The client the request authenticates as: `Some(may it see session tokens)`.
fn known_client(pipeline: &Pipeline, request: &AuthRequest) -> Option<bool> {
    let (id, secret) = presented_client(request)?;
    // Every client is compared, so the time taken does not say which ids exist.
    pipeline
        .config
        .introspection
        .clients
        .iter()
        .fold(None, |known, client| {
            let id_matches = constant_time_eq(&client.id, &id);
            let secret_matches = constant_time_eq(client.secret.expose(), &secret);
            if id_matches & secret_matches {
                Some(client.session_tokens)
            } else {
                known
            }
        })
}

/// `POST /introspect`.
pub async fn introspect(request: &AuthRequest, pipeline: &Arc<Pipeline>) -> AuthResponse {
    if pipeline.config.introspection.clients.is_empty() {
        return super::management::refusal(
            404,
            "NotEnabled",
            "introspection is off (`introspection.clients` in the configuration)",
        );
    }
    let Some(sees_sessions) = known_client(pipeline, request) else {
        let mut answer = AuthResponse::json(401, json!({ "error": "invalid_client" }));
        answer.headers.push((
            "WWW-Authenticate".into(),
            "Basic realm=\"introspect\"".into(),
        ));
        return answer;
    };
    let Some(token) = request.form.get("token").filter(|token| !token.is_empty()) else {
        return AuthResponse::json(400, json!({ "error": "invalid_request" }));
    };
    match inspect(pipeline, token, sees_sessions).await {
        Ok(Some(mut claims)) => {
            claims.insert("active".into(), Value::Bool(true));
            AuthResponse::json(200, Value::Object(claims))
        }
        Ok(None) => AuthResponse::json(200, json!({ "active": false })),
        Err(error) => failure::json(error),
    }
}

/// The claims of an active token, `None` for any other (and for session tokens, unless the
/// client may see them).
async fn inspect(
    pipeline: &Pipeline,
    token: &str,
    sees_sessions: bool,
) -> Result<Option<Map<String, Value>>, crate::error::AuthError> {
    let now = pipeline.clock.now();
    let policies = [pipeline.cookie_policy(false), pipeline.cookie_policy(true)];
    let key_sets = policies
        .iter()
        .filter_map(|policy| pipeline.session_keys.for_cookie(&policy.session_token.name));
    if token.contains('.') {
        for keys in key_sets {
            if let Ok(mut claims) = decode_access_token(keys, token, now) {
                let audience = pipeline
                    .config
                    .access_tokens
                    .as_ref()
                    .map(|c| c.audience.as_str());
                let ours = claims.get("iss").and_then(Value::as_str)
                    == Some(issuer(pipeline).as_str())
                    && audience
                        .is_some_and(|aud| claims.get("aud").and_then(Value::as_str) == Some(aud));
                if !ours || !access_token_stands(pipeline, &claims).await? {
                    return Ok(None);
                }
                claims.insert("token_type".into(), json!("access_token"));
                return Ok(Some(claims));
            }
            if let (true, Ok(claims)) = (sees_sessions, decode(keys, token, now)) {
                // Only a tracked session names its owner (see `session_and_subject`).
                let Standing::Active {
                    status: Some(status),
                } = jwt_standing(pipeline, &claims).await?
                else {
                    return Ok(None);
                };
                let mut shown = Map::new();
                shown.insert("sub".into(), json!(status.user_id));
                for key in ["iat", "exp", "name", "email"] {
                    if let Some(value) = claims.get(key) {
                        shown.insert(key.into(), value.clone());
                    }
                }
                shown.insert("iss".into(), json!(issuer(pipeline)));
                shown.insert("token_type".into(), json!("session"));
                return Ok(Some(shown));
            }
        }
        return Ok(None);
    }
    let Some(store) = pipeline.store.as_ref().filter(|_| sees_sessions) else {
        return Ok(None);
    };
    let found = store.get_session_and_user(token).await?;
    Ok(found
        .filter(|(session, user)| {
            session.expires > unix_now(pipeline) && user.disabled_at.is_none()
        })
        .map(|(session, user)| {
            let mut shown = Map::new();
            shown.insert("sub".into(), json!(user.id));
            shown.insert("exp".into(), json!(session.expires));
            if let Some(created) = session.created_at {
                shown.insert("iat".into(), json!(created));
            }
            shown.insert("iss".into(), json!(issuer(pipeline)));
            shown.insert("token_type".into(), json!("session"));
            shown
        }))
}

/// Whether an access token's session still stands: through its `sid` when its session was
/// tracked; else (a database session's token) its user must not be disabled. Either way it
/// ends at its `exp`, within `accessTokens.lifetime`.
async fn access_token_stands(
    pipeline: &Pipeline,
    claims: &Map<String, Value>,
) -> Result<bool, crate::error::AuthError> {
    if claims.contains_key("sid") {
        return Ok(matches!(
            jwt_standing(pipeline, claims).await?,
            Standing::Active { .. }
        ));
    }
    let (Some(store), Some(sub)) = (&pipeline.store, claims.get("sub").and_then(Value::as_str))
    else {
        return Ok(true);
    };
    Ok(store
        .get_user(sub)
        .await?
        .is_none_or(|user| user.disabled_at.is_none()))
}
