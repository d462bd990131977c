//! Session tokens (`session::jwt`): `decode` on strings an attacker sends as the session
//! cookie, and `encode` → `decode` of claims a `jwt` callback could return.
//!
//! Input, by its first byte (upper case: a bare token starts with `e`, from `{"`):
//! - `S`, `E` or `A`: the rest is a token, decoded with the HS512 keys (`S`igned), the JWE
//!   `dir` keys (`E`ncrypted) or the ES256 keys (`A`symmetric: a signing key `fuzz-1` and a
//!   retired key `fuzz-0`);
//! - `R`: the rest describes claims (`Choices::object`), encoded with each key set and
//!   decoded again (`R`ound trip);
//! - `P`: the rest is a JSON payload, signed (HS512) and sealed (JWE) with the keys the
//!   first secret derives, as any holder of the secret could (an Auth.js app sharing it),
//!   then decoded: the checks after the signature see claims authgate did not write;
//! - anything else: the whole input is a token, decoded with every key set.
//!
//! Properties:
//! - decoding never panics, whatever the claims of a correctly signed token; a token it
//!   accepts is within the size limit and unexpired at the fixed clock;
//! - `encode` fails only on claims josekit refuses (a non-string `iss`/`sub`, an `aud` that
//!   is not a string or a list of strings), and then with `TokenError::Encode`;
//! - what `encode` made, `decode` accepts, with the same claims plus `iat`, `exp`, `jti`.

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use authgate::config::model::JwtAlgorithm;
use authgate::session::jwt::{MAX_TOKEN_BYTES, TokenError, decode, encode};
use authgate::session::keys::{
    KeyFileText, SessionKeys, TokenKeys, derive_encryption_key, derive_signing_key,
};
use authgate_fuzz::{
    ES256_RETIRED_KEY_PEM, ES256_SIGNING_KEY_PEM, FIXED_NOW_UNIX_SECONDS, SECRETS, SESSION_COOKIE,
    fixed_now,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};

struct KeySets {
    signed: SessionKeys,
    encrypted: SessionKeys,
    asymmetric: SessionKeys,
}

fn key_sets() -> &'static KeySets {
    static KEYS: OnceLock<KeySets> = OnceLock::new();
    KEYS.get_or_init(|| {
        let build = |algorithm, encryption, files: &[KeyFileText]| {
            SessionKeys::new(algorithm, encryption, &SECRETS, files, &[SESSION_COOKIE])
                .expect("the fuzz keys do not build")
        };
        KeySets {
            signed: build(JwtAlgorithm::HS512, false, &[]),
            encrypted: build(JwtAlgorithm::HS512, true, &[]),
            asymmetric: build(
                JwtAlgorithm::ES256,
                false,
                &[
                    KeyFileText {
                        kid: Some("fuzz-1".into()),
                        text: ES256_SIGNING_KEY_PEM.into(),
                    },
                    KeyFileText {
                        kid: Some("fuzz-0".into()),
                        text: ES256_RETIRED_KEY_PEM.into(),
                    },
                ],
            ),
        }
    })
}

fn token_keys(keys: &SessionKeys) -> &TokenKeys {
    keys.for_cookie(SESSION_COOKIE)
        .expect("no keys for the session cookie")
}

/// Signs and seals `payload` (a JSON object) the way a holder of the first secret could,
/// with josekit directly, and decodes the results with authgate's keys.
fn check_foreign_payload(keys: &KeySets, payload: &[u8]) {
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(payload) else {
        return;
    };
    let Ok(payload) = josekit::jwt::JwtPayload::from_map(claims) else {
        return;
    };
    let signing_key =
        derive_signing_key(SECRETS[0], SESSION_COOKIE).expect("cannot derive the signing key");
    let signer = josekit::jws::HS512
        .signer_from_bytes(signing_key)
        .expect("cannot build the signer");
    let signed =
        josekit::jwt::encode_with_signer(&payload, &josekit::jws::JwsHeader::new(), &signer)
            .expect("cannot sign");
    check_decode(token_keys(&keys.signed), &signed);

    let encryption_key = derive_encryption_key(SECRETS[0], SESSION_COOKIE, "A256GCM")
        .expect("cannot derive the encryption key");
    let encrypter = josekit::jwe::Dir
        .encrypter_from_bytes(encryption_key)
        .expect("cannot build the encrypter");
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption("A256GCM");
    let sealed =
        josekit::jwt::encode_with_encrypter(&payload, &header, &encrypter).expect("cannot seal");
    check_decode(token_keys(&keys.encrypted), &sealed);
}

fn check_decode(keys: &TokenKeys, token: &str) {
    let Ok(claims) = decode(keys, token, fixed_now()) else {
        return;
    };
    assert!(
        token.len() <= MAX_TOKEN_BYTES,
        "an oversized token was decoded"
    );
    let expires = claims.get("exp").and_then(Value::as_f64);
    assert!(
        expires.is_some_and(|exp| exp > FIXED_NOW_UNIX_SECONDS as f64),
        "a token without a future `exp` was accepted: {:?}",
        claims.get("exp")
    );
}

/// Reads input bytes as a stream of choices.
struct Choices<'a> {
    bytes: &'a [u8],
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let Some((first, rest)) = self.bytes.split_first() else {
            return 0;
        };
        self.bytes = rest;
        *first
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |value, _| (value << 8) | u64::from(self.byte()))
    }

    fn text(&mut self) -> String {
        let length = usize::from(self.byte() % 48).min(self.bytes.len());
        let (text, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        String::from_utf8_lossy(text).into_owned()
    }

    fn value(&mut self, depth: usize) -> Value {
        match self.byte() % 9 {
            0 => Value::Null,
            1 => Value::Bool(self.byte() % 2 == 1),
            2 => Value::from(self.u64() as i64),
            3 => Value::from(self.u64()),
            4 => Number::from_f64(f64::from_bits(self.u64()))
                .map(Value::Number)
                .unwrap_or(Value::Null),
            5 | 6 => Value::String(self.text()),
            7 if depth > 0 => {
                let length = self.byte() % 5;
                Value::Array((0..length).map(|_| self.value(depth - 1)).collect())
            }
            8 if depth > 0 => Value::Object(self.object(depth - 1)),
            _ => Value::String(self.text()),
        }
    }

    fn key(&mut self) -> String {
        const NAMES: [&str; 14] = [
            "sub",
            "name",
            "email",
            "picture",
            "role",
            "iss",
            "aud",
            "iat",
            "exp",
            "nbf",
            "jti",
            "provider",
            "accessToken",
            "",
        ];
        match NAMES.get(usize::from(self.byte() % 32)) {
            Some(name) => name.to_string(),
            None => self.text(),
        }
    }

    fn object(&mut self, depth: usize) -> Map<String, Value> {
        let length = self.byte() % 8;
        (0..length)
            .map(|_| (self.key(), self.value(depth)))
            .collect()
    }
}

/// The claims `encode` keeps: everything but the times and id it sets itself.
fn without_reserved(claims: &Map<String, Value>) -> Map<String, Value> {
    let mut kept = claims.clone();
    for reserved in ["iat", "exp", "nbf", "jti"] {
        kept.remove(reserved);
    }
    kept
}

/// Whether josekit accepts the registered claims `encode` passes through.
fn josekit_accepts(claims: &Map<String, Value>) -> bool {
    let string_or_absent = |name: &str| claims.get(name).is_none_or(Value::is_string);
    let audience_ok = match claims.get("aud") {
        None | Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    string_or_absent("iss") && string_or_absent("sub") && audience_ok
}

fn check_round_trip(keys: &TokenKeys, claims: &Map<String, Value>, max_age: Duration) {
    let kept = without_reserved(claims);
    let token = match encode(keys, claims, fixed_now(), max_age) {
        Ok(token) => token,
        Err(TokenError::Encode(message)) => {
            assert!(
                !josekit_accepts(&kept),
                "encode refused valid claims ({message}): {claims:?}"
            );
            return;
        }
        Err(other) => panic!("encode failed with {other:?}"),
    };
    assert!(josekit_accepts(&kept), "encode took claims josekit refuses");
    let decoded = match decode(keys, &token, fixed_now()) {
        Ok(decoded) => decoded,
        Err(error) => {
            panic!("a token encode made does not decode ({error}): {claims:?}\n{token}")
        }
    };
    assert_eq!(without_reserved(&decoded), kept, "the claims changed");
    assert_eq!(decoded["iat"], Value::from(FIXED_NOW_UNIX_SECONDS));
    assert_eq!(
        decoded["exp"],
        Value::from(FIXED_NOW_UNIX_SECONDS + max_age.as_secs())
    );
    assert!(decoded["jti"].is_string());
    assert!(!decoded.contains_key("nbf"));
}

fuzz_target!(|data: &[u8]| {
    let keys = key_sets();
    let all = [&keys.signed, &keys.encrypted, &keys.asymmetric];
    match data.split_first() {
        Some((b'S', token)) => {
            check_decode(token_keys(&keys.signed), &String::from_utf8_lossy(token))
        }
        Some((b'E', token)) => {
            check_decode(token_keys(&keys.encrypted), &String::from_utf8_lossy(token))
        }
        Some((b'A', token)) => check_decode(
            token_keys(&keys.asymmetric),
            &String::from_utf8_lossy(token),
        ),
        Some((b'P', payload)) => check_foreign_payload(keys, payload),
        Some((b'R', rest)) => {
            let mut choices = Choices { bytes: rest };
            // 1 s to about 12 years: `exp` must stay after the fixed clock.
            let max_age = Duration::from_secs(
                1 + u64::from(u32::from_be_bytes([
                    choices.byte() % 24,
                    choices.byte(),
                    choices.byte(),
                    choices.byte(),
                ])),
            );
            let claims = choices.object(3);
            for keys in all {
                check_round_trip(token_keys(keys), &claims, max_age);
            }
        }
        _ => {
            let token = String::from_utf8_lossy(data);
            for keys in all {
                check_decode(token_keys(keys), &token);
            }
        }
    }
});
