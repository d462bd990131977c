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

/// `https://host[:port]` plus the base path, without a trailing slash.
pub fn auth_base_url(request: &HttpRequest, pipeline: &Pipeline) -> String {
    if pipeline.config.trust_host {
        let host = header(request, "x-forwarded-host").or_else(|| header(request, "host"));
        let scheme = request.connection_info().scheme().to_string();
        let proto = header(request, "x-forwarded-proto").unwrap_or(&scheme);
        if let Some(host) = host.filter(|host| is_plain_host(host))
            && matches!(proto, "http" | "https")
        {
            return format!("{proto}://{host}{}", pipeline.base_path);
        }
    }
    format!("{}{}", pipeline.base_url, pipeline.base_path)
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
