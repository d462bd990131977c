//! The public origin a response's URLs are built on: the configured `url`, or, with
//! `trustHost: true` behind a proxy, the request's `X-Forwarded-Host`/`X-Forwarded-Proto`
//! (falling back to `Host` and the connection's scheme), as Auth.js does. Header values are checked strictly, so a
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

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        // A proxy chain appends; the first value is the client-facing one.
        .map(|value| value.split(',').next().unwrap_or_default().trim())
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
        let host = header(request, "x-forwarded-host").or_else(|| header(request, "host"));
        let scheme = request.connection_info().scheme().to_string();
        let proto = header(request, "x-forwarded-proto").unwrap_or(&scheme);
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
