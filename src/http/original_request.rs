//! The request a reverse proxy asks `/forward-auth` about, read from its headers: nginx's
//! `X-Original-URI`/`-Method` (with `X-Forwarded-Host`/`-Proto`, else `Host`), or Caddy's
//! and Traefik's `X-Forwarded-Uri`/`-Method`/`-Host`/`-Proto`. Only from a trusted peer, and
//! only values a proxy could have sent: anything else is refused, never guessed.

use actix_web::HttpRequest;

use crate::forward_auth::{OriginalRequest, Style, TrustedProxies};

/// The longest original URI accepted, in bytes.
const MAX_URI_BYTES: usize = 8192;

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
}

fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
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
    if !trusted.contains(peer) {
        return Err("the peer is not in forwardAuth.trustedProxies");
    }
    let (style, uri, method) = match (
        header(request, "x-original-uri"),
        header(request, "x-forwarded-uri"),
    ) {
        (Some(uri), _) => (Style::Nginx, uri, header(request, "x-original-method")),
        (None, Some(uri)) => (Style::Forwarded, uri, header(request, "x-forwarded-method")),
        (None, None) => return Err("no X-Original-URI or X-Forwarded-Uri header"),
    };
    let host = header(request, "x-forwarded-host")
        .or_else(|| match style {
            Style::Nginx => header(request, "host"),
            Style::Forwarded => None,
        })
        .ok_or("no original host")?;
    let proto = header(request, "x-forwarded-proto").unwrap_or("http");
    let method = method.unwrap_or("GET");
    let uri_ok = uri.starts_with('/')
        && uri.len() <= MAX_URI_BYTES
        && !uri.bytes().any(|b| b.is_ascii_control() || b == b' ');
    if !uri_ok {
        return Err("the original URI is not a path");
    }
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
        uri: uri.to_string(),
    })
}
