//! Email (passwordless) sign-in, Auth.js's flow on the shared sign-in pipeline:
//!
//! - `POST /signin/<id>` (CSRF): the address is normalised (`email::address`), the limits
//!   counted, the signIn callback asked (`email: #{verificationRequest: true}`), a token
//!   stored hashed with its expiry, the link delivered, and the browser sent to
//!   `/verify-request`. A link that could not be delivered is removed again: EmailSignin,
//!   and nothing stays stored.
//! - `GET /callback/<id>?token&email&callbackUrl`: the token is consumed (single use,
//!   under any rotated secret), then the address signs in as a provider account of type
//!   `email` by the OAuth linking rules (`accounts::resolve_user`): its user, or the
//!   existing user whose verified email it is, or a new user with `emailVerified` set.
//!   An expired, reused, unknown or mismatched token is Verification.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::pages::verify_request_url;
use super::redirect::resolve_callback_url_off_workers;
use super::session::unix_now;
use super::sign_in::{Identity, SignIn, finish, sign_in_gate};
use super::{AuthRequest, AuthResponse, RequestOrigin, csrf, failure, limits, off_workers};
use crate::clock::rfc3339_utc;
use crate::config::script_key::ProviderScript;
use crate::email::address::normalize_address;
use crate::email::delivery::{Delivery, delivery_from_script};
use crate::email::message::MessageContext;
use crate::email::sender::EmailSender;
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::{Pipeline, Provider};
use crate::providers::profile::UserProfile;
use crate::session::tokens::random_token;
use crate::store::{Account, Adapter, HashedVerificationToken, VerificationToken};
use crate::text::css_color;

/// The button colours of the built-in email when the theme sets none.
const DEFAULT_BRAND_COLOR: &str = "#346df1";
const DEFAULT_BUTTON_TEXT: &str = "#ffffff";

/// `POST /signin/<email provider>`.
pub async fn sign_in(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
) -> AuthResponse {
    match send_link(request, pipeline, provider).await {
        Ok(response) => response,
        Err(error) => failure::redirect(request, pipeline, error),
    }
}

/// `GET /callback/<email provider>`.
pub async fn callback(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
) -> AuthResponse {
    let request = with_browser(request, pipeline);
    match verified_sign_in(&request, pipeline, provider).await {
        Ok(sign_in) => finish(&request, pipeline, sign_in).await,
        Err(error) => failure::redirect(&request, pipeline, error),
    }
}

/// The store and the sender an email provider needs.
fn parts<'a>(
    pipeline: &'a Pipeline,
    provider: &'a Provider,
) -> Result<(&'a dyn Adapter, &'a EmailSender), AuthError> {
    let store = pipeline
        .store
        .as_deref()
        .ok_or_else(|| AuthError::configuration("an email provider without a store"))?;
    let sender = provider.email.as_deref().ok_or_else(|| {
        AuthError::configuration(format!("email provider {} has no sender", provider.id))
    })?;
    Ok((store, sender))
}

async fn send_link(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
) -> Result<AuthResponse, AuthError> {
    request.require_csrf(pipeline, &format!("email sign-in with {}", provider.id))?;
    let (store, sender) = parts(pipeline, provider)?;
    let submitted = request
        .form
        .get("email")
        .map(String::as_str)
        .unwrap_or_default();
    let address = normalize_address(submitted).map_err(|error| {
        AuthError::new(ErrorCode::EmailSignin, format!("refused address: {error}"))
    })?;
    limits::email_request(request, pipeline, &address).await?;
    let (user, account) = callback_identity(store, provider, &address).await?;
    let arguments = [
        ("user", user),
        ("account", account),
        ("profile", Value::Null),
        ("email", json!({ "verificationRequest": true })),
        ("credentials", Value::Null),
    ];
    if let Some(answer) = sign_in_gate(request, pipeline, &provider.id, arguments).await? {
        return Ok(answer);
    }
    let callback_url = request
        .field("callbackUrl")
        .or_else(|| request.cookie(&request.cookie_policy(pipeline).callback_url.name));
    // Checked against the configured origin, where the link leads.
    let configured = RequestOrigin::configured(pipeline);
    let callback_url = resolve_callback_url_off_workers(pipeline, &configured, callback_url).await;
    let token = random_token();
    let now = unix_now(pipeline);
    let expires = now.saturating_add(i64::try_from(sender.max_age.as_secs()).unwrap_or(i64::MAX));
    let secret = pipeline
        .secrets
        .first()
        .ok_or_else(|| AuthError::configuration("no secret"))?;
    let hashed = HashedVerificationToken::new(&token, secret);
    store
        .create_verification_token(VerificationToken {
            identifier: address.clone(),
            token: hashed.clone(),
            expires,
        })
        .await?;
    let link = sign_in_link(pipeline, provider, &callback_url, &token, &address);
    let delivered = deliver(pipeline, provider, sender, &address, &link, expires).await;
    if let Err(error) = delivered {
        // The link never left: its token goes too, so nothing is left to be guessed.
        if let Err(cleanup) = store.use_verification_token(&address, &hashed, now).await {
            tracing::warn!(provider = %provider.id, "could not remove an undelivered sign-in token: {cleanup}");
        }
        return Err(error);
    }
    Ok(AuthResponse::redirect(
        request,
        verify_request_url(request, pipeline, &provider.id, address_domain(&address)),
    ))
}

/// `user` and `account` as Auth.js hands them to the signIn callback: the user who owns
/// the address (or a new one with a fresh id), and the `email` account.
/// The domain of a normalized address (one `@`).
fn address_domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, domain)| domain)
}

async fn callback_identity(
    store: &dyn Adapter,
    provider: &Provider,
    address: &str,
) -> Result<(Value, Value), AuthError> {
    let user = match store.get_user_by_email(address).await? {
        Some(user) => serde_json::to_value(&user).unwrap_or(Value::Null),
        None => json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "email": address,
            "emailVerified": null,
        }),
    };
    let account = json!({
        "providerAccountId": address,
        "userId": user.get("id").cloned().unwrap_or(Value::Null),
        "type": "email",
        "provider": provider.id,
    });
    Ok((user, account))
}

/// `{url}{basePath}/callback/<id>?callbackUrl&token&email`, as Auth.js writes it, but on
/// the configured `url` whatever host the request named: with `trustHost`, a forged
/// `X-Forwarded-Host` would otherwise mail the victim a real token on the attacker's host.
fn sign_in_link(
    pipeline: &Pipeline,
    provider: &Provider,
    callback_url: &str,
    token: &str,
    address: &str,
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("callbackUrl", callback_url)
        .append_pair("token", token)
        .append_pair("email", address)
        .finish();
    let id: String = url::form_urlencoded::byte_serialize(provider.id.as_bytes()).collect();
    format!("{}?{query}", pipeline.action_url(&format!("callback/{id}")))
}

/// Renders the message and delivers it: by the transport, or as the provider's
/// `sendVerificationRequest` script says.
async fn deliver(
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
    sender: &EmailSender,
    address: &str,
    link: &str,
    expires: i64,
) -> Result<(), AuthError> {
    let theme = &pipeline.config.theme;
    let context = MessageContext {
        url: link.to_string(),
        host: url::Url::parse(&pipeline.base_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_default(),
        email: address.to_string(),
        expires: rfc3339_utc(u64::try_from(expires).unwrap_or_default()),
        provider: provider.name.clone(),
        brand_color: theme
            .brand_color
            .as_deref()
            .and_then(css_color)
            .unwrap_or(DEFAULT_BRAND_COLOR)
            .to_string(),
        button_text: theme
            .button_text
            .as_deref()
            .and_then(css_color)
            .unwrap_or(DEFAULT_BUTTON_TEXT)
            .to_string(),
    };
    let message = sender
        .templates
        .render(&context)
        .map_err(|error| AuthError::configuration(format!("{}: {error}", provider.id)))?;
    let delivery =
        match pipeline.provider_script(provider, ProviderScript::SendVerificationRequest)? {
            None => Delivery::Send(message),
            Some(_) => scripted_delivery(pipeline, provider, &context, message).await?,
        };
    let failed = |reason: String| {
        AuthError::new(ErrorCode::EmailSignin, format!("{}: {reason}", provider.id))
    };
    match delivery {
        Delivery::Send(message) => sender
            .send(&provider.id, &context, &message)
            .await
            .map_err(failed),
        Delivery::Http(http) => http.send().await.map_err(failed),
        Delivery::Refuse => Err(failed("sendVerificationRequest refused to deliver".into())),
    }
}

/// Runs `sendVerificationRequest` on the blocking pool and reads what it asks for. A
/// failing script delivers nothing (EmailSignin).
async fn scripted_delivery(
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
    context: &MessageContext,
    message: crate::email::message::RenderedMessage,
) -> Result<Delivery, AuthError> {
    let arguments = vec![
        ("identifier", json!(context.email)),
        ("url", json!(context.url)),
        ("expires", json!(context.expires)),
        (
            "provider",
            json!({ "id": provider.id, "name": provider.name, "type": "email" }),
        ),
        (
            "message",
            serde_json::to_value(&message).unwrap_or(Value::Null),
        ),
    ];
    let (worker, worker_provider) = (pipeline.clone(), provider.clone());
    let result = off_workers(true, move || {
        let script = worker
            .provider_script(&worker_provider, ProviderScript::SendVerificationRequest)?
            .ok_or_else(|| AuthError::configuration("sendVerificationRequest is gone"))?;
        worker
            .scripts_runtime
            .call(script, &arguments)
            .map_err(|error| {
                AuthError::new(
                    ErrorCode::EmailSignin,
                    format!(
                        "{}.sendVerificationRequest failed: {error}",
                        worker_provider.id
                    ),
                )
            })
    })
    .await??;
    delivery_from_script(result, message).map_err(|error| {
        AuthError::new(
            ErrorCode::EmailSignin,
            format!("{}.sendVerificationRequest returned {error}", provider.id),
        )
    })
}

/// The request with a CSRF cookie: the one it has, or a new one (a link opened in
/// another browser, or after the cookie expired), so that the session is bound to this
/// browser like every other. The new cookie is written with the session.
fn with_browser(request: &AuthRequest, pipeline: &Pipeline) -> AuthRequest {
    let name = &request.cookie_policy(pipeline).csrf_token.name;
    if request.csrf_cookie_token(pipeline).is_some() || request.cookies.is_ambiguous(name) {
        return request.clone();
    }
    let (_, cookie) = csrf::csrf_token(request, pipeline);
    let mut request = request.clone();
    if let Some(value) = cookie.and_then(|cookie| cookie.value) {
        request.cookies.found.retain(|(cookie, _)| cookie != name);
        request.cookies.found.push((name.clone(), value));
    }
    request
}

/// The token consumed, then the sign-in the address proves.
async fn verified_sign_in<'a>(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &'a Provider,
) -> Result<SignIn<'a>, AuthError> {
    let (store, _) = parts(pipeline, provider)?;
    let invalid =
        |why: &str| AuthError::new(ErrorCode::Verification, format!("{}: {why}", provider.id));
    let (Some(token), Some(email)) = (request.query.get("token"), request.query.get("email"))
    else {
        return Err(invalid("the link has no token or no email"));
    };
    let address = normalize_address(email)
        .map_err(|error| invalid(&format!("the link's address is refused: {error}")))?;
    let now = unix_now(pipeline);
    let mut consumed = None;
    // Under every secret, newest first: a link mailed before a rotation still works.
    for secret in &pipeline.secrets {
        let hashed = HashedVerificationToken::new(token, secret);
        if let Some(found) = store.use_verification_token(&address, &hashed, now).await? {
            consumed = Some(found);
            break;
        }
    }
    if consumed.is_none() {
        return Err(invalid(
            "the token is unknown, used, expired or for another address",
        ));
    }
    let (user, account_json) = callback_identity(store, provider, &address).await?;
    let profile = UserProfile {
        id: address.clone(),
        name: None,
        email: Some(address.clone()),
        image: None,
        // The link proved that the user reads this mailbox.
        email_verified: true,
    };
    Ok(SignIn {
        provider,
        user: match user {
            Value::Object(user) => user,
            _ => Map::new(),
        },
        account: Account {
            kind: "email".into(),
            provider: provider.id.clone(),
            provider_account_id: address,
            ..Account::default()
        },
        account_json,
        profile: Value::Null,
        credentials: Value::Null,
        email: Value::Null,
        identity: Identity::Email { profile },
        session: pipeline.session_strategy,
        token_claims: Map::new(),
        callback_url: request.query.get("callbackUrl").cloned(),
        clear: Vec::new(),
        retryable: false,
    })
}
