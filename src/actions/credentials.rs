//! `POST /callback/<credentials provider>`: CSRF check, then the user is found by the
//! `authorize` script or the declarative `lookup` query, then `signIn`, then a session:
//! a JWT cookie (through the `jwt` callback), or a real database session when the strategy
//! is `database` and `session.credentials: database`. Failures answer Auth.js's
//! `?error=CredentialsSignin&code=credentials` and never say whether the user exists: an
//! unknown user costs one dummy password verification, like a known one.
//!
//! Password hashing is CPU-bound, so the script and the verification run on the blocking
//! pool; the store calls are async.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use serde_json::{Map, Value, json};

use super::callbacks::{SignInDecision, default_token, run_sign_in};
use super::issue::{SignInArguments, database_cookie, jwt_cookie};
use super::pages::sign_in_page_url;
use super::redirect::resolve_callback_url_off_workers;
use super::session::store_failure;
use super::{AuthRequest, AuthResponse, PendingEvent, off_workers, session_cookie_writes};
use crate::config::ProviderKind;
use crate::config::model::SessionStrategy;
use crate::error::ErrorCode;
use crate::pipeline::{Pipeline, Provider};
use crate::store::lookup::LookupUser;
use crate::store::{Account, Adapter, NewUser, SqlStore, StoreError, User};

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

/// Runs on the blocking pool: the `authorize` script with the credentials.
fn authorize_with_script(
    pipeline: &Pipeline,
    provider: &Provider,
    credentials: &Map<String, Value>,
) -> Option<Map<String, Value>> {
    let script_name = format!(
        "providers[{}].authorize",
        provider_position(pipeline, provider)
    );
    let Some(script) = pipeline.script(&script_name) else {
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
    store: &SqlStore,
    credentials: &Map<String, Value>,
    slot: OwnedSemaphorePermit,
) -> Result<Option<Map<String, Value>>, StoreError> {
    let (Some(lookup), Some(config)) = (&provider.lookup, &provider.config.lookup) else {
        return Err(StoreError::Other(format!(
            "provider {} has no prepared lookup",
            provider.id
        )));
    };
    let field = |name: &str| {
        credentials
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let found = store.lookup_user(lookup, field).await?;
    let password = field(&config.password_field);
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

pub async fn callback(
    request: &AuthRequest,
    pipeline: &std::sync::Arc<Pipeline>,
    provider: &Provider,
) -> AuthResponse {
    if provider.kind != ProviderKind::Credentials {
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration);
    }
    if !request.csrf_is_valid(pipeline) {
        tracing::info!(provider = %provider.id, "credentials sign-in without a valid CSRF token");
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::MissingCSRF);
    }
    let credentials = submitted_credentials(request);
    let Some(slot) = password_check_slot().await else {
        tracing::warn!(provider = %provider.id, "no password check slot within {PASSWORD_CHECK_WAIT:?}");
        return AuthResponse::json(503, json!({ "error": ErrorCode::Configuration.as_str() }));
    };
    let user = if provider.lookup.is_some() {
        let Some(store) = &pipeline.store else {
            tracing::error!(provider = %provider.id, "a credentials lookup without a store");
            return AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration);
        };
        match authorize_with_lookup(pipeline, provider, store, &credentials, slot).await {
            Ok(user) => user,
            Err(error) => return lookup_failure(request, pipeline, &error),
        }
    } else {
        let (worker_pipeline, worker_provider, worker_credentials) =
            (pipeline.clone(), provider.clone(), credentials.clone());
        off_workers(true, move || {
            let _slot = slot;
            authorize_with_script(&worker_pipeline, &worker_provider, &worker_credentials)
        })
        .await
        .unwrap_or(None)
    };
    let Some(user) = user else {
        return failure(request, pipeline);
    };
    sign_in(request, pipeline, provider, user, credentials).await
}

fn lookup_failure(request: &AuthRequest, pipeline: &Pipeline, error: &StoreError) -> AuthResponse {
    tracing::error!(%error, "credentials lookup failed");
    match error {
        StoreError::Unavailable(_) => store_failure(error),
        _ => AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration),
    }
}

/// After the user is known: the signIn callback, then the session.
async fn sign_in(
    request: &AuthRequest,
    pipeline: &std::sync::Arc<Pipeline>,
    provider: &Provider,
    mut user: Map<String, Value>,
    credentials: Map<String, Value>,
) -> AuthResponse {
    let database_session = pipeline.session_strategy == SessionStrategy::Database
        && pipeline.config.session.credentials == Some(SessionStrategy::Database);
    let Some(account_id) = account_id(&user, database_session) else {
        tracing::error!(provider = %provider.id, "for database sessions, authorize must return an `id` or an `email`");
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration);
    };
    user.insert("id".into(), Value::String(account_id.clone()));
    let account = json!({
        "provider": provider.id,
        "type": "credentials",
        "providerAccountId": account_id,
    });
    let user_value = Value::Object(user.clone());
    let arguments = [
        ("user", user_value.clone()),
        ("account", account.clone()),
        ("profile", Value::Null),
        ("email", Value::Null),
        ("credentials", Value::Object(credentials)),
    ];
    let worker_pipeline = pipeline.clone();
    let decision = off_workers(true, move || run_sign_in(&worker_pipeline, &arguments)).await;
    match decision {
        Ok(SignInDecision::Allow) => {}
        Ok(SignInDecision::Deny) => {
            return AuthResponse::error_redirect(request, pipeline, ErrorCode::AccessDenied);
        }
        Ok(SignInDecision::Redirect(url)) => {
            let url = resolve_callback_url_off_workers(pipeline, &request.origin, Some(&url)).await;
            return AuthResponse::redirect(request, url);
        }
        Err(code) => return AuthResponse::error_redirect(request, pipeline, code),
    }
    let (cookie, max_age, user_value, is_new_user, mut events) =
        match (database_session, &pipeline.store) {
            (true, Some(store)) => {
                let browser = request.browser_binding(pipeline);
                match database_sign_in(
                    pipeline,
                    store.as_ref(),
                    provider,
                    &user,
                    &account_id,
                    browser,
                )
                .await
                {
                    Ok(issued) => issued,
                    Err(response) => return response(request, pipeline),
                }
            }
            (true, None) => {
                tracing::error!("database sessions without a store");
                return AuthResponse::error_redirect(request, pipeline, ErrorCode::Configuration);
            }
            (false, _) => {
                let arguments = SignInArguments {
                    user: user_value.clone(),
                    account: account.clone(),
                    profile: Value::Null,
                    is_new_user: false,
                };
                let (worker_request, worker_pipeline) = (request.clone(), pipeline.clone());
                let token = default_token(&user);
                let issued = off_workers(true, move || {
                    jwt_cookie(&worker_request, &worker_pipeline, token, arguments)
                })
                .await
                .and_then(|issued| issued);
                match issued {
                    Ok((encoded, max_age)) => (encoded, max_age, user_value, false, Vec::new()),
                    Err(code) => return AuthResponse::error_redirect(request, pipeline, code),
                }
            }
        };
    let callback_cookie = request.cookie(&request.cookie_policy(pipeline).callback_url.name);
    let destination = resolve_callback_url_off_workers(
        pipeline,
        &request.origin,
        request.field("callbackUrl").or(callback_cookie),
    )
    .await;
    let mut response = AuthResponse::redirect(request, destination);
    response.cookies = session_cookie_writes(request, pipeline, Some(&cookie), max_age);
    if pipeline.script("events.signIn").is_some() {
        events.push(PendingEvent {
            script: "events.signIn".into(),
            arguments: vec![
                ("user", user_value),
                ("account", account),
                ("profile", Value::Null),
                ("isNewUser", json!(is_new_user)),
            ],
        });
    }
    response.events = events;
    response
}

type Issued = (String, u64, Value, bool, Vec<PendingEvent>);
type Refusal = Box<dyn FnOnce(&AuthRequest, &Pipeline) -> AuthResponse + Send>;

/// Finds (or creates) the store user linked to this credentials identity and opens a
/// database session for it. The user gets a store id; the credentials id becomes the
/// account's `providerAccountId`.
async fn database_sign_in(
    pipeline: &Pipeline,
    store: &dyn Adapter,
    provider: &Provider,
    user: &Map<String, Value>,
    account_id: &str,
    browser: Option<String>,
) -> Result<Issued, Refusal> {
    let unavailable =
        |error: StoreError| -> Refusal { Box::new(move |_, _| store_failure(&error)) };
    let mut events = Vec::new();
    let (stored, is_new_user) = match store
        .get_user_by_account(&provider.id, account_id)
        .await
        .map_err(unavailable)?
    {
        Some(stored) => (stored, false),
        None => {
            let text = |key: &str| user.get(key).and_then(Value::as_str).map(str::to_string);
            let created = store
                .create_user(NewUser {
                    id: None,
                    name: text("name"),
                    email: text("email"),
                    email_verified: None,
                    image: text("image"),
                })
                .await;
            let created = match created {
                Ok(created) => created,
                Err(StoreError::Conflict(reason)) => {
                    // Another sign-in method owns this email: do not merge silently.
                    tracing::info!(provider = %provider.id, %reason, "credentials user conflicts with an existing user");
                    return Err(Box::new(|request, pipeline| {
                        AuthResponse::error_redirect(
                            request,
                            pipeline,
                            ErrorCode::OAuthAccountNotLinked,
                        )
                    }));
                }
                Err(error) => return Err(unavailable(error)),
            };
            store
                .link_account(Account {
                    user_id: created.id.clone(),
                    kind: "credentials".into(),
                    provider: provider.id.clone(),
                    provider_account_id: account_id.to_string(),
                    ..Account::default()
                })
                .await
                .map_err(unavailable)?;
            if pipeline.script("events.createUser").is_some() {
                events.push(PendingEvent {
                    script: "events.createUser".into(),
                    arguments: vec![("user", user_json(&created))],
                });
            }
            (created, true)
        }
    };
    let (cookie, max_age) = database_cookie(pipeline, store, &stored.id, browser)
        .await
        .map_err(unavailable)?;
    Ok((cookie, max_age, user_json(&stored), is_new_user, events))
}

fn user_json(user: &User) -> Value {
    serde_json::to_value(user).unwrap_or(Value::Null)
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
