//! The public origin a response's URLs are built on: the configured `url`, or, with
//! `trustHost: true` behind a proxy, the request's `X-Forwarded-Host`/`X-Forwarded-Proto`
//! (falling back to `Host` and the connection's scheme), as Auth.js does, taking the value
//! the nearest trusted proxy appended (`proxyHops`), never the client-supplied first one. Header values are checked strictly, so a
//! forged header cannot inject anything but a plain host name into a URL.

use actix_web::HttpRequest;

use crate::pipeline::Pipeline;

fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The value of a header that each proxy appends to (`X-Forwarded-*`), as the nearest of
/// `hops` trusted proxies wrote it: `hops` places from the right, over every line of the
/// header. Values further left came from the client and are never used; with fewer
/// values than hops, the leftmost one is the outermost proxy's.
fn forwarded_value<'a>(request: &'a HttpRequest, name: &str, hops: usize) -> Option<&'a str> {
    let values: Vec<&str> = request
        .headers()
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let index = values.len().saturating_sub(hops.max(1));
    values.get(index).copied()
}

fn host_header(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get("host")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
}

/// Where the client reached authgate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin {
    /// `https://host[:port]` (from the configured `url`, or a trusted proxy).
    pub origin: String,
    /// The public base URL: the configured `url`, or the trusted proxy's origin.
    pub base_url: String,
    /// `origin` plus the base path, without a trailing slash.
    pub auth_url: String,
    /// Whether the client side is https (decides `__Secure-`/`__Host-` cookies).
    pub https: bool,
}

/// The origin this request's URLs and cookies are built for.
pub fn request_origin(request: &HttpRequest, pipeline: &Pipeline) -> RequestOrigin {
    if pipeline.config.trust_host {
        let hops = pipeline.config.proxy_hops;
        let host =
            forwarded_value(request, "x-forwarded-host", hops).or_else(|| host_header(request));
        let scheme = request.connection_info().scheme().to_string();
        let proto = forwarded_value(request, "x-forwarded-proto", hops).unwrap_or(&scheme);
        if let Some(host) = host.filter(|host| is_plain_host(host))
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
    let origin = url::Url::parse(&pipeline.base_url)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_else(|_| pipeline.base_url.clone());
    RequestOrigin {
        auth_url: format!("{}{}", pipeline.base_url, pipeline.base_path),
        base_url: pipeline.base_url.clone(),
        https: pipeline.base_url.starts_with("https://"),
        origin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
