//! Unit tests of `checks`.

use super::*;
use josekit::jwe::Dir;

const SECRET: &str = "check-secret-0123456789abcdef0123456789abcdef";

const BROWSER: &str = "browser-a";

fn binding<'a>(cookie_name: &'a str, provider: &'a str, browser: &'a str) -> Binding<'a> {
    Binding {
        cookie_name,
        provider,
        browser,
    }
}

#[test]
fn sealed_checks_open_only_for_their_provider_browser_cookie_and_time() {
    let sealed = seal(
        SECRET,
        &binding("authjs.state", "github", BROWSER),
        "s-123",
        1_000,
    )
    .unwrap();
    let other_secret = "other-secret-0123456789abcdef0123456789";
    type Case<'a> = (&'a [&'a str], Binding<'a>, u64, Result<String, CheckError>);
    let cases: [Case; 6] = [
        (
            &[SECRET],
            binding("authjs.state", "github", BROWSER),
            1_000,
            Ok("s-123".into()),
        ),
        (
            &[other_secret, SECRET],
            binding("authjs.state", "github", BROWSER),
            1_001,
            Ok("s-123".into()),
        ),
        (
            &[SECRET],
            binding("authjs.state", "gitlab", BROWSER),
            1_000,
            Err(CheckError::OtherProvider("state")),
        ),
        (
            &[SECRET],
            binding("authjs.state", "github", "browser-b"),
            1_000,
            Err(CheckError::OtherBrowser("state")),
        ),
        (
            &[SECRET],
            binding("authjs.nonce", "github", BROWSER),
            1_000,
            Err(CheckError::Unreadable("state")),
        ),
        (
            &[SECRET],
            binding("authjs.state", "github", BROWSER),
            1_000 + CHECK_MAX_AGE_SECONDS,
            Err(CheckError::Expired("state")),
        ),
    ];
    for (secrets, binding, now, expected) in cases {
        assert_eq!(
            open(secrets, &binding, "state", Some(&sealed), now),
            expected,
            "{binding:?} at {now}"
        );
    }
    let github = binding("authjs.state", "github", BROWSER);
    assert_eq!(
        open(&[SECRET], &github, "state", None, 1_000),
        Err(CheckError::Missing("state"))
    );
    let mut tampered = sealed.clone();
    tampered.insert(tampered.len() / 2, 'x');
    assert_eq!(
        open(&[SECRET], &github, "state", Some(&tampered), 1_000),
        Err(CheckError::Unreadable("state"))
    );
}

#[test]
fn a_browser_binding_is_the_hash_of_the_csrf_token_not_the_token() {
    let binding = browser_binding("token-1");
    assert_eq!(binding.len(), 64);
    assert!(!binding.contains("token-1"));
    assert_ne!(binding, browser_binding("token-2"));
    assert_eq!(binding, browser_binding("token-1"));
}

/// A check cookie is a standard `dir` + A256GCM JWE under the key Auth.js derives for the
/// cookie's name: josekit's own reader opens it.
#[test]
fn check_cookies_open_with_a_stock_jwe_reader() {
    let sealed = seal(
        SECRET,
        &binding("authjs.pkce.code_verifier", "github", BROWSER),
        "v-1",
        1_000,
    )
    .unwrap();
    let decrypter = Dir
        .decrypter_from_bytes(key(SECRET, "authjs.pkce.code_verifier").unwrap())
        .unwrap();
    let (payload, header) = josekit::jwe::deserialize_compact(&sealed, &decrypter).unwrap();
    assert_eq!(
        serde_json::Value::Object(header.claims_set().clone()),
        serde_json::json!({"alg": "dir", "enc": "A256GCM"})
    );
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        payload,
        serde_json::json!({
            "value": "v-1",
            "provider": "github",
            "browser": BROWSER,
            "exp": 1_000 + CHECK_MAX_AGE_SECONDS,
        })
    );
}
