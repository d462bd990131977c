//! The page actions: `GET /signin`, `/signout`, `/verify-request` and `/error`. Each either
//! sends the browser to the app's own page (`pages.*`, with Auth.js's query parameters) or
//! renders the built-in page (`crate::pages`) from what the request may say: the query picks
//! a known message and carries `callbackUrl`, but never supplies words or markup.

use serde_json::{Value, json};

use super::redirect::resolve_callback_url;
use super::{AuthRequest, AuthResponse};
use crate::config::ProviderKind;
use crate::error::ErrorCode;
use crate::pages::Page;
use crate::pages::messages::error_page_status;
use crate::pages::theme::{image_source, readable_text};
use crate::pipeline::{Pipeline, Provider};
use crate::text::{constant_time_eq, css_color};

fn encode_query(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `base` with `key=value` pairs appended to its query.
pub fn with_query(mut base: String, pairs: &[(&str, &str)]) -> String {
    for (key, value) in pairs {
        base.push(if base.contains('?') { '&' } else { '?' });
        base.push_str(key);
        base.push('=');
        base.push_str(&encode_query(value));
    }
    base
}

/// A configured page as an absolute URL (a path is taken relative to the origin).
fn custom_page(request: &AuthRequest, page: &Option<String>) -> Option<String> {
    page.as_ref().map(|page| {
        if page.starts_with('/') {
            format!("{}{page}", request.origin.origin)
        } else {
            page.clone()
        }
    })
}

/// The sign-in page: `pages.signIn`, else the built-in one.
pub fn sign_in_page_url(request: &AuthRequest, pipeline: &Pipeline) -> String {
    custom_page(request, &pipeline.config.pages.sign_in)
        .unwrap_or_else(|| format!("{}/signin", request.origin.auth_url))
}

/// The error page for `code`: `pages.error`, else the built-in one.
pub fn error_page_url(request: &AuthRequest, pipeline: &Pipeline, code: ErrorCode) -> String {
    let base = custom_page(request, &pipeline.config.pages.error)
        .unwrap_or_else(|| format!("{}/error", request.origin.auth_url));
    with_query(base, &[("error", code.as_str())])
}

/// Where a requested sign-in link sends the browser: `pages.verifyRequest`, else the
/// built-in page, with Auth.js's `provider` and `type`, and the address's domain with a
/// tag that shows authgate wrote it (`domainTag`).
pub fn verify_request_url(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &str,
    domain: &str,
) -> String {
    let base = custom_page(request, &pipeline.config.pages.verify_request)
        .unwrap_or_else(|| format!("{}/verify-request", request.origin.auth_url));
    let tag = pipeline
        .secrets
        .first()
        .map(|secret| domain_tag(domain, secret))
        .unwrap_or_default();
    with_query(
        base,
        &[
            ("provider", provider),
            ("type", "email"),
            ("domain", domain),
            ("domainTag", &tag),
        ],
    )
}

/// A keyed hash of `domain`: the verify-request page names only a domain authgate put in
/// its URL, so a crafted link cannot make it say "we sent a link to <any text>".
pub fn domain_tag(domain: &str, secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"authgate verify-request domain\0")
        .chain_update(domain.as_bytes())
        .chain_update(b"\0")
        .chain_update(secret.as_bytes())
        .finalize();
    crate::text::lower_hex(&digest[..16])
}

/// The longest `callbackUrl` a page carries; a longer one is dropped (the user lands on
/// `url`), so a request cannot make a page arbitrarily large.
const MAX_CALLBACK_URL_BYTES: usize = 4096;

/// The request's `callbackUrl` as the page's forms carry it: the raw value (the action it
/// is posted to applies the redirect rule), or empty.
fn callback_url(request: &AuthRequest) -> &str {
    request
        .query
        .get("callbackUrl")
        .map(String::as_str)
        .filter(|url| url.len() <= MAX_CALLBACK_URL_BYTES)
        .unwrap_or_default()
}

/// What every page sees: the URLs, the host and the CSRF token.
fn page_values(request: &AuthRequest, csrf_token: &str) -> Value {
    let host = url::Url::parse(&request.origin.base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
        .unwrap_or_default();
    json!({
        "csrfToken": csrf_token,
        "callbackUrl": callback_url(request),
        "authUrl": request.origin.auth_url,
        "siteUrl": request.origin.base_url,
        "host": host,
    })
}

fn render(pipeline: &Pipeline, page: Page, status: u16, mut values: Value) -> AuthResponse {
    values["page"] = json!(page.template().trim_end_matches(".html"));
    values["status"] = json!(status);
    match pipeline.pages.render(page, &values) {
        Some(html) => AuthResponse::html(status, html),
        None => AuthResponse::html(
            500,
            "<!DOCTYPE html><html lang=\"en\"><title>Unavailable</title><p>This page is unavailable.</p></html>".to_string(),
        ),
    }
}

/// `GET /signin`: a button per OAuth provider, the email form, a form per credentials
/// provider, and the message for `?error=`.
pub fn sign_in(request: &AuthRequest, pipeline: &Pipeline, csrf_token: &str) -> AuthResponse {
    if pipeline.config.pages.sign_in.is_some() {
        let pairs: Vec<(&str, &str)> = ["callbackUrl", "error"]
            .into_iter()
            .filter_map(|key| request.query.get(key).map(|value| (key, value.as_str())))
            .collect();
        return AuthResponse::redirect(
            request,
            with_query(sign_in_page_url(request, pipeline), &pairs),
        );
    }
    let mut values = page_values(request, csrf_token);
    if let Some(code) = request.query.get("error") {
        let (known, message) = pipeline.pages.messages.sign_in_error(code);
        values["error"] = json!(message);
        values["errorCode"] = json!(known);
    }
    // Prefilled only with something that looks like an address.
    let email = request
        .query
        .get("email")
        .filter(|email| email.len() <= 320 && email.contains('@'))
        .map(String::as_str)
        .unwrap_or_default();
    values["email"] = json!(email);
    let (mut oauth, mut email_providers, mut credentials) = (Vec::new(), Vec::new(), Vec::new());
    for provider in &pipeline.providers {
        match provider.kind {
            ProviderKind::Oauth | ProviderKind::Oidc => oauth.push(oauth_button(request, provider)),
            ProviderKind::Email => email_providers.push(json!({
                "id": provider.id,
                "name": provider.name,
                "action": format!("{}/signin/{}", request.origin.auth_url, provider.id),
            })),
            ProviderKind::Credentials => credentials.push(credentials_form(request, provider)),
        }
    }
    values["providers"] = json!({
        "oauth": oauth,
        "email": email_providers,
        "credentials": credentials,
    });
    render(pipeline, Page::SignIn, 200, values)
}

/// An OAuth/OIDC provider's button: its `style` colours (with readable text) and logos.
/// Logos become image sources, never markup. A dark logo is used only on the neutral
/// button, whose colours follow the scheme.
fn oauth_button(request: &AuthRequest, provider: &Provider) -> Value {
    let mut button = json!({
        "id": provider.id,
        "name": provider.name,
        "action": format!("{}/signin/{}", request.origin.auth_url, provider.id),
    });
    let Some(style) = &provider.config.style else {
        return button;
    };
    let background = style
        .bg
        .as_deref()
        .or(style.brand_color.as_deref())
        .and_then(css_color);
    if let Some(background) = background {
        let text = style
            .text
            .as_deref()
            .and_then(css_color)
            .unwrap_or("#ffffff");
        button["bg"] = json!(background);
        button["text"] = json!(readable_text(background, text));
    }
    button["logo"] = json!(style.logo.as_deref().and_then(image_source));
    if background.is_none() {
        button["logoDark"] = json!(style.logo_dark.as_deref().and_then(image_source));
    }
    button
}

/// A credentials provider's form fields, from its `credentials`.
fn credentials_form(request: &AuthRequest, provider: &Provider) -> Value {
    let fields: Vec<Value> = provider
        .config
        .credentials
        .iter()
        .flatten()
        .map(|(name, field)| {
            let input_type = field.input_type.as_deref().unwrap_or("text");
            let autocomplete = match (input_type, name.as_str()) {
                ("password", _) => "current-password",
                ("email", _) | (_, "email") => "email",
                (_, "username" | "user" | "login") => "username",
                _ => "",
            };
            json!({
                "id": format!("input-{name}-for-{}-provider", provider.id),
                "name": name,
                "label": field.label.as_deref().unwrap_or(name),
                "type": input_type,
                "placeholder": field.placeholder.as_deref().unwrap_or_default(),
                "autocomplete": autocomplete,
            })
        })
        .collect();
    json!({
        "id": provider.id,
        "name": provider.name,
        "action": format!("{}/callback/{}", request.origin.auth_url, provider.id),
        "fields": fields,
    })
}

/// `GET /signout`: a confirmation form; "stay signed in" goes back to where the user came
/// from, under the redirect rule.
pub fn sign_out(request: &AuthRequest, pipeline: &Pipeline, csrf_token: &str) -> AuthResponse {
    if let Some(url) = custom_page(request, &pipeline.config.pages.sign_out) {
        return AuthResponse::redirect(request, url);
    }
    let mut values = page_values(request, csrf_token);
    // The redirect callback is not run here (a page view is not a redirect); a URL it
    // would allow falls back to the site.
    let candidate = Some(callback_url(request)).filter(|url| !url.is_empty());
    values["cancelUrl"] = json!(same_site_url(pipeline, request, candidate));
    render(pipeline, Page::SignOut, 200, values)
}

/// `candidate` when the redirect rule takes it as ours, else the site URL.
fn same_site_url(pipeline: &Pipeline, request: &AuthRequest, candidate: Option<&str>) -> String {
    if !pipeline.has_script(crate::config::script_key::ScriptKey::Callback(
        crate::config::script_key::Callback::Redirect,
    )) {
        return resolve_callback_url(pipeline, &request.origin, candidate);
    }
    request.origin.base_url.clone()
}

/// `GET /error?error=CODE`: the app's error page, else the built-in one.
pub fn error(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    let code = request
        .query
        .get("error")
        .map(String::as_str)
        .unwrap_or("Default");
    // Auth.js shows these on the sign-in page, where the user can try again.
    if SIGN_IN_PAGE_CODES.contains(&code) {
        let sign_in = format!("{}/signin", request.origin.auth_url);
        return AuthResponse::redirect(request, with_query(sign_in, &[("error", code)]));
    }
    if let Some(url) = custom_page(request, &pipeline.config.pages.error) {
        return AuthResponse::redirect(request, with_query(url, &[("error", code)]));
    }
    built_in_error_page(request, pipeline, code)
}

/// The error codes `GET /error` sends to the sign-in page, as Auth.js does.
const SIGN_IN_PAGE_CODES: &[&str] = &[
    "Signin",
    "OAuthSignin",
    "OAuthCallback",
    "OAuthCreateAccount",
    "EmailCreateAccount",
    "Callback",
    "OAuthAccountNotLinked",
    "EmailSignin",
    "CredentialsSignin",
    "SessionRequired",
];

/// The built-in error page for `code`, with its status.
pub fn error_page(request: &AuthRequest, pipeline: &Pipeline, code: ErrorCode) -> AuthResponse {
    built_in_error_page(request, pipeline, code.as_str())
}

fn built_in_error_page(request: &AuthRequest, pipeline: &Pipeline, code: &str) -> AuthResponse {
    let status = error_page_status(code);
    let mut values = page_values(request, "");
    let (known, message) = pipeline.pages.messages.error_page(code);
    values["error"] = json!(message);
    values["errorCode"] = json!(known);
    let sign_in = format!("{}/signin", request.origin.auth_url);
    values["signInUrl"] = json!(match callback_url(request) {
        "" => sign_in,
        callback => with_query(sign_in, &[("callbackUrl", callback)]),
    });
    render(pipeline, Page::Error, status, values)
}

/// `GET /verify-request`: "check your email", naming the address's domain when the query
/// gives a plausible one.
pub fn verify_request(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    if let Some(url) = custom_page(request, &pipeline.config.pages.verify_request) {
        return AuthResponse::redirect(request, url);
    }
    let mut values = page_values(request, "");
    let tag = request
        .query
        .get("domainTag")
        .map(String::as_str)
        .unwrap_or_default();
    let domain = request.query.get("domain").filter(|domain| {
        is_plausible_domain(domain)
            && pipeline
                .secrets
                .iter()
                .any(|secret| constant_time_eq(&domain_tag(domain, secret), tag))
    });
    values["domain"] = json!(domain);
    // Only a configured provider's id.
    let provider = request
        .query
        .get("provider")
        .and_then(|id| pipeline.provider(id))
        .map(|provider| provider.id.as_str());
    values["provider"] = json!(provider);
    render(pipeline, Page::VerifyRequest, 200, values)
}

/// A host name of letters, digits, hyphens and dots, with a dot: all an address's domain
/// needs, and nothing a sentence could be made of.
fn is_plausible_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_host_names_pass_as_domains() {
        let cases = [
            ("example.com", true),
            ("mail.xn--bcher-kva.example", true),
            ("localhost", false),
            ("example.com and call us", false),
            ("<b>x.com</b>", false),
            (".example.com", false),
            ("", false),
        ];
        for (domain, expected) in cases {
            assert_eq!(is_plausible_domain(domain), expected, "{domain}");
        }
    }

    #[test]
    fn query_pairs_are_encoded_and_joined() {
        assert_eq!(
            with_query(
                "https://a.example/p?x=1".into(),
                &[("error", "A&B"), ("callbackUrl", "/x y")]
            ),
            "https://a.example/p?x=1&error=A%26B&callbackUrl=%2Fx+y"
        );
    }
}
