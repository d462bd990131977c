//! The public origin a response's URLs are built on: the configured `url`, or, with
//! `trustHost: true` behind a proxy, the request's `X-Forwarded-Host`/`X-Forwarded-Proto`
//! (falling back to `Host` and the connection's scheme), as Auth.js does, taking the value
//! the nearest trusted proxy appended (`proxyHops`), never the client-supplied first one. Header values are checked strictly, so a
//! forged header cannot inject anything but a plain host name into a URL.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::actions::RequestOrigin;
use crate::pipeline::Pipeline;

/// A host name (with a port, or an IPv6 literal) and nothing else: what a header naming a
/// host may hold before it goes into a URL.
pub(super) fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// What a trusted proxy said in a header that each proxy appends to (`X-Forwarded-*`).
enum Forwarded<'a> {
    /// No such header: the proxy did not send it.
    Absent,
    /// The value the nearest of `hops` trusted proxies wrote: `hops` places from the
    /// right, over every line of the header. Values further left came from the client.
    Value(&'a str),
    /// Fewer values than trusted hops: a proxy did not append, so the leftmost value may
    /// be the client's. Nothing is taken from it.
    Untrusted,
}

fn forwarded_value<'a>(request: &'a HttpRequest, name: &str, hops: usize) -> Forwarded<'a> {
    let mut values: Vec<&str> = Vec::new();
    for line in request.headers().get_all(name) {
        // A line that is not plain text could hide where the proxy's value starts.
        let Ok(line) = line.to_str() else {
            return Forwarded::Untrusted;
        };
        values.extend(line.split(',').map(str::trim));
    }
    if values.is_empty() {
        return Forwarded::Absent;
    }
    match values.len().checked_sub(hops.max(1)) {
        Some(index) => Forwarded::Value(values[index]),
        None => Forwarded::Untrusted,
    }
}

fn host_header(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get("host")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
}

/// The client's IP: with `trustHost`, the address the nearest trusted proxy appended to
/// `X-Forwarded-For` (`proxyHops` places from the right, as for the forwarded host), or
/// the connection's peer when no proxy sent the header; without `trustHost`, the peer.
/// A trusted value that is not an IP, or fewer values than hops, gives none: falling
/// back to the proxy's own address would put every client in one bucket.
pub fn client_ip(request: &HttpRequest, pipeline: &Pipeline) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|address| address.ip());
    if !pipeline.config.trust_host {
        return peer;
    }
    match forwarded_value(request, "x-forwarded-for", pipeline.config.proxy_hops) {
        Forwarded::Value(value) => parse_forwarded_ip(value),
        Forwarded::Absent => peer,
        Forwarded::Untrusted => None,
    }
}

/// An `X-Forwarded-For` element: an IP, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_forwarded_ip(value: &str) -> Option<IpAddr> {
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    if let Ok(address) = value.parse::<std::net::SocketAddr>() {
        return Some(address.ip());
    }
    value
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse().ok())
}

/// The origin this request's URLs and cookies are built for.
pub fn request_origin(request: &HttpRequest, pipeline: &Pipeline) -> RequestOrigin {
    if pipeline.config.trust_host {
        let hops = pipeline.config.proxy_hops;
        // The listener's own scheme, never `Forwarded`/`X-Forwarded-Proto` as actix's
        // `connection_info` would read them.
        let listener_scheme = if request.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let host = match forwarded_value(request, "x-forwarded-host", hops) {
            Forwarded::Value(host) => Some(host),
            Forwarded::Absent => host_header(request),
            Forwarded::Untrusted => None,
        };
        let proto = match forwarded_value(request, "x-forwarded-proto", hops) {
            Forwarded::Value(proto) => Some(proto),
            Forwarded::Absent => Some(listener_scheme),
            Forwarded::Untrusted => None,
        };
        if let (Some(host), Some(proto)) = (host.filter(|host| is_plain_host(host)), proto)
            && matches!(proto, "http" | "https")
        {
            let origin = format!("{proto}://{host}");
            return RequestOrigin {
                auth_url: format!("{origin}{}", pipeline.base_path),
                base_url: origin.clone(),
                https: proto == "https",
                origin,
            };
        }
    }
    RequestOrigin::configured(pipeline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_client_ips_may_carry_a_port() {
        let cases = [
            ("203.0.113.9", Some("203.0.113.9")),
            ("203.0.113.9:5678", Some("203.0.113.9")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("[2001:db8::1]:443", Some("2001:db8::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("unknown", None),
            ("evil.example", None),
            ("", None),
        ];
        for (value, expected) in cases {
            let expected: Option<IpAddr> = expected.map(|ip| ip.parse().unwrap());
            assert_eq!(parse_forwarded_ip(value), expected, "{value}");
        }
    }

    #[test]
    fn only_plain_host_names_are_trusted() {
        let cases = [
            ("auth.example.com", true),
            ("auth.example.com:8443", true),
            ("[::1]:3000", true),
            ("evil.com/path", false),
            ("evil.com\r\nSet-Cookie: x", false),
            ("user@evil.com", false),
            ("", false),
        ];
        for (host, expected) in cases {
            assert_eq!(is_plain_host(host), expected, "{host}");
        }
    }
}
