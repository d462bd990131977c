//! The OAuth/OIDC round trip. `POST /signin/<id>` (CSRF checked) seals state, PKCE
//! verifier and nonce into provider-bound cookies and redirects to the authorization URL.
//! `GET|POST /callback/<id>` checks those cookies and the `iss` parameter (RFC 9207),
//! exchanges the code, validates the id_token (oidc) or fetches userinfo (oauth), maps the
//! profile, runs signIn, resolves the user (linking rules, with a store) and issues the
//! session. Every failure ends on the error page with an Auth.js code.

use std::collections::BTreeMap;
use std::sync::Arc;

use oauth2::PkceCodeChallenge;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::redirect::resolve_callback_url_off_workers;
use super::sign_in::{Identity, SignIn, finish};
use super::{AuthRequest, AuthResponse, Method, SetCookie, failure, limits, off_workers};
use crate::config::ProviderKind;
use crate::config::diagnostics::quoted;
use crate::config::provider::{Check, ProfileSource, RefreshMode};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::{Pipeline, Provider};
use crate::providers::OAuthError;
use crate::providers::checks::{Binding, CHECK_MAX_AGE_SECONDS, browser_binding, open, seal};
use crate::providers::id_token::{Expected, issuer_matches, validate};
use crate::providers::oauth_client::{
    AuthorizationRequest, TokenSet, authorization_url, exchange_code,
};
use crate::providers::profile::{UserProfile, map_profile};
use crate::providers::userinfo::fetch_userinfo;
use crate::session::cookies::CookieSpec;
use crate::session::tokens::random_token;
use crate::store::Account;

/// Query parameters of a sign-in that are never forwarded to the provider.
const RESERVED: [&str; 10] = [
    "callbackUrl",
    "csrfToken",
    "json",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "redirect_uri",
    "client_id",
    "response_type",
];

/// The checks a provider runs: configured, else `[pkce, state]` plus `nonce` for oidc.
pub fn checks_of(provider: &Provider) -> Vec<Check> {
    provider.config.checks.clone().unwrap_or_else(|| {
        let mut checks = vec![Check::Pkce, Check::State];
        if provider.kind == ProviderKind::Oidc {
            checks.push(Check::Nonce);
        }
        checks
    })
}

/// Our callback URL for a provider: the `redirect_uri`, the same at sign-in and exchange.
pub fn redirect_uri(request: &AuthRequest, provider: &Provider) -> String {
    format!("{}/callback/{}", request.origin.auth_url, provider.id)
}

/// A failed round trip: the error page, and the check cookies cleared.
fn refuse(request: &AuthRequest, pipeline: &Pipeline, error: AuthError) -> AuthResponse {
    let mut response = failure::redirect(request, pipeline, error);
    response.cookies = clear_checks(request, pipeline);
    response
}

fn check_specs<'a>(request: &AuthRequest, pipeline: &'a Pipeline) -> [&'a CookieSpec; 3] {
    let policy = request.cookie_policy(pipeline);
    [&policy.state, &policy.pkce_code_verifier, &policy.nonce]
}

fn clear_checks(request: &AuthRequest, pipeline: &Pipeline) -> Vec<SetCookie> {
    check_specs(request, pipeline)
        .into_iter()
        .filter(|spec| request.cookie(&spec.name).is_some())
        .map(|spec| SetCookie {
            spec: spec.clone(),
            value: None,
            max_age: Some(0),
        })
        .collect()
}

/// The browser's binding: the hash of its CSRF token, which only authgate's host can set
/// (`__Host-` on https). A request without a valid CSRF cookie has none.
fn browser_of(request: &AuthRequest, pipeline: &Pipeline) -> Result<String, OAuthError> {
    request
        .csrf_cookie_token(pipeline)
        .map(browser_binding)
        .ok_or_else(|| OAuthError::Callback("no valid CSRF cookie binds the browser".into()))
}

/// The check cookies for a new round trip (state, PKCE verifier, nonce, as `checks`
/// asks), and the PKCE challenge to send.
fn seal_checks(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
    checks: &[Check],
    state: &str,
    nonce: Option<&str>,
) -> Result<(Vec<SetCookie>, Option<PkceCodeChallenge>), OAuthError> {
    let now = pipeline.clock.unix_seconds();
    let secret = pipeline
        .secrets
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let policy = request.cookie_policy(pipeline);
    let browser = browser_of(request, pipeline)?;
    let sealed = |spec: &CookieSpec, value: &str| -> Result<SetCookie, OAuthError> {
        let binding = Binding {
            cookie_name: &spec.name,
            provider: &provider.id,
            browser: &browser,
        };
        Ok(SetCookie {
            spec: spec.clone(),
            value: Some(seal(secret, &binding, value, now).map_err(OAuthError::Configuration)?),
            max_age: Some(CHECK_MAX_AGE_SECONDS),
        })
    };
    let mut cookies = Vec::new();
    let mut pkce_challenge = None;
    if checks.contains(&Check::State) {
        cookies.push(sealed(&policy.state, state)?);
    }
    if checks.contains(&Check::Pkce) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        cookies.push(sealed(&policy.pkce_code_verifier, verifier.secret())?);
        pkce_challenge = Some(challenge);
    }
    if let Some(nonce) = nonce {
        cookies.push(sealed(&policy.nonce, nonce)?);
    }
    Ok((cookies, pkce_challenge))
}

/// `POST /signin/<oauth or oidc provider>`.
pub async fn sign_in(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
) -> AuthResponse {
    match start(request, pipeline, provider).await {
        Ok(response) => response,
        Err(error) => refuse(request, pipeline, error),
    }
}

/// Seals the round trip's checks and redirects to the authorization URL.
async fn start(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
) -> Result<AuthResponse, AuthError> {
    request.require_csrf(pipeline, &format!("sign-in with {}", provider.id))?;
    limits::oauth_start(request, pipeline).await?;
    let endpoints = provider.runtime.endpoints(&provider.config).await?;
    let state = random_token();
    let checks = checks_of(provider);
    let nonce = checks.contains(&Check::Nonce).then(random_token);
    let (mut cookies, pkce_challenge) = seal_checks(
        request,
        pipeline,
        provider,
        &checks,
        &state,
        nonce.as_deref(),
    )?;
    let extra: Vec<(String, String)> = request
        .query
        .iter()
        .filter(|(name, _)| !RESERVED.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let callback = redirect_uri(request, provider);
    let url = authorization_url(
        &provider.config,
        endpoints,
        AuthorizationRequest {
            redirect_uri: &callback,
            state: &state,
            pkce_challenge,
            nonce: nonce.as_deref(),
            extra: &extra,
        },
    )?;
    if let Some(callback_url) = request.form.get("callbackUrl") {
        let destination =
            resolve_callback_url_off_workers(pipeline, &request.origin, Some(callback_url)).await;
        cookies.push(SetCookie {
            spec: request.cookie_policy(pipeline).callback_url.clone(),
            value: Some(destination),
            max_age: None,
        });
    }
    let mut response = AuthResponse::redirect(request, url.to_string());
    response.cookies = cookies;
    Ok(response)
}

/// The parameters the provider sent back: the form for `form_post`, else the query.
fn callback_parameters(request: &AuthRequest) -> &BTreeMap<String, String> {
    match request.method {
        Method::Post => &request.form,
        Method::Get => &request.query,
    }
}

/// What the round trip proved, read from the check cookies.
struct Verified {
    pkce_verifier: Option<String>,
    nonce: Option<String>,
    /// The round trip's key (a hash of its sealed check values).
    round_trip: [u8; 32],
}

/// Opens this browser's check cookies and matches the returned `state`. It needs no
/// network, so a request that does not carry its own browser's round trip costs nothing
/// more than decrypting a cookie.
fn verify_round_trip(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
    parameters: &BTreeMap<String, String>,
) -> Result<Verified, OAuthError> {
    let secrets = pipeline.secret_refs();
    let now = pipeline.clock.unix_seconds();
    let policy = request.cookie_policy(pipeline);
    let checks = checks_of(provider);
    let browser = browser_of(request, pipeline)?;
    let opened = |spec: &CookieSpec, label: &'static str| {
        let binding = Binding {
            cookie_name: &spec.name,
            provider: &provider.id,
            browser: &browser,
        };
        open(&secrets, &binding, label, request.cookie(&spec.name), now)
            .map_err(|error| OAuthError::Callback(error.to_string()))
    };
    let state = if checks.contains(&Check::State) {
        let expected = opened(&policy.state, "state")?;
        let returned = parameters
            .get("state")
            .ok_or_else(|| OAuthError::Callback("no state in the response".into()))?;
        if !crate::text::constant_time_eq(returned, &expected) {
            return Err(OAuthError::Callback("state mismatch".into()));
        }
        Some(expected)
    } else {
        None
    };
    let pkce_verifier = if checks.contains(&Check::Pkce) {
        Some(opened(&policy.pkce_code_verifier, "pkce")?)
    } else {
        None
    };
    let nonce = if checks.contains(&Check::Nonce) {
        Some(opened(&policy.nonce, "nonce")?)
    } else {
        None
    };
    // Each round trip is answered once: replayed cookies make no second token request.
    // The key is made of sealed values only, never of what the request says.
    let mut key = Sha256::new();
    for part in [
        provider.id.as_str(),
        state.as_deref().unwrap_or_default(),
        pkce_verifier.as_deref().unwrap_or_default(),
        nonce.as_deref().unwrap_or_default(),
    ] {
        key.update((part.len() as u64).to_be_bytes());
        key.update(part.as_bytes());
    }
    let round_trip: [u8; 32] = key.finalize().into();
    if !provider
        .runtime
        .claim_round_trip(round_trip, now, now + CHECK_MAX_AGE_SECONDS)
    {
        return Err(OAuthError::Callback(
            "this round trip was already answered".into(),
        ));
    }
    Ok(Verified {
        pkce_verifier,
        nonce,
        round_trip,
    })
}

/// With a shared state, the round trip is claimed there too, so that its cookies replayed
/// to another instance make no second token request either. An unavailable shared state
/// leaves the claim of this instance.
async fn claim_across_instances(
    pipeline: &Pipeline,
    round_trip: &[u8; 32],
) -> Result<(), OAuthError> {
    let Some(shared) = &pipeline.shared_state else {
        return Ok(());
    };
    let key = format!("round-trip:{}", crate::text::lower_hex(round_trip));
    let ttl = std::time::Duration::from_secs(CHECK_MAX_AGE_SECONDS);
    let claimed = shared
        .call("round_trip", |backend| async move {
            backend.insert_if_absent(&key, "1", ttl).await
        })
        .await;
    match claimed {
        Some(false) => Err(OAuthError::Callback(
            "this round trip was already answered (by another instance)".into(),
        )),
        Some(true) | None => Ok(()),
    }
}

/// RFC 9207: a response naming another issuer is a mix-up attack, and a response without
/// `iss` from an issuer that announces it is suspect too.
fn check_issuer(
    parameters: &BTreeMap<String, String>,
    endpoints: &crate::providers::discovery::Endpoints,
) -> Result<(), OAuthError> {
    match (parameters.get("iss"), endpoints.issuer.as_deref()) {
        (Some(iss), Some(expected)) if !issuer_matches(expected, iss) => Err(OAuthError::Callback(
            format!("iss parameter {iss} is not the issuer {expected}"),
        )),
        (None, Some(_)) if endpoints.iss_parameter_supported => Err(OAuthError::Callback(
            "the issuer sends an iss parameter, and this response has none".into(),
        )),
        _ => Ok(()),
    }
}

/// The provider's claims: a validated id_token for oidc, else userinfo.
async fn claims_of(
    pipeline: &Pipeline,
    provider: &Provider,
    endpoints: &crate::providers::discovery::Endpoints,
    tokens: &TokenSet,
    nonce: Option<&str>,
) -> Result<Map<String, Value>, OAuthError> {
    if provider.kind == ProviderKind::Oidc {
        let raw = tokens
            .id_token
            .as_deref()
            .ok_or_else(|| OAuthError::Callback("the token response has no id_token".into()))?;
        let issuer = endpoints
            .issuer
            .as_deref()
            .ok_or_else(|| OAuthError::Configuration("no issuer".into()))?;
        let client = provider.config.client.as_ref();
        let expected = Expected {
            issuer,
            client_id: provider.config.client_id.as_deref().unwrap_or_default(),
            client_secret: provider.config.client_secret.as_ref().map(|s| s.expose()),
            algorithm: client.and_then(|c| c.id_token_signed_response_alg.as_deref()),
            nonce,
            now: pipeline.clock.unix_seconds(),
        };
        let claims = validate(raw, &provider.runtime, endpoints, &expected).await?;
        if provider.config.profile_from != Some(ProfileSource::Userinfo) {
            return Ok(claims);
        }
        let userinfo = fetch_userinfo(&provider.config, endpoints, tokens).await?;
        // OpenID Connect Core §5.3.2: a userinfo `sub` that is not the id_token's must not
        // be used (it may be another user's document).
        let subject = |claims: &Map<String, Value>| {
            claims
                .get("sub")
                .and_then(Value::as_str)
                .filter(|sub| !sub.is_empty())
                .map(str::to_string)
        };
        if subject(&userinfo).is_none() || subject(&userinfo) != subject(&claims) {
            return Err(OAuthError::Callback(
                "the userinfo `sub` is not the id_token's".into(),
            ));
        }
        return Ok(userinfo);
    }
    fetch_userinfo(&provider.config, endpoints, tokens).await
}

fn tokens_json(tokens: &TokenSet) -> Value {
    // The whole token response (VK puts the email there), our fields over its own.
    let mut all = Value::Object(tokens.extra.clone());
    let known = json!({
        "access_token": tokens.access_token,
        "token_type": tokens.token_type,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at,
        "scope": tokens.scope,
        "id_token": tokens.id_token,
    });
    if let (Value::Object(all), Value::Object(known)) = (&mut all, known) {
        all.extend(known);
    }
    all
}

/// A cookie-less `form_post` response is a cross-site POST, which carries no SameSite=Lax
/// cookie: it goes on as a top-level GET, which does.
fn form_post_as_get(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
) -> Option<AuthResponse> {
    let cookieless = check_specs(request, pipeline)
        .iter()
        .all(|spec| request.cookie(&spec.name).is_none());
    if request.method != Method::Post || !cookieless {
        return None;
    }
    let query = serde_urlencoded::to_string(&request.form).unwrap_or_default();
    Some(AuthResponse::redirect(
        request,
        format!("{}?{query}", redirect_uri(request, provider)),
    ))
}

/// What the provider said about the user, once the round trip checked out.
struct ProviderAnswer {
    tokens: TokenSet,
    claims: Map<String, Value>,
}

/// The network half: discovery, the `iss` check, the code exchange, then the id_token
/// (oidc) or userinfo (oauth). Runs only after `verify_round_trip` accepted the cookies.
async fn provider_answer(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
    code: &str,
    verified: Verified,
) -> Result<ProviderAnswer, OAuthError> {
    let parameters = callback_parameters(request);
    let endpoints = provider.runtime.endpoints(&provider.config).await?;
    check_issuer(parameters, endpoints)?;
    let now = pipeline.clock.unix_seconds();
    let tokens = exchange_code(
        &provider.config,
        endpoints,
        &redirect_uri(request, provider),
        code,
        verified.pkce_verifier,
        now,
    )
    .await?;
    let mut claims = claims_of(
        pipeline,
        provider,
        endpoints,
        &tokens,
        verified.nonce.as_deref(),
    )
    .await?;
    // Apple posts the user's name once, as JSON in a `user` field. It is unsigned, so it
    // is taken only from form_post providers and never replaces a claim of the provider.
    if provider.config.response_mode == Some(crate::config::provider::ResponseMode::FormPost)
        && !claims.contains_key("user")
        && let Some(Ok(Value::Object(user))) = parameters
            .get("user")
            .map(|user| serde_json::from_str::<Value>(user))
    {
        claims.insert("user".into(), Value::Object(user));
    }
    Ok(ProviderAnswer { tokens, claims })
}

/// The profile mapped by the provider's `profile` script (or Auth.js's default), on the
/// blocking pool.
async fn mapped_profile(
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
    answer: &ProviderAnswer,
) -> Result<UserProfile, AuthError> {
    let (worker_pipeline, worker_provider) = (pipeline.clone(), provider.clone());
    let (claims, tokens) = (answer.claims.clone(), tokens_json(&answer.tokens));
    off_workers(true, move || {
        map_profile(&worker_pipeline, &worker_provider, &claims, &tokens)
    })
    .await?
    .map_err(AuthError::from)
}

/// The account a provider answer links, with the provider's tokens.
fn account_of(provider: &Provider, profile: &UserProfile, tokens: &TokenSet) -> Account {
    Account {
        user_id: String::new(),
        kind: provider.kind.as_str().to_string(),
        provider: provider.id.clone(),
        provider_account_id: profile.id.clone(),
        refresh_token: tokens.refresh_token.clone(),
        access_token: Some(tokens.access_token.clone()),
        expires_at: tokens.expires_at,
        token_type: Some(tokens.token_type.clone()),
        scope: tokens.scope.clone(),
        id_token: tokens.id_token.clone(),
        session_state: None,
        linked_at: None,
    }
}

/// With `refresh: auto`, the JWT carries the provider's tokens, where automatic refresh
/// finds and replaces them.
fn refresh_claims(provider: &Provider, tokens: &TokenSet) -> Map<String, Value> {
    let mut claims = Map::new();
    if provider.config.refresh == Some(RefreshMode::Auto) {
        claims.insert("provider".into(), json!(provider.id));
        claims.insert("access_token".into(), json!(tokens.access_token));
        claims.insert("refresh_token".into(), json!(tokens.refresh_token));
        claims.insert("expires_at".into(), json!(tokens.expires_at));
    }
    claims
}

/// The provider's `error` parameter, as Auth.js maps it.
fn provider_error(provider: &Provider, parameters: &BTreeMap<String, String>) -> Option<AuthError> {
    let error = parameters.get("error")?;
    let code = if error == "access_denied" {
        ErrorCode::AccessDenied
    } else {
        ErrorCode::OAuthCallback
    };
    Some(AuthError::new(
        code,
        // Unauthenticated text: quoted and bounded, so it cannot pose as log fields.
        format!(
            "{} returned the error {} ({})",
            provider.id,
            quoted(error),
            parameters
                .get("error_description")
                .map(|description| quoted(description))
                .unwrap_or_else(|| "no description".into())
        ),
    ))
}

/// `GET|POST /callback/<oauth or oidc provider>`.
pub async fn callback(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
) -> AuthResponse {
    if let Some(response) = form_post_as_get(request, pipeline, provider) {
        return response;
    }
    match proven_sign_in(request, pipeline, provider).await {
        Ok(sign_in) => finish(request, pipeline, sign_in).await,
        Err(error) => refuse(request, pipeline, error),
    }
}

/// The OAuth half of a callback: the provider's error, the check cookies (before any
/// network I/O: a request that is not this browser's own round trip never reaches the
/// network), the provider's answer, and the mapped profile.
async fn proven_sign_in<'a>(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &'a Provider,
) -> Result<SignIn<'a>, AuthError> {
    let parameters = callback_parameters(request);
    if let Some(error) = provider_error(provider, parameters) {
        return Err(error);
    }
    let verified = verify_round_trip(request, pipeline, provider, parameters)?;
    claim_across_instances(pipeline, &verified.round_trip).await?;
    let code = parameters
        .get("code")
        .ok_or_else(|| OAuthError::Callback("no code".into()))?;
    let answer = provider_answer(request, pipeline, provider, code, verified).await?;
    let profile = mapped_profile(pipeline, provider, &answer).await?;
    let account = account_of(provider, &profile, &answer.tokens);
    let callback_cookie = request.cookie(&request.cookie_policy(pipeline).callback_url.name);
    Ok(SignIn {
        provider,
        user: profile.to_json().as_object().cloned().unwrap_or_default(),
        account_json: serde_json::to_value(&account).unwrap_or(Value::Null),
        account,
        profile: Value::Object(answer.claims),
        credentials: Value::Null,
        email: Value::Null,
        session: pipeline.session_strategy,
        token_claims: refresh_claims(provider, &answer.tokens),
        callback_url: callback_cookie.map(str::to_string),
        clear: clear_checks(request, pipeline),
        retryable: false,
        identity: Identity::ProviderAccount {
            profile,
            allow_email_linking: provider
                .config
                .allow_dangerous_email_account_linking
                .unwrap_or(false),
        },
    })
}
