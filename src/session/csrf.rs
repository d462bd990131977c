//! The Auth.js CSRF double-submit token. The cookie holds `token|sha256hex(token + secret)`;
//! a form posts `csrfToken`, which must equal the cookie's token while the cookie's hash
//! proves authgate made it. Comparisons are constant-time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::text::lower_hex;

/// Length in bytes of a fresh token (64 hex characters).
const TOKEN_BYTES: usize = 32;

/// The outcome of `GET /csrf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfIssue {
    /// The token to return as `csrfToken`.
    pub token: String,
    /// A new cookie value to set, when the request had no valid CSRF cookie.
    pub new_cookie_value: Option<String>,
}

fn token_hash(token: &str, secret: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

/// The hash a cookie carries, as bytes: exactly 64 lowercase hex digits, as authgate and
/// Auth.js write it.
fn cookie_hash(hash: &str) -> Option<[u8; 32]> {
    if !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hash, &mut bytes).ok()?;
    Some(bytes)
}

/// The token inside a cookie value made by authgate with any of `secrets`, if it is one.
pub fn token_from_cookie<'a>(cookie_value: &'a str, secrets: &[&str]) -> Option<&'a str> {
    let (token, hash) = cookie_value
        .split_once('|')
        .or_else(|| cookie_value.split_once("%7C"))
        .or_else(|| cookie_value.split_once("%7c"))?;
    if token.is_empty() {
        return None;
    }
    let hash = cookie_hash(hash)?;
    let mut valid = subtle::Choice::from(0);
    for secret in secrets {
        valid |= token_hash(token, secret).ct_eq(&hash);
    }
    bool::from(valid).then_some(token)
}

/// The binding of a browser: the hex SHA-256 of its (verified) CSRF token. OAuth check
/// cookies and sessions carry it; the token itself never goes into another cookie.
pub fn browser_binding(csrf_token: &str) -> String {
    lower_hex(&Sha256::digest(csrf_token.as_bytes()))
}

/// Reuses the token of a valid cookie, or makes a new one signed with the newest secret.
pub fn issue_token(cookie_value: Option<&str>, secrets: &[&str]) -> CsrfIssue {
    if let Some(token) = cookie_value.and_then(|value| token_from_cookie(value, secrets)) {
        return CsrfIssue {
            token: token.to_string(),
            new_cookie_value: None,
        };
    }
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = lower_hex(&bytes);
    let hash = lower_hex(&token_hash(
        &token,
        secrets.first().copied().unwrap_or_default(),
    ));
    CsrfIssue {
        new_cookie_value: Some(format!("{token}|{hash}")),
        token,
    }
}

/// True when `submitted` matches the token of a valid CSRF cookie.
pub fn verify_token(cookie_value: Option<&str>, submitted: &str, secrets: &[&str]) -> bool {
    let Some(token) = cookie_value.and_then(|value| token_from_cookie(value, secrets)) else {
        return false;
    };
    bool::from(token.as_bytes().ct_eq(submitted.as_bytes()))
}

#[cfg(test)]
#[path = "csrf_tests.rs"]
mod tests;
