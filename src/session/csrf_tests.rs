//! Unit tests of `csrf`.

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
        lower_hex(&token_hash(&"a".repeat(64), "guess"))
    );
    let (token, hash) = cookie.split_once('|').unwrap();
    let upper_case = format!("{token}|{}", hash.to_ascii_uppercase());
    let short = format!("{token}|{}", &hash[..62]);
    let long = format!("{token}|{hash}00");
    let cases = [
        (Some(cookie.as_str()), "b".repeat(64), false),
        (Some(forged.as_str()), "a".repeat(64), false),
        (None, issued.token.clone(), false),
        (Some("no-separator"), issued.token.clone(), false),
        (Some("|"), String::new(), false),
        // Only the exact 64 lowercase hex digits authgate and Auth.js write.
        (Some(upper_case.as_str()), issued.token.clone(), false),
        (Some(short.as_str()), issued.token.clone(), false),
        (Some(long.as_str()), issued.token.clone(), false),
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
