//! The Auth.js callbacks, run as Rhai scripts with Auth.js's semantics: `signIn` answers
//! true, false or a URL; `jwt` returns the token or `()` to end the session; `session`
//! shapes what `/session` returns; `redirect` decides foreign callback URLs. Any script
//! failure denies (never allows, `AccessDenied`) and is logged with the script's file
//! position.

use serde_json::{Map, Value};

use crate::config::script_key::{Callback, ScriptKey};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::Pipeline;
use crate::script::ScriptError;

fn log_failure(error: &ScriptError) {
    tracing::warn!(
        script = %error.script,
        over_budget = error.over_budget,
        "{error}"
    );
}

/// `given`, plus `()` for every parameter of the script under `key` it lacks.
pub fn with_defaults<'a>(
    key: ScriptKey,
    given: &[(&str, &'a Value)],
) -> Vec<(&'static str, &'a Value)> {
    static NULL: Value = Value::Null;
    key.parameters()
        .iter()
        .map(|name| {
            let value = given
                .iter()
                .find(|(given_name, _)| given_name == name)
                .map_or(&NULL, |(_, value)| *value);
            (*name, value)
        })
        .collect()
}

/// `arguments` borrowed, after `first`.
fn borrowed<'a>(
    first: (&'a str, &'a Value),
    arguments: &'a [(&'a str, Value)],
) -> Vec<(&'a str, &'a Value)> {
    std::iter::once(first)
        .chain(arguments.iter().map(|(name, value)| (*name, value)))
        .collect()
}

/// Runs the callback, when one is configured.
fn run(
    pipeline: &Pipeline,
    callback: Callback,
    arguments: &[(&str, &Value)],
) -> Option<Result<Value, AuthError>> {
    let key = ScriptKey::Callback(callback);
    let script = match pipeline.script(key) {
        Ok(script) => script?,
        Err(error) => {
            tracing::error!("{}", error.internal);
            return Some(Err(error));
        }
    };
    let arguments = with_defaults(key, arguments);
    Some(
        pipeline
            .scripts_runtime
            .call_borrowed(script, &arguments)
            .map_err(|error| {
                log_failure(&error);
                AuthError::new(ErrorCode::AccessDenied, error.to_string())
            }),
    )
}

/// What `signIn` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInDecision {
    Allow,
    Deny,
    /// Send the user here instead (a string returned by the script).
    Redirect(String),
}

/// `callbacks.signIn`: absent → allow; `true` → allow; a string → redirect; anything
/// else, or a failure → deny.
pub fn run_sign_in(pipeline: &Pipeline, arguments: &[(&str, Value)]) -> SignInDecision {
    let arguments: Vec<(&str, &Value)> = arguments
        .iter()
        .map(|(name, value)| (*name, value))
        .collect();
    match run(pipeline, Callback::SignIn, &arguments) {
        None => SignInDecision::Allow,
        Some(Ok(Value::Bool(true))) => SignInDecision::Allow,
        Some(Ok(Value::String(url))) => SignInDecision::Redirect(url),
        Some(Ok(other)) => {
            if !matches!(other, Value::Bool(false)) {
                tracing::warn!(result = %other, "callbacks.signIn returned neither a boolean nor a URL; denying");
            }
            SignInDecision::Deny
        }
        Some(Err(_)) => SignInDecision::Deny,
    }
}

/// `callbacks.jwt`: absent → the token unchanged; a map → the new token; `()` → no
/// session (`Ok(None)`); anything else or a failure → `Err`.
pub fn run_jwt(
    pipeline: &Pipeline,
    token: Map<String, Value>,
    arguments: &[(&str, Value)],
) -> Result<Option<Map<String, Value>>, AuthError> {
    if !pipeline.has_script(ScriptKey::Callback(Callback::Jwt)) {
        return Ok(Some(token));
    }
    let token = Value::Object(token);
    match run(
        pipeline,
        Callback::Jwt,
        &borrowed(("token", &token), arguments),
    ) {
        Some(Ok(Value::Object(token))) => Ok(Some(token)),
        Some(Ok(Value::Null)) => Ok(None),
        Some(Ok(other)) => Err(AuthError::new(
            ErrorCode::AccessDenied,
            format!(
                "callbacks.jwt must return the token map or (), returned {}",
                crate::script::type_name(&other)
            ),
        )),
        Some(Err(failure)) => Err(failure),
        None => Err(AuthError::configuration("callbacks.jwt disappeared")),
    }
}

/// `callbacks.session`: absent → the default session; a map → that; otherwise `Err`.
pub fn run_session(
    pipeline: &Pipeline,
    session: Value,
    arguments: &[(&str, Value)],
) -> Result<Value, AuthError> {
    if !pipeline.has_script(ScriptKey::Callback(Callback::Session)) {
        return Ok(session);
    }
    match run(
        pipeline,
        Callback::Session,
        &borrowed(("session", &session), arguments),
    ) {
        Some(Ok(session @ Value::Object(_))) => Ok(session),
        Some(Ok(other)) => Err(AuthError::new(
            ErrorCode::AccessDenied,
            format!(
                "callbacks.session must return the session map, returned {}",
                crate::script::type_name(&other)
            ),
        )),
        Some(Err(failure)) => Err(failure),
        None => Err(AuthError::configuration("callbacks.session disappeared")),
    }
}

/// `callbacks.redirect`: the URL it returns, if any.
pub fn run_redirect(pipeline: &Pipeline, url: &Value, base_url: &Value) -> Option<String> {
    match run(
        pipeline,
        Callback::Redirect,
        &[("url", url), ("baseUrl", base_url)],
    )? {
        Ok(Value::String(url)) => Some(url),
        Ok(_) | Err(_) => None,
    }
}

/// The token Auth.js starts from on sign-in: `name`, `email`, `picture`, `sub`.
pub fn default_token(user: &Map<String, Value>) -> Map<String, Value> {
    let mut token = Map::new();
    for (from, to) in [("name", "name"), ("email", "email"), ("image", "picture")] {
        if let Some(value) = user.get(from).filter(|v| !v.is_null()) {
            token.insert(to.to_string(), value.clone());
        }
    }
    if let Some(id) = user.get("id").filter(|v| !v.is_null()) {
        let id = match id {
            Value::String(id) => id.clone(),
            other => other.to_string(),
        };
        token.insert("sub".into(), Value::String(id));
    }
    token
}

/// The session Auth.js returns by default for a token: `user {name, email, image}` and
/// `expires`.
pub fn default_session(token: &Map<String, Value>, expires: &str) -> Value {
    let mut user = Map::new();
    for (from, to) in [("name", "name"), ("email", "email"), ("picture", "image")] {
        if let Some(value) = token.get(from).filter(|v| !v.is_null()) {
            user.insert(to.to_string(), value.clone());
        }
    }
    let mut session = serde_json::json!({ "user": user, "expires": expires });
    // A failed automatic refresh shows in the session, as Auth.js's refresh guide does it.
    if let Some(error) = token.get("error").filter(|v| v.is_string()) {
        session["error"] = error.clone();
    }
    session
}
