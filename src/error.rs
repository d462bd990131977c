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
    /// Too many attempts from one address, IP or username (authgate's own code).
    RateLimited,
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
            ErrorCode::RateLimited => "RateLimited",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an action failed: `code` is what the client sees (the Auth.js vocabulary), `internal`
/// what the log sees, and `status` the HTTP status when the answer is JSON rather than a
/// redirect to the error page. Actions build it where a step fails; `actions::failure`
/// logs and renders it, in one place.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {internal}")]
pub struct AuthError {
    pub code: ErrorCode,
    pub internal: String,
    pub status: u16,
    /// Seconds before trying again is worth it (`Retry-After`), for RateLimited.
    pub retry_after: Option<u64>,
}

impl AuthError {
    pub fn new(code: ErrorCode, internal: impl Into<String>) -> Self {
        let status = match code {
            ErrorCode::Configuration => 500,
            ErrorCode::AccessDenied | ErrorCode::Verification => 403,
            ErrorCode::CredentialsSignin | ErrorCode::SessionRequired => 401,
            ErrorCode::RateLimited => 429,
            _ => 400,
        };
        AuthError {
            code,
            internal: internal.into(),
            status,
            retry_after: None,
        }
    }

    /// A misconfiguration or an internal failure.
    pub fn configuration(internal: impl Into<String>) -> Self {
        AuthError::new(ErrorCode::Configuration, internal)
    }

    /// Too many attempts: 429, worth retrying after `retry_after` seconds.
    pub fn rate_limited(internal: impl Into<String>, retry_after: u64) -> Self {
        AuthError {
            retry_after: Some(retry_after.max(1)),
            ..AuthError::new(ErrorCode::RateLimited, internal)
        }
    }

    /// This error with another HTTP status (for JSON answers).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}
