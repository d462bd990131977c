//! Reading the `Cookie` request header, the way an internet-facing server must: in one pass
//! over its bytes, looking at no more than `MAX_COOKIE_PAIRS` pairs, and keeping only the
//! cookies authgate itself sets. A name counts only when its raw bytes are exactly one of
//! the policy's names: it is never percent-decoded or trimmed, so a sibling subdomain
//! cannot plant `__%48ost-authjs.csrf-token` and have it read as the host-only
//! `__Host-authjs.csrf-token`. Values are percent-decoded, as Auth.js writes them (`%7C`).
//! It also encodes the values authgate writes, so no value can add cookie attributes.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::chunks::chunk_index;
use super::cookies::CookiePolicy;

/// Most `name=value` pairs looked at. Browsers keep about 180 cookies per domain, so an
/// honest request never has more; the rest of a longer header is ignored.
pub const MAX_COOKIE_PAIRS: usize = 200;

/// Default limit on the `Cookie` header's total size (Node answers 431 over 16 KiB).
pub const DEFAULT_MAX_COOKIE_HEADER_BYTES: usize = 16 * 1024;

/// What `encodeURIComponent` leaves alone; everything else in a value is `%XX`, as the
/// `cookie` package that Auth.js uses writes it.
const COOKIE_VALUE_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

impl CookiePolicy {
    /// Whether `name` (raw, byte for byte) is a cookie authgate reads under this policy:
    /// one of its six cookies, or a chunk of the session token that authgate could have
    /// written.
    pub fn reads(&self, name: &str) -> bool {
        self.specs().iter().any(|(_, spec)| spec.name == name)
            || chunk_index(&self.session_token.name, name).is_some()
    }
}

fn without_leading_whitespace(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn without_trailing_whitespace(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(0, |last| last + 1);
    &bytes[..end]
}

/// A cookie value as the browser sent it: surrounding double quotes dropped (RFC 6265
/// allows them), then percent-decoded.
fn decode_value(raw: &[u8]) -> String {
    let raw = without_trailing_whitespace(raw);
    let raw = match raw {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    // Most values (JWTs, hex tokens) have nothing to decode, or one escape (the CSRF
    // cookie's `%7C`): the runs between escapes are copied whole, as
    // `percent_encoding::percent_decode` would decode them byte by byte.
    let mut decoded = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        decoded.extend_from_slice(&rest[..at]);
        let digit = |offset: usize| {
            rest.get(at + offset)
                .and_then(|&b| char::from(b).to_digit(16))
        };
        match (digit(1), digit(2)) {
            (Some(high), Some(low)) => {
                // Two hex digits make one byte: at most 0xff.
                decoded.push((high * 16 + low) as u8);
                rest = &rest[at + 3..];
            }
            // Not an escape: the `%` stays, as in `percent_decode`.
            _ => {
                decoded.push(b'%');
                rest = &rest[at + 1..];
            }
        }
    }
    decoded.extend_from_slice(rest);
    String::from_utf8(decoded)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// The cookies of one request that authgate reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCookies {
    /// Each of the policy's cookies that came exactly once, in order.
    pub found: Vec<(String, String)>,
    /// The policy's names that came more than once (a sibling subdomain can add a
    /// parent-domain or longer-path cookie of the same name): none of their values is
    /// trusted, and they are cleared where authgate would clear them.
    pub ambiguous: Vec<String>,
    /// Every value of those names (sign-out revokes every database session they name).
    pub ambiguous_values: Vec<(String, String)>,
}

impl RequestCookies {
    /// The value of `name`, when it came exactly once.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.found
            .iter()
            .find(|(cookie, _)| cookie == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every name the request carried, ambiguous ones included (for clearing).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.found
            .iter()
            .map(|(name, _)| name.as_str())
            .chain(self.ambiguous.iter().map(String::as_str))
    }

    /// Whether `name` came more than once.
    pub fn is_ambiguous(&self, name: &str) -> bool {
        self.ambiguous.iter().any(|ambiguous| ambiguous == name)
    }
}

impl From<Vec<(String, String)>> for RequestCookies {
    fn from(found: Vec<(String, String)>) -> Self {
        RequestCookies {
            found,
            ..RequestCookies::default()
        }
    }
}

/// The cookies of `policy` in the `Cookie` header values. Work is linear in the header's
/// length; at most `MAX_COOKIE_PAIRS` pairs are looked at.
pub fn read_cookies<'a>(
    header_values: impl IntoIterator<Item = &'a [u8]>,
    policy: &CookiePolicy,
) -> RequestCookies {
    let mut cookies = RequestCookies::default();
    let mut pairs_seen = 0;
    for header in header_values {
        for pair in header.split(|byte| *byte == b';') {
            if pairs_seen == MAX_COOKIE_PAIRS {
                return cookies;
            }
            pairs_seen += 1;
            // The separator is `; `: its space is not part of the name.
            let pair = without_leading_whitespace(pair);
            let Some(equals) = pair.iter().position(|byte| *byte == b'=') else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(&pair[..equals]) else {
                continue;
            };
            if !policy.reads(name) {
                continue;
            }
            // Both lists hold at most the policy's names (6 + 64 chunks): still linear.
            if cookies.ambiguous.iter().any(|known| known == name) {
                let value = decode_value(&pair[equals + 1..]);
                cookies.ambiguous_values.push((name.to_string(), value));
                continue;
            }
            if let Some(position) = cookies.found.iter().position(|(known, _)| known == name) {
                let first = cookies.found.remove(position);
                cookies.ambiguous.push(name.to_string());
                cookies.ambiguous_values.push(first);
                let value = decode_value(&pair[equals + 1..]);
                cookies.ambiguous_values.push((name.to_string(), value));
                continue;
            }
            cookies
                .found
                .push((name.to_string(), decode_value(&pair[equals + 1..])));
        }
    }
    cookies
}

/// A value as authgate writes it into `Set-Cookie`, appended to `text`: every byte outside
/// `encodeURIComponent`'s unreserved set is `%XX`, so a `;` or a space in a callback URL
/// can never end the value and start an attribute.
pub fn push_encoded_value(text: &mut String, value: &str) {
    text.extend(utf8_percent_encode(value, COOKIE_VALUE_ENCODE));
}

/// `push_encoded_value` into a new string (for the tests and the cookie_header fuzz
/// target, which compare values).
pub fn encode_value(value: &str) -> String {
    let mut text = String::new();
    push_encoded_value(&mut text, value);
    text
}

#[cfg(test)]
#[path = "cookie_header_tests.rs"]
mod tests;
