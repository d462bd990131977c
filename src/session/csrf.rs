//! The Auth.js CSRF double-submit token. The cookie holds `token|sha256hex(token + secret)`;
//! a form posts `csrfToken`, which must equal the cookie's token while the cookie's hash
//! proves authgate made it. Comparisons are constant-time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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

fn token_hash(token: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
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
    let mut valid = subtle::Choice::from(0);
    for secret in secrets {
        let expected = token_hash(token, secret);
        valid |= expected.as_bytes().ct_eq(hash.as_bytes());
    }
    bool::from(valid).then_some(token)
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
    let token = hex::encode(bytes);
    let hash = token_hash(&token, secrets.first().copied().unwrap_or_default());
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
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const OLD_SECRET: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn a_fresh_token_is_64_hex_and_its_cookie_verifies() {
        let issued = issue_token(None, &[SECRET]);
        assert_eq!(issued.token.len(), 64);
        assert!(issued.token.bytes().all(|b| b.is_ascii_hexdigit()));
        let cookie = issued.new_cookie_value.unwrap();
        assert!(verify_token(Some(&cookie), &issued.token, &[SECRET]));
    }

    #[test]
    fn a_valid_cookie_keeps_its_token() {
        let first = issue_token(None, &[SECRET]);
        let cookie = first.new_cookie_value.unwrap();
        let again = issue_token(Some(&cookie), &[SECRET]);
        assert_eq!(again.token, first.token);
        assert_eq!(again.new_cookie_value, None);
    }

    #[test]
    fn forged_or_mismatched_tokens_are_rejected() {
        let issued = issue_token(None, &[SECRET]);
        let cookie = issued.new_cookie_value.unwrap();
        let forged = format!(
            "{}|{}",
            "a".repeat(64),
            token_hash(&"a".repeat(64), "guess")
        );
        let cases = [
            (Some(cookie.as_str()), "b".repeat(64), false),
            (Some(forged.as_str()), "a".repeat(64), false),
            (None, issued.token.clone(), false),
            (Some("no-separator"), issued.token.clone(), false),
            (Some("|"), String::new(), false),
            (Some(cookie.as_str()), issued.token.clone(), true),
        ];
        for (cookie, submitted, expected) in cases {
            assert_eq!(
                verify_token(cookie, &submitted, &[SECRET]),
                expected,
                "{cookie:?}"
            );
        }
    }

    #[test]
    fn cookies_made_with_a_rotated_out_secret_still_verify() {
        let issued = issue_token(None, &[OLD_SECRET]);
        let cookie = issued.new_cookie_value.unwrap();
        assert!(verify_token(
            Some(&cookie),
            &issued.token,
            &[SECRET, OLD_SECRET]
        ));
        assert!(!verify_token(Some(&cookie), &issued.token, &[SECRET]));
    }

    #[test]
    fn url_encoded_separators_are_accepted() {
        let issued = issue_token(None, &[SECRET]);
        let cookie = issued.new_cookie_value.unwrap().replace('|', "%7C");
        assert!(verify_token(Some(&cookie), &issued.token, &[SECRET]));
    }
}
