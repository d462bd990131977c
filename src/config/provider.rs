//! The provider object: the same shape in `authgate.yaml` (`providers:` entries) and in a
//! `providers.d/*.yaml` preset. Every field is optional here because an entry that says
//! `use: <preset>` only overrides some fields; what each provider type needs is checked
//! after the preset has been merged in (see `semantic`).

use std::path::PathBuf;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{Duration, Endpoint, ScriptSource, SecretString};

/// A sign-in provider, or a preset for one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Start from this preset (a file in `providers.d/`); the other fields override it.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"github", example = &"google")]
    pub use_preset: Option<String>,
    /// Identifier used in URLs (`/signin/<id>`, `/callback/<id>`); defaults to the preset's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"))]
    #[schemars(example = &"staff", example = "github-work")]
    pub id: Option<String>,
    /// The kind of provider.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"oidc", example = &"oauth")]
    pub kind: Option<ProviderKind>,
    /// Display name on the sign-in page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"GitHub", example = "Company SSO")]
    pub name: Option<String>,
    /// Fields a preset needs its user to supply (for example `clientId`, `issuer`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<RequiredField>,

    // --- OAuth 2.0 and OpenID Connect ---
    /// OpenID issuer; its discovery document supplies the endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://login.example.com")]
    pub issuer: Option<String>,
    /// Discovery document URL, when it is not `<issuer>/.well-known/openid-configuration`;
    /// `{issuer}` in it stands for the issuer (Frontegg's `{issuer}/oauth/.well-known/...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "https://login.example.com/.well-known/openid-configuration",
        example = "{issuer}/oauth/.well-known/openid-configuration"
    )]
    pub well_known: Option<String>,
    /// The authorization endpoint: a URL, or `{url, params}` with extra query parameters.
    /// Without it, the discovery document's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://login.example.com/oauth/authorize")]
    pub authorization: Option<Endpoint>,
    /// The token endpoint: a URL, or `{url, params}` with extra form parameters. Without it,
    /// the discovery document's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://login.example.com/oauth/token")]
    pub token: Option<Endpoint>,
    /// The userinfo endpoint, where an `oauth` provider's profile is read (`oidc` reads the
    /// id_token): a URL, or `{url, ...}` with its options. Without it, the discovery
    /// document's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://login.example.com/api/me")]
    pub userinfo: Option<Endpoint>,
    /// The client id the provider issued for this application.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "${GITHUB_ID}")]
    pub client_id: Option<String>,
    /// The client secret the provider issued, from the environment: `${GITHUB_SECRET}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "${GITHUB_SECRET}")]
    pub client_secret: Option<SecretString>,
    /// How the client authenticates at the token endpoint, and the id_token algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientOptions>,
    /// Protections for the authorization round trip; default `[pkce, state]`, plus
    /// `nonce` for `oidc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<Check>>,
    /// How the provider answers the callback: `query` (a GET, the default) or `form_post`
    /// (a POST, as Apple's does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<ResponseMode>,
    /// Space-separated scopes requested at the authorization endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "openid profile email", example = "read:user user:email")]
    pub scope: Option<String>,
    /// Rhai script mapping the provider's profile to `#{id, name, email, image}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "#{ id: profile.sub, name: profile.name, email: profile.email, image: profile.picture }", example = serde_json::json!({"file": "scripts/profile.rhai"}))]
    pub profile: Option<ScriptSource>,
    /// oidc: where the profile comes from: the validated id_token's claims (`idToken`, the
    /// default) or the userinfo endpoint's document (`userinfo`, whose `sub` must match the
    /// id_token's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_from: Option<ProfileSource>,
    /// Which account id a preset's profile records where authgate's differs from Auth.js's:
    /// `stable` (the default: an id that never passes to another person) or `authjs` (the
    /// id Auth.js v5 stores, for accounts imported from it: a Pinterest username, a Trakt
    /// slug, an EVE Online character id). Profile scripts read it as `options.accountIds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_ids: Option<AccountIds>,
    /// An API key the provider's requests need besides the client credentials (Bungie's
    /// `X-API-Key`; an email service's key), from the environment: `${BUNGIE_API_KEY}`.
    /// Userinfo requests use it as `{apiKey}`, email `http` templates as `api_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "${BUNGIE_API_KEY}")]
    pub api_key: Option<SecretString>,
    /// Link an OAuth account to an existing user with the same email without asking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_dangerous_email_account_linking: Option<bool>,
    /// `auto`: refresh the access token when a session is read and it expires within
    /// `refreshMargin` (needs the provider to issue refresh tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<RefreshMode>,
    /// How long before expiry an access token is refreshed (default 60s).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "60s", example = "5m")]
    pub refresh_margin: Option<Duration>,
    /// How the provider's button looks on the sign-in page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<ProviderStyle>,

    // --- credentials ---
    /// The fields the sign-in form asks for, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<IndexMap<String, CredentialField>>,
    /// Rhai script receiving `credentials` and returning a user map or `()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "if credentials.username == \"demo\" && credentials.password == \"demo\" {\n  #{ id: \"1\", name: \"Demo User\", email: \"demo@example.com\" }\n} else {\n  ()\n}\n", example = serde_json::json!({"file": "scripts/authorize.rhai"}))]
    pub authorize: Option<ScriptSource>,
    /// Look users up with SQL instead of a script.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup: Option<CredentialsLookup>,

    // --- email ---
    /// SMTP server URL. `smtp://host:587` uses STARTTLS when the server offers it,
    /// `smtp://host:587?tls=required` insists on it, `smtps://host:465` is TLS from the
    /// start, and `smtp://host:25?tls=none` never encrypts. Credentials go in the URL,
    /// percent-encoded: `smtp://user:${SMTP_PASSWORD}@host:587`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "smtp://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.com:587?tls=required",
        example = "smtps://smtp.example.com:465"
    )]
    pub server: Option<String>,
    /// A PEM file of root certificates trusted for the SMTP server's TLS, besides the
    /// system's (for a private CA). Relative to the YAML file that names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "certs/smtp-ca.pem",
        example = "/etc/ssl/certs/internal-ca.pem"
    )]
    pub server_ca_file: Option<PathBuf>,
    /// How sign-in emails leave: `smtp` (the default) or `dev`, which logs each sign-in
    /// link instead of sending it, for local work only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<EmailTransport>,
    /// Allow the `dev` transport although `url` is https (anyone who reads the log can
    /// then sign in as anyone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_dev_transport: Option<bool>,
    /// Sender of the sign-in email: `auth@example.com` or `Example <auth@example.com>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "auth@example.com", example = "Example <auth@example.com>")]
    pub from: Option<String>,
    /// How long a sign-in link stays valid (default 24h).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "24h", example = "15m")]
    pub max_age: Option<Duration>,
    /// The sign-in email, as templates; each part left out keeps the built-in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<EmailMessage>,
    /// Rhai script deciding how a sign-in link is delivered. It gets `identifier`, `url`,
    /// `expires`, `provider` and the rendered `message`, and returns `()` (send `message`),
    /// a map `#{subject, text, html}` (send that instead), a map `#{http: #{url, method,
    /// headers, body}}` (deliver by that HTTP request instead of email), or `false`
    /// (refuse: EmailSignin).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "#{ http: #{ url: \"https://mail.example.com/api/send\",\n           json: #{ to: identifier, subject: message.subject, text: message.text } } }\n", example = serde_json::json!({"file": "scripts/send-link.rhai"}))]
    pub send_verification_request: Option<ScriptSource>,
    /// `transport: http`: the request that delivers each sign-in link (an email API such
    /// as Resend's). Its URL, header values and the string values of `json` or `form` are
    /// templates (minijinja) that see `email`, `url`, `host`, `expires`, `provider`, `from`,
    /// `from_address`, `from_name`, `from_domain`, the rendered `subject`, `text` and
    /// `html`, `api_key` and `settings`; the filter `base64` makes HTTP Basic credentials.
    /// A 2xx answer means delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpTransport>,
    /// Values the `http` templates read as `settings.<name>` (Loops' `transactionalId`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(example = serde_json::json!({"transactionalId": "clx0example"}))]
    pub settings: std::collections::BTreeMap<String, String>,
}

/// The HTTP request of `transport: http`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpTransport {
    /// The API's URL (a template).
    #[schemars(
        example = "https://api.resend.com/emails",
        example = "https://api.mailgun.net/v3/{{ from_domain }}/messages"
    )]
    pub url: String,
    /// `POST` (the default) or `PUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<DeliveryMethod>,
    /// Request headers; their values are templates.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(example = serde_json::json!({"Authorization": "Bearer {{ api_key }}"}))]
    pub headers: std::collections::BTreeMap<String, String>,
    /// A JSON body; every string in it is a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!({"from": "{{ from }}", "to": "{{ email }}", "subject": "{{ subject }}", "html": "{{ html }}"}))]
    pub json: Option<serde_json::Value>,
    /// A form body (`application/x-www-form-urlencoded`); every value is a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<std::collections::BTreeMap<String, String>>,
}

/// The method of an email API request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DeliveryMethod {
    Post,
    Put,
}

impl ProviderConfig {
    /// Where the discovery document is: `wellKnown` (with `{issuer}` filled in), else
    /// `<issuer>/.well-known/openid-configuration`; `None` without either.
    pub fn discovery_url(&self) -> Option<String> {
        let issuer = self
            .issuer
            .as_deref()
            .map(|issuer| issuer.trim_end_matches('/'));
        match (&self.well_known, issuer) {
            (Some(url), Some(issuer)) => Some(url.replace("{issuer}", issuer)),
            (Some(url), None) => Some(url.clone()),
            (None, Some(issuer)) => Some(format!("{issuer}/.well-known/openid-configuration")),
            (None, None) => None,
        }
    }
}

/// How an email provider sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    Smtp,
    Dev,
    /// One HTTP request per sign-in link, as `http` describes (an email API).
    Http,
}

/// Where an oidc provider's profile comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProfileSource {
    IdToken,
    Userinfo,
}

/// Which account ids a preset's profile records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountIds {
    #[default]
    Stable,
    Authjs,
}

impl AccountIds {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountIds::Stable => "stable",
            AccountIds::Authjs => "authjs",
        }
    }
}

/// The sign-in email's templates (minijinja syntax). They see `url`, `host`, `email`,
/// `expires` (RFC 3339), `provider` (its name) and `theme` (`brandColor`, `buttonText`).
/// The HTML template escapes every value it prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailMessage {
    /// The subject, rendered to one line; default `Sign in to {{ host }}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "Sign in to {{ host }}",
        example = "Your sign-in link for {{ host }}"
    )]
    pub subject: Option<String>,
    /// The plain-text part.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "Sign in to {{ host }}:\n{{ url }}\n\nThe link expires at {{ expires }}.\n"
    )]
    pub text: Option<String>,
    /// The HTML part; every value it prints is escaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "<p><a href=\"{{ url }}\" style=\"background: {{ theme.brandColor }}; color: {{ theme.buttonText }}\">Sign in to {{ host }}</a></p>"
    )]
    pub html: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Oauth,
    Oidc,
    Email,
    Credentials,
}

impl ProviderKind {
    /// The name Auth.js uses in `/providers`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Oauth => "oauth",
            ProviderKind::Oidc => "oidc",
            ProviderKind::Email => "email",
            ProviderKind::Credentials => "credentials",
        }
    }

    /// Whether the provider hands out OAuth tokens (which `refresh` can rotate).
    pub fn has_oauth_tokens(self) -> bool {
        match self {
            ProviderKind::Oauth | ProviderKind::Oidc => true,
            ProviderKind::Email | ProviderKind::Credentials => false,
        }
    }
}

/// A provider field that a preset requires its user to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RequiredField {
    ClientId,
    ClientSecret,
    Issuer,
    Authorization,
    Token,
    Userinfo,
    WellKnown,
    Server,
    From,
    ApiKey,
    Settings,
}

impl RequiredField {
    pub fn key(self) -> &'static str {
        match self {
            RequiredField::ClientId => "clientId",
            RequiredField::ClientSecret => "clientSecret",
            RequiredField::Issuer => "issuer",
            RequiredField::Authorization => "authorization",
            RequiredField::Token => "token",
            RequiredField::Userinfo => "userinfo",
            RequiredField::WellKnown => "wellKnown",
            RequiredField::Server => "server",
            RequiredField::From => "from",
            RequiredField::ApiKey => "apiKey",
            RequiredField::Settings => "settings",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    Pkce,
    State,
    Nonce,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefreshMode {
    Auto,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientOptions {
    /// `client_secret_basic` (HTTP Basic, the default), `client_secret_post` (form fields)
    /// or `none` (a public client: no secret is sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    /// Algorithm the provider signs id_tokens with (default RS256).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"RS256", example = &"ES256")]
    pub id_token_signed_response_alg: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

/// How the provider's button looks on the sign-in page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderStyle {
    /// Logo: inline SVG, a data URL, or an https URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        example = "https://cdn.example.com/acme.svg",
        example = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 24 24\"><circle cx=\"12\" cy=\"12\" r=\"10\" fill=\"#fff\"/></svg>"
    )]
    pub logo: Option<String>,
    /// Logo for the dark colour scheme, used only on a button without `bg` or `brandColor`
    /// (whose colours follow the scheme).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://cdn.example.com/acme-dark.svg")]
    pub logo_dark: Option<String>,
    /// Button background colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "#24292f", example = "#000")]
    pub bg: Option<String>,
    /// Button text colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "#fff", example = "#1f2937")]
    pub text: Option<String>,
    /// Button background colour when `bg` is not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "#346df1", example = "#0f766e")]
    pub brand_color: Option<String>,
}

/// One field of the credentials sign-in form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CredentialField {
    /// The field's label on the form; default: the field's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Username", example = "Email address")]
    pub label: Option<String>,
    /// HTML input type (`text`, `password`, `email`, ...).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"password", example = &"email")]
    pub input_type: Option<String>,
    /// Hint text shown in the empty input; none by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"alice", example = "you@example.com")]
    pub placeholder: Option<String>,
}

/// Credentials checked against an existing user table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CredentialsLookup {
    /// SQL returning `id, name, email, image, password_hash` for the submitted
    /// credentials, which are bound by name (`:username`).
    #[schemars(
        example = "SELECT id, display_name AS name, mail AS email, pw AS password_hash FROM app_users WHERE login = :username"
    )]
    pub query: String,
    /// The credentials field checked against `password_hash` (argon2 or bcrypt PHC).
    #[serde(default = "default_password_field")]
    #[schemars(example = &"password", example = &"passphrase")]
    pub password_field: String,
}

fn default_password_field() -> String {
    "password".to_string()
}
