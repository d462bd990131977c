//! Errors with two faces, after dropshot: an external code from the Auth.js vocabulary that
//! is safe to show a client, and an internal message that goes to the log only.

use std::fmt;

/// The error codes Auth.js clients understand (`/error?error=<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Configuration,
    AccessDenied,
    Verification,
    OAuthSignin,
    OAuthCallback,
    OAuthAccountNotLinked,
    EmailSignin,
    CredentialsSignin,
    SessionRequired,
    MissingCSRF,
    UnknownAction,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Configuration => "Configuration",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::Verification => "Verification",
            ErrorCode::OAuthSignin => "OAuthSignin",
            ErrorCode::OAuthCallback => "OAuthCallback",
            ErrorCode::OAuthAccountNotLinked => "OAuthAccountNotLinked",
            ErrorCode::EmailSignin => "EmailSignin",
            ErrorCode::CredentialsSignin => "CredentialsSignin",
            ErrorCode::SessionRequired => "SessionRequired",
            ErrorCode::MissingCSRF => "MissingCSRF",
            ErrorCode::UnknownAction => "UnknownAction",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error on a request path: `code` may reach the client, `internal` only the log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {internal}")]
pub struct AuthError {
    pub code: ErrorCode,
    pub internal: String,
}

impl AuthError {
    pub fn new(code: ErrorCode, internal: impl Into<String>) -> Self {
        AuthError {
            code,
            internal: internal.into(),
        }
    }
}
