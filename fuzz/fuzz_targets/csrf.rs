//! The CSRF double-submit check (`session::csrf`) on cookie values and submitted tokens an
//! attacker chooses.
//!
//! Input: `<cookie value>\n<submitted csrfToken>` (without a `\n`, the whole input is the
//! cookie value and the submitted token is empty).
//!
//! Properties:
//! - a freshly issued cookie verifies its own token (also as Auth.js writes it, `%7C`), and
//!   only that token;
//! - `verify_token` accepts only a real issued pair: the cookie is exactly
//!   `token|sha256hex(token + secret)` (or `%7C`/`%7c` for `|`) for one of the secrets, and
//!   the submitted token is that token;
//! - `issue_token` keeps the token of a valid cookie and replaces any other cookie.

#![no_main]

use authgate::session::csrf::{issue_token, token_from_cookie, verify_token};
use authgate_fuzz::SECRETS;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

const SEPARATORS: [&str; 3] = ["|", "%7C", "%7c"];

/// Whether `cookie` is exactly a pair authgate issues for `token` with one of the secrets.
fn is_issued_pair(cookie: &str, token: &str, secrets: &[&str]) -> bool {
    !token.is_empty()
        && secrets.iter().any(|secret| {
            let hash = hex::encode(Sha256::digest(format!("{token}{secret}").as_bytes()));
            SEPARATORS
                .iter()
                .any(|separator| cookie == format!("{token}{separator}{hash}"))
        })
}

fn check_fresh_cookie(secrets: &[&str], submitted: &str) {
    let issued = issue_token(None, secrets);
    let cookie = issued
        .new_cookie_value
        .expect("no cookie was issued for a request without one");
    assert_eq!(
        token_from_cookie(&cookie, secrets),
        Some(issued.token.as_str())
    );
    assert!(verify_token(Some(&cookie), &issued.token, secrets));
    let as_auth_js_writes_it = cookie.replace('|', "%7C");
    assert!(verify_token(
        Some(&as_auth_js_writes_it),
        &issued.token,
        secrets
    ));
    assert_eq!(
        verify_token(Some(&cookie), submitted, secrets),
        submitted == issued.token,
        "a fresh cookie verified a token that is not its own: {submitted:?}"
    );
    let again = issue_token(Some(&cookie), secrets);
    assert_eq!(
        again.token, issued.token,
        "a valid cookie's token was replaced"
    );
    assert_eq!(again.new_cookie_value, None);
}

fn check_arbitrary_pair(secrets: &[&str], cookie: &str, submitted: &str) {
    let token = token_from_cookie(cookie, secrets);
    if let Some(token) = token {
        assert!(
            is_issued_pair(cookie, token, secrets),
            "token_from_cookie accepted a cookie authgate did not issue: {cookie:?}"
        );
    }
    let verified = verify_token(Some(cookie), submitted, secrets);
    if verified {
        assert!(
            is_issued_pair(cookie, submitted, secrets),
            "verify_token accepted {submitted:?} with a cookie authgate did not issue for it: {cookie:?}"
        );
    }
    assert_eq!(verified, token == Some(submitted));
    assert!(!verify_token(None, submitted, secrets));

    let issued = issue_token(Some(cookie), secrets);
    match token {
        Some(token) => {
            assert_eq!(issued.token, token);
            assert_eq!(issued.new_cookie_value, None);
        }
        None => {
            let fresh = issued.new_cookie_value.expect("an invalid cookie was kept");
            assert!(verify_token(Some(&fresh), &issued.token, secrets));
            assert_ne!(issued.token, submitted, "a fresh token is the attacker's");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (cookie, submitted) = text.split_once('\n').unwrap_or((text.as_ref(), ""));
    // The rotated pair, the newest secret alone, and the oldest alone (a retired secret
    // must stop verifying once it is removed).
    for secrets in [&SECRETS[..], &SECRETS[..1], &SECRETS[1..]] {
        check_arbitrary_pair(secrets, cookie, submitted);
        check_fresh_cookie(secrets, submitted);
    }
});
