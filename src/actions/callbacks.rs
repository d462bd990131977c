//! The Auth.js callbacks, run as Rhai scripts with Auth.js's semantics: `signIn` answers
//! true, false or a URL; `jwt` returns the token or `()` to end the session; `session`
//! shapes what `/session` returns; `redirect` decides foreign callback URLs. Any script
//! failure denies (never allows) and is logged with the script's file position.

use serde_json::{Map, Value};

use crate::pipeline::Pipeline;
use crate::script::ScriptError;

/// Why a callback could not be applied.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct CallbackFailure(pub String);

fn log_failure(error: &ScriptError) {
    tracing::warn!(
        script = %error.script,
        over_budget = error.over_budget,
        "{error}"
    );
}

/// The variables each script sees; those a call does not give are `()`, so a script can
/// always test `if account != () { ... }`.
pub fn parameters_of(script: &str) -> &'static [&'static str] {
    match script {
        "callbacks.signIn" => &["user", "account", "profile", "email", "credentials"],
        "callbacks.redirect" => &["url", "baseUrl"],
        "callbacks.jwt" => &[
            "token",
            "user",
            "account",
            "profile",
            "trigger",
            "isNewUser",
            "session",
        ],
        "callbacks.session" => &["session", "token", "user", "trigger", "newSession"],
        "events.signIn" => &["user", "account", "profile", "isNewUser"],
        "events.signOut" => &["token", "session"],
        "events.createUser" | "events.updateUser" => &["user"],
        "events.linkAccount" => &["user", "account", "profile"],
        "events.session" => &["session", "token"],
        _ => &[],
    }
}

/// `given`, plus `()` for every parameter of `script` it lacks.
pub fn with_defaults(script: &str, given: &[(&str, Value)]) -> Vec<(&'static str, Value)> {
    parameters_of(script)
        .iter()
        .map(|name| {
            let value = given
                .iter()
                .find(|(given_name, _)| given_name == name)
                .map(|(_, value)| value.clone())
                .unwrap_or(Value::Null);
            (*name, value)
        })
        .collect()
}

fn run(
    pipeline: &Pipeline,
    name: &str,
    arguments: &[(&str, Value)],
) -> Option<Result<Value, CallbackFailure>> {
    let script = pipeline.script(name)?;
    let arguments = with_defaults(name, arguments);
    Some(
        pipeline
            .scripts_runtime
            .call(script, &arguments)
            .map_err(|error| {
                log_failure(&error);
                CallbackFailure(error.to_string())
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
    match run(pipeline, "callbacks.signIn", arguments) {
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
) -> Result<Option<Map<String, Value>>, CallbackFailure> {
    if pipeline.script("callbacks.jwt").is_none() {
        return Ok(Some(token));
    }
    let mut all = vec![("token", Value::Object(token))];
    all.extend(arguments.iter().map(|(name, value)| (*name, value.clone())));
    match run(pipeline, "callbacks.jwt", &all) {
        Some(Ok(Value::Object(token))) => Ok(Some(token)),
        Some(Ok(Value::Null)) => Ok(None),
        Some(Ok(other)) => Err(CallbackFailure(format!(
            "callbacks.jwt must return the token map or (), returned {}",
            type_name(&other)
        ))),
        Some(Err(failure)) => Err(failure),
        None => Err(CallbackFailure("callbacks.jwt disappeared".into())),
    }
}

/// `callbacks.session`: absent → the default session; a map → that; otherwise `Err`.
pub fn run_session(
    pipeline: &Pipeline,
    session: Value,
    arguments: &[(&str, Value)],
) -> Result<Value, CallbackFailure> {
    if pipeline.script("callbacks.session").is_none() {
        return Ok(session);
    }
    let mut all = vec![("session", session)];
    all.extend(arguments.iter().map(|(name, value)| (*name, value.clone())));
    match run(pipeline, "callbacks.session", &all) {
        Some(Ok(session @ Value::Object(_))) => Ok(session),
        Some(Ok(other)) => Err(CallbackFailure(format!(
            "callbacks.session must return the session map, returned {}",
            type_name(&other)
        ))),
        Some(Err(failure)) => Err(failure),
        None => Err(CallbackFailure("callbacks.session disappeared".into())),
    }
}

/// `callbacks.redirect`: the URL it returns, if any.
pub fn run_redirect(pipeline: &Pipeline, url: &Value, base_url: &Value) -> Option<String> {
    match run(
        pipeline,
        "callbacks.redirect",
        &[("url", url.clone()), ("baseUrl", base_url.clone())],
    )? {
        Ok(Value::String(url)) => Some(url),
        Ok(_) | Err(_) => None,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "()",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a map",
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
