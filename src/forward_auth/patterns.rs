//! The patterns of forward-auth rules and `redirect.allowedHosts`, pure and small: hosts
//! (`app.example.com`, `*.example.com`, optionally with `:port`), paths with `*` for any run
//! of characters, and methods. Hosts compare without case; paths exactly.

/// Whether `host` (a request's host, without port) matches `pattern`: the same name, or
/// for `*.domain` a subdomain of `domain` (not `domain` itself).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(domain) => {
            host.len() > domain.len() + 1 && {
                let (sub, rest) = host.split_at(host.len() - domain.len());
                sub.ends_with('.') && rest.eq_ignore_ascii_case(domain)
            }
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// Whether a host pattern is well formed: a host name of letters, digits, `-` and `.`,
/// optionally starting `*.`, and optionally `:port`.
pub fn is_host_pattern(pattern: &str) -> bool {
    let (name, port) = match pattern.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (pattern, None),
    };
    let name = name.strip_prefix("*.").unwrap_or(name);
    let name_ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    name_ok && port.is_none_or(|port| port.parse::<u16>().is_ok_and(|port| port > 0))
}

/// Whether `path` matches `pattern`, where `*` matches any run of characters (`/` too).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No `*`: the whole path.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(index) => rest = &rest[index + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether `method` is in `methods` (any method when empty).
pub fn method_matches(methods: &[String], method: &str) -> bool {
    methods.is_empty() || methods.iter().any(|m| m.eq_ignore_ascii_case(method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_as_subdomains() {
        let cases = [
            ("app.example.com", "app.example.com", true),
            ("app.example.com", "APP.example.com", true),
            ("app.example.com", "app.example.com.", true),
            ("app.example.com", "evil.com", false),
            ("*.example.com", "app.example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "evilexample.com", false),
            ("*.example.com", "example.com.evil.org", false),
        ];
        for (pattern, host, expected) in cases {
            assert_eq!(host_matches(pattern, host), expected, "{pattern} {host}");
        }
    }

    #[test]
    fn host_patterns_are_names_with_an_optional_port() {
        let cases = [
            ("app.example.com", true),
            ("*.example.com", true),
            ("127.0.0.1:8080", true),
            ("app.example.com:0", false),
            ("app.example.com:99999", false),
            ("*", false),
            ("a*.example.com", false),
            ("https://app.example.com", false),
            ("", false),
        ];
        for (pattern, expected) in cases {
            assert_eq!(is_host_pattern(pattern), expected, "{pattern}");
        }
    }

    #[test]
    fn path_stars_match_any_run() {
        let cases = [
            ("/health", "/health", true),
            ("/health", "/health/x", false),
            ("/public/*", "/public/a/b.css", true),
            ("/public/*", "/public/", true),
            ("/public/*", "/publicity", false),
            ("*.css", "/a/b.css", true),
            ("/a/*/edit", "/a/1/edit", true),
            ("/a/*/edit", "/a/1/view", false),
            ("/a*b*c", "/abc", true),
            ("/a*b*c", "/acb", false),
            ("*", "/anything", true),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(path_matches(pattern, path), expected, "{pattern} {path}");
        }
    }
}
