//! OAuth 2.0 and OpenID Connect providers: the outbound half of a sign-in. `oauth_client`
//! builds the authorization URL and exchanges codes and refresh tokens with the oauth2
//! crate; `discovery` resolves endpoints (and the issuer's JWKS) once per pipeline;
//! `checks` seals the state, PKCE and nonce values into provider-bound cookies;
//! `id_token` validates OpenID id_tokens; `profile` maps a provider's claims to a user;
//! `refresh` rotates expiring access tokens, one request per token at a time.

pub mod checks;
pub mod discovery;
pub mod http_client;
pub mod id_token;
pub mod oauth_client;
pub mod profile;
pub mod refresh;
pub mod token_response;
pub mod userinfo;

/// Why an OAuth step failed; the message is for the log only.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OAuthError {
    /// The provider (or our configuration of it) cannot be used: Configuration.
    #[error("provider configuration: {0}")]
    Configuration(String),
    /// The round trip or the provider's answer failed a check: OAuthCallback.
    #[error("oauth callback: {0}")]
    Callback(String),
    /// The provider could not be reached or answered badly: OAuthCallback.
    #[error("provider request failed: {0}")]
    Provider(String),
}

impl OAuthError {
    pub fn code(&self) -> crate::error::ErrorCode {
        match self {
            OAuthError::Configuration(_) => crate::error::ErrorCode::Configuration,
            OAuthError::Callback(_) | OAuthError::Provider(_) => {
                crate::error::ErrorCode::OAuthCallback
            }
        }
    }
}

impl From<OAuthError> for crate::error::AuthError {
    fn from(error: OAuthError) -> Self {
        crate::error::AuthError::new(error.code(), error.to_string())
    }
}
