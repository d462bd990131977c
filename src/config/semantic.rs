//! The second validation layer: rules a JSON Schema cannot say, checked on the typed,
//! merged configuration. Each rule adds diagnostics and never stops the others.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::codes::Code;
use super::diagnostics::{Diagnostic, display_path, quoted};
use super::load::SourceMap;
use super::model::{Config, SameSite, SessionStrategy};
use super::presets::{self, Preset};
use super::provider::{Check, ProviderConfig, ProviderKind, RequiredField};
use super::values::Endpoint;
use crate::session::cookies::CookiePolicy;

/// The longest `session.revocationStaleness`, in seconds.
const MAX_REVOCATION_STALENESS: u64 = 300;

/// Shortest secret authgate accepts, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

struct Checker<'a> {
    source_map: &'a SourceMap<'a>,
    diagnostics: Vec<Diagnostic>,
    /// The code of what the rule running now finds.
    code: Code,
}

impl Checker<'_> {
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.error_at(pointer, pointer, message);
    }

    /// Names `pointer` but points at where `location_pointer` was written.
    fn error_at(&mut self, pointer: &str, location_pointer: &str, message: impl Into<String>) {
        let location = self.source_map.locate(location_pointer, false);
        self.diagnostics
            .push(Diagnostic::error(self.code, display_path(pointer), message).at(location));
    }

    fn warning(&mut self, pointer: &str, message: impl Into<String>) {
        let location = self.source_map.locate(pointer, false);
        self.diagnostics
            .push(Diagnostic::warning(self.code, display_path(pointer), message).at(location));
    }

    /// ` `value``, or nothing when the value must stay hidden.
    fn shown(&self, pointer: &str, value: &str) -> String {
        if self.source_map.is_masked(pointer) {
            " (value hidden)".to_string()
        } else {
            format!(" {}", quoted(value))
        }
    }
}

/// One semantic rule, run with the code of what it finds.
type Rule<'r> = &'r dyn Fn(&mut Checker<'_>);

/// Runs every semantic rule.
pub fn check_semantics(config: &Config, source_map: &SourceMap<'_>) -> Vec<Diagnostic> {
    let mut checker = Checker {
        source_map,
        diagnostics: Vec::new(),
        code: Code::Internal,
    };
    let rules: [(Code, Rule<'_>); 15] = [
        (Code::Url, &|c| check_url_and_base_path(config, c)),
        (Code::Secret, &|c| check_secrets(config, c)),
        (Code::Provider, &|c| check_providers(config, c)),
        (Code::Session, &|c| check_session(config, c)),
        (Code::Cookies, &|c| check_cookies(config, c)),
        (Code::Cookies, &|c| check_csrf_cookie_binding(config, c)),
        (Code::Session, &|c| check_database(config, c)),
        (Code::Pages, &|c| check_pages(config, c)),
        (Code::Pages, &|c| check_page_look(config, c)),
        (Code::Management, &|c| check_management(config, c)),
        (Code::ForwardAuth, &|c| check_forward_auth(config, c)),
        (Code::Tokens, &|c| check_tokens_and_cors(config, c)),
        (Code::Passwords, &|c| check_passwords(config, c)),
        (Code::Server, &|c| check_server(config, c)),
        (Code::Operations, &|c| check_operations(config, c)),
    ];
    for (code, rule) in rules {
        checker.code = code;
        rule(&mut checker);
    }
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

/// Where provider `index` got its id: its `id:` when the user wrote one, else the entry
/// (the id came from its preset or its drop-in file's name).
fn provider_id_pointer(source_map: &SourceMap<'_>, index: usize) -> String {
    let written = source_map
        .providers
        .get(index)
        .is_some_and(|p| p.entry.get("id").is_some());
    if written {
        format!("/providers/{index}/id")
    } else {
        format!("/providers/{index}")
    }
}

fn check_providers(config: &Config, checker: &mut Checker<'_>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, provider) in config.providers.iter().enumerate() {
        let base = format!("/providers/{index}");
        if let Some(name) = &provider.use_preset
            && !matches!(presets::builtin(name), Some(Ok(_)))
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
        check_unique_id(provider, index, &mut seen, checker);
        if provider.use_preset.is_none() && !provider.requires.is_empty() {
            checker.error(
                &format!("{base}/requires"),
                "`requires` belongs to preset templates; a provider states the fields itself (or says `use: <preset>`)",
            );
        }
        if let Some(preset_name) = &provider.use_preset
            && let Some(Ok(preset)) = presets::builtin(preset_name)
        {
            check_preset_requirements(provider, preset, &base, checker);
        }
        if provider.refresh.is_some() && !kind.has_oauth_tokens() {
            checker.error(
                &format!("{base}/refresh"),
                "only oauth and oidc providers have tokens to refresh",
            );
        }
        match kind {
            ProviderKind::Oauth | ProviderKind::Oidc => {
                check_oauth_provider(provider, kind, &base, checker);
                if provider.refresh == Some(crate::config::provider::RefreshMode::Auto)
                    && effective_strategy(config) == SessionStrategy::Jwt
                    && !config.jwt.encryption
                {
                    checker.warning(
                        &format!("{base}/refresh"),
                        "automatic refresh keeps the provider's tokens in the session cookie, which is only signed; set `jwt.encryption: true` to encrypt them",
                    );
                }
            }
            ProviderKind::Credentials => {
                check_credentials_provider(config, provider, &base, checker)
            }
            ProviderKind::Email => check_email_provider(config, provider, &base, checker),
        }
    }
}

/// A provider's id is unique; a duplicate names both places.
fn check_unique_id<'a>(
    provider: &'a ProviderConfig,
    index: usize,
    seen: &mut HashMap<&'a str, usize>,
    checker: &mut Checker<'_>,
) {
    let base = format!("/providers/{index}");
    let Some(id) = provider.id.as_deref() else {
        let code = std::mem::replace(&mut checker.code, Code::Schema);
        checker.error(&format!("{base}/id"), "required property is missing");
        checker.code = code;
        return;
    };
    let Some(first) = seen.get(id) else {
        seen.insert(id, index);
        return;
    };
    // Point at the user's entry, even when the id came from its preset.
    let location = provider_id_pointer(checker.source_map, index);
    let shown = checker.shown(&format!("{base}/id"), id);
    let first_location = checker
        .source_map
        .locate(&provider_id_pointer(checker.source_map, *first), false);
    let code = std::mem::replace(&mut checker.code, Code::ProviderId);
    checker.error_at(
        &format!("{base}/id"),
        &location,
        format!(
            "duplicate provider id{shown} (already used by providers[{first}] at {})",
            first_location.short()
        ),
    );
    checker.code = code;
}

/// An email provider: a store for its tokens, a usable `from` and `server` (unless the
/// `dev` transport logs instead), templates that compile, and the `dev` transport only
/// where it cannot leak sign-in links from a production log.
fn check_email_provider(
    config: &Config,
    provider: &ProviderConfig,
    base: &str,
    checker: &mut Checker<'_>,
) {
    use crate::config::provider::EmailTransport;
    use crate::email::message::EmailTemplates;
    use crate::email::smtp::SmtpServer;

    let http = provider.transport == Some(EmailTransport::Http);
    match provider.from.as_deref() {
        // An email API may not need it (Loops sends from its own template).
        None if http => {}
        None => checker.error(&format!("{base}/from"), "required property is missing"),
        Some(from) => {
            if let Err(error) = from.parse::<lettre::message::Mailbox>() {
                checker.error(
                    &format!("{base}/from"),
                    format!("not an email address ({error}); expected `auth@example.com` or `Example <auth@example.com>`"),
                );
            }
        }
    }
    if http {
        check_http_transport(provider, base, checker);
    }
    let dev = provider.transport == Some(EmailTransport::Dev);
    match (provider.server.as_deref(), dev || http) {
        (None, false) if provider.send_verification_request.is_none() => checker.error(
            &format!("{base}/server"),
            "required property is missing (or set `transport: dev` for local work, or deliver with a `sendVerificationRequest` script)",
        ),
        (None, false) => {}
        (Some(server), false) => match SmtpServer::parse(server) {
            Err(error) => checker.error(&format!("{base}/server"), error),
            Ok(server) if server.may_send_password_in_clear() => checker.warning(
                &format!("{base}/server"),
                "the SMTP password may cross the network in clear: use `smtps://` or add `?tls=required`",
            ),
            Ok(_) => {}
        },
        (_, true) if http => {}
        (_, true) => {
            let https = url::Url::parse(&config.url).is_ok_and(|url| url.scheme() == "https");
            // Behind a proxy that says https, the public site is https whatever `url` says.
            if (https || config.trust_host) && provider.force_dev_transport != Some(true) {
                checker.error(
                    &format!("{base}/transport"),
                    "the `dev` transport logs sign-in links, so anyone who reads the log can sign in as anyone; it is refused when `url` is https or `trustHost` is on (set `forceDevTransport: true` to allow it anyway)",
                );
            } else {
                checker.warning(
                    &format!("{base}/transport"),
                    "the `dev` transport logs each sign-in link instead of sending it: for local work only",
                );
            }
        }
    }
    if let Err(error) = EmailTemplates::new(provider.message.as_ref()) {
        checker.error(
            &format!("{base}/message/{}", error.field),
            format!("the template does not compile: {}", error.message),
        );
    }
    if config.database.is_none() {
        checker.error(
            base,
            "an email provider needs a `database` section to store verification tokens",
        );
    }
}

/// `transport: http`: the request compiles and renders, and its URL is https.
fn check_http_transport(provider: &ProviderConfig, base: &str, checker: &mut Checker<'_>) {
    use crate::email::http_transport::HttpTransport;

    let Some(http) = provider.http.as_ref() else {
        checker.error(
            &format!("{base}/http"),
            "required property is missing (`transport: http` sends by this request)",
        );
        return;
    };
    let from = provider
        .from
        .as_deref()
        .and_then(|from| from.parse::<lettre::message::Mailbox>().ok());
    let api_key = provider.api_key.as_ref().map(|key| key.expose());
    if let Err(error) = HttpTransport::build(http, api_key, &provider.settings, from.as_ref()) {
        checker.error(
            &format!("{base}/http/{}", error.field),
            format!("cannot be used: {}", error.message),
        );
    }
}

/// A credentials provider: exactly one of `authorize` and `lookup`, and what each needs.
fn check_credentials_provider(
    config: &Config,
    provider: &ProviderConfig,
    base: &str,
    checker: &mut Checker<'_>,
) {
    if provider.authorize.is_none() && provider.lookup.is_none() {
        checker.error(
            base,
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
    if let Some(lookup) = &provider.lookup {
        check_lookup(provider, lookup, base, checker);
    }
    let strategy = effective_strategy(config);
    if strategy == SessionStrategy::Database && config.session.credentials.is_none() {
        checker.error(
            base,
            "a credentials provider with the `database` session strategy needs `session.credentials: jwt` (issue JWT cookies, as Auth.js does) or `session.credentials: database`",
        );
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
            // A preset may give an endpoint's options (BoxyHQ's `provider: saml`) and
            // leave its URL to the user.
            RequiredField::Authorization => has_url(&provider.authorization),
            RequiredField::Token => has_url(&provider.token),
            RequiredField::Userinfo => has_url(&provider.userinfo),
            RequiredField::WellKnown => provider.well_known.is_some(),
            RequiredField::Server => provider.server.is_some(),
            RequiredField::From => provider.from.is_some(),
            RequiredField::ApiKey => provider.api_key.is_some(),
            RequiredField::Settings => !provider.settings.is_empty(),
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
    // A preset's `requires` names fields its user supplies; `check_preset_requirements`
    // reports those. Without `use:`, nothing is exempt.
    let from_preset = |field: &str| {
        provider.use_preset.is_some() && provider.requires.iter().any(|r| r.key() == field)
    };
    if provider.client_id.is_none() && !from_preset(RequiredField::ClientId.key()) {
        checker.error(&format!("{base}/clientId"), "required property is missing");
    }
    if provider.profile_from.is_some() && kind != ProviderKind::Oidc {
        checker.error(
            &format!("{base}/profileFrom"),
            "only an OpenID Connect provider (`type: oidc`) has an id_token to choose over userinfo",
        );
    }
    let discovers = provider.issuer.is_some() || provider.well_known.is_some();
    if kind == ProviderKind::Oidc && !discovers {
        if !from_preset(RequiredField::Issuer.key()) {
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
            if endpoint.is_none() && !from_preset(field) {
                checker.error(
                    &format!("{base}/{field}"),
                    "required property is missing (or set `issuer` to discover it)",
                );
            }
        }
    }
    check_round_trip_checks(provider, kind, base, checker);
    let endpoint = |name: &'static str, endpoint: &'a Option<Endpoint>| match endpoint {
        Some(Endpoint::Url(url)) => (name.to_string(), Some(url.as_str())),
        Some(Endpoint::Detailed(details)) => (format!("{name}/url"), details.url.as_deref()),
        None => (name.to_string(), None),
    };
    let discovery_url = provider
        .well_known
        .as_ref()
        .and_then(|_| provider.discovery_url());
    let urls = [
        ("issuer".to_string(), provider.issuer.as_deref()),
        ("wellKnown".to_string(), discovery_url.as_deref()),
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

/// `checks`: a round trip needs `state` or `pkce` to be tied to the browser that started
/// it, and `nonce` means something only in an OpenID Connect id_token. (Unknown names are
/// refused by the schema.)
fn check_round_trip_checks(
    provider: &ProviderConfig,
    kind: ProviderKind,
    base: &str,
    checker: &mut Checker<'_>,
) {
    let Some(checks) = &provider.checks else {
        return;
    };
    let pointer = format!("{base}/checks");
    if checks.contains(&Check::None) {
        checker.error(
            &pointer,
            "`none` turns every check off; list `state` and `pkce` (and `nonce` for oidc)",
        );
    } else if !checks.contains(&Check::State) && !checks.contains(&Check::Pkce) {
        checker.error(
            &pointer,
            "expected `state` or `pkce` (or both): without them a sign-in cannot be tied to the browser that started it",
        );
    }
    if checks.contains(&Check::Pkce) && !checks.contains(&Check::State) {
        checker.warning(
            &pointer,
            "without `state`, a provider that ignores PKCE accepts an authorization code injected into a user's sign-in; add `state`",
        );
    }
    if checks.contains(&Check::Nonce) && kind != ProviderKind::Oidc {
        checker.error(
            &pointer,
            "`nonce` is checked in an OpenID Connect id_token; this provider is `type: oauth`",
        );
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

/// Browsers keep a cookie at most 400 days, whatever it asks for.
pub const MAX_SESSION_AGE: super::values::Duration = super::values::Duration::from_days(400);

fn check_session(config: &Config, checker: &mut Checker<'_>) {
    for (pointer, age) in [
        ("/session/maxAge", Some(config.session.max_age)),
        ("/jwt/maxAge", config.jwt.max_age),
    ] {
        if let Some(age) = age
            && (age > MAX_SESSION_AGE || age.seconds() == 0)
        {
            checker.error(
                pointer,
                format!("must be between 1s and {MAX_SESSION_AGE} (browsers keep cookies at most 400 days), found `{age}`"),
            );
        }
    }
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

/// A cookie domain: host labels, optionally with a leading dot.
fn is_cookie_domain(domain: &str) -> bool {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A cookie path: starts with `/`, and nothing that would end or split the attribute.
fn is_cookie_path(path: &str) -> bool {
    path.starts_with('/')
        && !path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == ';' || c == ',')
}

/// A cookie name: an RFC 6265 token.
fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// A cookie setting to check: its pointer, its value, the rule, and what the rule expects.
type CookieAttribute<'a> = (String, &'a str, fn(&str) -> bool, &'static str);

/// The browser binding of sign-ins rests on a CSRF cookie that only this host can set:
/// a `__Host-` cookie on https. Say so when the configuration gives that up.
fn check_csrf_cookie_binding(config: &Config, checker: &mut Checker<'_>) {
    let Ok(url) = url::Url::parse(&config.url) else {
        return; // reported with `url`
    };
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if url.scheme() == "http" {
        if !loopback {
            checker.warning(
                "/url",
                "on plain http any subdomain can set authgate's cookies; serve it over https",
            );
        }
        return;
    }
    let csrf = CookiePolicy::new(&config.cookies, true).csrf_token;
    if !csrf.name.starts_with("__Host-") || csrf.domain.is_some() || !csrf.secure {
        checker.warning(
            "/cookies",
            "the CSRF cookie is not a `__Host-` cookie, so a sibling subdomain can set it and bind its own sign-ins to your users' browsers",
        );
    }
}

fn check_cookies(config: &Config, checker: &mut Checker<'_>) {
    if cookie_attributes_are_well_formed(config, checker) {
        check_cookie_prefix_rules(config, checker);
    }
}

/// Names, domains and paths that a `Set-Cookie` header can carry; false after reporting
/// one that it cannot.
fn cookie_attributes_are_well_formed(config: &Config, checker: &mut Checker<'_>) -> bool {
    let cookies = &config.cookies;
    let mut attributes: Vec<CookieAttribute<'_>> = Vec::new();
    if let Some(domain) = &cookies.domain {
        attributes.push((
            "/cookies/domain".into(),
            domain,
            is_cookie_domain,
            "a domain such as `.example.com`",
        ));
    }
    attributes.push((
        "/cookies/path".into(),
        &cookies.path,
        is_cookie_path,
        "a path such as `/`",
    ));
    for (kind, cookie) in &cookies.overrides {
        let base = format!("/cookies/overrides/{}", kind.key());
        if let Some(name) = &cookie.name {
            attributes.push((
                format!("{base}/name"),
                name,
                is_cookie_name,
                "a cookie name (letters, digits and `!#$%&'*+-.^_`|~`)",
            ));
        }
        if let Some(domain) = &cookie.domain {
            attributes.push((
                format!("{base}/domain"),
                domain,
                is_cookie_domain,
                "a domain such as `.example.com`",
            ));
        }
        if let Some(path) = &cookie.path {
            attributes.push((
                format!("{base}/path"),
                path,
                is_cookie_path,
                "a path such as `/`",
            ));
        }
    }
    let mut malformed = false;
    for (pointer, value, is_valid, expected) in attributes {
        if !is_valid(value) {
            malformed = true;
            let shown = checker.shown(&pointer, value);
            checker.error(&pointer, format!("expected {expected}, found{shown}"));
        }
    }
    !malformed
}

/// The rules browsers enforce, checked on the cookies authgate will really send: for the
/// configured URL, and for https too when a proxy may tell us the request is https.
fn check_cookie_prefix_rules(config: &Config, checker: &mut Checker<'_>) {
    let cookies = &config.cookies;
    let https = config.url.starts_with("https://");
    let mut variants = vec![https];
    if config.trust_host && !https {
        variants.push(true);
    }
    let mut reported = std::collections::BTreeSet::new();
    for https in variants {
        let policy = CookiePolicy::new(cookies, https);
        for (kind, spec) in policy.specs() {
            let overrides = cookies.overrides.get(&kind);
            let field = |field: &str| format!("/cookies/overrides/{}/{field}", kind.key());
            let name_pointer = if overrides.is_some_and(|o| o.name.is_some()) {
                field("name")
            } else {
                "/cookies/prefix".to_string()
            };
            let mut problems: Vec<(String, &str)> = Vec::new();
            if spec.name.starts_with("__Host-") {
                if spec.domain.is_some() {
                    let pointer = if overrides.is_some_and(|o| o.name.is_some())
                        || overrides.is_none_or(|o| o.domain.is_none())
                    {
                        name_pointer.clone()
                    } else {
                        field("domain")
                    };
                    problems.push((
                        pointer,
                        "a `__Host-` cookie cannot have a domain (remove the domain or the prefix)",
                    ));
                }
                if spec.path != "/" {
                    problems.push((
                        name_pointer.clone(),
                        "a `__Host-` cookie must have path `/`",
                    ));
                }
            }
            if (spec.name.starts_with("__Host-") || spec.name.starts_with("__Secure-"))
                && !spec.secure
            {
                problems.push((name_pointer.clone(), "a `__Host-` or `__Secure-` cookie must be secure (an https `url`, or `secure: true`)"));
            }
            if spec.same_site == SameSite::None && !spec.secure {
                let pointer = if overrides.is_some_and(|o| o.same_site.is_some()) {
                    field("sameSite")
                } else {
                    "/cookies/sameSite".to_string()
                };
                problems.push((
                    pointer,
                    "`none` needs secure cookies (an https `url`, or `cookies.secure: true`)",
                ));
            }
            for (pointer, message) in problems {
                if reported.insert((pointer.clone(), message)) {
                    checker.error(&pointer, message);
                }
            }
        }
    }
}

/// Every `:name` the lookup binds, and its password field, must be a declared credential.
fn check_lookup(
    provider: &ProviderConfig,
    lookup: &crate::config::provider::CredentialsLookup,
    base: &str,
    checker: &mut Checker<'_>,
) {
    let declared = |name: &str| {
        provider
            .credentials
            .as_ref()
            .is_some_and(|fields| fields.contains_key(name))
    };
    let (_, parameters) = crate::store::lookup::named_parameters(&lookup.query);
    for parameter in parameters {
        if !declared(&parameter) {
            checker.error(
                &format!("{base}/lookup/query"),
                format!(
                    "binds `:{parameter}`, which is not one of the provider's `credentials` fields"
                ),
            );
        }
    }
    if !declared(&lookup.password_field) {
        checker.error(
            &format!("{base}/lookup/passwordField"),
            format!(
                "`{}` is not one of the provider's `credentials` fields",
                lookup.password_field
            ),
        );
    }
}

fn check_database(config: &Config, checker: &mut Checker<'_>) {
    let Some(database) = &config.database else {
        return;
    };
    if crate::store::Dialect::of_url(database.url.expose()).is_none() {
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
                    "expected a path starting with `/` or an absolute http(s) URL, found{}",
                    checker.shown(&format!("/pages/{key}"), page)
                ),
            );
        }
    }
}

/// `pages.messages` keys and the theme's colours and logo.
fn check_page_look(config: &Config, checker: &mut Checker<'_>) {
    use crate::pages::messages::{DEFAULT_MESSAGES, is_known_key};
    use crate::pages::theme::{
        DEFAULT_BRAND_COLOR, DEFAULT_BUTTON_TEXT, MIN_TEXT_CONTRAST, contrast_ratio, image_source,
    };
    for key in config.pages.messages.keys() {
        if !is_known_key(key) {
            let hint = crate::text::did_you_mean(key, DEFAULT_MESSAGES.iter().map(|(k, _)| *k))
                .map(|known| format!("; did you mean `{known}`?"))
                .unwrap_or_default();
            checker.error(
                &format!(
                    "/pages/messages/{}",
                    super::yaml::escape_pointer_segment(key)
                ),
                format!("unknown message key {}{hint}", quoted(key)),
            );
        }
    }
    let theme = &config.theme;
    for (key, color) in [
        ("brandColor", &theme.brand_color),
        ("buttonText", &theme.button_text),
    ] {
        if let Some(color) = color
            && crate::text::css_color(color).is_none()
        {
            checker.error(
                &format!("/theme/{key}"),
                format!(
                    "expected a colour such as `#346df1` or `white`, found {}",
                    quoted(color)
                ),
            );
        }
    }
    if let Some(logo) = &theme.logo
        && image_source(logo).is_none()
    {
        checker.error(
            "/theme/logo",
            "expected an https URL, a path starting with `/`, a `data:image/` URL or inline `<svg>`",
        );
    }
    let brand = theme.brand_color.as_deref().unwrap_or(DEFAULT_BRAND_COLOR);
    let text = theme.button_text.as_deref().unwrap_or(DEFAULT_BUTTON_TEXT);
    if let Some(ratio) = contrast_ratio(brand, text)
        && ratio < MIN_TEXT_CONTRAST
    {
        let pointer = if theme.button_text.is_some() {
            "/theme/buttonText"
        } else {
            "/theme/brandColor"
        };
        checker.warning(
            pointer,
            format!(
                "`{text}` on `{brand}` has a contrast of {ratio:.1}:1, below the {MIN_TEXT_CONTRAST}:1 that text needs to be readable; the pages use black or white text instead"
            ),
        );
    }
}

/// Account and session management: what needs a database, and the admin token.
fn check_management(config: &Config, checker: &mut Checker<'_>) {
    if config.database.is_none() {
        if config.linking.max_age.is_some() {
            checker.warning(
                "/linking/maxAge",
                "has no effect without a `database`: accounts are linked only with a store",
            );
        }
        if config.events.unlink_account.is_some() {
            checker.warning(
                "/events/unlinkAccount",
                "never runs without a `database`: /accounts, /unlink and /sessions answer 501",
            );
        }
    }
    if config.session.revocation_staleness.seconds() > MAX_REVOCATION_STALENESS {
        checker.error(
            "/session/revocationStaleness",
            format!(
                "at most {MAX_REVOCATION_STALENESS}s: a revoked session must stop working soon"
            ),
        );
    }
    let issues_jwts = effective_strategy(config) == SessionStrategy::Jwt
        || config.session.credentials == Some(SessionStrategy::Jwt);
    if config.database.is_some() && !config.session.track_jwt_sessions && issues_jwts {
        checker.warning(
            "/session/trackJwtSessions",
            "JWT sessions are not tracked: they cannot be listed or revoked, and disabling a user does not end them",
        );
    }
    if let Some(token) = &config.server.admin.bearer_token
        && token.expose().len() < MIN_SECRET_BYTES
    {
        checker.error(
            "/server/admin/bearerToken",
            format!("must be at least {MIN_SECRET_BYTES} characters (value hidden)"),
        );
    }
}

/// `redirect.allowedHosts` and `forwardAuth`: patterns, proxies, header names, rules.
fn check_forward_auth(config: &Config, checker: &mut Checker<'_>) {
    use crate::forward_auth::parse_net;
    use crate::forward_auth::patterns::is_host_pattern;
    for (index, host) in config.redirect.allowed_hosts.iter().enumerate() {
        if !is_host_pattern(host) {
            checker.error(
                &format!("/redirect/allowedHosts/{index}"),
                format!("expected a host such as `app.example.com`, `app.example.com:8443` or `*.example.com`, found {}", quoted(host)),
            );
        }
    }
    let forward_auth = &config.forward_auth;
    for (index, entry) in forward_auth.trusted_proxies.iter().enumerate() {
        if parse_net(entry).is_none() {
            checker.error(
                &format!("/forwardAuth/trustedProxies/{index}"),
                format!(
                    "expected an address or a CIDR range such as `10.0.0.0/8`, found {}",
                    quoted(entry)
                ),
            );
        }
    }
    let names = &forward_auth.headers;
    for (key, name) in [
        ("user", &names.user),
        ("email", &names.email),
        ("name", &names.name),
    ] {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            checker.error(
                &format!("/forwardAuth/headers/{key}"),
                format!("not a header name: {}", quoted(name)),
            );
        }
    }
    for (index, rule) in forward_auth.rules.iter().enumerate() {
        let at = |field: &str| format!("/forwardAuth/rules/{index}/{field}");
        for host in &rule.hosts {
            if host.contains(':') || !is_host_pattern(host) {
                checker.error(
                    &at("hosts"),
                    format!("expected a host such as `app.example.com` or `*.example.com` (no port), found {}", quoted(host)),
                );
            }
        }
        for path in &rule.paths {
            if !(path.starts_with('/') || path.starts_with('*')) {
                checker.error(
                    &at("paths"),
                    format!(
                        "expected a path starting with `/` (or `*`), found {}",
                        quoted(path)
                    ),
                );
            }
        }
        for method in &rule.methods {
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
                checker.error(&at("methods"), format!("not a method: {}", quoted(method)));
            }
        }
        match (rule.access, &rule.authorize) {
            (super::model::Access::Script, None) => checker.error(
                &at("access"),
                "`access: script` needs an `authorize` script",
            ),
            (access, Some(_)) if access != super::model::Access::Script => {
                checker.error(&at("authorize"), "is only run with `access: script`")
            }
            _ => {}
        }
    }
}

/// Access tokens, introspection clients and CORS origins.
fn check_tokens_and_cors(config: &Config, checker: &mut Checker<'_>) {
    if let Some(tokens) = &config.access_tokens {
        if !config.jwt.algorithm.is_asymmetric() {
            checker.error(
                "/accessTokens",
                "access tokens are signed with the asymmetric `jwt.keys`: set `jwt.algorithm` (ES256, RS256, ...) and `jwt.keys`",
            );
        }
        if config.database.is_none() {
            checker.error(
                "/accessTokens",
                "access tokens need a `database`: only a session the store tracks names its user reliably",
            );
        }
        if tokens.audience.trim().is_empty() {
            checker.error(
                "/accessTokens/audience",
                "must name the API the tokens are for",
            );
        }
        let lifetime = tokens.lifetime.seconds();
        if lifetime == 0 || lifetime > 3600 {
            checker.error("/accessTokens/lifetime", "must be between 1s and 1h");
        }
    }
    let clients = &config.introspection.clients;
    for (index, client) in clients.iter().enumerate() {
        if client.secret.expose().len() < MIN_SECRET_BYTES {
            checker.error(
                &format!("/introspection/clients/{index}/secret"),
                format!("must be at least {MIN_SECRET_BYTES} characters (value hidden)"),
            );
        }
        if clients[..index].iter().any(|other| other.id == client.id) {
            checker.error(
                &format!("/introspection/clients/{index}/id"),
                format!("{} is listed twice", quoted(&client.id)),
            );
        }
    }
    for (index, origin) in config.cors.allowed_origins.iter().enumerate() {
        let https_site = config.url.starts_with("https://");
        let exact = url::Url::parse(origin).is_ok_and(|url| {
            let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            (url.scheme() == "https" || (url.scheme() == "http" && (!https_site || loopback)))
                && url.origin().ascii_serialization() == *origin
        });
        if !exact {
            checker.error(
                &format!("/cors/allowedOrigins/{index}"),
                format!("expected an origin such as `https://spa.example.com` (no path, no trailing slash; http only when `url` is http or for loopback), found {}", quoted(origin)),
            );
        }
    }
}

/// Webhook endpoints and the shared state.
fn check_operations(config: &Config, checker: &mut Checker<'_>) {
    use super::operations::StateBackend;
    let webhooks = &config.webhooks;
    for (index, endpoint) in webhooks.endpoints.iter().enumerate() {
        let at = |field: &str| format!("/webhooks/endpoints/{index}/{field}");
        let acceptable = url::Url::parse(&endpoint.url).is_ok_and(|url| match url.scheme() {
            "https" => url.host().is_some(),
            "http" => {
                matches!(url.host(), Some(url::Host::Domain("localhost")))
                    || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                    || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            }
            _ => false,
        });
        if !acceptable {
            let pointer = at("url");
            let found = checker.shown(&pointer, &endpoint.url);
            checker.error(
                &pointer,
                format!("expected an https URL (http only for a loopback host), found{found}"),
            );
        }
        if let Err(problem) = crate::webhooks::signing::parse_secret(endpoint.secret.expose()) {
            checker.error(&at("secret"), problem);
        }
    }
    if webhooks.backoff.seconds() == 0 {
        checker.error("/webhooks/backoff", "must be at least 1s");
    }
    if webhooks.max_backoff < webhooks.backoff {
        checker.error("/webhooks/maxBackoff", "must not be shorter than `backoff`");
    }
    let timeout = webhooks.timeout.seconds();
    // The HTTP client gives up after 10 s whatever is asked.
    if timeout == 0 || timeout > 10 {
        checker.error("/webhooks/timeout", "must be between 1s and 10s");
    }
    let state = &config.state;
    match (state.backend, &state.redis) {
        (StateBackend::Redis, None) => {
            checker.error("/state/redis", "`backend: redis` needs `redis.url`");
        }
        (StateBackend::Redis, Some(redis)) => {
            let url = redis.url.expose();
            let scheme_ok = url.starts_with("redis://") || url.starts_with("rediss://");
            if !scheme_ok || ::redis::Client::open(url).is_err() {
                checker.error(
                    "/state/redis/url",
                    "expected `redis://host:port/db` or `rediss://...` (value hidden)",
                );
            }
            if redis.key_prefix.is_empty() {
                checker.error(
                    "/state/redis/keyPrefix",
                    "must not be empty: the keys would mix with other applications' keys",
                );
            }
            if redis.timeout.as_std().is_zero() {
                checker.error("/state/redis/timeout", "must be more than 0");
            }
        }
        (StateBackend::Database, _) if config.database.is_none() => {
            checker.error("/state/backend", "`backend: database` needs a `database`");
        }
        (StateBackend::Local | StateBackend::Database, Some(_)) => {
            checker.warning("/state/redis", "is used only with `backend: redis`");
        }
        _ => {}
    }
}

fn check_passwords(config: &Config, checker: &mut Checker<'_>) {
    if let Err(error) = crate::password::check_cost(&config.passwords.cost) {
        checker.error("/passwords/cost", error);
    }
}

/// `server.listen` and `server.admin.listen`: a socket address, or `localhost:<port>`.
fn listen_address(listen: &str) -> Option<Option<SocketAddr>> {
    if let Ok(address) = listen.parse::<SocketAddr>() {
        return Some(Some(address));
    }
    listen
        .strip_prefix("localhost:")
        .and_then(|port| port.parse::<u16>().ok())
        .map(|_| None)
}

fn check_server(config: &Config, checker: &mut Checker<'_>) {
    let admin = &config.server.admin;
    for (pointer, listen) in [
        ("/server/listen", &config.server.listen),
        ("/server/admin/listen", &admin.listen),
    ] {
        if listen_address(listen).is_none() {
            checker.error(
                pointer,
                format!(
                    "expected an address such as `127.0.0.1:3000` or `[::]:3000`, found{}",
                    checker.shown(pointer, listen)
                ),
            );
        }
    }
    // `localhost:` is loopback; an address must be one.
    if admin.enabled
        && listen_address(&admin.listen)
            .flatten()
            .is_some_and(|address| !address.ip().is_loopback())
    {
        checker.warning(
            "/server/admin/listen",
            "the admin listener has no authentication; keep it on a loopback address or a private network",
        );
    }
    if tracing_subscriber::EnvFilter::try_new(&config.logging.level).is_err() {
        let shown = checker.shown("/logging/level", &config.logging.level);
        checker.error(
            "/logging/level",
            format!("expected a log filter such as `info` or `authgate=debug,warn`, found{shown}"),
        );
    }
}

fn has_url(endpoint: &Option<crate::config::values::Endpoint>) -> bool {
    endpoint
        .as_ref()
        .and_then(|endpoint| endpoint.url())
        .is_some()
}
