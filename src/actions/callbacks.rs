//! The Auth.js callbacks, run as Rhai scripts with Auth.js's semantics: `signIn` answers
//! true, false or a URL; `jwt` returns the token or `()` to end the session; `session`
//! shapes what `/session` returns; `redirect` decides foreign callback URLs. Any script
//! failure denies (never allows, `AccessDenied`) and is logged with the script's file
//! position.

use rhai::Dynamic;
use serde_json::{Map, Value};

use crate::config::script_key::{Callback, ScriptKey};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::Pipeline;
use crate::script::convert::{to_dynamic, to_dynamic_map};
use crate::script::{CompiledScript, ScriptError};

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
    in_parameter_order(key, given.to_vec(), || &NULL)
}

/// `given` in the order of the parameters of the script under `key`, with `missing()` for
/// each one it lacks; what is not a parameter is dropped.
fn in_parameter_order<T>(
    key: ScriptKey,
    mut given: Vec<(&str, T)>,
    missing: impl Fn() -> T,
) -> Vec<(&'static str, T)> {
    key.parameters()
        .iter()
        .map(|name| {
            let value = given
                .iter()
                .position(|(given_name, _)| given_name == name)
                .map_or_else(&missing, |at| given.remove(at).1);
            (*name, value)
        })
        .collect()
}

/// The script of `callback`, when one is configured.
fn script_of(
    pipeline: &Pipeline,
    callback: Callback,
) -> Option<Result<&CompiledScript, AuthError>> {
    match pipeline.script(ScriptKey::Callback(callback)) {
        Ok(script) => script.map(Ok),
        Err(error) => {
            tracing::error!("{}", error.internal);
            Some(Err(error))
        }
    }
}

/// A failed callback denies.
fn denied(error: ScriptError) -> AuthError {
    log_failure(&error);
    AuthError::new(ErrorCode::AccessDenied, error.to_string())
}

/// Runs the callback on JSON arguments, when one is configured.
fn run(
    pipeline: &Pipeline,
    callback: Callback,
    arguments: &[(&str, &Value)],
) -> Option<Result<Value, AuthError>> {
    let arguments = || {
        arguments
            .iter()
            .map(|(name, value)| (*name, to_dynamic(value)))
            .collect()
    };
    let outcome = run_scripted(pipeline, callback, arguments)?;
    Some(outcome.map(|(json, _)| json))
}

/// Runs the callback, when one is configured, on the arguments `arguments` gives in
/// Rhai's form (asked for only when there is a script); its result as JSON and as the
/// script left it.
fn run_scripted<'a>(
    pipeline: &Pipeline,
    callback: Callback,
    arguments: impl FnOnce() -> Vec<(&'a str, Dynamic)>,
) -> Option<Result<(Value, Dynamic), AuthError>> {
    let script = match script_of(pipeline, callback)? {
        Ok(script) => script,
        Err(error) => return Some(Err(error)),
    };
    let arguments =
        in_parameter_order(ScriptKey::Callback(callback), arguments(), || Dynamic::UNIT);
    Some(
        pipeline
            .scripts_runtime
            .call_dynamic(script, arguments)
            .map_err(denied),
    )
}

/// The outcome of a callback `has_script` said is configured.
fn configured<T>(
    callback: Callback,
    outcome: Option<Result<T, AuthError>>,
) -> Result<T, AuthError> {
    outcome.unwrap_or_else(|| {
        Err(AuthError::configuration(format!(
            "{} disappeared",
            ScriptKey::Callback(callback)
        )))
    })
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
    Ok(run_jwt_scripted(pipeline, token, arguments)?.map(|token| token.claims))
}

/// A token as `callbacks.jwt` left it.
pub struct ScriptedToken {
    pub claims: Map<String, Value>,
    /// The script's result as the script left it, when the script ran: the claims in
    /// Rhai's form, for the session callback to receive without a conversion back from
    /// JSON when nothing JSON changes is in it (`convert::is_plain_json`).
    pub script_form: Option<Dynamic>,
}

/// `run_jwt`, keeping the script's result in Rhai's form as well.
pub fn run_jwt_scripted(
    pipeline: &Pipeline,
    token: Map<String, Value>,
    arguments: &[(&str, Value)],
) -> Result<Option<ScriptedToken>, AuthError> {
    if !pipeline.has_script(ScriptKey::Callback(Callback::Jwt)) {
        return Ok(Some(ScriptedToken {
            claims: token,
            script_form: None,
        }));
    }
    let arguments = || {
        let mut scripted = vec![("token", to_dynamic_map(&token))];
        scripted.extend(
            arguments
                .iter()
                .map(|(name, value)| (*name, to_dynamic(value))),
        );
        scripted
    };
    let (json, result) = configured(
        Callback::Jwt,
        run_scripted(pipeline, Callback::Jwt, arguments),
    )?;
    match json {
        Value::Object(claims) => Ok(Some(ScriptedToken {
            claims,
            script_form: Some(result),
        })),
        Value::Null => Ok(None),
        other => Err(AuthError::new(
            ErrorCode::AccessDenied,
            format!(
                "callbacks.jwt must return the token map or (), returned {}",
                crate::script::type_name(&other)
            ),
        )),
    }
}

/// `callbacks.session`: absent → the default `session`; a map → that; otherwise `Err`.
/// `arguments` gives the other arguments in Rhai's form, so that a token the jwt callback
/// returned goes in as it is; it is called only when there is a script to run.
pub fn run_session<'a>(
    pipeline: &Pipeline,
    session: Value,
    arguments: impl FnOnce() -> Vec<(&'a str, Dynamic)>,
) -> Result<Value, AuthError> {
    if !pipeline.has_script(ScriptKey::Callback(Callback::Session)) {
        return Ok(session);
    }
    let arguments = || {
        let mut scripted = vec![("session", to_dynamic(&session))];
        scripted.extend(arguments());
        scripted
    };
    let (json, _) = configured(
        Callback::Session,
        run_scripted(pipeline, Callback::Session, arguments),
    )?;
    match json {
        session @ Value::Object(_) => Ok(session),
        other => Err(AuthError::new(
            ErrorCode::AccessDenied,
            format!(
                "callbacks.session must return the session map, returned {}",
                crate::script::type_name(&other)
            ),
        )),
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
    // Built in place: `json!` would copy `user` through serde into a new map.
    let mut session = Map::new();
    session.insert("user".into(), Value::Object(user));
    session.insert("expires".into(), Value::String(expires.to_string()));
    // A failed automatic refresh shows in the session, as Auth.js's refresh guide does it.
    if let Some(error) = token.get("error").filter(|v| v.is_string()) {
        session.insert("error".into(), error.clone());
    }
    Value::Object(session)
}

#[cfg(test)]
#[path = "callbacks_tests.rs"]
mod tests;
