use josekit::jwe::{Dir, JweHeader};
use serde_json::json;

use super::*;

const KEY: [u8; 32] = [7; 32];

fn written(claims: Vec<(&'static str, Value)>, payload: &[u8]) -> String {
    JweWriter::new(&KEY, ProtectedHeader::new(claims))
        .unwrap()
        .encrypt(payload)
        .unwrap()
}

/// josekit's stock context (its own A256GCM on OpenSSL) opens what this module writes.
fn opened_by_josekit(compact: &str, key: &[u8]) -> Option<(Vec<u8>, JweHeader)> {
    let decrypter = Dir.decrypter_from_bytes(key).unwrap();
    josekit::jwe::deserialize_compact(compact, &decrypter).ok()
}

/// Header claims, a payload, and the header a reader sees.
type Case = (Vec<(&'static str, Value)>, &'static [u8], Value);

#[test]
fn written_jwes_open_with_josekit_and_keep_exactly_their_header_and_payload() {
    let cases: [Case; 4] = [
        (vec![], b"", json!({"alg": "dir", "enc": "A256GCM"})),
        (
            vec![("kid", json!("k1")), ("typ", json!("JWT"))],
            br#"{"sub":"1"}"#,
            json!({"alg": "dir", "enc": "A256GCM", "kid": "k1", "typ": "JWT"}),
        ),
        (
            vec![
                ("k", json!("refresh:answer:1")),
                ("exp", json!(1_800_000_000)),
            ],
            &[0, 255, 10, 13],
            json!({"alg": "dir", "enc": "A256GCM", "k": "refresh:answer:1", "exp": 1_800_000_000}),
        ),
        // No claim replaces `alg` or `enc`, or adds `zip` or `crit`.
        (
            vec![
                ("alg", json!("none")),
                ("enc", json!("A128GCM")),
                ("zip", json!("DEF")),
                ("crit", json!(["exp"])),
            ],
            b"x",
            json!({"alg": "dir", "enc": "A256GCM"}),
        ),
    ];
    for (claims, payload, expected_header) in cases {
        let compact = written(claims.clone(), payload);
        let (opened, header) =
            opened_by_josekit(&compact, &KEY).unwrap_or_else(|| panic!("{claims:?}"));
        assert_eq!(opened, payload, "{claims:?}");
        assert_eq!(
            Value::Object(header.claims_set().clone()),
            expected_header,
            "{claims:?}"
        );
        let parts: Vec<&str> = compact.split('.').collect();
        assert_eq!(parts.len(), 5, "{compact}");
        assert_eq!(parts[1], "", "a dir JWE has no encrypted key");
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), IV_BYTES);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[4]).unwrap().len(), 16);
    }
}

#[test]
fn a_key_that_is_not_32_bytes_is_refused() {
    for length in [0, 16, 31, 33, 64] {
        assert!(
            JweWriter::new(&vec![1; length], ProtectedHeader::new([])).is_err(),
            "{length}"
        );
    }
}

#[test]
fn each_jwe_gets_its_own_iv() {
    let ivs: std::collections::HashSet<String> = (0..1000)
        .map(|_| {
            written(vec![], b"same")
                .split('.')
                .nth(2)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ivs.len(), 1000);
}

#[test]
fn written_jwes_do_not_open_under_another_key_or_when_altered() {
    let compact = written(vec![("typ", json!("JWT"))], b"secret payload");
    assert!(!compact.contains("secret"));
    assert!(opened_by_josekit(&compact, &[8; 32]).is_none());
    let parts: Vec<&str> = compact.split('.').collect();
    // Another header (so other AAD) with the same IV, ciphertext and tag.
    let other_header = written(vec![("typ", json!("at+jwt"))], b"");
    let swapped = [
        other_header.split('.').next().unwrap(),
        "",
        parts[2],
        parts[3],
        parts[4],
    ];
    assert!(opened_by_josekit(&swapped.join("."), &KEY).is_none());
    let mut flipped = compact.into_bytes();
    let middle = flipped.len() - 30;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    assert!(opened_by_josekit(std::str::from_utf8(&flipped).unwrap(), &KEY).is_none());
}
