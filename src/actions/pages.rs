//! The built-in pages (sign-in, sign-out, verify-request, error), kept minimal and safe: every dynamic text
//! is HTML-escaped, every form carries the CSRF token. A configured `pages.*` URL replaces
//! the built-in page.

use super::{AuthRequest, AuthResponse};
use crate::config::ProviderKind;
use crate::error::ErrorCode;
use crate::pipeline::Pipeline;
use crate::text::css_color;

/// Escapes text for HTML bodies and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn encode_query(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
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
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}error={}", code.as_str())
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}form{{margin:1rem 0}}label,input,button{{display:block;width:100%;margin:.25rem 0}}button{{padding:.5rem}}.error{{color:#b00020}}</style></head><body><h1>{}</h1>{body}</body></html>",
        escape_html(title),
        escape_html(title)
    )
}

/// `GET /signin`: the providers, with a form per credentials provider.
pub fn sign_in(request: &AuthRequest, pipeline: &Pipeline, csrf_token: &str) -> AuthResponse {
    if pipeline.config.pages.sign_in.is_some() {
        let mut url = sign_in_page_url(request, pipeline);
        for key in ["callbackUrl", "error"] {
            if let Some(value) = request.query.get(key) {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&format!("{key}={}", encode_query(value)));
            }
        }
        return AuthResponse::redirect(request, url);
    }
    let callback_url = request
        .query
        .get("callbackUrl")
        .map(String::as_str)
        .unwrap_or_default();
    let mut body = String::new();
    if let Some(error) = request.query.get("error") {
        // A fixed text per known code: the query must not put words in our mouth.
        let message = match error.as_str() {
            "CredentialsSignin" => "Sign in failed. Check the details you provided are correct.",
            "AccessDenied" => "You do not have permission to sign in.",
            "SessionRequired" => "Please sign in to access this page.",
            "OAuthAccountNotLinked" => {
                "To confirm your identity, sign in with the same account you used originally."
            }
            "EmailSignin" => {
                "The sign-in email could not be sent. Check the address and try again."
            }
            "Verification" => "The sign-in link is no longer valid. Ask for a new one.",
            "RateLimited" => "Too many attempts. Wait a little, then try again.",
            _ => "Unable to sign in.",
        };
        body.push_str(&format!("<p class=\"error\">{message}</p>"));
    }
    for provider in &pipeline.providers {
        let action = escape_html(&format!(
            "{}/{}/{}",
            request.origin.auth_url,
            match provider.kind {
                ProviderKind::Credentials => "callback",
                ProviderKind::Oauth | ProviderKind::Oidc | ProviderKind::Email => "signin",
            },
            provider.id
        ));
        body.push_str(&format!("<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrfToken\" value=\"{}\"><input type=\"hidden\" name=\"callbackUrl\" value=\"{}\">", escape_html(csrf_token), escape_html(callback_url)));
        if provider.kind == ProviderKind::Email {
            body.push_str(
                "<label>Email<input name=\"email\" type=\"email\" autocomplete=\"email\" required placeholder=\"email@example.com\"></label>",
            );
        }
        if let (ProviderKind::Credentials, Some(fields)) =
            (provider.kind, &provider.config.credentials)
        {
            for (name, field) in fields {
                let label = field.label.as_deref().unwrap_or(name);
                let input_type = field.input_type.as_deref().unwrap_or("text");
                body.push_str(&format!(
                    "<label>{}<input name=\"{}\" type=\"{}\" placeholder=\"{}\"></label>",
                    escape_html(label),
                    escape_html(name),
                    escape_html(input_type),
                    escape_html(field.placeholder.as_deref().unwrap_or_default())
                ));
            }
        }
        let (button_style, logo) = button_look(provider);
        body.push_str(&format!(
            "<button type=\"submit\"{button_style}>{logo}Sign in with {}</button></form>",
            escape_html(&provider.name)
        ));
    }
    AuthResponse::html(200, page("Sign in", &body))
}

/// The provider's `style`: button colours, and its logo as an image (inline SVG becomes a
/// data URL, so it renders as an image and never as markup).
fn button_look(provider: &crate::pipeline::Provider) -> (String, String) {
    let Some(style) = &provider.config.style else {
        return (String::new(), String::new());
    };
    let mut css = Vec::new();
    if let Some(bg) = style
        .bg
        .as_deref()
        .or(style.brand_color.as_deref())
        .and_then(css_color)
    {
        css.push(format!("background:{bg}"));
    }
    if let Some(text) = style.text.as_deref().and_then(css_color) {
        css.push(format!("color:{text}"));
    }
    let style_attribute = if css.is_empty() {
        String::new()
    } else {
        format!(" style=\"{}\"", css.join(";"))
    };
    let logo = style.logo.as_deref().and_then(|logo| {
        use base64::Engine;
        let source = if logo.trim_start().starts_with("<svg") {
            format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(logo.trim())
            )
        } else if logo.starts_with("data:image/") || logo.starts_with("https://") {
            logo.to_string()
        } else {
            return None;
        };
        Some(format!(
            "<img src=\"{}\" alt=\"\" width=\"20\" height=\"20\"> ",
            escape_html(&source)
        ))
    });
    (style_attribute, logo.unwrap_or_default())
}

/// `GET /signout`: a confirmation form.
pub fn sign_out(request: &AuthRequest, pipeline: &Pipeline, csrf_token: &str) -> AuthResponse {
    if let Some(url) = custom_page(request, &pipeline.config.pages.sign_out) {
        return AuthResponse::redirect(request, url);
    }
    let body = format!(
        "<p>Are you sure you want to sign out?</p><form method=\"post\" action=\"{}/signout\"><input type=\"hidden\" name=\"csrfToken\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
        escape_html(&request.origin.auth_url),
        escape_html(csrf_token)
    );
    AuthResponse::html(200, page("Sign out", &body))
}

fn error_message(code: &str) -> (&'static str, u16) {
    match code {
        "Configuration" => ("There is a problem with the server configuration.", 500),
        "AccessDenied" => ("You do not have permission to sign in.", 403),
        "Verification" => (
            "The sign-in link is no longer valid. It may have been used already or it may have expired.",
            403,
        ),
        "MissingCSRF" => ("The request could not be verified. Please try again.", 400),
        "RateLimited" => ("Too many attempts. Wait a little, then try again.", 429),
        _ => ("Unable to sign in.", 400),
    }
}

/// `GET /error?error=CODE`.
pub fn error(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    let code = request
        .query
        .get("error")
        .map(String::as_str)
        .unwrap_or("Default");
    if let Some(url) = custom_page(request, &pipeline.config.pages.error) {
        let separator = if url.contains('?') { '&' } else { '?' };
        return AuthResponse::redirect(
            request,
            format!("{url}{separator}error={}", encode_query(code)),
        );
    }
    built_in_error_page(request, code)
}

/// The built-in error page for `code`, with its status.
pub fn error_page(request: &AuthRequest, code: ErrorCode) -> AuthResponse {
    built_in_error_page(request, code.as_str())
}

fn built_in_error_page(request: &AuthRequest, code: &str) -> AuthResponse {
    let (message, status) = error_message(code);
    let body = format!(
        "<p>{}</p><p><a href=\"{}/signin\">Sign in</a></p>",
        escape_html(message),
        escape_html(&request.origin.auth_url)
    );
    AuthResponse::html(status, page("Error", &body))
}

/// Where a requested sign-in link sends the browser: `pages.verifyRequest`, else the
/// built-in page, with Auth.js's `provider` and `type`.
pub fn verify_request_url(request: &AuthRequest, pipeline: &Pipeline, provider: &str) -> String {
    let base = custom_page(request, &pipeline.config.pages.verify_request)
        .unwrap_or_else(|| format!("{}/verify-request", request.origin.auth_url));
    let separator = if base.contains('?') { '&' } else { '?' };
    format!(
        "{base}{separator}provider={}&type=email",
        encode_query(provider)
    )
}

/// `GET /verify-request`: "check your email".
pub fn verify_request(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    if let Some(url) = custom_page(request, &pipeline.config.pages.verify_request) {
        return AuthResponse::redirect(request, url);
    }
    let host = url::Url::parse(&request.origin.base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
        .unwrap_or_default();
    let body = format!(
        "<p>A sign-in link has been sent to your email address.</p><p><a href=\"{}\">{}</a></p>",
        escape_html(&request.origin.base_url),
        escape_html(&host)
    );
    AuthResponse::html(200, page("Check your email", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
