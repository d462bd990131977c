//! The OAuth 2.0 client of one provider, on the oauth2 crate: the authorization URL (PKCE
//! S256, state, nonce, scopes, extra parameters), the code exchange and the refresh-token
//! grant, with the provider's client authentication method. Token responses keep the
//! OpenID `id_token`.

use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::OAuthError;
use super::discovery::Endpoints;
use super::token_response::{self, TokenRequestMethod};
use crate::config::provider::{ResponseMode, TokenEndpointAuthMethod};
use crate::config::values::HttpMethod;
use crate::config::{ProviderConfig, ProviderKind};

/// The `id_token` of an OpenID token response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Whatever else the token response carried.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;

type Client = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The tokens a provider issued, as the account stores them.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    pub token_type: String,
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
    /// The token response's other fields (`email` for VK, `user_id`, ...).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// What the authorization request carries besides the client's own settings.
pub struct AuthorizationRequest<'a> {
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub pkce_challenge: Option<PkceCodeChallenge>,
    pub nonce: Option<&'a str>,
    /// Parameters the sign-in request asked to forward.
    pub extra: &'a [(String, String)],
}

/// The scopes to ask for: `scope`, else `authorization.params.scope`, else OpenID's
/// default for oidc providers (`{clientId}` in them is filled in when the URL is built).
pub fn scope_of(config: &ProviderConfig) -> Option<String> {
    config
        .scope
        .clone()
        .or_else(|| authorization_params(config).get("scope").cloned())
        .or_else(|| {
            (config.kind == Some(ProviderKind::Oidc)).then(|| "openid profile email".to_string())
        })
}

fn authorization_params(config: &ProviderConfig) -> std::collections::BTreeMap<String, String> {
    match &config.authorization {
        Some(crate::config::values::Endpoint::Detailed(details)) => details.params.clone(),
        _ => Default::default(),
    }
}

/// Extra parameters for the token endpoint (`token: {url, params}`), with `{clientId}` and
/// `{clientSecret}` filled in (for providers that name them otherwise: WeChat's `appid`).
fn token_params(config: &ProviderConfig) -> Vec<(String, String)> {
    let Some(crate::config::values::Endpoint::Detailed(details)) = &config.token else {
        return Vec::new();
    };
    let secret = config
        .client_secret
        .as_ref()
        .map(|secret| secret.expose())
        .unwrap_or_default();
    details
        .params
        .iter()
        .map(|(name, value)| {
            let value = value
                .replace(
                    "{clientId}",
                    config.client_id.as_deref().unwrap_or_default(),
                )
                .replace("{clientSecret}", secret);
            (name.clone(), value)
        })
        .collect()
}

/// How the token request is sent (`token.method`).
fn token_method(config: &ProviderConfig) -> TokenRequestMethod {
    match &config.token {
        Some(crate::config::values::Endpoint::Detailed(details))
            if details.method == Some(HttpMethod::Get) =>
        {
            TokenRequestMethod::Get
        }
        _ => TokenRequestMethod::Post,
    }
}

fn client(
    config: &ProviderConfig,
    endpoints: &Endpoints,
    redirect_uri: &str,
) -> Result<Client, OAuthError> {
    let bad = |what: &str, error: url::ParseError| {
        OAuthError::Configuration(format!("{what} is not a URL: {error}"))
    };
    let client_id = config
        .client_id
        .clone()
        .ok_or_else(|| OAuthError::Configuration("no clientId".into()))?;
    let method = config
        .client
        .as_ref()
        .and_then(|client| client.token_endpoint_auth_method)
        .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic);
    let mut client = oauth2::Client::new(ClientId::new(client_id))
        .set_auth_uri(
            AuthUrl::new(endpoints.authorization.clone())
                .map_err(|e| bad("the authorization endpoint", e))?,
        )
        .set_token_uri(
            TokenUrl::new(endpoints.token.clone()).map_err(|e| bad("the token endpoint", e))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_string()).map_err(|e| bad("the callback URL", e))?,
        )
        .set_auth_type(match method {
            TokenEndpointAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
            TokenEndpointAuthMethod::ClientSecretPost | TokenEndpointAuthMethod::None => {
                AuthType::RequestBody
            }
        });
    if method != TokenEndpointAuthMethod::None
        && let Some(secret) = &config.client_secret
    {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    Ok(client)
}

/// The URL to send the browser to.
pub fn authorization_url(
    config: &ProviderConfig,
    endpoints: &Endpoints,
    request: AuthorizationRequest<'_>,
) -> Result<url::Url, OAuthError> {
    let client = client(config, endpoints, request.redirect_uri)?;
    let state = request.state.to_string();
    let mut authorize = client.authorize_url(move || CsrfToken::new(state));
    // `{clientId}` and `{issuer}` for providers that want them again under other names
    // (TikTok's `client_key`, United Effects' `resource`, Azure AD B2C's scope).
    let fill = |value: &str| {
        value
            .replace(
                "{clientId}",
                config.client_id.as_deref().unwrap_or_default(),
            )
            .replace("{issuer}", config.issuer.as_deref().unwrap_or_default())
    };
    if let Some(scope) = scope_of(config) {
        let scope = fill(&scope);
        authorize = authorize.add_scopes(scope.split_whitespace().map(|s| Scope::new(s.into())));
    }
    for (name, value) in authorization_params(config) {
        if !matches!(
            name.as_str(),
            "scope" | "state" | "nonce" | "redirect_uri" | "client_id" | "response_type"
        ) {
            authorize = authorize.add_extra_param(name, fill(&value));
        }
    }
    if config.response_mode == Some(ResponseMode::FormPost) {
        authorize = authorize.add_extra_param("response_mode", "form_post");
    }
    if let Some(challenge) = request.pkce_challenge {
        authorize = authorize.set_pkce_challenge(challenge);
    }
    if let Some(nonce) = request.nonce {
        authorize = authorize.add_extra_param("nonce", nonce.to_string());
    }
    for (name, value) in request.extra {
        authorize = authorize.add_extra_param(name.clone(), value.clone());
    }
    Ok(authorize.url().0)
}

fn token_set(answer: TokenAnswer, now: u64) -> TokenSet {
    let expires_at = answer.expires_in().map(|lifetime: Duration| {
        i64::try_from(now.saturating_add(lifetime.as_secs())).unwrap_or(i64::MAX)
    });
    TokenSet {
        access_token: answer.access_token().secret().clone(),
        token_type: answer.token_type().as_ref().to_ascii_lowercase(),
        refresh_token: answer.refresh_token().map(|token| token.secret().clone()),
        expires_at,
        scope: answer.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|scope| scope.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        id_token: answer.extra_fields().id_token.clone(),
        extra: answer.extra_fields().extra.clone(),
    }
}

fn token_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, BasicErrorResponse>,
) -> OAuthError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            OAuthError::Callback(format!("the token endpoint refused: {}", response.error()))
        }
        RequestTokenError::Request(error) => {
            OAuthError::Provider(format!("token endpoint: {error}"))
        }
        RequestTokenError::Parse(error, _) => {
            OAuthError::Provider(format!("token endpoint answer: {error}"))
        }
        RequestTokenError::Other(error) => OAuthError::Provider(error),
    }
}

/// Exchanges an authorization code (with the PKCE verifier, when one was sent).
pub async fn exchange_code(
    config: &ProviderConfig,
    endpoints: &Endpoints,
    redirect_uri: &str,
    code: &str,
    verifier: Option<String>,
    now: u64,
) -> Result<TokenSet, OAuthError> {
    let client = client(config, endpoints, redirect_uri)?;
    let mut request = client.exchange_code(AuthorizationCode::new(code.to_string()));
    for (name, value) in token_params(config) {
        request = request.add_extra_param(name, value);
    }
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
    }
    let method = token_method(config);
    let send = move |request| token_response::execute(method, request);
    let answer = request.request_async(&send).await.map_err(token_error)?;
    Ok(token_set(answer, now))
}

/// The refresh-token grant. A provider that does not rotate keeps the old refresh token.
pub async fn refresh(
    config: &ProviderConfig,
    endpoints: &Endpoints,
    redirect_uri: &str,
    refresh_token: &str,
    now: u64,
) -> Result<TokenSet, OAuthError> {
    let client = client(config, endpoints, redirect_uri)?;
    let token = RefreshToken::new(refresh_token.to_string());
    let mut request = client.exchange_refresh_token(&token);
    for (name, value) in token_params(config) {
        request = request.add_extra_param(name, value);
    }
    let method = token_method(config);
    let send = move |request| token_response::execute(method, request);
    let answer = request.request_async(&send).await.map_err(token_error)?;
    let mut tokens = token_set(answer, now);
    if tokens.refresh_token.is_none() {
        tokens.refresh_token = Some(refresh_token.to_string());
    }
    Ok(tokens)
}
