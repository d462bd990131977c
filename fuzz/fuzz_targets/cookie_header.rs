//! The `Cookie` request header, as an internet client can send it, through
//! `session::cookie_header::read_cookies`, then the session cookie's chunks through
//! `session::chunks::{read_value, plan_write}`, and `cookie_header::encode_value`.
//!
//! Input: the bytes of one or more `Cookie` header values, separated by `\n`.
//!
//! Properties:
//! - every name read is one the policy `reads`, and nothing is read past the first
//!   `MAX_COOKIE_PAIRS` pairs;
//! - among those pairs, each of the policy's cookies that came once is found, its value
//!   percent-decoded, and each that came more than once is ambiguous, its values unused;
//! - the session value is the whole cookie, or the `0..n` run of its chunks when there is
//!   no whole cookie beside them, never anything else;
//! - the cookies `plan_write` sets and expires, applied to the request's cookies, read back
//!   as exactly the value written (or as nothing after a sign-out), touching no foreign
//!   cookie and expiring only cookies the request carried;
//! - `encode_value` writes no byte that could end a cookie value or add an attribute, and
//!   reads back as the same text.

#![no_main]

use std::sync::OnceLock;

use authgate::config::model::CookiesConfig;
use authgate::session::chunks::{
    CHUNK_SIZE, CookieWrite, MAX_CHUNKS, chunk_index, plan_write, read_value,
};
use authgate::session::cookie_header::{
    MAX_COOKIE_PAIRS, RequestCookies, encode_value, read_cookies,
};
use authgate::session::cookies::CookiePolicy;
use libfuzzer_sys::fuzz_target;

/// Auth.js's names on https and on http, and a config with an empty prefix (the shortest
/// names, so `state` and `nonce` sit next to `session-token`).
fn policies() -> &'static [CookiePolicy] {
    static POLICIES: OnceLock<Vec<CookiePolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let empty_prefix = CookiesConfig {
            prefix: String::new(),
            ..CookiesConfig::default()
        };
        vec![
            CookiePolicy::new(&CookiesConfig::default(), true),
            CookiePolicy::new(&CookiesConfig::default(), false),
            CookiePolicy::new(&empty_prefix, false),
        ]
    })
}

fn trim_start_whitespace(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn trim_end_whitespace(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |last| last + 1);
    &bytes[..end]
}

/// A cookie value as RFC 6265 and Auth.js's `cookie` package read it: optional surrounding
/// double quotes, then percent-decoding.
fn expected_value(raw: &[u8]) -> String {
    let raw = trim_end_whitespace(raw);
    let raw = match raw {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    let decoded: Vec<u8> = percent_encoding::percent_decode(raw).collect();
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The `name=value` pairs a reader may look at: the first `MAX_COOKIE_PAIRS` of all header
/// values, as (raw name, raw value); pairs without `=` count but have no name.
fn pairs_in_reach<'a>(header_values: &[&'a [u8]]) -> Vec<Option<(&'a [u8], &'a [u8])>> {
    header_values
        .iter()
        .flat_map(|value| value.split(|byte| *byte == b';'))
        .take(MAX_COOKIE_PAIRS)
        .map(|pair| {
            let pair = trim_start_whitespace(pair);
            let equals = pair.iter().position(|byte| *byte == b'=')?;
            Some((&pair[..equals], &pair[equals + 1..]))
        })
        .collect()
}

/// What `read_cookies` must return: the policy's cookies among the pairs in reach that came
/// exactly once, in order and decoded, and the names that came more than once.
fn expected_cookies(header_values: &[&[u8]], policy: &CookiePolicy) -> RequestCookies {
    // (name, every value in order)
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    for (raw_name, raw_value) in pairs_in_reach(header_values).into_iter().flatten() {
        let Ok(name) = std::str::from_utf8(raw_name) else {
            continue;
        };
        if !policy.reads(name) {
            continue;
        }
        let value = expected_value(raw_value);
        match seen.iter_mut().find(|(known, _)| known == name) {
            Some((_, values)) => values.push(value),
            None => seen.push((name.to_string(), vec![value])),
        }
    }
    let (once, repeated): (Vec<_>, Vec<_>) =
        seen.into_iter().partition(|(_, values)| values.len() == 1);
    RequestCookies {
        found: once
            .into_iter()
            .map(|(name, mut values)| (name, values.remove(0)))
            .collect(),
        ambiguous: repeated.iter().map(|(name, _)| name.clone()).collect(),
        ambiguous_values: repeated
            .into_iter()
            .flat_map(|(name, values)| values.into_iter().map(move |value| (name.clone(), value)))
            .collect(),
    }
}

fn check_read(header_values: &[&[u8]], policy: &CookiePolicy) -> RequestCookies {
    let mut cookies = read_cookies(header_values.iter().copied(), policy);
    for name in cookies.names() {
        assert!(
            policy.reads(name),
            "read a cookie the policy does not own: {name:?}"
        );
    }
    for (name, value) in &cookies.found {
        assert!(
            !cookies.is_ambiguous(name),
            "{name:?} is both found and ambiguous"
        );
        assert_eq!(cookies.get(name), Some(value.as_str()));
    }
    let mut expected = expected_cookies(header_values, policy);
    // The order of the ambiguous names and values is not part of the contract.
    cookies.ambiguous.sort();
    expected.ambiguous.sort();
    cookies.ambiguous_values.sort();
    expected.ambiguous_values.sort();
    assert_eq!(
        cookies, expected,
        "read_cookies disagrees with the first {MAX_COOKIE_PAIRS} pairs of the header"
    );
    cookies
}

fn check_session_value(found: &[(String, String)], session_name: &str) -> Option<String> {
    let pairs = found
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let read = read_value(pairs, session_name);
    let whole = found
        .iter()
        .find(|(name, _)| name == session_name)
        .map(|(_, value)| value.clone());
    let mut chunks: Vec<(usize, &str)> = found
        .iter()
        .filter_map(|(name, value)| Some((chunk_index(session_name, name)?, value.as_str())))
        .collect();
    chunks.sort_by_key(|(index, _)| *index);
    let contiguous = chunks
        .iter()
        .enumerate()
        .all(|(position, (index, _))| position == *index);
    match read {
        None => {
            assert!(
                whole.is_none() && chunks.is_empty(),
                "a session cookie was missed"
            );
            None
        }
        Some(Err(_)) => {
            assert!(
                !chunks.is_empty() && (whole.is_some() || !contiguous || chunks.len() > MAX_CHUNKS),
                "contiguous chunks without a whole cookie were refused: {chunks:?}"
            );
            None
        }
        Some(Ok(value)) => {
            let expected = if chunks.is_empty() {
                whole.expect("a value without a cookie")
            } else {
                assert!(contiguous, "non-contiguous chunks were joined: {chunks:?}");
                assert!(whole.is_none(), "chunks were joined beside a whole cookie");
                chunks.iter().map(|(_, value)| *value).collect()
            };
            assert_eq!(value, expected, "the session value is not what was sent");
            Some(value)
        }
    }
}

/// Applies `plan_write` to the request's cookies (as a browser would apply the
/// `Set-Cookie`s) and reads the session value back.
fn check_write(cookies: &RequestCookies, session_name: &str, value: Option<&str>) {
    let found = &cookies.found;
    let writes = plan_write(session_name, value, cookies.names());
    let fits = value.is_none_or(|value| {
        value.len() <= MAX_CHUNKS * CHUNK_SIZE && (value.is_ascii() || value.len() <= CHUNK_SIZE)
    });
    let mut jar: Vec<(String, String)> = found.to_vec();
    for (position, CookieWrite { name, value: write }) in writes.iter().enumerate() {
        assert!(
            writes[..position]
                .iter()
                .all(|earlier| &earlier.name != name),
            "{name:?} is written twice"
        );
        let ours = name == session_name || chunk_index(session_name, name).is_some();
        if fits {
            assert!(ours, "plan_write touches a foreign cookie {name:?}");
        }
        match write {
            Some(text) => {
                if fits && text.is_ascii() {
                    assert!(text.len() <= CHUNK_SIZE, "{name:?} is over the chunk size");
                }
                match jar.iter_mut().find(|(known, _)| known == name) {
                    Some(entry) => entry.1 = text.clone(),
                    None => jar.push((name.clone(), text.clone())),
                }
            }
            None => {
                assert!(
                    cookies.names().any(|known| known == name),
                    "plan_write expires {name:?}, which the request did not carry"
                );
                jar.retain(|(known, _)| known != name);
            }
        }
    }
    if !fits {
        return;
    }
    let read_back = read_value(
        jar.iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        session_name,
    );
    match value {
        None => assert_eq!(read_back, None, "a cleared session still reads"),
        Some(value) => assert_eq!(
            read_back,
            Some(Ok(value.to_string())),
            "the written session does not read back ({} bytes, {} writes)",
            value.len(),
            writes.len()
        ),
    }
}

fn check_encode(text: &str, policy: &CookiePolicy) {
    let encoded = encode_value(text);
    for byte in encoded.bytes() {
        assert!(
            byte.is_ascii() && !byte.is_ascii_control() && !b"; ,\"\\".contains(&byte),
            "encode_value wrote byte {byte:#04x}: {encoded:?}"
        );
    }
    let name = &policy.callback_url.name;
    let header = format!("other=1; {name}={encoded}; x=y");
    let read = read_cookies([header.as_bytes()], policy);
    assert_eq!(
        read,
        RequestCookies::from(vec![(name.clone(), text.to_string())]),
        "an encoded value does not read back"
    );
}

fuzz_target!(|data: &[u8]| {
    let header_values: Vec<&[u8]> = data.split(|byte| *byte == b'\n').collect();
    let text = String::from_utf8_lossy(data);
    // A long value from the input, to make plan_write cut chunks: up to 8 chunks' worth.
    let long_value = (!text.is_empty()).then(|| {
        let wanted = usize::from(data[0] % 8) * CHUNK_SIZE + usize::from(data[0] % 3);
        text.repeat(wanted / text.len() + 1)
    });
    for policy in policies() {
        let cookies = check_read(&header_values, policy);
        let session_name = &policy.session_token.name;
        let session_value = check_session_value(&cookies.found, session_name);
        check_write(&cookies, session_name, None);
        check_write(&cookies, session_name, session_value.as_deref());
        check_write(&cookies, session_name, long_value.as_deref());
        check_encode(&text, policy);
    }
});
