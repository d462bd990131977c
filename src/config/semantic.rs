//! The second validation layer: rules a JSON Schema cannot say, checked on the typed,
//! merged configuration. Each rule adds diagnostics and never stops the others.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use super::diagnostics::{Diagnostic, display_path};
use super::load::SourceMap;
use super::model::{Config, CookieKind, CookieSecure, SameSite, SessionStrategy};
use super::presets::Preset;
use super::provider::{ProviderConfig, ProviderKind, RequiredField};
use super::values::Endpoint;

/// Shortest secret authgate accepts, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

struct Checker<'a> {
    source_map: &'a SourceMap<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.error_at(pointer, pointer, message);
    }

    /// Names `pointer` but points at where `location_pointer` was written.
    fn error_at(&mut self, pointer: &str, location_pointer: &str, message: impl Into<String>) {
        let location = self.source_map.locate(location_pointer, false);
        self.diagnostics
            .push(Diagnostic::error(display_path(pointer), message).at(location));
    }

    /// ` `value``, or nothing when the value must stay hidden.
    fn shown(&self, pointer: &str, value: &str) -> String {
        if self.source_map.is_masked(pointer) {
            " (value hidden)".to_string()
        } else {
            format!(" `{value}`")
        }
    }
}

/// Runs every semantic rule.
pub fn check_semantics(
    config: &Config,
    source_map: &SourceMap<'_>,
    presets: &BTreeMap<String, Preset>,
) -> Vec<Diagnostic> {
    let mut checker = Checker {
        source_map,
        diagnostics: Vec::new(),
    };
    check_url_and_base_path(config, &mut checker);
    check_secrets(config, &mut checker);
    check_providers(config, presets, &mut checker);
    check_session(config, &mut checker);
    check_cookies(config, &mut checker);
    check_database(config, &mut checker);
    check_pages(config, &mut checker);
    check_server(config, &mut checker);
    checker.diagnostics
}

/// True for an absolute `http://` or `https://` URL with a host.
pub fn is_absolute_http_url(text: &str) -> bool {
    url::Url::parse(text)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .unwrap_or(false)
}

fn check_url_and_base_path(config: &Config, checker: &mut Checker<'_>) {
    if !is_absolute_http_url(&config.url) {
        let shown = checker.shown("/url", &config.url);
        checker.error(
            "/url",
            format!(
                "expected an absolute http(s) URL such as `https://auth.example.com`, found{shown}"
            ),
        );
    } else if let Ok(url) = url::Url::parse(&config.url)
        && (url.query().is_some() || url.fragment().is_some())
    {
        checker.error("/url", "must not have a query or a fragment");
    }
    let base_path = &config.base_path;
    if !base_path.starts_with('/') {
        let shown = checker.shown("/basePath", base_path);
        checker.error("/basePath", format!("must start with `/`, found{shown}"));
    } else if base_path.contains(['?', '#', ' ']) || base_path.contains("//") {
        let shown = checker.shown("/basePath", base_path);
        checker.error(
            "/basePath",
            format!("must be a plain path such as `/api/auth`, found{shown}"),
        );
    }
}

fn check_secrets(config: &Config, checker: &mut Checker<'_>) {
    let secrets = config.secret.all();
    if secrets.is_empty() {
        checker.error("/secret", "must list at least one secret");
    }
    let single = secrets.len() == 1 && matches!(config.secret, super::values::Secret::One(_));
    for (index, secret) in secrets.iter().enumerate() {
        let pointer = if single {
            "/secret".to_string()
        } else {
            format!("/secret/{index}")
        };
        if secret.len() < MIN_SECRET_BYTES {
            checker.error(
                &pointer,
                format!(
                    "must be at least {MIN_SECRET_BYTES} bytes, found {} (generate one with `openssl rand -base64 33`)",
                    secret.len()
                ),
            );
        }
    }
}

fn check_providers(config: &Config, presets: &BTreeMap<String, Preset>, checker: &mut Checker<'_>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, provider) in config.providers.iter().enumerate() {
        let base = format!("/providers/{index}");
        if let Some(name) = &provider.use_preset
            && !presets.contains_key(name)
        {
            continue; // reported while merging
        }
        let Some(kind) = provider.kind else {
            checker.error(
                &base,
                "set `type` (oauth, oidc, email or credentials) or `use` a preset",
            );
            continue;
        };
        match provider.id.as_deref() {
            None => checker.error(&format!("{base}/id"), "required property is missing"),
            Some(id) => {
                if let Some(first) = seen.get(id) {
                    // Point at the user's entry, even when the id came from its preset.
                    let written = checker
                        .source_map
                        .providers
                        .get(index)
                        .is_some_and(|p| p.entry.get("id").is_some());
                    let location = if written {
                        format!("{base}/id")
                    } else {
                        base.clone()
                    };
                    checker.error_at(
                        &format!("{base}/id"),
                        &location,
                        format!(
                            "duplicate provider id `{id}` (already used by providers[{first}])"
                        ),
                    );
                } else {
                    seen.insert(id, index);
                }
            }
        }
        if let Some(preset_name) = &provider.use_preset
            && let Some(preset) = presets.get(preset_name)
        {
            check_preset_requirements(provider, preset, &base, checker);
        }
        match kind {
            ProviderKind::Oauth | ProviderKind::Oidc => {
                check_oauth_provider(provider, kind, &base, checker)
            }
            ProviderKind::Credentials => {
                if provider.authorize.is_none() && provider.lookup.is_none() {
                    checker.error(
                        &base,
                        "a credentials provider needs an `authorize` script or a `lookup` query",
                    );
                }
                if provider.authorize.is_some() && provider.lookup.is_some() {
                    checker.error(
                        &format!("{base}/lookup"),
                        "set either `authorize` or `lookup`, not both",
                    );
                }
                if provider.lookup.is_some() && config.database.is_none() {
                    checker.error(
                        &format!("{base}/lookup"),
                        "a `lookup` query needs a `database` section",
                    );
                }
                let strategy = effective_strategy(config);
                if strategy == SessionStrategy::Database && config.session.credentials.is_none() {
                    checker.error(
                        &base,
                        "a credentials provider with the `database` session strategy needs `session.credentials: jwt` (issue JWT cookies, as Auth.js does) or `session.credentials: database`",
                    );
                }
            }
            ProviderKind::Email => {
                for (field, value) in [("server", &provider.server), ("from", &provider.from)] {
                    if value.is_none() {
                        checker.error(&format!("{base}/{field}"), "required property is missing");
                    }
                }
                if config.database.is_none() {
                    checker.error(
                        &base,
                        "an email provider needs a `database` section to store verification tokens",
                    );
                }
            }
        }
    }
}

fn check_preset_requirements(
    provider: &ProviderConfig,
    preset: &Preset,
    base: &str,
    checker: &mut Checker<'_>,
) {
    for field in &provider.requires {
        let present = match field {
            RequiredField::ClientId => provider.client_id.is_some(),
            RequiredField::ClientSecret => provider.client_secret.is_some(),
            RequiredField::Issuer => provider.issuer.is_some(),
            RequiredField::Authorization => provider.authorization.is_some(),
            RequiredField::Token => provider.token.is_some(),
            RequiredField::Userinfo => provider.userinfo.is_some(),
            RequiredField::WellKnown => provider.well_known.is_some(),
            RequiredField::Server => provider.server.is_some(),
            RequiredField::From => provider.from.is_some(),
        };
        if !present {
            checker.error(
                &format!("{base}/{}", field.key()),
                format!("required by preset `{}` and missing", preset.id),
            );
        }
    }
}

fn check_oauth_provider<'a>(
    provider: &'a ProviderConfig,
    kind: ProviderKind,
    base: &str,
    checker: &mut Checker<'_>,
) {
    if provider.client_id.is_none() && !provider.requires.contains(&RequiredField::ClientId) {
        checker.error(&format!("{base}/clientId"), "required property is missing");
    }
    let discovers = provider.issuer.is_some() || provider.well_known.is_some();
    if kind == ProviderKind::Oidc && !discovers {
        if !provider.requires.contains(&RequiredField::Issuer) {
            checker.error(
                &format!("{base}/issuer"),
                "required property is missing (an oidc provider discovers its endpoints from the issuer)",
            );
        }
    } else if kind == ProviderKind::Oauth && !discovers {
        for (field, endpoint) in [
            ("authorization", &provider.authorization),
            ("token", &provider.token),
        ] {
            let required_by_preset = provider.requires.iter().any(|r| r.key() == field);
            if endpoint.is_none() && !required_by_preset {
                checker.error(
                    &format!("{base}/{field}"),
                    "required property is missing (or set `issuer` to discover it)",
                );
            }
        }
    }
    let endpoint = |name: &'static str, endpoint: &'a Option<Endpoint>| match endpoint {
        Some(Endpoint::Url(url)) => (name.to_string(), Some(url.as_str())),
        Some(Endpoint::Detailed(details)) => (format!("{name}/url"), details.url.as_deref()),
        None => (name.to_string(), None),
    };
    let urls = [
        ("issuer".to_string(), provider.issuer.as_deref()),
        ("wellKnown".to_string(), provider.well_known.as_deref()),
        endpoint("authorization", &provider.authorization),
        endpoint("token", &provider.token),
        endpoint("userinfo", &provider.userinfo),
    ];
    for (field, url) in urls {
        let Some(url) = url else { continue };
        let pointer = format!("{base}/{field}");
        if !is_absolute_http_url(url) {
            let shown = checker.shown(&pointer, url);
            checker.error(
                &pointer,
                format!("expected an absolute http(s) URL, found{shown}"),
            );
        }
    }
}

/// The strategy in force: the configured one, else `database` with a database, else `jwt`.
pub fn effective_strategy(config: &Config) -> SessionStrategy {
    config
        .session
        .strategy
        .unwrap_or(if config.database.is_some() {
            SessionStrategy::Database
        } else {
            SessionStrategy::Jwt
        })
}

fn check_session(config: &Config, checker: &mut Checker<'_>) {
    if config.session.strategy == Some(SessionStrategy::Database) && config.database.is_none() {
        checker.error(
            "/session/strategy",
            "the `database` strategy needs a `database` section",
        );
    }
    if config.session.update_age > config.session.max_age {
        checker.error(
            "/session/updateAge",
            format!(
                "must not be longer than `session.maxAge` ({}), found `{}`",
                config.session.max_age, config.session.update_age
            ),
        );
    }
    if config.jwt.algorithm.is_asymmetric() && config.jwt.keys.is_empty() {
        checker.error(
            "/jwt/keys",
            format!(
                "algorithm `{:?}` needs at least one key file",
                config.jwt.algorithm
            ),
        );
    }
}

fn check_cookies(config: &Config, checker: &mut Checker<'_>) {
    let cookies = &config.cookies;
    if let Some(domain) = &cookies.domain
        && (domain.contains("://") || domain.contains('/') || domain.contains(':'))
    {
        checker.error(
            "/cookies/domain",
            format!("expected a domain such as `.example.com`, found `{domain}`"),
        );
    }
    let https = config.url.starts_with("https://");
    let secure = match cookies.secure {
        CookieSecure::Fixed(secure) => secure,
        CookieSecure::Mode(_) => https,
    };
    if cookies.same_site == SameSite::None && !secure {
        checker.error(
            "/cookies/sameSite",
            "`none` needs secure cookies (an https `url`, or `cookies.secure: true`)",
        );
    }
    for kind in CookieKind::ALL {
        let Some(cookie) = cookies.overrides.get(&kind) else {
            continue;
        };
        let base = format!("/cookies/overrides/{}", kind.key());
        let Some(name) = &cookie.name else { continue };
        if name.starts_with("__Host-") {
            let domain = cookie.domain.as_ref().or(if kind == CookieKind::CsrfToken {
                None
            } else {
                cookies.domain.as_ref()
            });
            if domain.is_some() {
                checker.error(
                    &format!("{base}/name"),
                    "a `__Host-` cookie cannot have a domain (remove the domain or the prefix)",
                );
            }
            let path = cookie.path.as_deref().unwrap_or(&cookies.path);
            if path != "/" {
                checker.error(
                    &format!("{base}/name"),
                    "a `__Host-` cookie must have path `/`",
                );
            }
        }
        if (name.starts_with("__Host-") || name.starts_with("__Secure-"))
            && !cookie.secure.unwrap_or(secure)
        {
            checker.error(
                &format!("{base}/name"),
                "a `__Host-` or `__Secure-` cookie must be secure (an https `url`, or `secure: true`)",
            );
        }
    }
}

fn check_database(config: &Config, checker: &mut Checker<'_>) {
    let Some(database) = &config.database else {
        return;
    };
    let scheme = database
        .url
        .split_once(':')
        .map(|(scheme, _)| scheme)
        .unwrap_or_default();
    if !matches!(
        scheme,
        "sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb"
    ) {
        checker.error(
            "/database/url",
            "expected a `sqlite:`, `postgres://` or `mysql://` URL (value hidden)",
        );
    }
    if database.max_connections == 0 {
        checker.error("/database/maxConnections", "must be at least 1, found `0`");
    }
}

fn check_pages(config: &Config, checker: &mut Checker<'_>) {
    let pages = &config.pages;
    for (key, page) in [
        ("signIn", &pages.sign_in),
        ("signOut", &pages.sign_out),
        ("error", &pages.error),
        ("verifyRequest", &pages.verify_request),
        ("newUser", &pages.new_user),
    ] {
        let Some(page) = page else { continue };
        if !page.starts_with('/') && !is_absolute_http_url(page) {
            checker.error(
                &format!("/pages/{key}"),
                format!(
                    "expected a path starting with `/` or an absolute http(s) URL, found `{page}`"
                ),
            );
        }
    }
}

fn check_server(config: &Config, checker: &mut Checker<'_>) {
    let listen = &config.server.listen;
    let valid = listen.parse::<SocketAddr>().is_ok()
        || listen
            .strip_prefix("localhost:")
            .is_some_and(|port| port.parse::<u16>().is_ok());
    if !valid {
        checker.error(
            "/server/listen",
            format!(
                "expected an address such as `127.0.0.1:3000` or `[::]:3000`, found `{listen}`"
            ),
        );
    }
    if tracing_subscriber::EnvFilter::try_new(&config.logging.level).is_err() {
        checker.error(
            "/logging/level",
            format!(
                "expected a log filter such as `info` or `authgate=debug,warn`, found `{}`",
                config.logging.level
            ),
        );
    }
}
