//! Unit tests of `jwt`.

use super::*;
use crate::config::model::JwtAlgorithm;
use crate::session::keys::{KeyFileText, SessionKeys};
use base64::Engine as _;
use josekit::jwe::JweHeader;
use josekit::jwt::{self, JwtPayload};
use serde_json::json;

const COOKIE: &str = "authjs.session-token";
const SECRET: &str = "test-secret-0123456789abcdef0123456789";
const OLD_SECRET: &str = "old-secret-0123456789abcdef0123456789ab";

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_800_000_000_250)
}

fn claims() -> Map<String, Value> {
    json!({"sub": "1", "name": "Ada", "email": "ada@example.com"})
        .as_object()
        .unwrap()
        .clone()
}

fn symmetric(encryption: bool, secrets: &[&str]) -> SessionKeys {
    SessionKeys::new(JwtAlgorithm::HS512, encryption, secrets, &[], &[COOKIE]).unwrap()
}

fn es256() -> (SessionKeys, String) {
    let pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let pem = String::from_utf8(josekit::jwk::KeyPair::to_pem_private_key(&pair)).unwrap();
    let keys = SessionKeys::new(
        JwtAlgorithm::ES256,
        false,
        &[SECRET],
        &[KeyFileText {
            kid: Some("k1".into()),
            text: pem.clone(),
        }],
        &[COOKIE],
    )
    .unwrap();
    (keys, pem)
}

fn round_trip(keys: &SessionKeys) {
    let keys = keys.for_cookie(COOKIE).unwrap();
    let token = encode(keys, &claims(), now(), Duration::from_secs(3600)).unwrap();
    let decoded = decode(keys, &token, now()).unwrap();
    assert_eq!(decoded["sub"], "1");
    assert_eq!(decoded["exp"], 1_800_003_600);
    assert!(
        decoded["exp"].is_u64() && decoded["iat"].is_u64(),
        "times must be whole seconds"
    );
    assert!(decoded["jti"].is_string());
}

#[test]
fn every_format_round_trips() {
    round_trip(&symmetric(false, &[SECRET]));
    round_trip(&symmetric(true, &[SECRET]));
    round_trip(&es256().0);
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn flip_middle(text: &str) -> String {
    let middle = text.len() / 2;
    let replacement = if &text[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    format!("{}{replacement}{}", &text[..middle], &text[middle + 1..])
}

#[test]
fn tampered_and_forged_tokens_are_refused() {
    let keys = symmetric(false, &[SECRET]);
    let keys = keys.for_cookie(COOKIE).unwrap();
    let token = encode(keys, &claims(), now(), Duration::from_secs(3600)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged_payload = b64(&json!({"sub": "admin", "exp": 1_900_000_000}));
    let none_header = b64(&json!({"alg": "none", "typ": "JWT"}));
    let hs256_header = b64(&json!({"alg": "HS256", "typ": "JWT"}));
    let cases = [
        (
            "payload swapped",
            format!("{}.{}.{}", parts[0], forged_payload, parts[2]),
        ),
        (
            // A middle character: the last one carries padding bits that decode alike.
            "signature flipped",
            format!("{}.{}.{}", parts[0], parts[1], flip_middle(parts[2])),
        ),
        ("alg none", format!("{none_header}.{forged_payload}.")),
        (
            "header swapped to HS256",
            format!("{hs256_header}.{}.{}", parts[1], parts[2]),
        ),
        ("garbage", "not.a.token".to_string()),
        ("empty", String::new()),
    ];
    for (name, token) in cases {
        assert!(decode(keys, &token, now()).is_err(), "{name} was accepted");
    }
    assert_eq!(
        decode(keys, &"a".repeat(MAX_TOKEN_BYTES + 1), now()),
        Err(TokenError::TooLarge)
    );
}

#[test]
fn hs256_signed_with_the_public_key_of_an_rs256_config_is_refused() {
    let pair = josekit::jws::RS256.generate_key_pair(2048).unwrap();
    let pem = String::from_utf8(josekit::jwk::KeyPair::to_pem_private_key(&pair)).unwrap();
    let public_pem = josekit::jwk::KeyPair::to_pem_public_key(&pair);
    let keys = SessionKeys::new(
        JwtAlgorithm::RS256,
        false,
        &[SECRET],
        &[KeyFileText {
            kid: None,
            text: pem,
        }],
        &[COOKIE],
    )
    .unwrap();
    let keys = keys.for_cookie(COOKIE).unwrap();
    let signer = josekit::jws::HS256.signer_from_bytes(&public_pem).unwrap();
    let mut payload = JwtPayload::from_map(claims()).unwrap();
    payload.set_expires_at(&(now() + Duration::from_secs(60)));
    let forged = jwt::encode_with_signer(&payload, &JwsHeader::new(), &signer).unwrap();
    assert!(decode(keys, &forged, now()).is_err());
}

#[test]
fn expired_and_future_tokens_are_refused() {
    let keys = symmetric(false, &[SECRET]);
    let keys = keys.for_cookie(COOKIE).unwrap();
    let token = encode(keys, &claims(), now(), Duration::from_secs(60)).unwrap();
    assert_eq!(
        decode(keys, &token, now() + Duration::from_secs(61)),
        Err(TokenError::Expired)
    );
    let issued_later = encode(
        keys,
        &claims(),
        now() + Duration::from_secs(3600),
        Duration::from_secs(7200),
    )
    .unwrap();
    assert!(
        decode(keys, &issued_later, now()).is_err(),
        "a token issued in the future was accepted"
    );
}

#[test]
fn not_yet_valid_tokens_are_refused() {
    let keys = symmetric(false, &[SECRET]);
    let TokenKeys::Signed { signer, .. } = keys.for_cookie(COOKIE).unwrap() else {
        panic!("signed keys expected");
    };
    let mut payload = JwtPayload::from_map(claims()).unwrap();
    payload.set_issued_at(&now());
    payload.set_not_before(&(now() + Duration::from_secs(600)));
    payload.set_expires_at(&(now() + Duration::from_secs(3600)));
    let token = jwt::encode_with_signer(&payload, &JwsHeader::new(), signer.as_ref()).unwrap();
    assert_eq!(
        decode(keys.for_cookie(COOKIE).unwrap(), &token, now()),
        Err(TokenError::NotYetValid)
    );
    assert!(
        decode(
            keys.for_cookie(COOKIE).unwrap(),
            &token,
            now() + Duration::from_secs(601)
        )
        .is_ok()
    );
}

#[test]
fn a_token_from_a_retired_signing_key_is_refused_while_a_listed_old_key_verifies() {
    let new_pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let old_pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let pem = |pair: &josekit::jwk::alg::ec::EcKeyPair| {
        String::from_utf8(josekit::jwk::KeyPair::to_pem_private_key(pair)).unwrap()
    };
    let build = |files: Vec<KeyFileText>| {
        SessionKeys::new(JwtAlgorithm::ES256, false, &[SECRET], &files, &[COOKIE]).unwrap()
    };
    let old_only = build(vec![KeyFileText {
        kid: Some("old".into()),
        text: pem(&old_pair),
    }]);
    let token = encode(
        old_only.for_cookie(COOKIE).unwrap(),
        &claims(),
        now(),
        Duration::from_secs(60),
    )
    .unwrap();
    let rotated = build(vec![
        KeyFileText {
            kid: Some("new".into()),
            text: pem(&new_pair),
        },
        KeyFileText {
            kid: Some("old".into()),
            text: pem(&old_pair),
        },
    ]);
    assert!(decode(rotated.for_cookie(COOKIE).unwrap(), &token, now()).is_ok());
    let retired = build(vec![KeyFileText {
        kid: Some("new".into()),
        text: pem(&new_pair),
    }]);
    assert!(decode(retired.for_cookie(COOKIE).unwrap(), &token, now()).is_err());
    let fresh = encode(
        rotated.for_cookie(COOKIE).unwrap(),
        &claims(),
        now(),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(
        decode(retired.for_cookie(COOKIE).unwrap(), &fresh, now()).is_ok(),
        "the first key signs"
    );
}

#[test]
fn rotated_secrets_still_read_but_retired_ones_do_not() {
    for encryption in [false, true] {
        let old = symmetric(encryption, &[OLD_SECRET]);
        let token = encode(
            old.for_cookie(COOKIE).unwrap(),
            &claims(),
            now(),
            Duration::from_secs(60),
        )
        .unwrap();
        let rotated = symmetric(encryption, &[SECRET, OLD_SECRET]);
        assert!(decode(rotated.for_cookie(COOKIE).unwrap(), &token, now()).is_ok());
        let retired = symmetric(encryption, &[SECRET]);
        assert!(decode(retired.for_cookie(COOKIE).unwrap(), &token, now()).is_err());
    }
}

#[test]
fn jwe_with_a_wrong_key_is_refused_and_a_jws_is_not_taken_for_a_jwe() {
    let other = symmetric(true, &[OLD_SECRET]);
    let token = encode(
        other.for_cookie(COOKIE).unwrap(),
        &claims(),
        now(),
        Duration::from_secs(60),
    )
    .unwrap();
    let mine = symmetric(true, &[SECRET]);
    assert!(decode(mine.for_cookie(COOKIE).unwrap(), &token, now()).is_err());
    let signed = symmetric(false, &[SECRET]);
    let jws = encode(
        signed.for_cookie(COOKIE).unwrap(),
        &claims(),
        now(),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(decode(mine.for_cookie(COOKIE).unwrap(), &jws, now()).is_err());
}

#[test]
fn auth_js_style_a256cbc_hs512_tokens_are_read() {
    let key = crate::session::keys::derive_encryption_key(SECRET, COOKIE, "A256CBC-HS512").unwrap();
    let encrypter = josekit::jwe::Dir.encrypter_from_bytes(&key).unwrap();
    let mut header = JweHeader::new();
    header.set_content_encryption("A256CBC-HS512");
    let mut payload = JwtPayload::from_map(claims()).unwrap();
    payload.set_expires_at(&(now() + Duration::from_secs(60)));
    let token = jwt::encode_with_encrypter(&payload, &header, &encrypter).unwrap();
    let keys = symmetric(true, &[SECRET]);
    assert_eq!(
        decode(keys.for_cookie(COOKIE).unwrap(), &token, now()).unwrap()["sub"],
        "1"
    );
}

/// A session token written by `@auth/core` 0.41.3's `encode` (dir + A256CBC-HS512, with
/// the `kid` it adds), with this file's secret and cookie name as the salt, an hour long.
const AUTH_JS_CORE_TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoia0hOV3BRU2lZdS16ZmcwRWN1dFdqODFjTDFORWhqUERQVk1FT1Q2Y1NpVVVLQzNoaWdhQ3lJeG9ySmFEaHlkUGRUdW9JdDlHaDBJX1p0UkdfSHQ5U0EifQ..DsYbjCi5oBa_q7GECOUXVQ.ZRDSo3yUWFbqEifBF7KcaG0OGg_1F3AjKpQZvAlheEFoqoDe8EDaCMfvjq4SE310VITFjw7x2C8DskcUJPCcpuyMWtxv4MIaoXCkSyIPOglMb62UIW3DDK-4GLE8yy1CD2E8EwkGhhjG2XeCltHwc3Ke1u-YFZvU8PdIaV-Ib0M1GT_wUjQH7E70PLSK-cVN.Z4LYcIgNVQsHHWkSDfjFL9J5tKi_JhTBDBC70w3KDWk";
/// When that token was written, in seconds since the epoch.
const AUTH_JS_CORE_TOKEN_ISSUED: u64 = 1_796_120_674;

#[test]
fn a_token_written_by_auth_js_core_is_read_and_a_flipped_one_is_not() {
    let keys = symmetric(true, &[SECRET]);
    let keys = keys.for_cookie(COOKIE).unwrap();
    let read_at = SystemTime::UNIX_EPOCH + Duration::from_secs(AUTH_JS_CORE_TOKEN_ISSUED + 10);
    let claims = decode(keys, AUTH_JS_CORE_TOKEN, read_at).unwrap();
    assert_eq!(
        (&claims["sub"], &claims["name"], &claims["email"]),
        (&json!("1"), &json!("Ada"), &json!("ada@example.com"))
    );
    assert!(decode(keys, &flip_middle(AUTH_JS_CORE_TOKEN), read_at).is_err());
    let expired = read_at + Duration::from_secs(3600);
    assert_eq!(
        decode(keys, AUTH_JS_CORE_TOKEN, expired),
        Err(TokenError::Expired)
    );
}

/// Headers authgate never writes, in tokens made with the right key: a `crit` list (which
/// josekit does not enforce for a JWE), a compressed payload, and a `crit` in a JWS.
#[test]
fn correctly_keyed_tokens_with_crit_or_zip_headers_are_refused() {
    let gcm_key = crate::session::keys::derive_encryption_key(SECRET, COOKIE, "A256GCM").unwrap();
    let encrypter = josekit::jwe::Dir.encrypter_from_bytes(&gcm_key).unwrap();
    let mut payload = JwtPayload::from_map(claims()).unwrap();
    payload.set_expires_at(&(now() + Duration::from_secs(60)));
    let jwe_with = |name: &str, value: Value| {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        header.set_claim(name, Some(value)).unwrap();
        jwt::encode_with_encrypter(&payload, &header, &encrypter).unwrap()
    };
    let encrypted = symmetric(true, &[SECRET]);
    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    let good = jwt::encode_with_encrypter(&payload, &header, &encrypter).unwrap();
    assert!(decode(encrypted.for_cookie(COOKIE).unwrap(), &good, now()).is_ok());
    for (what, token) in [
        ("crit", jwe_with("crit", json!(["exp"]))),
        ("zip", jwe_with("zip", json!("DEF"))),
    ] {
        assert!(
            decode(encrypted.for_cookie(COOKIE).unwrap(), &token, now()).is_err(),
            "{what}"
        );
    }
    let signing_key = crate::session::keys::derive_signing_key(SECRET, COOKIE).unwrap();
    let signer = josekit::jws::HS512.signer_from_bytes(&signing_key).unwrap();
    let mut header = JwsHeader::new();
    header.set_claim("crit", Some(json!(["exp"]))).unwrap();
    let jws = jwt::encode_with_signer(&payload, &header, &signer).unwrap();
    let signed = symmetric(false, &[SECRET]);
    assert!(decode(signed.for_cookie(COOKIE).unwrap(), &jws, now()).is_err());
}

#[test]
fn asymmetric_keys_publish_only_public_parts_and_pick_by_kid() {
    let (keys, _pem) = es256();
    let jwks = keys.jwks();
    assert_eq!(jwks["keys"][0]["kid"], "k1");
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    assert!(jwks["keys"][0].get("d").is_none(), "private part published");
    let (other, _) = es256();
    let token = encode(
        other.for_cookie(COOKIE).unwrap(),
        &claims(),
        now(),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(
        decode(keys.for_cookie(COOKIE).unwrap(), &token, now()).is_err(),
        "a foreign key with the same kid was accepted"
    );
}

#[test]
fn validly_signed_tokens_with_impossible_times_are_refused_without_panicking() {
    // Found by the jwt_decode fuzz target: josekit panics converting `iat: 1.8e22`.
    let keys = symmetric(false, &[SECRET]);
    let TokenKeys::Signed { signer, .. } = keys.for_cookie(COOKIE).unwrap() else {
        panic!("signed keys expected");
    };
    let cases = [
        json!({"sub": "1", "iat": 1.799_999_922_222_222e22, "exp": 1_900_000_000}),
        json!({"sub": "1", "iat": 1_700_000_000, "exp": 1e300}),
        json!({"sub": "1", "nbf": -5, "exp": 1_900_000_000}),
        json!({"sub": "1", "exp": "1900000000"}),
        json!({"sub": "1", "exp": 253_402_300_800u64}),
    ];
    for claims in cases {
        // Signed as raw JSON: josekit's own payload type would refuse some of these.
        let bytes = serde_json::to_vec(&claims).unwrap();
        let token =
            josekit::jws::serialize_compact(&bytes, &JwsHeader::new(), signer.as_ref()).unwrap();
        assert!(
            matches!(
                decode(keys.for_cookie(COOKIE).unwrap(), &token, now()),
                Err(TokenError::Invalid(_))
            ),
            "{claims}"
        );
    }
}

/// No key reaches a log through `{:?}`: not the secret, not a derived key (as josekit's
/// own types would print it), not a key file's text.
#[test]
fn debug_output_of_the_keys_holds_no_key_material() {
    let (asymmetric, pem) = es256();
    let key_file = KeyFileText {
        kid: Some("k1".into()),
        text: pem.clone(),
    };
    let derived = [
        crate::session::keys::derive_encryption_key(SECRET, COOKIE, "A256GCM").unwrap(),
        crate::session::keys::derive_encryption_key(SECRET, COOKIE, "A256CBC-HS512").unwrap(),
        crate::session::keys::derive_signing_key(SECRET, COOKIE).unwrap(),
    ];
    let pem_body = pem.lines().nth(1).unwrap().to_string();
    for (what, debug) in [
        ("JWE keys", format!("{:?}", symmetric(true, &[SECRET]))),
        ("HS512 keys", format!("{:?}", symmetric(false, &[SECRET]))),
        ("ES256 keys", format!("{asymmetric:?}")),
        ("a key file", format!("{key_file:?}")),
    ] {
        assert!(!debug.contains(SECRET), "{what}: {debug}");
        assert!(!debug.contains(&pem_body), "{what}: {debug}");
        for key in &derived {
            let as_list = format!("{key:?}");
            let first_bytes = &as_list[..as_list.len().min(24)];
            assert!(!debug.contains(first_bytes), "{what}: {debug}");
        }
    }
}

/// JWS headers signed with the right key that a reader could take two ways: `alg` twice
/// (josekit keeps the last) or an array (serde reads a struct from it by position).
#[test]
fn correctly_signed_jws_headers_naming_alg_twice_or_not_an_object_are_refused() {
    use hmac::{Hmac, Mac};
    let key = crate::session::keys::derive_signing_key(SECRET, COOKIE).unwrap();
    let payload = serde_json::to_vec(&json!({"sub": "1", "exp": 1_900_000_000})).unwrap();
    let jws = |header: &str| {
        let signing_input = format!("{}.{}", b64_bytes(header.as_bytes()), b64_bytes(&payload));
        let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&key).unwrap();
        mac.update(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            b64_bytes(&mac.finalize().into_bytes())
        )
    };
    let keys = symmetric(false, &[SECRET]);
    let keys = keys.for_cookie(COOKIE).unwrap();
    assert!(decode(keys, &jws(r#"{"alg":"HS512"}"#), now()).is_ok());
    for header in [
        r#"{"alg":"none","alg":"HS512"}"#,
        r#"["HS512",null,null,null]"#,
        r#"{"alg":"HS512","kid":1}"#,
        r#"{"alg":"HS512","crit":null}"#,
    ] {
        assert!(decode(keys, &jws(header), now()).is_err(), "{header}");
    }
}

fn b64_bytes(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
