//! `POST /callback/<credentials provider>`: CSRF check, then the user is found by the
//! `authorize` script or the declarative `lookup` query; the shared sign-in pipeline
//! (`sign_in`) does the rest, issuing a JWT cookie, or a real database session when the
//! strategy is `database` and `session.credentials: database`. Failures answer Auth.js's
//! `?error=CredentialsSignin&code=credentials` and never say whether the user exists: an
//! unknown user costs one dummy password verification, like a known one.
//!
//! Password hashing is CPU-bound, so the script and the verification run on the blocking
//! pool; the store calls are async.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use serde_json::{Map, Value, json};

use super::sign_in::{Identity, SignIn, finish};
use super::{AuthRequest, AuthResponse, failure, limits, off_workers};
use crate::config::ProviderKind;
use crate::config::model::SessionStrategy;
use crate::config::script_key::{ProviderScript, ScriptKey};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::{Pipeline, Provider};
use crate::store::lookup::LookupUser;
use crate::store::{Account, Adapter};

/// Fields of the form that are not credentials.
const CONTROL_FIELDS: [&str; 3] = ["csrfToken", "callbackUrl", "json"];

/// The budget of an `authorize` script: it may verify a password hash (~30 ms each).
pub const AUTHORIZE_BUDGET: Duration = Duration::from_secs(2);

/// The user map `authorize` returned, with `id` a string when it has one; `None` for `()`,
/// `false` or anything that is not a map.
fn authorized_user(result: Value) -> Option<Map<String, Value>> {
    let Value::Object(mut user) = result else {
        return None;
    };
    match user.get("id") {
        Some(Value::String(id)) if !id.is_empty() => {}
        Some(Value::Number(number)) => {
            let id = number.to_string();
            user.insert("id".into(), Value::String(id));
        }
        _ => {
            user.remove("id");
        }
    }
    Some(user)
}

/// The identity a credentials user signs in as: its `id`; without one, a fresh id for a
/// JWT (as Auth.js does), or the email for a database session, which must find the same
/// account at the next sign-in.
fn account_id(user: &Map<String, Value>, database_session: bool) -> Option<String> {
    let text = |key: &str| {
        user.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match (text("id"), database_session) {
        (Some(id), _) => Some(id),
        (None, true) => text("email"),
        (None, false) => Some(uuid::Uuid::new_v4().to_string()),
    }
}

/// The submitted fields that are credentials (not csrfToken, callbackUrl, json).
fn submitted_credentials(request: &AuthRequest) -> Map<String, Value> {
    request
        .form
        .iter()
        .filter(|(name, _)| !CONTROL_FIELDS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect()
}

/// The `authorize` script with the credentials: on the blocking pool when it may block.
fn authorize_with_script(
    pipeline: &Pipeline,
    provider: &Provider,
    credentials: &Map<String, Value>,
) -> Option<Map<String, Value>> {
    let Ok(Some(script)) = pipeline.provider_script(provider, ProviderScript::Authorize) else {
        tracing::error!(provider = %provider.id, "credentials provider has no authorize script");
        return None;
    };
    let result = pipeline.scripts_runtime.call_with_budget(
        script,
        &[("credentials", Value::Object(credentials.clone()))],
        AUTHORIZE_BUDGET.max(Duration::from_millis(pipeline.config.scripting.timeout_ms)),
    );
    match result {
        Ok(result) => authorized_user(result),
        Err(error) => {
            tracing::warn!(script = %error.script, "{error}");
            None
        }
    }
}

/// Password checks are CPU- and memory-bound (an argon2 verification takes about 30 ms and
/// 19 MiB): at most one per core runs at a time.
fn password_check_slots() -> &'static Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        Arc::new(Semaphore::new(
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
        ))
    })
}

/// Longest a credentials sign-in waits for a password check slot before it is refused.
const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(5);

/// A slot for one password check. The permit is moved into the blocking work, so it is
/// held until the hashing ends, even when the client hung up and the request was dropped.
async fn password_check_slot() -> Option<OwnedSemaphorePermit> {
    tokio::time::timeout(
        PASSWORD_CHECK_WAIT,
        password_check_slots().clone().acquire_owned(),
    )
    .await
    .ok()?
    .ok()
}

/// The `lookup` query, then the password check against its `password_hash`.
async fn authorize_with_lookup(
    pipeline: &Pipeline,
    provider: &Provider,
    store: &dyn Adapter,
    credentials: &Map<String, Value>,
    slot: OwnedSemaphorePermit,
) -> Result<Option<Map<String, Value>>, AuthError> {
    let (Some(lookup), Some(config)) = (&provider.lookup, &provider.config.lookup) else {
        return Err(AuthError::configuration(format!(
            "provider {} has no prepared lookup",
            provider.id
        )));
    };
    let fields: BTreeMap<String, String> = credentials
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_string())))
        .collect();
    let found = store.lookup_user(lookup, &fields).await?;
    let password = fields
        .get(&config.password_field)
        .cloned()
        .unwrap_or_default();
    let hash = found.as_ref().and_then(|user| user.password_hash.clone());
    let dummy = pipeline.password_dummy.clone();
    let verified = off_workers(true, move || {
        let _slot = slot;
        // With no user or no hash, the configured dummy of the same cost is verified.
        crate::password::verify_password(&password, hash.as_deref(), &dummy)
    })
    .await
    .unwrap_or(false);
    Ok(found.filter(|_| verified).map(lookup_user_map))
}

fn lookup_user_map(user: LookupUser) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("id".into(), Value::String(user.id));
    for (key, value) in [
        ("name", user.name),
        ("email", user.email),
        ("image", user.image),
    ] {
        map.insert(key.into(), value.map(Value::String).unwrap_or(Value::Null));
    }
    map
}

/// `POST /callback/<credentials provider>`.
pub async fn callback(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
) -> AuthResponse {
    match checked_sign_in(request, pipeline, provider).await {
        Ok(sign_in) => finish(request, pipeline, sign_in).await,
        // Too many password checks at once, or the store is down: the server is busy, not
        // the user wrong, and the form can be sent again.
        Err(error) if error.status == 503 => failure::json(error),
        Err(error) => failure::redirect(request, pipeline, error),
    }
}

/// The credentials half: the CSRF token, then the user from `authorize` or `lookup`.
async fn checked_sign_in<'a>(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &'a Provider,
) -> Result<SignIn<'a>, AuthError> {
    if provider.kind != ProviderKind::Credentials {
        return Err(AuthError::configuration(format!(
            "{} is not a credentials provider",
            provider.id
        )));
    }
    request.require_csrf(
        pipeline,
        &format!("credentials sign-in with {}", provider.id),
    )?;
    let credentials = submitted_credentials(request);
    limits::credentials_attempt(request, pipeline, provider, &credentials).await?;
    let mut user = match checked_user(pipeline, provider, &credentials).await {
        Err(error) if error.code == ErrorCode::CredentialsSignin => {
            limits::credentials_failure(pipeline, provider, &credentials).await?;
            return Err(error);
        }
        checked => checked?,
    };
    let session = match (
        pipeline.session_strategy,
        pipeline.config.session.credentials,
    ) {
        (SessionStrategy::Database, Some(SessionStrategy::Database)) => SessionStrategy::Database,
        _ => SessionStrategy::Jwt,
    };
    let account_id = account_id(&user, session == SessionStrategy::Database).ok_or_else(|| {
        AuthError::configuration(format!(
            "{}: for database sessions, authorize must return an `id` or an `email`",
            provider.id
        ))
    })?;
    user.insert("id".into(), Value::String(account_id.clone()));
    let callback_cookie = request.cookie(&request.cookie_policy(pipeline).callback_url.name);
    Ok(SignIn {
        provider,
        user,
        account_json: json!({
            "provider": provider.id,
            "type": "credentials",
            "providerAccountId": account_id,
        }),
        account: Account {
            kind: "credentials".into(),
            provider: provider.id.clone(),
            provider_account_id: account_id,
            ..Account::default()
        },
        profile: Value::Null,
        credentials: Value::Object(credentials),
        email: Value::Null,
        identity: Identity::Credentials,
        session,
        token_claims: Map::new(),
        callback_url: request
            .field("callbackUrl")
            .or(callback_cookie)
            .map(str::to_string),
        clear: Vec::new(),
        retryable: true,
    })
}

/// The user the submitted credentials prove, by the `lookup` query or the `authorize`
/// script, holding one password check slot; a refusal is CredentialsSignin.
async fn checked_user(
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
    credentials: &Map<String, Value>,
) -> Result<Map<String, Value>, AuthError> {
    let slot = password_check_slot().await.ok_or_else(|| {
        AuthError::configuration(format!(
            "no password check slot within {PASSWORD_CHECK_WAIT:?}"
        ))
        .with_status(503)
    })?;
    let user = if provider.lookup.is_some() {
        let store = pipeline
            .store
            .as_deref()
            .ok_or_else(|| AuthError::configuration("a credentials lookup without a store"))?;
        authorize_with_lookup(pipeline, provider, store, credentials, slot).await?
    } else {
        let (worker_pipeline, worker_provider, worker_credentials) =
            (pipeline.clone(), provider.clone(), credentials.clone());
        let may_block = pipeline.script_may_block(ScriptKey::Provider(
            provider.index,
            ProviderScript::Authorize,
        ));
        off_workers(may_block, move || {
            let _slot = slot;
            authorize_with_script(&worker_pipeline, &worker_provider, &worker_credentials)
        })
        .await?
    };
    user.ok_or_else(|| {
        AuthError::new(
            ErrorCode::CredentialsSignin,
            format!("{} refused the credentials", provider.id),
        )
    })
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
