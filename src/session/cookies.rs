//! The cookie policy, computed once per pipeline from `cookies:` and `url`: each cookie's
//! full name (prefix, `__Secure-`/`__Host-`) and attributes, as Auth.js sets them.

use crate::config::model::{CookieKind, CookieSecure, CookiesConfig, SameSite};

/// Name and attributes of one cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSpec {
    pub name: String,
    pub domain: Option<String>,
    pub path: String,
    pub same_site: SameSite,
    pub secure: bool,
    pub http_only: bool,
}

/// Every cookie authgate sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookiePolicy {
    pub session_token: CookieSpec,
    pub csrf_token: CookieSpec,
    pub callback_url: CookieSpec,
    pub pkce_code_verifier: CookieSpec,
    pub state: CookieSpec,
    pub nonce: CookieSpec,
}

impl CookiePolicy {
    /// Computes names and attributes; `https` is whether the public `url` is https.
    pub fn new(config: &CookiesConfig, https: bool) -> Self {
        let secure = match config.secure {
            CookieSecure::Fixed(secure) => secure,
            CookieSecure::Mode(_) => https,
        };
        let spec = |kind: CookieKind| {
            let overrides = config.overrides.get(&kind).cloned().unwrap_or_default();
            let cookie_secure = overrides.secure.unwrap_or(secure);
            // The CSRF cookie is host-only (`__Host-`) as in Auth.js; the shared domain
            // applies to the others.
            let default_domain = match kind {
                CookieKind::CsrfToken => None,
                _ => config.domain.clone(),
            };
            let name = overrides.name.clone().unwrap_or_else(|| {
                let prefix = match (cookie_secure, kind) {
                    (false, _) => "",
                    (true, CookieKind::CsrfToken) => "__Host-",
                    (true, _) => "__Secure-",
                };
                format!("{prefix}{}{}", config.prefix, kind.base_name())
            });
            CookieSpec {
                name,
                domain: overrides.domain.clone().or(default_domain),
                path: match kind {
                    CookieKind::CsrfToken if cookie_secure => "/".to_string(),
                    _ => overrides
                        .path
                        .clone()
                        .unwrap_or_else(|| config.path.clone()),
                },
                same_site: overrides.same_site.unwrap_or(config.same_site),
                secure: cookie_secure,
                http_only: true,
            }
        };
        CookiePolicy {
            session_token: spec(CookieKind::SessionToken),
            csrf_token: spec(CookieKind::CsrfToken),
            callback_url: spec(CookieKind::CallbackUrl),
            pkce_code_verifier: spec(CookieKind::PkceCodeVerifier),
            state: spec(CookieKind::State),
            nonce: spec(CookieKind::Nonce),
        }
    }
}

impl CookiePolicy {
    /// Every cookie with its kind.
    pub fn specs(&self) -> [(CookieKind, &CookieSpec); 6] {
        [
            (CookieKind::SessionToken, &self.session_token),
            (CookieKind::CsrfToken, &self.csrf_token),
            (CookieKind::CallbackUrl, &self.callback_url),
            (CookieKind::PkceCodeVerifier, &self.pkce_code_verifier),
            (CookieKind::State, &self.state),
            (CookieKind::Nonce, &self.nonce),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_auth_js_on_http_and_https() {
        let config = CookiesConfig::default();
        let http = CookiePolicy::new(&config, false);
        assert_eq!(http.session_token.name, "authjs.session-token");
        assert_eq!(http.csrf_token.name, "authjs.csrf-token");
        assert!(!http.csrf_token.secure);
        let https = CookiePolicy::new(&config, true);
        assert_eq!(https.session_token.name, "__Secure-authjs.session-token");
        assert_eq!(https.csrf_token.name, "__Host-authjs.csrf-token");
        assert_eq!(
            https.pkce_code_verifier.name,
            "__Secure-authjs.pkce.code_verifier"
        );
    }

    #[test]
    fn the_shared_domain_skips_the_host_only_csrf_cookie() {
        let config = CookiesConfig {
            domain: Some(".example.com".into()),
            prefix: "next-auth.".into(),
            ..CookiesConfig::default()
        };
        let policy = CookiePolicy::new(&config, true);
        assert_eq!(policy.session_token.domain.as_deref(), Some(".example.com"));
        assert_eq!(
            policy.session_token.name,
            "__Secure-next-auth.session-token"
        );
        assert_eq!(policy.csrf_token.domain, None);
    }
}
