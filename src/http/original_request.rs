//! The request a reverse proxy asks `/forward-auth` about, read from its headers: nginx's
//! `X-Original-URI`/`-Method` (with `X-Forwarded-Host`/`-Proto`, else `Host`), or Caddy's
//! and Traefik's `X-Forwarded-Uri`/`-Method`/`-Host`/`-Proto`. Only from a trusted peer, and
//! only values a proxy could have sent: anything else is refused, never guessed.

use actix_web::HttpRequest;

use super::origin::is_plain_host;
use crate::forward_auth::{OriginalRequest, Style, TrustedProxies};

/// The longest original URI accepted, in bytes.
const MAX_URI_BYTES: usize = 8192;

/// A header's value: `None` when absent, `Some(Err)` when it is not plain text.
fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<Result<&'a str, ()>> {
    request
        .headers()
        .get(name)
        .map(|value| value.to_str().map(str::trim).map_err(|_| ()))
}

/// A header that must be text when present: `what` says why it is not.
fn text_of<'a>(
    value: Option<Result<&'a str, ()>>,
    what: &'static str,
) -> Result<Option<&'a str>, &'static str> {
    match value {
        Some(Ok(text)) => Ok(Some(text)),
        Some(Err(())) => Err(what),
        None => Ok(None),
    }
}

/// A URI as nginx sends it: raw bytes, non-ASCII ones percent-encoded here, so a path
/// with UTF-8 in it is a path and not an unreadable header.
fn uri_header(request: &HttpRequest, name: &str) -> Option<String> {
    let value = request.headers().get(name)?;
    let mut uri = String::with_capacity(value.len());
    for byte in value.as_bytes() {
        if byte.is_ascii() {
            uri.push(char::from(*byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(uri.trim().to_string())
}

/// The path of a URI made comparable: unreserved characters percent-decoded (`%61` is
/// `a`), and refused when it could mean another path to an upstream than to the rules:
/// dot segments (plain or encoded), empty segments (`//`), encoded slashes or backslashes,
/// backslashes and `;` parameters.
pub fn normalized_uri(uri: &str) -> Result<String, &'static str> {
    if !uri.is_ascii() {
        return Err("a URI that is not ASCII");
    }
    let (path, query) = match uri.find(['?', '#']) {
        Some(index) => uri.split_at(index),
        None => (uri, ""),
    };
    let mut decoded = String::with_capacity(path.len());
    let bytes = path.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = &path[index + 1..index + 3];
            let value = u8::from_str_radix(hex, 16).map_err(|_| "a malformed percent-escape")?;
            if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                decoded.push(char::from(value));
            } else if matches!(value, b'/' | b'\\') {
                return Err("an encoded slash or backslash in the path");
            } else {
                decoded.push_str(&path[index..index + 3]);
            }
            index += 3;
            continue;
        }
        if bytes[index] == b'%' {
            return Err("a malformed percent-escape");
        }
        decoded.push(char::from(bytes[index]));
        index += 1;
    }
    if decoded.contains('\\') || decoded.contains(';') {
        return Err("a backslash or `;` in the path");
    }
    let segments: Vec<&str> = decoded.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (position, segment) in segments.iter().enumerate() {
        if *segment == "." || *segment == ".." {
            return Err("a dot segment in the path");
        }
        if segment.is_empty() && position != last {
            return Err("an empty segment (`//`) in the path");
        }
    }
    Ok(format!("{decoded}{query}"))
}

/// The original request, or why there is none to believe.
pub fn original_request(
    request: &HttpRequest,
    trusted: &TrustedProxies,
) -> Result<OriginalRequest, &'static str> {
    let peer = request
        .peer_addr()
        .map(|address| address.ip())
        .ok_or("no peer address")?;
    // An IPv4 client of a dual-stack listener arrives as `::ffff:a.b.c.d`.
    if !trusted.contains(peer.to_canonical()) {
        return Err("the peer is not in forwardAuth.trustedProxies");
    }
    // One family of headers describes the request: a client could add the other one, and
    // the proxy forwards what it does not overwrite.
    let (style, uri, method) = match (
        uri_header(request, "x-original-uri"),
        uri_header(request, "x-forwarded-uri"),
    ) {
        (Some(_), Some(_)) => return Err("both X-Original-URI and X-Forwarded-Uri are present"),
        (Some(uri), None) => (Style::Nginx, uri, header(request, "x-original-method")),
        (None, Some(uri)) => (Style::Forwarded, uri, header(request, "x-forwarded-method")),
        (None, None) => return Err("no X-Original-URI or X-Forwarded-Uri header"),
    };
    let forwarded_host = text_of(
        header(request, "x-forwarded-host"),
        "the original host is not text",
    )?;
    let host = match (forwarded_host, style) {
        (Some(host), _) => host,
        (None, Style::Nginx) => {
            text_of(header(request, "host"), "the host is not text")?.ok_or("no original host")?
        }
        (None, Style::Forwarded) => return Err("no original host"),
    };
    let proto = text_of(
        header(request, "x-forwarded-proto"),
        "the original scheme is not text",
    )?
    .unwrap_or("http");
    let method = text_of(method, "the original method is not text")?.unwrap_or("GET");
    let uri_ok = uri.starts_with('/')
        && uri.len() <= MAX_URI_BYTES
        && !uri.bytes().any(|b| b.is_ascii_control() || b == b' ');
    if !uri_ok {
        return Err("the original URI is not a path");
    }
    let uri = normalized_uri(&uri)?;
    if !is_plain_host(host) {
        return Err("the original host is not a host name");
    }
    if !matches!(proto, "http" | "https") {
        return Err("the original scheme is not http or https");
    }
    if method.is_empty() || method.len() > 16 || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err("the original method is not a method");
    }
    Ok(OriginalRequest {
        style,
        method: method.to_ascii_uppercase(),
        proto: proto.to_string(),
        host: host.to_ascii_lowercase(),
        uri,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_mean_another_path_are_refused() {
        let cases = [
            ("/admin/x", Ok("/admin/x")),
            ("/%61dmin/x?a=%2F", Ok("/admin/x?a=%2F")),
            ("/caf%C3%A9", Ok("/caf%C3%A9")),
            ("/public/", Ok("/public/")),
            ("/", Ok("/")),
            ("/public/../private", Err(())),
            ("/public/%2e%2e/admin", Err(())),
            ("/public/..%2fadmin", Err(())),
            ("/./admin/x", Err(())),
            ("//admin/x", Err(())),
            ("/admin%2Fx", Err(())),
            ("/admin%5cx", Err(())),
            ("/admin;x/y", Err(())),
            ("/a\\b", Err(())),
            ("/bad%zz", Err(())),
            ("/bad%4", Err(())),
        ];
        for (uri, expected) in cases {
            let normalized = normalized_uri(uri);
            match expected {
                Ok(path) => assert_eq!(normalized.as_deref(), Ok(path), "{uri}"),
                Err(()) => assert!(normalized.is_err(), "{uri}: {normalized:?}"),
            }
        }
    }
}
