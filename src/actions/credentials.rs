//! `POST /callback/<credentials provider>`: CSRF check, the `authorize` script with the
//! submitted fields, then `signIn`, `jwt`, the session cookie and a redirect to the
//! validated callbackUrl. Failures answer Auth.js's `?error=CredentialsSignin&code=credentials`
//! and never say whether the user exists (the script's `verify_password(plain, ())` costs the
//! same as a real check).

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::callbacks::{SignInDecision, default_token, run_jwt, run_sign_in};
use super::pages::sign_in_page_url;
use super::redirect::resolve_callback_url;
use super::session::token_max_age;
use super::{AuthRequest, AuthResponse, PendingEvent, session_cookie_writes};
use crate::config::ProviderKind;
use crate::error::ErrorCode;
use crate::pipeline::{Pipeline, Provider};
use crate::session::jwt::encode;

/// Fields of the form that are not credentials.
const CONTROL_FIELDS: [&str; 3] = ["csrfToken", "callbackUrl", "json"];

/// The budget of an `authorize` script: it may verify a password hash (~30 ms each).
pub const AUTHORIZE_BUDGET: Duration = Duration::from_secs(2);

fn failure(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    let mut url = sign_in_page_url(request, pipeline);
    url.push_str(if url.contains('?') { "&" } else { "?" });
    url.push_str("error=CredentialsSignin&code=credentials");
    AuthResponse::redirect(request, url)
        .with_v4_failure_status(request, ErrorCode::CredentialsSignin)
}

/// The user map `authorize` returned, with `id` a string (a fresh one when missing, as
/// Auth.js does); `None` for `()`, `false` or anything that is not a map.
fn authorized_user(result: Value) -> Option<Map<String, Value>> {
    let Value::Object(mut user) = result else {
        return None;
    };
    let id = match user.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => uuid::Uuid::new_v4().to_string(),
    };
    user.insert("id".into(), Value::String(id));
    Some(user)
}

pub fn callback(request: &AuthRequest, pipeline: &Pipeline, provider: &Provider) -> AuthResponse {
    if provider.kind != ProviderKind::Credentials {
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration);
    }
    if !request.csrf_is_valid(pipeline) {
        tracing::info!(provider = %provider.id, "credentials sign-in without a valid CSRF token");
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::MissingCSRF);
    }
    let credentials: Map<String, Value> = request
        .form
        .iter()
        .filter(|(name, _)| !CONTROL_FIELDS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let script_name = format!(
        "providers[{}].authorize",
        provider_position(pipeline, provider)
    );
    let Some(script) = pipeline.script(&script_name) else {
        tracing::error!(provider = %provider.id, "credentials provider has no authorize script (lookup needs a store)");
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration);
    };
    let result = pipeline.scripts_runtime.call_with_budget(
        script,
        &[("credentials", Value::Object(credentials.clone()))],
        AUTHORIZE_BUDGET.max(Duration::from_millis(pipeline.config.scripting.timeout_ms)),
    );
    let user = match result {
        Ok(result) => authorized_user(result),
        Err(error) => {
            tracing::warn!(script = %error.script, "{error}");
            None
        }
    };
    let Some(user) = user else {
        return failure(request, pipeline);
    };
    let account = json!({
        "provider": provider.id,
        "type": "credentials",
        "providerAccountId": user.get("id").cloned().unwrap_or(Value::Null),
    });
    let user_value = Value::Object(user.clone());
    match run_sign_in(
        pipeline,
        &[
            ("user", user_value.clone()),
            ("account", account.clone()),
            ("profile", Value::Null),
            ("email", Value::Null),
            ("credentials", Value::Object(credentials.clone())),
        ],
    ) {
        SignInDecision::Allow => {}
        SignInDecision::Deny => {
            return AuthResponse::error_redirect(request, pipeline, ErrorCode::AccessDenied);
        }
        SignInDecision::Redirect(url) => {
            let url = resolve_callback_url(pipeline, &request.origin, Some(&url));
            return AuthResponse::redirect(request, url);
        }
    }
    let token = match run_jwt(
        pipeline,
        default_token(&user),
        &[
            ("user", user_value.clone()),
            ("account", account.clone()),
            ("profile", Value::Null),
            ("trigger", json!("signIn")),
            ("isNewUser", json!(false)),
        ],
    ) {
        Ok(Some(token)) => token,
        Ok(None) | Err(_) => {
            return AuthResponse::error_redirect(request, pipeline, ErrorCode::AccessDenied);
        }
    };
    let max_age = token_max_age(pipeline);
    let name = &request.cookie_policy(pipeline).session_token.name;
    let encoded = pipeline
        .session_keys
        .for_cookie(name)
        .ok_or_else(|| "no keys for the session cookie".to_string())
        .and_then(|keys| {
            encode(keys, &token, pipeline.clock.now(), max_age).map_err(|e| e.to_string())
        });
    let encoded = match encoded {
        Ok(encoded) => encoded,
        Err(error) => {
            tracing::error!(%error, "cannot encode the session token");
            return AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration);
        }
    };
    let callback_cookie = request.cookie(&request.cookie_policy(pipeline).callback_url.name);
    let destination = resolve_callback_url(
        pipeline,
        &request.origin,
        request.field("callbackUrl").or(callback_cookie),
    );
    let mut response = AuthResponse::redirect(request, destination);
    response.cookies = session_cookie_writes(request, pipeline, Some(&encoded), max_age.as_secs());
    if pipeline.script("events.signIn").is_some() {
        response.events.push(PendingEvent {
            script: "events.signIn".into(),
            arguments: vec![
                ("user", user_value),
                ("account", account),
                ("profile", Value::Null),
                ("isNewUser", json!(false)),
            ],
        });
    }
    response
}

fn provider_position(pipeline: &Pipeline, provider: &Provider) -> usize {
    pipeline
        .providers
        .iter()
        .position(|candidate| candidate.id == provider.id)
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
