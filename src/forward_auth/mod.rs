//! Forward-auth, free of HTTP: the request a proxy asks about, which peers may describe
//! one, and which access rule applies to it. The decision itself is the action
//! `actions::forward_auth`.

pub mod patterns;
pub mod session_cache;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::config::model::{Access, AccessRule};
use patterns::{host_matches, method_matches, path_matches};

/// How the proxy described the original request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// nginx `auth_request`: `X-Original-URI`, `X-Original-Method`.
    Nginx,
    /// Caddy `forward_auth`, Traefik `forwardAuth`: `X-Forwarded-Uri`, `-Method`, `-Host`,
    /// `-Proto`.
    Forwarded,
}

/// The request the proxy asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRequest {
    pub style: Style,
    /// Upper case.
    pub method: String,
    /// `http` or `https`.
    pub proto: String,
    /// As the client named it, with a port when it had one.
    pub host: String,
    /// Path and query, starting with `/`.
    pub uri: String,
}

impl OriginalRequest {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.uri.split(['?', '#']).next().unwrap_or_default()
    }

    /// The host without its port.
    pub fn hostname(&self) -> &str {
        if self.host.starts_with('[') {
            return self.host.split(']').next().map_or("", |h| &h[1..]);
        }
        self.host.split(':').next().unwrap_or_default()
    }

    /// The URL the client asked for.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.proto, self.host, self.uri)
    }
}

/// The peers whose description of a request is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// From `forwardAuth.trustedProxies`: addresses and CIDR ranges. Entries that do not
    /// parse are left out (`authgate check` reports them).
    pub fn new(entries: &[String]) -> TrustedProxies {
        TrustedProxies(
            entries
                .iter()
                .filter_map(|entry| parse_net(entry))
                .collect(),
        )
    }

    pub fn contains(&self, peer: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&peer))
    }
}

/// An address (`10.0.0.1`, one host) or a CIDR range (`10.0.0.0/8`).
pub fn parse_net(entry: &str) -> Option<IpNet> {
    entry
        .parse::<IpNet>()
        .ok()
        .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
}

/// The first rule that matches, with its position; none means "a session is required".
pub fn matching_rule<'a>(
    rules: &'a [AccessRule],
    request: &OriginalRequest,
) -> Option<(usize, &'a AccessRule)> {
    rules.iter().enumerate().find(|(_, rule)| {
        (rule.hosts.is_empty()
            || rule
                .hosts
                .iter()
                .any(|pattern| host_matches(pattern, request.hostname())))
            && (rule.paths.is_empty()
                || rule
                    .paths
                    .iter()
                    .any(|pattern| path_matches(pattern, request.path())))
            && method_matches(&rule.methods, &request.method)
    })
}

/// What a request needs when no rule matches.
pub const DEFAULT_ACCESS: Access = Access::Session;

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, host: &str, uri: &str) -> OriginalRequest {
        OriginalRequest {
            style: Style::Forwarded,
            method: method.into(),
            proto: "https".into(),
            host: host.into(),
            uri: uri.into(),
        }
    }

    fn rule(hosts: &[&str], paths: &[&str], methods: &[&str], access: Access) -> AccessRule {
        let strings = |items: &[&str]| items.iter().map(|item| item.to_string()).collect();
        AccessRule {
            hosts: strings(hosts),
            paths: strings(paths),
            methods: strings(methods),
            access,
            authorize: None,
        }
    }

    #[test]
    fn the_first_matching_rule_applies() {
        let rules = [
            rule(&["app.example.com"], &["/public/*"], &[], Access::Anonymous),
            rule(&[], &["/admin/*"], &["POST"], Access::Deny),
            rule(&["*.example.com"], &[], &[], Access::Session),
        ];
        let cases = [
            (
                request("GET", "app.example.com:8443", "/public/a.css?v=1"),
                Some(0),
            ),
            (
                request("GET", "other.example.com", "/public/a.css"),
                Some(2),
            ),
            (request("POST", "app.example.com", "/admin/x"), Some(1)),
            (request("GET", "app.example.com", "/admin/x"), Some(2)),
            (request("GET", "elsewhere.org", "/"), None),
        ];
        for (request, expected) in cases {
            assert_eq!(
                matching_rule(&rules, &request).map(|(index, _)| index),
                expected,
                "{request:?}"
            );
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let trusted = TrustedProxies::new(&["10.0.0.0/8".into(), "::1".into(), "nonsense".into()]);
        let cases = [
            ("10.1.2.3", true),
            ("11.0.0.1", false),
            ("::1", true),
            ("::2", false),
        ];
        for (peer, expected) in cases {
            assert_eq!(trusted.contains(peer.parse().unwrap()), expected, "{peer}");
        }
    }

    #[test]
    fn urls_and_paths_come_from_the_described_request() {
        let original = request("GET", "[::1]:8080", "/a/b?c=d#e");
        assert_eq!(original.path(), "/a/b");
        assert_eq!(original.hostname(), "::1");
        assert_eq!(original.url(), "https://[::1]:8080/a/b?c=d#e");
    }
}
