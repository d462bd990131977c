//! `GET /token`: a short-lived access token for the signed-in user, for APIs. A JWT with
//! `typ: at+jwt` signed with the asymmetric `jwt.keys` (so APIs verify it offline against
//! `/jwks`), with `iss` (authgate's `{url}{basePath}`), `sub`, `aud`, `iat`, `exp`, `jti`,
//! the session's `sid` (so introspection knows when its session was revoked), and claims an
//! `accessTokens.claims` script shapes.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::management::refusal;
use super::session_state::current_session;
use super::{AuthRequest, AuthResponse, Body, failure, off_workers};
use crate::config::script_key::ScriptKey;
use crate::error::AuthError;
use crate::pipeline::Pipeline;
use crate::session::jwt::encode_access_token;

/// The claims authgate sets and a script cannot change.
const REGISTERED: [&str; 9] = [
    "iss",
    "sub",
    "aud",
    "iat",
    "exp",
    "jti",
    "sid",
    "active",
    "token_type",
];

/// The issuer of access tokens: the configured `url` and base path, whatever host a request
/// named.
pub fn issuer(pipeline: &Pipeline) -> String {
    format!("{}{}", pipeline.base_url, pipeline.base_path)
}

/// The session `GET /session` would answer (with the cookies that read wrote), and the
/// subject and `sid` of its cookie; `Err` is the answer to give instead. The subject is
/// the owner the store recorded for a tracked JWT session (`credentials:<provider>:<id>`
/// for a credentials user of a script) or a database session's user: an untracked JWT's
/// `sub` could be any id a script made up, and names no one.
pub async fn session_and_subject(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
) -> Result<(AuthResponse, Value, String, Option<String>), AuthResponse> {
    let read = super::session::handle(request, pipeline, None).await;
    let session = match (read.status, &read.body) {
        (200, Body::Json(session)) if session.get("user").is_some() => session.clone(),
        (200, _) => return Err(refusal(401, "SessionRequired", "sign in first")),
        _ => return Err(read),
    };
    let current = match current_session(request, pipeline).await {
        Ok(Some(current)) => current,
        Ok(None) => {
            return Err(refusal(
                401,
                "SessionRequired",
                "the session names no user the store knows",
            ));
        }
        Err(error) => return Err(failure::json(error)),
    };
    let (sub, sid) = (current.user_id, current.sid);
    Ok((read, session, sub, sid))
}

/// `GET /token`.
pub async fn issue(request: &AuthRequest, pipeline: &Arc<Pipeline>) -> AuthResponse {
    let Some(config) = pipeline.config.access_tokens.clone() else {
        return refusal(
            404,
            "NotEnabled",
            "access tokens are off (`accessTokens` in the configuration)",
        );
    };
    let (read, session, sub, sid) = match session_and_subject(request, pipeline).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer(pipeline)));
    claims.insert("sub".into(), json!(sub));
    claims.insert("aud".into(), json!(config.audience));
    if let Some(sid) = &sid {
        claims.insert("sid".into(), json!(sid));
    }
    for key in ["name", "email"] {
        if let Some(value) = session["user"].get(key).filter(|value| value.is_string()) {
            claims.insert(key.into(), value.clone());
        }
    }
    let fixed = claims.clone();
    let claims = if pipeline.has_script(ScriptKey::AccessTokenClaims) {
        let worker = pipeline.clone();
        let arguments = vec![
            ("claims", Value::Object(claims)),
            ("user", session["user"].clone()),
            ("session", session),
        ];
        let may_block = pipeline.script_may_block(ScriptKey::AccessTokenClaims);
        let shaped = off_workers(may_block, move || -> Result<Value, AuthError> {
            let script = worker
                .script(ScriptKey::AccessTokenClaims)?
                .ok_or_else(|| AuthError::configuration("accessTokens.claims is missing"))?;
            worker
                .scripts_runtime
                .call(script, &arguments)
                .map_err(|error| AuthError::configuration(error.to_string()))
        })
        .await;
        match shaped {
            Ok(Ok(Value::Object(mut shaped))) => {
                for key in REGISTERED {
                    shaped.remove(key);
                }
                shaped.extend(fixed);
                shaped
            }
            Ok(Ok(_)) => {
                return failure::json(AuthError::configuration(
                    "accessTokens.claims did not return a map",
                ));
            }
            Ok(Err(error)) | Err(error) => return failure::json(error),
        }
    } else {
        claims
    };
    let name = &request.cookie_policy(pipeline).session_token.name;
    let Some(keys) = pipeline.session_keys.for_cookie(name) else {
        return failure::json(AuthError::configuration("no signing keys"));
    };
    let lifetime = Duration::from_secs(config.lifetime.seconds());
    match encode_access_token(keys, &claims, pipeline.clock.now(), lifetime) {
        Ok(token) => {
            let mut answer = AuthResponse::json(
                200,
                json!({ "access_token": token, "token_type": "Bearer", "expires_in": lifetime.as_secs() }),
            );
            // The session read may have re-issued the cookie (a refreshed provider token).
            answer.cookies = read.cookies;
            answer
        }
        Err(error) => failure::json(AuthError::configuration(format!(
            "cannot sign the access token: {error}"
        ))),
    }
}
