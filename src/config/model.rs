//! The configuration model of `authgate.yaml`: the types serde reads and schemars turns into
//! `schema/authgate.schema.json`. Keys are camelCase, as in Auth.js. Defaults live here, so
//! that the schema shows them to an editor.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::provider::ProviderConfig;
use super::values::{Duration, Rate, ScriptSource, Secret, SecretString};

/// The whole configuration of one authgate server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "authgate configuration")]
pub struct Config {
    /// Public base URL of the server, for example `https://auth.example.com`.
    #[schemars(example = "https://auth.example.com", example = "${AUTHGATE_URL}")]
    pub url: String,
    /// Path under which the Auth.js routes are served.
    #[serde(default = "default_base_path")]
    #[schemars(example = "/api/auth")]
    pub base_path: String,
    /// At least 32 bytes of random data; a list rotates secrets, newest first.
    #[schemars(example = "${AUTHGATE_SECRET}")]
    pub secret: Secret,
    /// Trust `X-Forwarded-Host` / `X-Forwarded-Proto` from a proxy in front.
    #[serde(default)]
    pub trust_host: bool,
    /// With `trustHost`: how many proxies in front of authgate append to
    /// `X-Forwarded-Host` / `X-Forwarded-Proto`. The value that many places from the right
    /// is used (the one the nearest trusted proxy wrote), never one a client put first.
    #[serde(default = "default_proxy_hops")]
    #[schemars(range(min = 1, max = 16))]
    #[schemars(example = 1, example = 2)]
    pub proxy_hops: usize,
    /// Sign-in providers, shown in this order.
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    /// How sessions are kept: the strategy and their lifetimes.
    #[serde(default)]
    pub session: SessionConfig,
    /// The session token's encryption, and the algorithm and keys that sign it (and access
    /// tokens).
    #[serde(default)]
    pub jwt: JwtConfig,
    /// Names and attributes of the cookies authgate sets.
    #[serde(default)]
    pub cookies: CookiesConfig,
    /// Where users, accounts, sessions and verification tokens are stored; omit for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseConfig>,
    /// Rhai scripts that decide sign-ins and redirects and shape the token and the session.
    #[serde(default)]
    pub callbacks: CallbacksConfig,
    /// Rhai scripts run after sign-ins, sign-outs and other events; their result is ignored.
    #[serde(default)]
    pub events: EventsConfig,
    /// The app's own pages instead of the built-in ones, templates replacing them, and their
    /// wording.
    #[serde(default)]
    pub pages: PagesConfig,
    /// Colour scheme, logo and button colours of the built-in pages; the sign-in email uses
    /// the colours too.
    #[serde(default)]
    pub theme: ThemeConfig,
    /// How stored password hashes are checked: their scheme and cost.
    #[serde(default)]
    pub passwords: PasswordsConfig,
    /// The listener, its workers and limits, and the admin listener. Changing them needs a
    /// restart.
    #[serde(default)]
    pub server: ServerConfig,
    /// The server log (on stderr) and the audit log. Changing them needs a restart.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// Limits every Rhai script runs under.
    #[serde(default)]
    pub scripting: ScriptingConfig,
    /// Limits on sign-in attempts: links requested, credentials submitted and OAuth sign-ins
    /// started.
    #[serde(default)]
    pub rate_limits: RateLimitsConfig,
    /// When another provider account may be linked to a signed-in user.
    #[serde(default)]
    pub linking: LinkingConfig,
    /// Where a callbackUrl may lead besides `url`'s own origin.
    #[serde(default)]
    pub redirect: RedirectConfig,
    /// `GET {basePath}/forward-auth` for nginx, Caddy and Traefik: trusted proxies, identity
    /// headers and access rules.
    #[serde(default)]
    pub forward_auth: ForwardAuthConfig,
    /// `GET {basePath}/token`: short-lived access tokens for APIs. Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_tokens: Option<AccessTokensConfig>,
    /// `POST {basePath}/introspect` (RFC 7662) for these clients. Off when empty.
    #[serde(default)]
    pub introspection: IntrospectionConfig,
    /// Cross-origin use of the JSON endpoints. Off by default.
    #[serde(default)]
    pub cors: CorsConfig,
    /// Events POSTed to HTTP endpoints, signed (Standard Webhooks). Off by default.
    #[serde(default)]
    pub webhooks: super::operations::WebhooksConfig,
    /// State shared by several instances (Redis or the database). Local by default.
    #[serde(default)]
    pub state: super::operations::StateConfig,
}

/// Access tokens: JWTs (`typ: at+jwt`) signed with the asymmetric `jwt.keys`, verifiable
/// offline against `{basePath}/jwks`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessTokensConfig {
    /// The `aud` claim: the API the tokens are for.
    #[schemars(example = "https://api.example.com")]
    pub audience: String,
    /// How long a token is valid (at most 1h).
    #[serde(default = "default_access_token_lifetime")]
    #[schemars(example = "5m", example = "15m")]
    pub lifetime: Duration,
    /// Shapes the claims: gets `claims` (`iss, sub, aud, iat, exp, jti, sid, name, email`),
    /// `session` and `user`, and returns the claims. `iss`, `sub`, `aud`, `iat`, `exp`,
    /// `jti` and `sid` stay what authgate set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "claims.roles = [user.role];\nclaims\n", example = serde_json::json!({"file": "scripts/claims.rhai"}))]
    pub claims: Option<ScriptSource>,
}

fn default_access_token_lifetime() -> Duration {
    Duration::from_seconds(300)
}

/// Who may introspect tokens.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IntrospectionConfig {
    /// Clients, authenticated with HTTP Basic (or `client_id`/`client_secret` form fields).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<IntrospectionClient>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IntrospectionClient {
    /// The client's id: the HTTP Basic user name, or the `client_id` form field.
    #[schemars(example = "api-gateway")]
    pub id: String,
    /// 32 or more characters, from the environment: `${API_GATEWAY_SECRET}`.
    #[schemars(example = "${API_GATEWAY_SECRET}")]
    pub secret: SecretString,
    /// Also introspect session tokens (cookies), not only access tokens. Default false: a
    /// session token is no credential for an API.
    #[serde(default)]
    pub session_tokens: bool,
}

/// CORS for `{basePath}/...`: which other origins may call it from a browser.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CorsConfig {
    /// Exact origins (`https://spa.example.com`); none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = ["https://spa.example.com"])]
    pub allowed_origins: Vec<String>,
    /// Let those origins send cookies (`credentials: "include"`), as the browser client
    /// does. Default true.
    #[serde(default = "default_true")]
    pub allow_credentials: bool,
}

/// Where a callbackUrl may lead besides `url`'s own origin.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedirectConfig {
    /// Hosts a callbackUrl may name (http or https): `app.example.com` (ports 80 and 443),
    /// `app.example.com:8443` (that port), or `*.example.com` (any subdomain, not the
    /// domain itself). For apps protected with forward-auth on other hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = ["app.example.com", "*.example.com"])]
    pub allowed_hosts: Vec<String>,
}

/// `GET {basePath}/forward-auth`, for nginx `auth_request`, Caddy `forward_auth` and
/// Traefik `forwardAuth`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForwardAuthConfig {
    /// Peers (addresses or CIDR ranges) whose `X-Original-*` / `X-Forwarded-*` headers
    /// describe the original request; a request from any other peer is refused (403).
    #[serde(default = "default_trusted_proxies")]
    #[schemars(example = ["127.0.0.1", "10.0.0.0/8"])]
    pub trusted_proxies: Vec<String>,
    /// The identity headers a granted request carries to the upstream.
    #[serde(default)]
    pub headers: ForwardAuthHeaders,
    /// For Caddy and Traefik (`X-Forwarded-Uri`): answer a request without a session with a
    /// redirect to the sign-in page (the original URL as `callbackUrl`) instead of 401.
    /// nginx's `auth_request` needs the 401 (see the README's `error_page 401` recipe).
    #[serde(default)]
    pub redirect_to_sign_in: bool,
    /// Access rules, first match wins; a request no rule matches needs a session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<AccessRule>,
}

impl Default for ForwardAuthConfig {
    fn default() -> Self {
        ForwardAuthConfig {
            trusted_proxies: default_trusted_proxies(),
            headers: ForwardAuthHeaders::default(),
            redirect_to_sign_in: false,
            rules: Vec::new(),
        }
    }
}

fn default_trusted_proxies() -> Vec<String> {
    vec!["127.0.0.0/8".into(), "::1/128".into()]
}

/// Header names for the upstream.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForwardAuthHeaders {
    /// The user's id (`session.user.id`), else their email.
    #[serde(default = "default_user_header")]
    #[schemars(example = "X-Auth-Request-User", example = "Remote-User")]
    pub user: String,
    /// The user's email (`session.user.email`); empty when unknown.
    #[serde(default = "default_email_header")]
    #[schemars(example = "X-Auth-Request-Email", example = "Remote-Email")]
    pub email: String,
    /// The user's name (`session.user.name`); empty when unknown.
    #[serde(default = "default_name_header")]
    #[schemars(example = "X-Auth-Request-Name", example = "Remote-Name")]
    pub name: String,
}

impl Default for ForwardAuthHeaders {
    fn default() -> Self {
        ForwardAuthHeaders {
            user: default_user_header(),
            email: default_email_header(),
            name: default_name_header(),
        }
    }
}

fn default_user_header() -> String {
    "X-Auth-Request-User".into()
}

fn default_email_header() -> String {
    "X-Auth-Request-Email".into()
}

fn default_name_header() -> String {
    "X-Auth-Request-Name".into()
}

/// Who may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Everyone, signed in or not.
    Anonymous,
    /// Anyone with a session.
    Session,
    /// Whoever the rule's `authorize` script allows (it runs with or without a session).
    Script,
    /// No one.
    Deny,
}

/// One access rule: what it matches (every field it sets must match) and who may pass.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessRule {
    /// `app.example.com` or `*.example.com`; any host when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = ["app.example.com", "*.example.com"])]
    pub hosts: Vec<String>,
    /// Paths, where `*` matches any run of characters: `/public/*`, `/health`; any path when
    /// empty. The query string is not part of the path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = ["/public/*", "/health"])]
    pub paths: Vec<String>,
    /// `GET`, `POST`, ...; any method when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = ["GET", "HEAD"])]
    pub methods: Vec<String>,
    /// Who may pass when the rule matches: `anonymous`, `session`, `script` (the rule's
    /// `authorize` decides) or `deny`.
    pub access: Access,
    /// With `access: script`: gets `user`, `session` (both `()` without a session) and
    /// `request` (`method, host, path, uri, proto`), and returns `true`, `false`, or
    /// `#{allow: bool, headers: #{name: value}}` (extra headers for the upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "user != () && user.email.ends_with(\"@example.com\")", example = serde_json::json!({"file": "scripts/admins-only.rhai"}))]
    pub authorize: Option<ScriptSource>,
}

/// Linking another provider account to a signed-in user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LinkingConfig {
    /// Link a new account only to a session signed in at most this long ago (the user
    /// signs in again first); needs a database. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "10m", example = "1h")]
    pub max_age: Option<Duration>,
}

fn default_proxy_hops() -> usize {
    1
}

fn default_base_path() -> String {
    "/api/auth".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStrategy {
    Jwt,
    Database,
}

impl SessionStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStrategy::Jwt => "jwt",
            SessionStrategy::Database => "database",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionConfig {
    /// `jwt` or `database`; default: `database` when a database is configured, else `jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"jwt", example = &"database")]
    pub strategy: Option<SessionStrategy>,
    /// How long an idle session lives.
    #[serde(default = "default_session_max_age")]
    #[schemars(example = "30d")]
    pub max_age: Duration,
    /// How often a session's expiry is pushed forward.
    #[serde(default = "default_session_update_age")]
    #[schemars(example = "24h")]
    pub update_age: Duration,
    /// With the `database` strategy, what a credentials sign-in issues: `jwt` (as
    /// Auth.js does) or a real `database` session. Required when both are configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<SessionStrategy>,
    /// With a database: record every JWT session (by its `sid` claim), so that users see
    /// and revoke them and a disabled user's tokens stop working. A JWT without a recorded
    /// session then reads as no session.
    #[serde(default = "default_true")]
    pub track_jwt_sessions: bool,
    /// How long a JWT session's recorded state (revoked, user disabled) may be reused
    /// before the database is asked again: the most a revocation takes to reach the
    /// session reads of another process. At most 5m.
    #[serde(default = "default_revocation_staleness")]
    #[schemars(example = "5s", example = "30s")]
    pub revocation_staleness: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            strategy: None,
            max_age: default_session_max_age(),
            update_age: default_session_update_age(),
            credentials: None,
            track_jwt_sessions: true,
            revocation_staleness: default_revocation_staleness(),
        }
    }
}

fn default_revocation_staleness() -> Duration {
    Duration::from_seconds(5)
}

fn default_session_max_age() -> Duration {
    Duration::from_days(30)
}

fn default_session_update_age() -> Duration {
    Duration::from_seconds(86_400)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtConfig {
    /// Encrypt the session token (JWE `dir` + A256GCM) instead of only signing it.
    #[serde(default)]
    pub encryption: bool,
    /// Signing algorithm; asymmetric ones need `keys`.
    #[serde(default)]
    pub algorithm: JwtAlgorithm,
    /// Signing keys (PEM or JWK files); the first signs, all verify.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<JwtKeyFile>,
    /// Lifetime of the token; defaults to `session.maxAge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "7d", example = "12h")]
    pub max_age: Option<Duration>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum JwtAlgorithm {
    #[default]
    HS512,
    RS256,
    PS256,
    ES256,
    EdDSA,
}

impl JwtAlgorithm {
    pub fn is_asymmetric(self) -> bool {
        !matches!(self, JwtAlgorithm::HS512)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtKeyFile {
    /// PEM or JWK file, relative to the config file.
    #[schemars(example = "keys/session.pem", example = "keys/previous.jwk.json")]
    pub file: PathBuf,
    /// Key id published in the JWKS and the token header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "2026-01", example = "session-2026")]
    pub kid: Option<String>,
}

/// `true`, `false`, or `auto` (secure when `url` is https).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CookieSecure {
    Fixed(bool),
    Mode(AutoKeyword),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AutoKeyword {
    Auto,
}

impl Default for CookieSecure {
    fn default() -> Self {
        CookieSecure::Mode(AutoKeyword::Auto)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    #[default]
    Lax,
    Strict,
    None,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CookiesConfig {
    /// Prefix of every cookie name: `authjs.` (Auth.js v5) or `next-auth.` (v4 apps).
    #[serde(default = "default_cookie_prefix")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]*$"))]
    #[schemars(example = "authjs.", example = "next-auth.")]
    pub prefix: String,
    /// Whether cookies are `Secure` (which also gives their names the `__Secure-` or, for
    /// the CSRF cookie, `__Host-` prefix): `true`, `false`, or `auto` (when `url` is https).
    #[serde(default)]
    pub secure: CookieSecure,
    /// Share cookies across subdomains, for example `.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = ".example.com")]
    pub domain: Option<String>,
    /// The `SameSite` attribute of every cookie: `lax`, `strict`, or `none` (which needs
    /// secure cookies).
    #[serde(default)]
    pub same_site: SameSite,
    /// The `Path` attribute of every cookie (a secure CSRF cookie keeps `/`).
    #[serde(default = "default_cookie_path")]
    #[schemars(example = "/", example = "/app")]
    pub path: String,
    /// Per-cookie overrides, keyed by cookie kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(transform = describe_cookie_kinds)]
    pub overrides: BTreeMap<CookieKind, CookieOverride>,
}

impl Default for CookiesConfig {
    fn default() -> Self {
        CookiesConfig {
            prefix: default_cookie_prefix(),
            secure: CookieSecure::default(),
            domain: None,
            same_site: SameSite::default(),
            path: default_cookie_path(),
            overrides: BTreeMap::new(),
        }
    }
}

fn default_cookie_prefix() -> String {
    "authjs.".to_string()
}

fn default_cookie_path() -> String {
    "/".to_string()
}

/// Describes each key of `cookies.overrides` in the schema: a map keyed by an enum has no
/// field to carry a doc comment.
fn describe_cookie_kinds(schema: &mut schemars::Schema) {
    for kind in CookieKind::ALL {
        let description = match kind {
            CookieKind::SessionToken => "The session cookie, `<prefix>session-token`.",
            CookieKind::CsrfToken => "The CSRF token cookie, `<prefix>csrf-token`.",
            CookieKind::CallbackUrl => {
                "The cookie keeping the callbackUrl, `<prefix>callback-url`."
            }
            CookieKind::PkceCodeVerifier => {
                "The PKCE verifier of an OAuth round trip, `<prefix>pkce.code_verifier`."
            }
            CookieKind::State => "The `state` of an OAuth round trip, `<prefix>state`.",
            CookieKind::Nonce => "The OpenID Connect `nonce` of a round trip, `<prefix>nonce`.",
        };
        if let Some(property) = schema
            .pointer_mut(&format!("/properties/{}", kind.key()))
            .and_then(serde_json::Value::as_object_mut)
        {
            property.insert("description".into(), description.into());
        }
    }
}

/// The cookies authgate sets.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum CookieKind {
    SessionToken,
    CsrfToken,
    CallbackUrl,
    PkceCodeVerifier,
    State,
    Nonce,
}

impl CookieKind {
    pub const ALL: [CookieKind; 6] = [
        CookieKind::SessionToken,
        CookieKind::CsrfToken,
        CookieKind::CallbackUrl,
        CookieKind::PkceCodeVerifier,
        CookieKind::State,
        CookieKind::Nonce,
    ];

    /// The name after the prefix, as Auth.js spells it.
    pub fn base_name(self) -> &'static str {
        match self {
            CookieKind::SessionToken => "session-token",
            CookieKind::CsrfToken => "csrf-token",
            CookieKind::CallbackUrl => "callback-url",
            CookieKind::PkceCodeVerifier => "pkce.code_verifier",
            CookieKind::State => "state",
            CookieKind::Nonce => "nonce",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            CookieKind::SessionToken => "sessionToken",
            CookieKind::CsrfToken => "csrfToken",
            CookieKind::CallbackUrl => "callbackUrl",
            CookieKind::PkceCodeVerifier => "pkceCodeVerifier",
            CookieKind::State => "state",
            CookieKind::Nonce => "nonce",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CookieOverride {
    /// Full cookie name, replacing the computed one (prefixes included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "__Secure-acme.session-token", example = "acme-session")]
    pub name: Option<String>,
    /// This cookie's `Domain`, instead of `cookies.domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = ".example.com", example = "auth.example.com")]
    pub domain: Option<String>,
    /// This cookie's `Path`, instead of `cookies.path` (a secure CSRF cookie keeps `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "/", example = "/api/auth")]
    pub path: Option<String>,
    /// This cookie's `SameSite`, instead of `cookies.sameSite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<SameSite>,
    /// Whether this cookie is `Secure`, instead of `cookies.secure`; it also decides the
    /// name's `__Secure-` or `__Host-` prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseConfig {
    /// `sqlite://authgate.db`, `postgres://...` or `mysql://...` (quote it in YAML).
    #[schemars(
        example = "sqlite://authgate.db",
        example = "postgres://authgate@db/authgate"
    )]
    pub url: SecretString,
    /// Most connections the pool opens to the database (at least 1).
    #[serde(default = "default_max_connections")]
    #[schemars(example = 10, example = 25)]
    pub max_connections: u32,
    /// How long a request waits for a free connection.
    #[serde(default = "default_acquire_timeout")]
    #[schemars(example = "5s", example = "30s")]
    pub acquire_timeout: Duration,
    /// How often expired sessions and verification tokens are deleted.
    #[serde(default = "default_purge_interval")]
    #[schemars(example = "1h", example = "6h")]
    pub purge_interval: Duration,
}

fn default_purge_interval() -> Duration {
    Duration::from_seconds(3600)
}

fn default_max_connections() -> u32 {
    10
}

fn default_acquire_timeout() -> Duration {
    Duration::from_seconds(5)
}

/// Rhai scripts deciding sign-in, redirects and token/session contents.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallbacksConfig {
    /// Gets `user, account, profile, email, credentials`; returns `true`, `false` or a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "user.email != () && user.email.ends_with(\"@example.com\")", example = serde_json::json!({"file": "scripts/sign-in.rhai"}))]
    pub sign_in: Option<ScriptSource>,
    /// Gets `url, baseUrl`; returns the URL to redirect to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "if url.starts_with(\"https://partner.example.net/\") { url } else { baseUrl }", example = serde_json::json!({"file": "scripts/redirect.rhai"}))]
    pub redirect: Option<ScriptSource>,
    /// Gets `token, user, account, profile, trigger, isNewUser, session`; returns the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "if user != () {\n  token.role = user.role;\n}\ntoken\n", example = serde_json::json!({"file": "scripts/jwt.rhai"}))]
    pub jwt: Option<ScriptSource>,
    /// Gets `session, token, user`; returns the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "session.user.id = token.sub;\nsession.user.role = token.role;\nsession\n", example = serde_json::json!({"file": "scripts/session.rhai"}))]
    pub session: Option<ScriptSource>,
}

/// Rhai scripts run after the fact; their result is ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventsConfig {
    /// Gets `user, account, profile, isNewUser` after a successful sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "log_info(`signed in: ${user.email}`);", example = serde_json::json!({"file": "scripts/on-sign-in.rhai"}))]
    pub sign_in: Option<ScriptSource>,
    /// Gets `token` (a JWT session) or `session` (a database session) after a sign-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "log_info(\"signed out\");", example = serde_json::json!({"file": "scripts/on-sign-out.rhai"}))]
    pub sign_out: Option<ScriptSource>,
    /// Gets `user` after a sign-in created a user in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "log_info(`new user: ${user.id}`);", example = serde_json::json!({"file": "scripts/on-create-user.rhai"}))]
    pub create_user: Option<ScriptSource>,
    /// Gets `user` after an email sign-in of an existing user set its `emailVerified` to
    /// now, as Auth.js's `updateUser` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "log_info(`updated user: ${user.id}`);", example = serde_json::json!({"file": "scripts/on-update-user.rhai"}))]
    pub update_user: Option<ScriptSource>,
    /// Gets `user, account, profile` after a sign-in linked an account to a user, a new
    /// user's first account included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "log_info(`linked ${account.provider} to ${user.id}`);", example = serde_json::json!({"file": "scripts/on-link-account.rhai"}))]
    pub link_account: Option<ScriptSource>,
    /// Gets `user, account` (without tokens) after the user unlinked an account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "log_info(`unlinked ${account.provider} from ${user.id}`);", example = serde_json::json!({"file": "scripts/on-unlink-account.rhai"}))]
    pub unlink_account: Option<ScriptSource>,
    /// Gets `session` and `token` (`()` for a database session) each time
    /// `{basePath}/session` answers with a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "log_info(`session read: ${session.user.email}`);", example = serde_json::json!({"file": "scripts/on-session.rhai"}))]
    pub session: Option<ScriptSource>,
}

/// The pages users see: the app's own pages instead of the built-in ones (paths or
/// absolute URLs, which receive `callbackUrl` and `error` as Auth.js passes them), a
/// directory of templates replacing built-in ones, and the wording.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PagesConfig {
    /// The app's sign-in page; it receives `callbackUrl` and `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "/login", example = "https://app.example.com/login")]
    pub sign_in: Option<String>,
    /// The app's sign-out page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "/logout", example = "https://app.example.com/logout")]
    pub sign_out: Option<String>,
    /// The app's error page; it receives `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "/auth/error",
        example = "https://app.example.com/auth/error"
    )]
    pub error: Option<String>,
    /// The app's "check your email" page; it receives `provider`, `type` and `domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "/auth/check-email",
        example = "https://app.example.com/auth/check-email"
    )]
    pub verify_request: Option<String>,
    /// Where a user signed in for the first time is sent (Auth.js `newUser`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "/welcome", example = "https://app.example.com/onboarding")]
    pub new_user: Option<String>,
    /// A directory (relative to this file) of minijinja templates that replace built-in
    /// pages by file name: `layout.html`, `signin.html`, `signout.html`,
    /// `verify-request.html`, `error.html`; other `.html` files there can be included.
    /// Edits are picked up live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "./pages", example = &"templates")]
    pub templates: Option<String>,
    /// Wording of the built-in pages by key (`signin.title`, `signin.withProvider`,
    /// `error.Verification`, ...; README lists them), to reword or translate them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub messages: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ColorScheme {
    #[default]
    Auto,
    Dark,
    Light,
}

/// Look of the built-in pages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ThemeConfig {
    /// `auto` follows the browser's `prefers-color-scheme`.
    #[serde(default)]
    pub color_scheme: ColorScheme,
    /// A logo above the pages' content: an https URL, a path, a data image URL or inline
    /// SVG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "https://cdn.example.com/logo.svg",
        example = "/static/logo.png"
    )]
    pub logo: Option<String>,
    /// The colour of the main buttons (`#rrggbb`); default `#346df1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "#0f766e")]
    pub brand_color: Option<String>,
    /// The text colour on the main buttons; default white.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "#ffffff", example = &"white")]
    pub button_text: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerConfig {
    /// Address to listen on; changing it needs a restart.
    #[serde(default = "default_listen")]
    #[schemars(example = "0.0.0.0:3000", example = "127.0.0.1:3000")]
    pub listen: String,
    /// HTTP worker threads; default: one per core. Changing it needs a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 256))]
    #[schemars(example = 4, example = 8)]
    pub workers: Option<usize>,
    /// How long in-flight requests may finish after SIGTERM.
    #[serde(default = "default_shutdown_timeout")]
    #[schemars(example = "30s", example = "10s")]
    pub shutdown_timeout: Duration,
    /// Largest `Cookie` header accepted, in bytes (all `Cookie` headers together); a
    /// larger one is answered 431, as Node answers it. Changing it needs a restart.
    #[serde(default = "default_max_cookie_header_bytes")]
    #[schemars(range(min = 4096, max = 131072))]
    #[schemars(example = 16384, example = 32768)]
    pub max_cookie_header_bytes: usize,
    /// The admin listener: detailed readiness (and, later, metrics), kept off the public
    /// port.
    #[serde(default)]
    pub admin: AdminConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            workers: None,
            shutdown_timeout: default_shutdown_timeout(),
            max_cookie_header_bytes: default_max_cookie_header_bytes(),
            admin: AdminConfig::default(),
        }
    }
}

fn default_max_cookie_header_bytes() -> usize {
    crate::session::cookie_header::DEFAULT_MAX_COOKIE_HEADER_BYTES
}

/// How stored password hashes are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordsConfig {
    /// The scheme and cost of the stored password hashes, as the start of their PHC
    /// string: `$2b$12` for bcrypt cost 12, or `$argon2id$v=19$m=19456,t=2,p=1`. A sign-in
    /// for a user that does not exist verifies a hash of this cost, so it takes as long as
    /// a wrong password. Default: the argon2id cost `authgate hash-password` uses.
    #[serde(default = "default_password_cost")]
    #[schemars(example = "$argon2id$v=19$m=19456,t=2,p=1", example = "$2b$12")]
    pub cost: String,
}

impl Default for PasswordsConfig {
    fn default() -> Self {
        PasswordsConfig {
            cost: default_password_cost(),
        }
    }
}

fn default_password_cost() -> String {
    crate::password::DEFAULT_COST.to_string()
}

/// The admin listener, for operators only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminConfig {
    /// Address of the admin listener, loopback by default (port 0 picks a free port, which
    /// is logged). Changing it needs a restart.
    #[serde(default = "default_admin_listen")]
    #[schemars(example = "127.0.0.1:3001", example = "localhost:9100")]
    pub listen: String,
    /// Set to `false` to run without the admin listener.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The bearer token of the admin API (`/admin/...`: users and their sessions), 32 or
    /// more characters, from the environment: `${AUTHGATE_ADMIN_TOKEN}`. Without it the
    /// admin API is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = "${AUTHGATE_ADMIN_TOKEN}")]
    pub bearer_token: Option<SecretString>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: default_admin_listen(),
            enabled: true,
            bearer_token: None,
        }
    }
}

fn default_admin_listen() -> String {
    "127.0.0.1:3001".to_string()
}

fn default_listen() -> String {
    "127.0.0.1:3000".to_string()
}

fn default_shutdown_timeout() -> Duration {
    Duration::from_seconds(30)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoggingConfig {
    /// A tracing filter such as `info` or `authgate=debug,actix_web=warn`; `RUST_LOG` wins.
    #[serde(default = "default_log_level")]
    #[schemars(example = &"info", example = "authgate=debug,actix_web=warn")]
    pub level: String,
    /// `text` (one line per event) or `json` (one JSON object per line).
    #[serde(default)]
    pub format: LogFormat,
    /// The audit log (one JSON line per security event): `stdout`, `stderr`, `off`, or a
    /// file path relative to this file (appended to). Changing it needs a restart.
    #[serde(default = "default_audit")]
    #[schemars(example = &"stdout", example = "logs/audit.jsonl")]
    pub audit: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: default_log_level(),
            format: LogFormat::default(),
            audit: default_audit(),
        }
    }
}

fn default_audit() -> String {
    "stdout".to_string()
}

fn default_log_level() -> String {
    "info".to_string()
}

/// Limits every Rhai script runs under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScriptingConfig {
    /// Rhai operations per call (at least 1: Rhai reads 0 as "unlimited").
    #[serde(default = "default_max_operations")]
    #[schemars(range(min = 1))]
    #[schemars(example = 100000, example = 500000)]
    pub max_operations: u64,
    /// Nested function calls per script.
    #[serde(default = "default_max_call_depth")]
    #[schemars(range(min = 1, max = 64))]
    #[schemars(example = 32, example = 16)]
    pub max_call_depth: usize,
    /// Longest string a script may build, in bytes.
    #[serde(default = "default_max_string_size")]
    #[schemars(range(min = 1))]
    #[schemars(example = 65536, example = 1048576)]
    pub max_string_size: usize,
    /// Most items in an array.
    #[serde(default = "default_max_collection_size")]
    #[schemars(range(min = 1))]
    #[schemars(example = 10000, example = 1000)]
    pub max_array_size: usize,
    /// Most entries in an object map.
    #[serde(default = "default_max_collection_size")]
    #[schemars(range(min = 1))]
    #[schemars(example = 10000, example = 1000)]
    pub max_map_size: usize,
    /// Wall-clock budget of one script call, in milliseconds.
    #[serde(default = "default_script_timeout_ms")]
    #[schemars(range(min = 1, max = 60000))]
    #[schemars(example = 50, example = 250)]
    pub timeout_ms: u64,
}

impl Default for ScriptingConfig {
    fn default() -> Self {
        ScriptingConfig {
            max_operations: default_max_operations(),
            max_call_depth: default_max_call_depth(),
            max_string_size: default_max_string_size(),
            max_array_size: default_max_collection_size(),
            max_map_size: default_max_collection_size(),
            timeout_ms: default_script_timeout_ms(),
        }
    }
}

fn default_max_operations() -> u64 {
    100_000
}

fn default_max_call_depth() -> usize {
    32
}

fn default_max_string_size() -> usize {
    64 * 1024
}

fn default_max_collection_size() -> usize {
    10_000
}

fn default_script_timeout_ms() -> u64 {
    50
}

fn default_true() -> bool {
    true
}

/// Limits on sign-in attempts, per process. Over a limit a request gets `429` with
/// `Retry-After`. The client IP is the connection's, or with `trustHost` the one the
/// nearest trusted proxy appended to `X-Forwarded-For`; IPv6 clients count per /64.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimitsConfig {
    /// Sign-in links requested from email providers.
    #[serde(default)]
    pub email: EmailRateLimits,
    /// Credentials submitted to credentials providers.
    #[serde(default)]
    pub credentials: CredentialsRateLimits,
    /// OAuth and OpenID Connect sign-ins started.
    #[serde(default)]
    pub oauth: OAuthRateLimits,
}

/// Sign-in links requested (`POST /signin/<email provider>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailRateLimits {
    /// Per normalised address.
    #[serde(default = "default_email_per_address")]
    #[schemars(example = "5/1h", example = "3/15m")]
    pub per_address: Rate,
    /// Per client IP.
    #[serde(default = "default_email_per_ip")]
    #[schemars(example = "20/1h", example = "100/1d")]
    pub per_ip: Rate,
}

impl Default for EmailRateLimits {
    fn default() -> Self {
        EmailRateLimits {
            per_address: default_email_per_address(),
            per_ip: default_email_per_ip(),
        }
    }
}

fn default_email_per_address() -> Rate {
    Rate::new(5, Duration::from_seconds(3_600))
}

fn default_email_per_ip() -> Rate {
    Rate::new(20, Duration::from_seconds(3_600))
}

/// Credentials submitted (`POST /callback/<credentials provider>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CredentialsRateLimits {
    /// Per username: the first field of the provider's `credentials` that is not of type
    /// `password`, trimmed and lowercased.
    #[serde(default = "default_credentials_per_username")]
    #[schemars(example = "10/15m", example = "5/5m")]
    pub per_username: Rate,
    /// Per client IP, every submission counted.
    #[serde(default = "default_credentials_per_ip")]
    #[schemars(example = "100/15m", example = "1000/1h")]
    pub per_ip: Rate,
}

impl Default for CredentialsRateLimits {
    fn default() -> Self {
        CredentialsRateLimits {
            per_username: default_credentials_per_username(),
            per_ip: default_credentials_per_ip(),
        }
    }
}

fn default_credentials_per_username() -> Rate {
    Rate::new(10, Duration::from_seconds(900))
}

fn default_credentials_per_ip() -> Rate {
    Rate::new(100, Duration::from_seconds(900))
}

/// OAuth/OIDC sign-ins started (`POST /signin/<oauth provider>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OAuthRateLimits {
    /// Per client IP.
    #[serde(default = "default_oauth_per_ip")]
    #[schemars(example = "30/1m", example = "300/1h")]
    pub per_ip: Rate,
}

impl Default for OAuthRateLimits {
    fn default() -> Self {
        OAuthRateLimits {
            per_ip: default_oauth_per_ip(),
        }
    }
}

fn default_oauth_per_ip() -> Rate {
    Rate::new(30, Duration::from_seconds(60))
}
