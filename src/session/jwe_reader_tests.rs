use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{Dir, JweHeader};
use serde_json::json;

use super::*;
use crate::session::jwe_writer::{JweWriter, ProtectedHeader};

const KEY: [u8; 32] = [7; 32];
const OTHER_KEY: [u8; 32] = [9; 32];
const CBC_KEY: [u8; 64] = [5; 64];
const GOOD_HEADER: &str = r#"{"alg":"dir","enc":"A256GCM","kid":"k","typ":"JWT"}"#;

fn reader(keys: &[(Enc, &[u8])]) -> JweReader {
    JweReader::new(
        keys.iter()
            .map(|(enc, key)| ContentKey::new(*enc, key).unwrap())
            .collect(),
    )
}

fn gcm_reader() -> JweReader {
    reader(&[(Enc::A256Gcm, &KEY)])
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWE sealed with `KEY` under exactly this header text, so that only a header rule can
/// refuse it.
fn gcm_jwe(header_json: &str, plaintext: &[u8]) -> String {
    let header = b64(header_json);
    let iv = [3u8; 12];
    let mut content = plaintext.to_vec();
    let tag = Aes256Gcm::new(&KEY.into())
        .encrypt_in_place_detached(Nonce::from_slice(&iv), header.as_bytes(), &mut content)
        .unwrap();
    format!("{header}..{}.{}.{}", b64(iv), b64(content), b64(tag))
}

#[test]
fn what_authgates_writer_and_josekit_seal_opens_with_its_header() {
    let written = JweWriter::new(&KEY, ProtectedHeader::new([("kid", json!("k"))]))
        .unwrap()
        .encrypt(b"{\"sub\":\"1\"}")
        .unwrap();
    let opened = gcm_reader().open(&written).unwrap();
    assert_eq!(opened.plaintext, b"{\"sub\":\"1\"}");
    assert_eq!(opened.header.kid.as_deref(), Some("k"));

    let mut header = JweHeader::new();
    header.set_content_encryption("A256CBC-HS512");
    header.set_claim("kept_under", Some(json!("x"))).unwrap();
    let encrypter = Dir.encrypter_from_bytes(CBC_KEY).unwrap();
    let by_josekit = josekit::jwe::serialize_compact(b"v", &header, &encrypter).unwrap();
    let both = reader(&[(Enc::A256Gcm, &KEY), (Enc::A256CbcHs512, &CBC_KEY)]);
    let opened = both.open(&by_josekit).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&opened.header_json).unwrap();
    assert_eq!(
        (opened.plaintext.as_slice(), &header["kept_under"]),
        (&b"v"[..], &json!("x"))
    );
    // A reader without A256CBC-HS512 keys does not take it.
    assert!(gcm_reader().open(&by_josekit).is_err());
}

#[test]
fn any_key_of_the_reader_opens_and_no_other_does() {
    let token = gcm_jwe(GOOD_HEADER, b"v");
    let rotated = reader(&[(Enc::A256Gcm, &OTHER_KEY), (Enc::A256Gcm, &KEY)]);
    assert_eq!(rotated.open(&token).unwrap().plaintext, b"v");
    assert!(reader(&[(Enc::A256Gcm, &OTHER_KEY)]).open(&token).is_err());
    assert!(JweReader::new(Vec::new()).open(&token).is_err());
}

/// Each header is sealed with the right key; only the header refuses it.
#[test]
fn headers_authgate_does_not_read_are_refused_though_the_tag_matches() {
    assert!(gcm_reader().open(&gcm_jwe(GOOD_HEADER, b"v")).is_ok());
    let cases = [
        ("alg twice", r#"{"alg":"dir","enc":"A256GCM","alg":"dir"}"#),
        (
            "enc twice",
            r#"{"alg":"dir","enc":"A256CBC-HS512","enc":"A256GCM"}"#,
        ),
        ("zip", r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#),
        ("crit", r#"{"alg":"dir","enc":"A256GCM","crit":["exp"]}"#),
        ("kid a number", r#"{"alg":"dir","enc":"A256GCM","kid":7}"#),
        ("typ an object", r#"{"alg":"dir","enc":"A256GCM","typ":{}}"#),
        ("cty a number", r#"{"alg":"dir","enc":"A256GCM","cty":1}"#),
        (
            "zip twice",
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF","zip":"DEF"}"#,
        ),
        ("zip null", r#"{"alg":"dir","enc":"A256GCM","zip":null}"#),
        ("crit null", r#"{"alg":"dir","enc":"A256GCM","crit":null}"#),
        ("alg missing", r#"{"enc":"A256GCM"}"#),
        ("alg not dir", r#"{"alg":"A256KW","enc":"A256GCM"}"#),
        ("alg in another case", r#"{"alg":"DIR","enc":"A256GCM"}"#),
        ("enc missing", r#"{"alg":"dir"}"#),
        ("enc unknown", r#"{"alg":"dir","enc":"A128GCM"}"#),
        ("an array", r#"["dir","A256GCM"]"#),
        // As many items as the fields: serde would read them by position.
        ("an array of five", r#"["dir","A256GCM",null,null,null]"#),
        (
            "an array of seven",
            r#"["dir","A256GCM","k","JWT",null,false,false]"#,
        ),
        ("not JSON", "dir A256GCM"),
    ];
    for (what, header) in cases {
        assert!(gcm_reader().open(&gcm_jwe(header, b"v")).is_err(), "{what}");
    }
}

#[test]
fn only_five_canonical_base64url_parts_with_the_encryptions_lengths_are_read() {
    let good = gcm_jwe(GOOD_HEADER, b"v");
    let parts: Vec<&str> = good.split('.').collect();
    let with = |index: usize, value: &str| {
        let mut parts = parts.clone();
        parts[index] = value;
        parts.join(".")
    };
    let cases = [
        ("an encrypted key", with(1, "a2V5")),
        ("a one-byte IV", with(2, &b64([3u8]))),
        ("a 16-byte IV", with(2, &b64([3u8; 16]))),
        ("a 4-byte tag", with(4, &b64([0u8; 4]))),
        ("no tag", with(4, "")),
        ("a padded IV", with(2, &format!("{}=", parts[2]))),
        ("a ciphertext of the wrong length", with(3, "Y2lwa")),
        ("a ciphertext that is not base64url", with(3, "Y2l*aA")),
        (
            "a padded header",
            with(0, &URL_SAFE_NO_PAD.encode(GOOD_HEADER).replace('J', "+")),
        ),
        ("six parts", format!("{good}.x")),
        ("four parts", parts[..4].join(".")),
        ("nothing", String::new()),
    ];
    for (what, token) in cases {
        assert!(gcm_reader().open(&token).is_err(), "{what}");
    }
}
