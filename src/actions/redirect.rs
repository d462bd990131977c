//! The callbackUrl rule: a relative path, a URL on our own origin, or one on a host of
//! `redirect.allowedHosts` is followed; anything else goes to the `redirect` callback when
//! there is one, and otherwise falls back to the configured `url`. Strings with control characters, backslashes or a scheme other than
//! http(s) never pass as "ours".

use std::sync::Arc;

use serde_json::json;
use url::Url;

use super::callbacks::run_redirect;
use super::{RequestOrigin, off_workers};
use crate::config::script_key::{Callback, ScriptKey};
use crate::pipeline::Pipeline;

/// A path on our origin: starts with one `/`, and nothing a browser would read as another
/// host (`//evil`, `/\evil`) or that hides characters.
fn is_safe_relative(candidate: &str) -> bool {
    candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.contains('\\')
        && !candidate
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
}

/// `candidate` as an absolute URL on exactly our origin (scheme, host and port).
fn same_origin(candidate: &str, origin: &str) -> Option<String> {
    if candidate
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
        || candidate.contains('\\')
    {
        return None;
    }
    let url = Url::parse(candidate).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    (url.origin().ascii_serialization() == origin).then(|| url.to_string())
}

/// `candidate` as an http(s) URL on a host of `redirect.allowedHosts`: a pattern with a
/// port allows that port, one without it the scheme's default port only.
fn allowed_host(candidate: &str, allowed: &[String]) -> Option<String> {
    if allowed.is_empty()
        || candidate
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let url = Url::parse(candidate).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let host = url.host_str()?;
    let allowed = allowed.iter().any(|pattern| {
        let (name, port) = match pattern.rsplit_once(':') {
            Some((name, port)) => (name, port.parse::<u16>().ok()),
            None => (pattern.as_str(), None),
        };
        crate::forward_auth::patterns::host_matches(name, host) && url.port() == port
    });
    allowed.then(|| url.to_string())
}

/// `resolve_callback_url` from an action on the async workers: a redirect script, when the
/// config has one that may block, runs on the blocking pool.
pub async fn resolve_callback_url_off_workers(
    pipeline: &Arc<Pipeline>,
    origin: &RequestOrigin,
    candidate: Option<&str>,
) -> String {
    let may_block = pipeline.script_may_block(ScriptKey::Callback(Callback::Redirect));
    let (worker_pipeline, worker_origin) = (pipeline.clone(), origin.clone());
    let candidate = candidate.map(str::to_string);
    off_workers(may_block, move || {
        resolve_callback_url(&worker_pipeline, &worker_origin, candidate.as_deref())
    })
    .await
    .unwrap_or_else(|_| origin.base_url.clone())
}

/// Where to send the user after an action, given the requested callbackUrl.
pub fn resolve_callback_url(
    pipeline: &Pipeline,
    origin: &RequestOrigin,
    candidate: Option<&str>,
) -> String {
    let fallback = origin.base_url.clone();
    let Some(candidate) = candidate.filter(|c| !c.is_empty()) else {
        return fallback;
    };
    if is_safe_relative(candidate) {
        return format!("{}{candidate}", origin.origin);
    }
    if let Some(url) = same_origin(candidate, &origin.origin) {
        return url;
    }
    if let Some(url) = allowed_host(candidate, &pipeline.config.redirect.allowed_hosts)
        // An https site never sends its users on to plain http.
        .filter(|url| !(pipeline.base_url.starts_with("https://") && url.starts_with("http://")))
    {
        return url;
    }
    // A foreign URL: the redirect callback may allow it.
    if let Some(decided) = run_redirect(pipeline, &json!(candidate), &json!(origin.origin)) {
        if is_safe_relative(&decided) {
            return format!("{}{decided}", origin.origin);
        }
        if Url::parse(&decided).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
            && !decided.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return decided;
        }
        tracing::warn!("redirect callback returned an unusable URL; using the base URL");
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_count_as_relative() {
        let cases = [
            ("/dashboard", true),
            ("/a/b?x=1#y", true),
            ("//evil.com", false),
            ("/\\evil.com", false),
            ("/\tevil", false),
            ("dashboard", false),
            ("", false),
        ];
        for (candidate, expected) in cases {
            assert_eq!(is_safe_relative(candidate), expected, "{candidate:?}");
        }
    }

    #[test]
    fn allowed_hosts_extend_the_rule_exactly() {
        let allowed = [
            "app.example.com".to_string(),
            "*.apps.example.com".to_string(),
            "127.0.0.1:8080".to_string(),
        ];
        let cases = [
            ("https://app.example.com/x?y=1", true),
            ("http://app.example.com/x", true),
            ("https://app.example.com:8443/x", false),
            ("https://a.apps.example.com/", true),
            ("https://apps.example.com/", false),
            ("https://app.example.com.evil.org/", false),
            ("https://evil.org/?app.example.com", false),
            ("https://user@app.example.com/", false),
            ("https://:pw@app.example.com/", false),
            ("javascript://app.example.com/%0aalert(1)", false),
            ("http://127.0.0.1:8080/back", true),
            ("http://127.0.0.1:8081/back", false),
            ("http://127.0.0.1/back", false),
            ("https://app.example.com\\@evil.org/", false),
        ];
        for (candidate, expected) in cases {
            assert_eq!(
                allowed_host(candidate, &allowed).is_some(),
                expected,
                "{candidate}"
            );
        }
        assert_eq!(allowed_host("https://app.example.com/", &[]), None);
    }

    #[test]
    fn same_origin_means_scheme_host_and_port() {
        let origin = "https://app.example.com";
        let cases = [
            ("https://app.example.com/x", true),
            ("https://app.example.com:443/x", true),
            ("https://app.example.com.evil.com/x", false),
            ("https://app.example.com:8443/x", false),
            ("http://app.example.com/x", false),
            ("javascript:alert(1)", false),
            ("\thttps://app.example.com/x", false),
            ("https://app.example.com\r\n/x", false),
            ("https://evil.com@app.example.com/x", true),
        ];
        for (candidate, expected) in cases {
            assert_eq!(
                same_origin(candidate, origin).is_some(),
                expected,
                "{candidate:?}"
            );
        }
    }
}
