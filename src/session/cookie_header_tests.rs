//! Unit tests of `cookie_header`.

use super::*;
use crate::config::model::CookiesConfig;

fn https_policy() -> CookiePolicy {
    CookiePolicy::new(&CookiesConfig::default(), true)
}

fn read(header: &str) -> Vec<(String, String)> {
    read_cookies([header.as_bytes()], &https_policy()).found
}

#[test]
fn only_raw_names_that_are_authgates_own_are_read() {
    let token = "__Host-authjs.csrf-token";
    let cases: [(&str, Option<&str>); 9] = [
        ("__Host-authjs.csrf-token=a%7Cb", Some("a|b")),
        ("x=1; __Host-authjs.csrf-token=v", Some("v")),
        ("x=1;__Host-authjs.csrf-token=v", Some("v")),
        ("__Host-authjs.csrf-token=\"quoted\"", Some("quoted")),
        // Percent-encoded names are someone else's cookie, however they decode.
        ("__%48ost-authjs.csrf-token=planted", None),
        ("__Host-authjs.csrf%2Dtoken=planted", None),
        // A space inside the name (before `=`) is part of the name.
        ("__Host-authjs.csrf-token =planted", None),
        ("__host-authjs.csrf-token=planted", None),
        ("authjs.csrf-token=planted", None),
    ];
    for (header, expected) in cases {
        let cookies = read(header);
        let value = cookies
            .iter()
            .find(|(name, _)| name == token)
            .map(|(_, value)| value.as_str());
        assert_eq!(value, expected, "{header}");
        assert!(
            cookies.iter().all(|(name, _)| https_policy().reads(name)),
            "{header}: {cookies:?}"
        );
    }
}

#[test]
fn a_name_that_comes_twice_is_ambiguous_and_never_read() {
    let cases = [
        "__Host-authjs.csrf-token=first; __Host-authjs.csrf-token=second",
        "__Host-authjs.csrf-token=a; x=1; __Host-authjs.csrf-token=b; __Host-authjs.csrf-token=c",
    ];
    for header in cases {
        let cookies = read_cookies([header.as_bytes()], &https_policy());
        assert!(cookies.found.is_empty(), "{header}: {cookies:?}");
        assert_eq!(cookies.ambiguous, ["__Host-authjs.csrf-token"], "{header}");
        let values: Vec<&str> = cookies
            .ambiguous_values
            .iter()
            .map(|(_, value)| value.as_str())
            .collect();
        assert_eq!(
            values.len(),
            header.matches("csrf-token=").count(),
            "{header}"
        );
    }
}

#[test]
fn session_chunks_count_only_under_names_authgate_writes() {
    let name = "__Secure-authjs.session-token";
    let cases = [
        (".0", true),
        (".9", true),
        (".63", true),
        (".64", false),
        (".01", false),
        (".+1", false),
        (".-1", false),
        (".1 ", false),
        (".", false),
        (".999999999999999999999", false),
    ];
    for (suffix, expected) in cases {
        assert_eq!(
            https_policy().reads(&format!("{name}{suffix}")),
            expected,
            "{suffix}"
        );
    }
}

#[test]
fn no_more_than_the_pair_limit_is_looked_at() {
    let mut header: String = (0..MAX_COOKIE_PAIRS)
        .map(|index| format!("junk{index}=x; "))
        .collect();
    header.push_str("__Host-authjs.csrf-token=late");
    assert!(read(&header).is_empty());
    let header = format!("__Host-authjs.csrf-token=early; {header}");
    assert_eq!(read(&header).len(), 1);
}

#[test]
fn header_values_are_read_in_order_across_several_headers() {
    let policy = https_policy();
    let cookies = read_cookies(
        [
            b"a=1; __Secure-authjs.session-token.0=first".as_slice(),
            b"__Secure-authjs.session-token.1=second; \xff\xfe=junk".as_slice(),
        ],
        &policy,
    )
    .found;
    assert_eq!(
        cookies,
        [
            (
                "__Secure-authjs.session-token.0".to_string(),
                "first".to_string()
            ),
            (
                "__Secure-authjs.session-token.1".to_string(),
                "second".to_string()
            ),
        ]
    );
}

#[test]
fn written_values_cannot_carry_attributes_and_read_back_unchanged() {
    let cases = [
        "/dashboard;Domain=evil.example;Max-Age=99999",
        "https://app.example.com/a b?c=d,e",
        "token|0123abcd",
        "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiIxIn0.sig-_",
        "ünïcödé \"quoted\" \\ back",
    ];
    for value in cases {
        let encoded = encode_value(value);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\')),
            "{encoded}"
        );
        let header = format!("__Host-authjs.csrf-token={encoded}");
        assert_eq!(read(&header)[0].1, value);
    }
    // Base64url tokens are written as they are.
    assert_eq!(encode_value("abc.DEF-_"), "abc.DEF-_");
}

#[test]
fn values_decode_as_percent_encodings_decoder_decodes_them() {
    let raw: [&[u8]; 14] = [
        b"plain.jwt-value_",
        b"a%7Cb",
        b"a%7cb%7C",
        b"\xff\xfe",
        b"caf\xc3\xa9",
        b"caf%C3%A9",
        b"%C3",
        b"%zz%",
        b"%4",
        b"%4g%41",
        b"%%41",
        b"%",
        b"%00%ff",
        b"",
    ];
    for bytes in raw {
        let full = percent_encoding::percent_decode(bytes)
            .decode_utf8_lossy()
            .into_owned();
        assert_eq!(decode_value(bytes), full, "{bytes:?}");
    }
}
