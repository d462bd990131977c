//! The OAuth/OIDC round trip. `POST /signin/<id>` (CSRF checked) seals state, PKCE
//! verifier and nonce into provider-bound cookies and redirects to the authorization URL.
//! `GET|POST /callback/<id>` checks those cookies and the `iss` parameter (RFC 9207),
//! exchanges the code, validates the id_token (oidc) or fetches userinfo (oauth), maps the
//! profile, runs signIn, resolves the user (linking rules, with a store) and issues the
//! session. Every failure ends on the error page with an Auth.js code.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::PkceCodeChallenge;
use rand::RngCore;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::accounts::{LinkError, resolve_user, stable_user_id};
use super::callbacks::{SignInDecision, default_token, run_sign_in};
use super::issue::{BROWSER_CLAIM, SignInArguments, database_cookie, jwt_cookie};
use super::redirect::resolve_callback_url_off_workers;
use super::session::{SessionCookie, session_cookie, unix_now};
use super::{
    AuthRequest, AuthResponse, Method, PendingEvent, SetCookie, off_workers, session_cookie_writes,
};
use crate::config::ProviderKind;
use crate::config::model::SessionStrategy;
use crate::config::provider::{Check, RefreshMode};
use crate::error::ErrorCode;
use crate::pipeline::{Pipeline, Provider};
use crate::providers::OAuthError;
use crate::providers::checks::{Binding, CHECK_MAX_AGE_SECONDS, browser_binding, open, seal};
use crate::providers::http_client::request_json;
use crate::providers::id_token::{Expected, issuer_matches, validate};
use crate::providers::oauth_client::{
    AuthorizationRequest, TokenSet, authorization_url, exchange_code,
};
use crate::providers::profile::{UserProfile, map_profile};
use crate::session::cookies::CookieSpec;
use crate::store::{Account, Adapter, StoreError};
use crate::text::constant_time_eq;

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

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

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

fn fail(request: &AuthRequest, pipeline: &Pipeline, error: &OAuthError) -> AuthResponse {
    tracing::warn!(%error, "oauth sign-in failed");
    refuse(request, pipeline, error.code())
}

/// The error page with `code`; the round trip's check cookies are cleared.
fn refuse(request: &AuthRequest, pipeline: &Pipeline, code: ErrorCode) -> AuthResponse {
    let mut response = AuthResponse::error_redirect(request, pipeline, code);
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
    if !request.csrf_is_valid(pipeline) {
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::MissingCSRF);
    }
    let endpoints = match provider.runtime.endpoints(&provider.config).await {
        Ok(endpoints) => endpoints,
        Err(error) => return fail(request, pipeline, &error),
    };
    let state = random_token();
    let checks = checks_of(provider);
    let nonce = checks.contains(&Check::Nonce).then(random_token);
    let (mut cookies, pkce_challenge) = match seal_checks(
        request,
        pipeline,
        provider,
        &checks,
        &state,
        nonce.as_deref(),
    ) {
        Ok(sealed) => sealed,
        Err(error) => return fail(request, pipeline, &error),
    };
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
    );
    let url = match url {
        Ok(url) => url,
        Err(error) => return fail(request, pipeline, &error),
    };
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
    response
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
    if !provider
        .runtime
        .claim_round_trip(key.finalize().into(), now, now + CHECK_MAX_AGE_SECONDS)
    {
        return Err(OAuthError::Callback(
            "this round trip was already answered".into(),
        ));
    }
    Ok(Verified {
        pkce_verifier,
        nonce,
    })
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
        return validate(raw, &provider.runtime, endpoints, &expected).await;
    }
    let url = endpoints
        .userinfo
        .as_deref()
        .ok_or_else(|| OAuthError::Configuration("no userinfo endpoint".into()))?;
    let details = match &provider.config.userinfo {
        Some(crate::config::values::Endpoint::Detailed(details)) => Some(details),
        _ => None,
    };
    let fetch = |url: &str, query: Vec<(String, String)>, method: http::Method| {
        let client_id = provider.config.client_id.clone().unwrap_or_default();
        let token_param = details.and_then(|d| d.token_param.clone());
        let headers: Vec<(String, String)> = details
            .map(|d| {
                d.headers
                    .iter()
                    .map(|(name, value)| (name.clone(), value.replace("{clientId}", &client_id)))
                    .collect()
            })
            .unwrap_or_default();
        let url = url.to_string();
        async move {
            let mut parsed = url::Url::parse(&url)
                .map_err(|error| OAuthError::Configuration(format!("userinfo URL: {error}")))?;
            parsed.query_pairs_mut().extend_pairs(query.iter());
            let bearer = match &token_param {
                Some(name) => {
                    parsed
                        .query_pairs_mut()
                        .append_pair(name, &tokens.access_token);
                    None
                }
                None => Some(tokens.access_token.as_str()),
            };
            request_json(method, parsed.as_str(), bearer, &headers)
                .await
                .map_err(|error| OAuthError::Provider(format!("userinfo: {error}")))
        }
    };
    let params: Vec<(String, String)> = details
        .map(|d| d.params.clone().into_iter().collect())
        .unwrap_or_default();
    let method = match details.and_then(|d| d.method) {
        Some(crate::config::values::HttpMethod::Post) => http::Method::POST,
        _ => http::Method::GET,
    };
    let mut profile = match fetch(url, params, method).await? {
        Value::Object(profile) => profile,
        _ => return Err(OAuthError::Provider("userinfo is not a JSON object".into())),
    };
    for (name, include) in details.map(|d| d.include.clone()).unwrap_or_default() {
        let document = fetch(&include, Vec::new(), http::Method::GET).await?;
        profile.insert(name, document);
    }
    Ok(profile)
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

/// The store user the request is already signed in as, if any (a new account is linked
/// to it). A JWT's `sub` counts only under the JWT strategy and only when that user
/// exists: under the database strategy JWTs carry credentials ids, not store ids.
///
/// Only a session issued to this very browser counts: one that a sibling subdomain
/// planted (a parent-domain cookie holding the attacker's own session) carries another
/// browser's binding, and the sign-in then goes on as if nobody were signed in, so the
/// victim's provider account is never linked to the attacker's user.
async fn signed_in_user(
    request: &AuthRequest,
    pipeline: &Pipeline,
    store: &dyn Adapter,
) -> Result<Option<String>, StoreError> {
    let Some(browser) = request.browser_binding(pipeline) else {
        return Ok(None);
    };
    let issued_here =
        |bound: Option<&str>| bound.is_some_and(|bound| constant_time_eq(bound, &browser));
    match session_cookie(request, pipeline) {
        Some(Ok(SessionCookie::Jwt(token)))
            if pipeline.session_strategy == SessionStrategy::Jwt =>
        {
            if !issued_here(token.get(BROWSER_CLAIM).and_then(Value::as_str)) {
                return Ok(None);
            }
            let Some(sub) = token.get("sub").and_then(Value::as_str) else {
                return Ok(None);
            };
            Ok(store.get_user(sub).await?.map(|user| user.id))
        }
        Some(Ok(SessionCookie::Database { token, store })) => Ok(store
            .get_session_and_user(&token)
            .await?
            .filter(|(session, _)| session.expires > unix_now(pipeline))
            .filter(|(session, _)| issued_here(session.browser_binding.as_deref()))
            .map(|(_, user)| user.id)),
        _ => Ok(None),
    }
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

/// The sign-in as the scripts saw it: the mapped profile, the account to store, and what
/// `signIn` decided.
struct Mapped {
    profile: UserProfile,
    account: Account,
    account_json: Value,
    claims_json: Value,
    decision: SignInDecision,
}

/// Runs the `profile` script and the `signIn` callback, on the blocking pool.
async fn map_and_decide(
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
    answer: &ProviderAnswer,
) -> Result<Mapped, OAuthError> {
    let (worker_pipeline, index, kind, id) = (
        pipeline.clone(),
        provider.index,
        provider.kind,
        provider.id.clone(),
    );
    let (claims, tokens) = (answer.claims.clone(), answer.tokens.clone());
    let mapped = off_workers(true, move || {
        let profile = map_profile(&worker_pipeline, index, &claims, &tokens_json(&tokens))?;
        let account = Account {
            user_id: String::new(),
            kind: kind.as_str().to_string(),
            provider: id,
            provider_account_id: profile.id.clone(),
            refresh_token: tokens.refresh_token.clone(),
            access_token: Some(tokens.access_token.clone()),
            expires_at: tokens.expires_at,
            token_type: Some(tokens.token_type.clone()),
            scope: tokens.scope.clone(),
            id_token: tokens.id_token.clone(),
            session_state: None,
        };
        let account_json = serde_json::to_value(&account).unwrap_or(Value::Null);
        let claims_json = Value::Object(claims);
        let decision = run_sign_in(
            &worker_pipeline,
            &[
                ("user", profile.to_json()),
                ("account", account_json.clone()),
                ("profile", claims_json.clone()),
                ("email", Value::Null),
                ("credentials", Value::Null),
            ],
        );
        Ok(Mapped {
            profile,
            account,
            account_json,
            claims_json,
            decision,
        })
    })
    .await;
    mapped.map_err(|_| OAuthError::Configuration("the sign-in scripts did not finish".into()))?
}

/// The user this sign-in is for, and the events it causes.
struct SignedInUser {
    user_json: Value,
    is_new_user: bool,
    events: Vec<PendingEvent>,
}

/// Applies the linking rules with a store, or derives the stable id without one. The
/// browser binding was checked by `verify_round_trip`, so a signed-in user can only link
/// a provider account from a round trip their own browser started.
async fn user_of(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
    mapped: &Mapped,
) -> Result<SignedInUser, AuthResponse> {
    let Some(store) = &pipeline.store else {
        let mut user = mapped.profile.to_json();
        user["id"] = Value::String(stable_user_id(&provider.id, &mapped.profile.id));
        return Ok(SignedInUser {
            user_json: user,
            is_new_user: false,
            events: Vec::new(),
        });
    };
    let signed_in = signed_in_user(request, pipeline, store.as_ref())
        .await
        .map_err(|error| store_error(request, pipeline, &error))?;
    let allow = provider
        .config
        .allow_dangerous_email_account_linking
        .unwrap_or(false);
    let resolved = match resolve_user(
        store.as_ref(),
        &mapped.account,
        &mapped.profile,
        allow,
        signed_in.as_deref(),
        unix_now(pipeline),
    )
    .await
    {
        Ok(resolved) => resolved,
        Err(LinkError::NotLinked) => {
            return Err(refuse(request, pipeline, ErrorCode::OAuthAccountNotLinked));
        }
        Err(LinkError::Store(error)) => return Err(store_error(request, pipeline, &error)),
    };
    let user_json = serde_json::to_value(&resolved.user).unwrap_or(Value::Null);
    let mut events = Vec::new();
    if resolved.is_new_user && pipeline.script("events.createUser").is_some() {
        events.push(PendingEvent {
            script: "events.createUser".into(),
            arguments: vec![("user", user_json.clone())],
        });
    }
    if resolved.linked && pipeline.script("events.linkAccount").is_some() {
        events.push(PendingEvent {
            script: "events.linkAccount".into(),
            arguments: vec![
                ("user", user_json.clone()),
                ("account", mapped.account_json.clone()),
                ("profile", mapped.claims_json.clone()),
            ],
        });
    }
    Ok(SignedInUser {
        user_json,
        is_new_user: resolved.is_new_user,
        events,
    })
}

/// The session cookie value and its max-age: a database session row, or a JWT through
/// the `jwt` callback (on the blocking pool).
async fn issue_session(
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    provider: &Provider,
    tokens: &TokenSet,
    arguments: SignInArguments,
) -> Result<(String, u64), AuthResponse> {
    let user_id = arguments.user["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let issued = match (pipeline.session_strategy, &pipeline.store) {
        (SessionStrategy::Database, Some(store)) => {
            let browser = request.browser_binding(pipeline);
            return database_cookie(pipeline, store.as_ref(), &user_id, browser)
                .await
                .map_err(|error| store_error(request, pipeline, &error));
        }
        (SessionStrategy::Database, None) => Err(ErrorCode::Configuration),
        (SessionStrategy::Jwt, _) => {
            let (worker_request, worker_pipeline) = (request.clone(), pipeline.clone());
            let (provider, tokens) = (provider.clone(), tokens.clone());
            off_workers(true, move || {
                jwt_session(
                    &worker_request,
                    &worker_pipeline,
                    &provider,
                    &tokens,
                    arguments,
                )
            })
            .await
            .and_then(|issued| issued)
        }
    };
    issued.map_err(|code| refuse(request, pipeline, code))
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
    let parameters = callback_parameters(request);
    if let Some(error) = parameters.get("error") {
        tracing::info!(provider = %provider.id, error = %error, description = ?parameters.get("error_description"), "the provider returned an error");
        let code = if error == "access_denied" {
            ErrorCode::AccessDenied
        } else {
            ErrorCode::OAuthCallback
        };
        return refuse(request, pipeline, code);
    }
    // The cookies first: a request that is not this browser's own round trip never
    // reaches the network.
    let verified = match verify_round_trip(request, pipeline, provider, parameters) {
        Ok(verified) => verified,
        Err(error) => return fail(request, pipeline, &error),
    };
    let Some(code) = parameters.get("code") else {
        return fail(request, pipeline, &OAuthError::Callback("no code".into()));
    };
    let answer = match provider_answer(request, pipeline, provider, code, verified).await {
        Ok(answer) => answer,
        Err(error) => return fail(request, pipeline, &error),
    };
    let mapped = match map_and_decide(pipeline, provider, &answer).await {
        Ok(mapped) => mapped,
        Err(error) => return fail(request, pipeline, &error),
    };
    match &mapped.decision {
        SignInDecision::Allow => {}
        SignInDecision::Deny => return refuse(request, pipeline, ErrorCode::AccessDenied),
        SignInDecision::Redirect(url) => {
            let url = resolve_callback_url_off_workers(pipeline, &request.origin, Some(url)).await;
            let mut response = AuthResponse::redirect(request, url);
            response.cookies = clear_checks(request, pipeline);
            return response;
        }
    }
    let signed_in = match user_of(request, pipeline, provider, &mapped).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let arguments = SignInArguments {
        user: signed_in.user_json.clone(),
        account: mapped.account_json.clone(),
        profile: mapped.claims_json.clone(),
        is_new_user: signed_in.is_new_user,
    };
    let (cookie, max_age) =
        match issue_session(request, pipeline, provider, &answer.tokens, arguments).await {
            Ok(issued) => issued,
            Err(response) => return response,
        };
    let callback_cookie = request.cookie(&request.cookie_policy(pipeline).callback_url.name);
    let destination =
        resolve_callback_url_off_workers(pipeline, &request.origin, callback_cookie).await;
    let mut response = AuthResponse::redirect(request, destination);
    response.cookies = clear_checks(request, pipeline);
    response.cookies.extend(session_cookie_writes(
        request,
        pipeline,
        Some(&cookie),
        max_age,
    ));
    response.events = signed_in.events;
    if pipeline.script("events.signIn").is_some() {
        response.events.push(PendingEvent {
            script: "events.signIn".into(),
            arguments: vec![
                ("user", signed_in.user_json),
                ("account", mapped.account_json),
                ("profile", mapped.claims_json),
                ("isNewUser", json!(signed_in.is_new_user)),
            ],
        });
    }
    response
}

/// A browser is in the middle of a sign-in: it goes to the error page, as Auth.js sends it.
fn store_error(request: &AuthRequest, pipeline: &Pipeline, error: &StoreError) -> AuthResponse {
    tracing::error!(%error, "store call failed during an oauth sign-in");
    refuse(request, pipeline, error.code())
}

/// The JWT a sign-in issues; with `refresh: auto` it carries the provider's tokens.
fn jwt_session(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
    tokens: &TokenSet,
    arguments: SignInArguments,
) -> Result<(String, u64), ErrorCode> {
    let user_map = arguments.user.as_object().cloned().unwrap_or_default();
    let mut token = default_token(&user_map);
    if provider.config.refresh == Some(RefreshMode::Auto) {
        // Where automatic refresh finds and replaces the provider's tokens.
        token.insert("provider".into(), json!(provider.id));
        token.insert("access_token".into(), json!(tokens.access_token));
        token.insert("refresh_token".into(), json!(tokens.refresh_token));
        token.insert("expires_at".into(), json!(tokens.expires_at));
    }
    jwt_cookie(request, pipeline, token, arguments)
}
