//! `GET /forward-auth`: may the request a reverse proxy describes pass? The first access
//! rule that matches decides (a session is required when none does):
//!
//! - **2xx**, with the user's identity headers (and any a rule's script adds) when there is
//!   a session;
//! - **401** without a session, or for Caddy/Traefik with `redirectToSignIn`, a redirect to
//!   the sign-in page with the original URL as `callbackUrl`;
//! - **403** when a rule denies, when the script refuses or fails, or when the request does
//!   not come from a trusted proxy.
//!
//! The session is read exactly as `GET /session` reads it (callbacks, revocation, disabled
//! users), so an app behind a proxy sees the same user as a Next.js app would.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::pages::{sign_in_page_url, with_query};
use super::{AuthRequest, AuthResponse, Body, off_workers};
use crate::config::model::Access;
use crate::config::script_key::ScriptKey;
use crate::forward_auth::session_cache::key_of;
use crate::forward_auth::{DEFAULT_ACCESS, OriginalRequest, Style, matching_rule};
use crate::pipeline::Pipeline;

fn answer(status: u16) -> AuthResponse {
    AuthResponse {
        body: Body::Empty,
        ..AuthResponse::json(status, Value::Null)
    }
}

/// The decision for `original` (or the reason there is none to make).
pub async fn decide(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    original: Result<OriginalRequest, &'static str>,
) -> AuthResponse {
    let original = match original {
        Ok(original) => original,
        Err(reason) => {
            tracing::warn!(%reason, "forward-auth refused");
            return answer(403);
        }
    };
    let rule = matching_rule(&pipeline.config.forward_auth.rules, &original);
    let access = rule.map_or(DEFAULT_ACCESS, |(_, rule)| rule.access);
    match access {
        Access::Deny => return answer(403),
        Access::Anonymous => return identity(pipeline, None),
        Access::Session | Access::Script => {}
    }
    let session = match read_session(request, pipeline).await {
        Ok(session) => session,
        Err(status) => return answer(status),
    };
    let extra = match (access, rule) {
        (Access::Script, Some((index, _))) => {
            match run_rule_script(pipeline, index, session.as_ref(), &original).await {
                Some(headers) => headers,
                None => return answer(403),
            }
        }
        _ => Map::new(),
    };
    if session.is_none() && access == Access::Session {
        return unauthenticated(request, pipeline, &original);
    }
    // With a session, or a script that let an anonymous request through.
    with_headers(pipeline, identity(pipeline, session.as_ref()), &extra)
}

/// The session `GET /session` would answer, `None` without one, or the status to pass on
/// (503 while the store is unreachable); reused for up to `session.revocationStaleness`
/// (`forward_auth::session_cache`).
async fn read_session(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
) -> Result<Option<Value>, u16> {
    let policy = request.cookie_policy(pipeline);
    let (session_name, csrf_name) = (&policy.session_token.name, &policy.csrf_token.name);
    let key = key_of(&request.cookies.found, |name| {
        name == csrf_name || name.starts_with(session_name.as_str())
    });
    let Some(key) = key.filter(|_| request.cookies.ambiguous.is_empty()) else {
        return read_session_now(request, pipeline).await;
    };
    let ttl = pipeline.config.session.revocation_staleness.as_std();
    let epoch = pipeline
        .revocations
        .as_ref()
        .map_or(0, |cache| cache.epoch());
    if let Some(session) = pipeline.forward_auth_sessions.get(&key, ttl, epoch) {
        return Ok(session);
    }
    let session = read_session_now(request, pipeline).await?;
    pipeline
        .forward_auth_sessions
        .put(key, session.clone(), epoch);
    Ok(session)
}

async fn read_session_now(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
) -> Result<Option<Value>, u16> {
    let read = super::session::handle(request, pipeline, None).await;
    if read.status != 200 {
        return Err(read.status);
    }
    Ok(match read.body {
        Body::Json(session) if session.get("user").is_some() => Some(session),
        _ => None,
    })
}

/// 401, or the sign-in page for proxies that pass a redirect on.
fn unauthenticated(
    request: &AuthRequest,
    pipeline: &Pipeline,
    original: &OriginalRequest,
) -> AuthResponse {
    if original.style == Style::Forwarded && pipeline.config.forward_auth.redirect_to_sign_in {
        let url = with_query(
            sign_in_page_url(request, pipeline),
            &[("callbackUrl", &original.url())],
        );
        let mut response = answer(302);
        response.location = Some(url);
        return response;
    }
    answer(401)
}

/// 200 with the user's identity headers. Every one is present, empty when unknown (or
/// without a session): proxies that copy named headers then copy an empty value over a
/// client's own, and never a placeholder.
fn identity(pipeline: &Pipeline, session: Option<&Value>) -> AuthResponse {
    let names = &pipeline.config.forward_auth.headers;
    let user = session.map_or(&Value::Null, |session| &session["user"]);
    let text = |key: &str| user.get(key).and_then(Value::as_str).map(str::to_string);
    let mut response = answer(200);
    let id = text("id").or_else(|| text("email"));
    for (name, value) in [
        (&names.user, id),
        (&names.email, text("email")),
        (&names.name, text("name")),
    ] {
        response
            .headers
            .push((name.clone(), value.unwrap_or_default()));
    }
    response
}

/// Headers a rule's script may not set: the identity headers (authgate's alone), and what
/// would change the answer itself rather than inform the upstream.
const RESERVED_HEADERS: [&str; 15] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "content-type",
    "set-cookie",
    "location",
    "www-authenticate",
    "host",
    "cookie",
    "authorization",
    "proxy-authenticate",
];

fn with_headers(
    pipeline: &Pipeline,
    mut response: AuthResponse,
    extra: &Map<String, Value>,
) -> AuthResponse {
    let names = &pipeline.config.forward_auth.headers;
    let identity = [&names.user, &names.email, &names.name];
    for (name, value) in extra {
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str())
            || lower.starts_with("proxy-")
            || identity.iter().any(|own| own.eq_ignore_ascii_case(name))
        {
            tracing::warn!(header = %name, "a forward-auth rule script may not set this header; dropped");
            continue;
        }
        let value = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        response.headers.push((name.clone(), value));
    }
    response
}

/// Runs rule `index`'s `authorize` script: the extra headers when it allows, `None` when it
/// refuses or fails (a failing script denies).
async fn run_rule_script(
    pipeline: &Arc<Pipeline>,
    index: usize,
    session: Option<&Value>,
    original: &OriginalRequest,
) -> Option<Map<String, Value>> {
    let arguments = vec![
        (
            "user",
            session.map_or(Value::Null, |session| session["user"].clone()),
        ),
        ("session", session.cloned().unwrap_or(Value::Null)),
        (
            "request",
            json!({
                "method": original.method,
                "host": original.host,
                "path": original.path(),
                "uri": original.uri,
                "proto": original.proto,
            }),
        ),
    ];
    let worker = pipeline.clone();
    let may_block = pipeline.script_may_block(ScriptKey::AccessRule(index));
    let result = off_workers(may_block, move || {
        let script = worker
            .script(ScriptKey::AccessRule(index))?
            .ok_or_else(|| {
                crate::error::AuthError::configuration("an access rule's script is missing")
            })?;
        worker
            .scripts_runtime
            .call(script, &arguments)
            .map_err(|error| crate::error::AuthError::configuration(error.to_string()))
    })
    .await;
    let value = match result {
        Ok(Ok(value)) => value,
        Ok(Err(error)) | Err(error) => {
            tracing::warn!(
                rule = index,
                "forward-auth rule script failed: {}",
                error.internal
            );
            return None;
        }
    };
    match value {
        Value::Bool(true) => Some(Map::new()),
        Value::Object(decision) if decision.get("allow") == Some(&Value::Bool(true)) => Some(
            decision
                .get("headers")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        ),
        _ => None,
    }
}
