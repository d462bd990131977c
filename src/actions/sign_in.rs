//! Finishing a sign-in, one path for every method (credentials, OAuth/OIDC, and email):
//! the `signIn` callback → the user (found, created or linked in the store) → the session
//! (a JWT through the `jwt` callback, or a database row) → the redirect → the events. What
//! differs between methods is stated in [`SignIn`], never decided here by the method.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::accounts::{LinkError, SignedIn, resolve_user, signed_in_user, stable_user_id};
use super::callbacks::{SignInDecision, default_token, run_sign_in};
use super::issue::{SignInArguments, database_cookie, jwt_cookie};
use super::redirect::resolve_callback_url_off_workers;
use super::session::unix_now;
use super::session_state::{record_jwt_session, tracks_jwt_sessions};
use super::{
    AuthRequest, AuthResponse, PendingEvent, SetCookie, failure, off_workers,
    off_workers_on_request, session_cookie_writes,
};
use crate::config::ProviderKind;
use crate::config::model::SessionStrategy;
use crate::config::script_key::{Callback, Event, ScriptKey};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::{Pipeline, Provider};
use crate::providers::profile::UserProfile;
use crate::session::tokens::random_token;
use crate::store::{Account, Adapter, NewUser, StoreError, User, UserPatch};
use crate::telemetry::audit::{AuditEvent, AuditRecord};

/// How the user of a sign-in is found.
pub enum Identity {
    /// A provider account (OAuth/OIDC): Auth.js's linking rules against the store (a
    /// signed-in user links it; an email links only when verified on both sides), or,
    /// without a store, a user id derived from the provider and the account id.
    ProviderAccount {
        profile: UserProfile,
        allow_email_linking: bool,
    },
    /// A credentials identity: under a database session, the store user linked to this
    /// account (created at its first sign-in); under a JWT, the user as it was checked.
    Credentials,
    /// An email address proven by a link (its `email` provider account). It signs in the
    /// user it belongs to, by the linking rules above, but never links to the user the
    /// browser is signed in as: a link is bound to no browser, so anyone could send a
    /// signed-in victim their own link and have their address joined to the victim.
    Email { profile: UserProfile },
}

/// One sign-in whose method has proven who the user is.
pub struct SignIn<'a> {
    pub provider: &'a Provider,
    /// The user as the method knows it (`user` of the callbacks); `id` set.
    pub user: Map<String, Value>,
    /// The account stored for the user (its `user_id` is filled in here).
    pub account: Account,
    /// `account` as the scripts see it.
    pub account_json: Value,
    /// `profile` of the callbacks: the provider's claims, or `()`.
    pub profile: Value,
    /// `credentials` of the signIn callback: the submitted fields, or `()`.
    pub credentials: Value,
    /// `email` of the signIn callback: `()` except where a link is requested.
    pub email: Value,
    pub identity: Identity,
    /// The kind of session this sign-in issues.
    pub session: SessionStrategy,
    /// Claims added to a JWT session before the `jwt` callback (refresh: auto's tokens).
    pub token_claims: Map<String, Value>,
    /// Where the user asked to go, not yet checked.
    pub callback_url: Option<String>,
    /// Cookies cleared whatever the outcome (an OAuth round trip's checks).
    pub clear: Vec<SetCookie>,
    /// The request can be sent again as it is (a credentials form; an OAuth callback
    /// cannot, its code is spent): a store outage answers 503 for the client to retry,
    /// instead of the error page.
    pub retryable: bool,
}

/// The user a sign-in resolved to, and the events resolving it caused.
struct Resolved {
    user: Value,
    is_new_user: bool,
    events: Vec<PendingEvent>,
    /// This sign-in linked a new account to an existing user.
    linked: bool,
    /// The user is a row of the store (not a credentials user of an `authorize` script, nor
    /// a provider account without a store).
    in_store: bool,
}

impl Resolved {
    /// Who owns the session this sign-in opens, as the store records it: the store user's
    /// id, or for a user the store does not hold, `credentials:<provider>:<id>`, so that an
    /// id an `authorize` script returns can never name a store user's sessions or accounts.
    fn session_owner(&self, provider: &str) -> String {
        let id = self.user["id"].as_str().unwrap_or_default();
        if self.in_store {
            id.to_string()
        } else {
            format!("credentials:{provider}:{id}")
        }
    }
}

/// The answer of a provider's `signin` or `callback` route, observed: its sign-in records
/// name the provider and method, a failure is recorded as a refused sign-in, and each
/// sign-in is counted by outcome.
pub fn observed(mut response: AuthResponse, provider: &Provider) -> AuthResponse {
    let method = match provider.kind {
        ProviderKind::Oauth => "oauth",
        ProviderKind::Oidc => "oidc",
        ProviderKind::Email => "email",
        ProviderKind::Credentials => "credentials",
    };
    if let Some(code) = response.failure {
        response.audit.push(AuditRecord {
            failure: Some(code),
            ..AuditRecord::user(AuditEvent::SignIn, None)
        });
    }
    for record in &mut response.audit {
        if matches!(record.event, AuditEvent::SignIn | AuditEvent::AccountLinked) {
            record.provider = Some(provider.id.clone());
            record.method = Some(method);
        }
        if record.event == AuditEvent::SignIn {
            let outcome = record.failure.map_or("success", ErrorCode::as_str);
            crate::telemetry::metrics::sign_in(&provider.id, method, outcome);
        }
    }
    response
}

/// Runs the rest of the sign-in and answers it; every failure is rendered by `failure`.
pub async fn finish(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    sign_in: SignIn<'_>,
) -> AuthResponse {
    let (clear, retryable) = (sign_in.clear.clone(), sign_in.retryable);
    let mut response = match complete(request, pipeline, sign_in).await {
        Ok(response) => response,
        Err(error) if retryable && error.status == 503 => failure::json(error),
        Err(error) => failure::redirect(request, pipeline, error),
    };
    response.cookies.splice(0..0, clear);
    response
}

async fn complete(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    sign_in: SignIn<'_>,
) -> Result<AuthResponse, AuthError> {
    let arguments = [
        ("user", Value::Object(sign_in.user.clone())),
        ("account", sign_in.account_json.clone()),
        ("profile", sign_in.profile.clone()),
        ("email", sign_in.email.clone()),
        ("credentials", sign_in.credentials.clone()),
    ];
    if let Some(answer) = sign_in_gate(request, pipeline, &sign_in.provider.id, arguments).await? {
        return Ok(answer);
    }
    let resolved = resolve(request, pipeline, &sign_in).await?;
    if resolved.in_store {
        refuse_disabled(pipeline, &resolved.user).await?;
    }
    let owner = resolved.session_owner(&sign_in.provider.id);
    let arguments = SignInArguments {
        user: resolved.user.clone(),
        account: sign_in.account_json.clone(),
        profile: sign_in.profile.clone(),
        is_new_user: resolved.is_new_user,
    };
    let (cookie, max_age) = issue(request, pipeline, &sign_in, arguments, &owner).await?;
    let destination = resolve_callback_url_off_workers(
        pipeline,
        &request.origin,
        sign_in.callback_url.as_deref(),
    )
    .await;
    let mut response = AuthResponse::redirect(request, destination);
    response.cookies = session_cookie_writes(request, pipeline, Some(&cookie), max_age);
    response.audit.push(
        AuditRecord::user(AuditEvent::SignIn, Some(owner.clone()))
            .with_detail(json!({ "newUser": resolved.is_new_user })),
    );
    if resolved.linked {
        response.audit.push(AuditRecord::user(
            AuditEvent::AccountLinked,
            Some(owner.clone()),
        ));
    }
    response.events = resolved.events;
    response.events.extend(PendingEvent::if_configured(
        pipeline,
        Event::SignIn,
        vec![
            ("user", resolved.user),
            ("account", sign_in.account_json),
            ("profile", sign_in.profile),
            ("isNewUser", json!(resolved.is_new_user)),
        ],
    ));
    Ok(response)
}

/// The `signIn` callback (on the blocking pool when it may block) as a step of a request:
/// `None` to go on, a redirect where the script sent the user, or AccessDenied when it
/// refused. The email sign-in runs it once more before it sends a link.
pub async fn sign_in_gate(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &str,
    arguments: [(&'static str, Value); 5],
) -> Result<Option<AuthResponse>, AuthError> {
    let worker = pipeline.clone();
    let may_block = pipeline.script_may_block(ScriptKey::Callback(Callback::SignIn));
    match off_workers(may_block, move || run_sign_in(&worker, &arguments)).await? {
        SignInDecision::Allow => Ok(None),
        SignInDecision::Deny => Err(AuthError::new(
            ErrorCode::AccessDenied,
            format!("callbacks.signIn denied a sign-in with {provider}"),
        )),
        SignInDecision::Redirect(url) => {
            let url = resolve_callback_url_off_workers(pipeline, &request.origin, Some(&url)).await;
            // A refusal that sends the user elsewhere: audited and counted as AccessDenied.
            let mut answer = AuthResponse::redirect(request, url);
            answer.failure = Some(ErrorCode::AccessDenied);
            Ok(Some(answer))
        }
    }
}

/// A user an administrator disabled signs in by no method: whichever way the store user was
/// found, the store has the last word.
async fn refuse_disabled(pipeline: &Pipeline, user: &Value) -> Result<(), AuthError> {
    let (Some(store), Some(id)) = (&pipeline.store, user.get("id").and_then(Value::as_str)) else {
        return Ok(());
    };
    match store.get_user(id).await? {
        Some(user) if user.disabled_at.is_some() => Err(AuthError::new(
            ErrorCode::AccessDenied,
            format!("user {id} is disabled"),
        )),
        _ => Ok(()),
    }
}

/// Who signs in, by the sign-in's `identity`.
async fn resolve(
    request: &AuthRequest,
    pipeline: &Pipeline,
    sign_in: &SignIn<'_>,
) -> Result<Resolved, AuthError> {
    let store = pipeline.store.as_deref();
    match (&sign_in.identity, store) {
        (
            Identity::ProviderAccount {
                profile,
                allow_email_linking,
            },
            Some(store),
        ) => {
            let signed_in = signed_in_user(request, pipeline, store).await?;
            if let Some(signed_in) = &signed_in {
                require_recent_sign_in(pipeline, store, &sign_in.account, signed_in).await?;
            }
            let linking = Linking {
                signed_in: signed_in
                    .as_ref()
                    .map(|signed_in| signed_in.user_id.as_str()),
                allow_email_linking: *allow_email_linking,
            };
            linked_user(pipeline, store, sign_in, profile, linking).await
        }
        // The link proved the address: what an OAuth provider's verified email stands
        // for. An existing user is still joined only when its own email was verified, and
        // the browser's signed-in user never is (see `Identity::Email`).
        (Identity::Email { profile }, Some(store)) => {
            let linking = Linking {
                signed_in: None,
                allow_email_linking: true,
            };
            linked_user(pipeline, store, sign_in, profile, linking).await
        }
        (Identity::Email { .. }, None) => {
            Err(AuthError::configuration("email sign-in without a store"))
        }
        (Identity::ProviderAccount { profile, .. }, None) => {
            let mut user = profile.to_json();
            user["id"] = Value::String(stable_user_id(&sign_in.provider.id, &profile.id));
            Ok(Resolved {
                user,
                is_new_user: false,
                linked: false,
                events: Vec::new(),
                in_store: false,
            })
        }
        (Identity::Credentials, Some(store)) if sign_in.session == SessionStrategy::Database => {
            credentials_user(pipeline, store, sign_in).await
        }
        (Identity::Credentials, _) => Ok(Resolved {
            user: Value::Object(sign_in.user.clone()),
            is_new_user: false,
            linked: false,
            events: Vec::new(),
            in_store: false,
        }),
    }
}

/// With `linking.maxAge`, a new account is linked only to a session signed in that
/// recently (a session of unknown age is too old): someone at an unattended, long signed-in
/// browser cannot attach their own account to its user. Signing in again with an account
/// the user already has is not linking.
async fn require_recent_sign_in(
    pipeline: &Pipeline,
    store: &dyn Adapter,
    account: &Account,
    signed_in: &SignedIn,
) -> Result<(), AuthError> {
    let Some(max_age) = pipeline.config.linking.max_age else {
        return Ok(());
    };
    let recent = signed_in.since.is_some_and(|since| {
        unix_now(pipeline).saturating_sub(since)
            <= i64::try_from(max_age.seconds()).unwrap_or(i64::MAX)
    });
    if recent {
        return Ok(());
    }
    let owner = store
        .get_user_by_account(&account.provider, &account.provider_account_id)
        .await?;
    if owner.is_some_and(|owner| owner.id == signed_in.user_id) {
        return Ok(());
    }
    Err(AuthError::new(
        ErrorCode::SessionRequired,
        format!(
            "linking {} needs a sign-in within linking.maxAge",
            account.provider
        ),
    ))
}

/// Who an account may be linked to: the browser's signed-in user, and whether a verified
/// email may join an existing user.
struct Linking<'a> {
    signed_in: Option<&'a str>,
    allow_email_linking: bool,
}

/// The store user a provider or email account signs in, by the linking rules, and the
/// createUser/linkAccount events that caused.
async fn linked_user(
    pipeline: &Pipeline,
    store: &dyn Adapter,
    sign_in: &SignIn<'_>,
    profile: &UserProfile,
    linking: Linking<'_>,
) -> Result<Resolved, AuthError> {
    let resolved = resolve_user(
        store,
        &sign_in.account,
        profile,
        linking.allow_email_linking,
        linking.signed_in,
        unix_now(pipeline),
    )
    .await
    .map_err(|error| match error {
        LinkError::NotLinked => AuthError::new(
            ErrorCode::OAuthAccountNotLinked,
            format!("{} account not linked", sign_in.provider.id),
        ),
        LinkError::Disabled(id) => {
            AuthError::new(ErrorCode::AccessDenied, format!("user {id} is disabled"))
        }
        LinkError::Store(error) => error.into(),
    })?;
    let mut events = Vec::new();
    let mut resolved = resolved;
    // As Auth.js: an email sign-in proves the address again, so an existing user's
    // `emailVerified` becomes now, and `updateUser` is raised.
    // A disabled user is refused later and keeps its record as it was.
    if sign_in.provider.kind == ProviderKind::Email
        && !resolved.is_new_user
        && resolved.user.disabled_at.is_none()
    {
        let patch = UserPatch {
            email_verified: Some(Some(unix_now(pipeline))),
            ..UserPatch::default()
        };
        resolved.user = store.update_user(&resolved.user.id, patch).await?;
        events.extend(PendingEvent::if_configured(
            pipeline,
            Event::UpdateUser,
            vec![("user", user_json(&resolved.user))],
        ));
    }
    let user = user_json(&resolved.user);
    if resolved.is_new_user {
        events.extend(PendingEvent::if_configured(
            pipeline,
            Event::CreateUser,
            vec![("user", user.clone())],
        ));
    }
    if resolved.linked {
        events.extend(PendingEvent::if_configured(
            pipeline,
            Event::LinkAccount,
            vec![
                ("user", user.clone()),
                ("account", sign_in.account_json.clone()),
                ("profile", sign_in.profile.clone()),
            ],
        ));
    }
    Ok(Resolved {
        user,
        is_new_user: resolved.is_new_user,
        linked: resolved.linked,
        events,
        in_store: true,
    })
}

/// The store user linked to a credentials identity, created (and the account linked) at
/// its first sign-in. An email another user owns is refused rather than merged.
async fn credentials_user(
    pipeline: &Pipeline,
    store: &dyn Adapter,
    sign_in: &SignIn<'_>,
) -> Result<Resolved, AuthError> {
    let account = &sign_in.account;
    if let Some(user) = store
        .get_user_by_account(&account.provider, &account.provider_account_id)
        .await?
    {
        return Ok(Resolved {
            user: user_json(&user),
            is_new_user: false,
            linked: false,
            events: Vec::new(),
            in_store: true,
        });
    }
    let text = |key: &str| {
        sign_in
            .user
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let created = store
        .create_user(NewUser {
            id: None,
            name: text("name"),
            email: text("email"),
            email_verified: None,
            image: text("image"),
        })
        .await
        .map_err(|error| match error {
            StoreError::Conflict(reason) => AuthError::new(
                ErrorCode::OAuthAccountNotLinked,
                format!("credentials user conflicts with an existing user: {reason}"),
            ),
            error => error.into(),
        })?;
    store
        .link_account(Account {
            user_id: created.id.clone(),
            linked_at: Some(unix_now(pipeline)),
            ..account.clone()
        })
        .await?;
    let user = user_json(&created);
    Ok(Resolved {
        events: PendingEvent::if_configured(
            pipeline,
            Event::CreateUser,
            vec![("user", user.clone())],
        )
        .into_iter()
        .collect(),
        user,
        is_new_user: true,
        linked: false,
        in_store: true,
    })
}

/// The session cookie value and its max-age. A JWT session is recorded for `owner` once
/// its cookie is made (a `jwt` callback that refuses leaves no record behind).
async fn issue(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    sign_in: &SignIn<'_>,
    arguments: SignInArguments,
    owner: &str,
) -> Result<(String, u64), AuthError> {
    match (sign_in.session, &pipeline.store) {
        (SessionStrategy::Database, Some(store)) => {
            let user_id = arguments.user["id"].as_str().unwrap_or_default();
            let browser = request.browser_binding(pipeline);
            Ok(database_cookie(
                pipeline,
                store.as_ref(),
                user_id,
                browser,
                request.user_agent.clone(),
            )
            .await?)
        }
        (SessionStrategy::Database, None) => Err(AuthError::configuration(
            "database sessions without a store",
        )),
        (SessionStrategy::Jwt, _) => {
            let user = arguments.user.as_object().cloned().unwrap_or_default();
            let session_id = tracks_jwt_sessions(pipeline).then(random_token);
            let mut token = default_token(&user);
            token.extend(sign_in.token_claims.clone());
            let worker_session_id = session_id.clone();
            let may_block = pipeline.script_may_block(ScriptKey::Callback(Callback::Jwt));
            let cookie =
                off_workers_on_request(may_block, request, pipeline, move |request, pipeline| {
                    jwt_cookie(request, pipeline, token, arguments, worker_session_id)
                })
                .await??;
            if let Some(sid) = session_id {
                record_jwt_session(request, pipeline, &sid, owner).await?;
            }
            Ok(cookie)
        }
    }
}

fn user_json(user: &User) -> Value {
    serde_json::to_value(user).unwrap_or(Value::Null)
}
