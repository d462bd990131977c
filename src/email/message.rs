//! The sign-in email: a subject, a plain-text part and an HTML part, rendered from
//! minijinja templates (the built-in ones, or those under the provider's `message`). The
//! HTML template escapes every value it prints, so an address or a link can never become
//! markup; template runs are bounded (fuel), so a template cannot loop forever.

use minijinja::{Environment, context};
use serde::Serialize;

use crate::config::provider::EmailMessage;

const SUBJECT: &str = "subject.txt";
const TEXT: &str = "text.txt";
const HTML: &str = "html.html";

const DEFAULT_SUBJECT: &str = "Sign in to {{ host }}";

const DEFAULT_TEXT: &str = "Sign in to {{ host }}

Open this link to sign in as {{ email }}:

{{ url }}

The link works once and expires at {{ expires }}.
If you did not ask to sign in, ignore this email: nothing happens without the link.
";

const DEFAULT_HTML: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in to {{ host }}</title></head>
<body style="margin:0;padding:24px 0;background:#f4f4f5;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" border="0"><tr><td align="center">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" border="0" style="max-width:28rem;background:#ffffff;border-radius:12px;border:1px solid #e4e4e7">
<tr><td style="padding:32px 32px 8px;font-size:20px;font-weight:600;text-align:center">Sign in to <strong>{{ host_html }}</strong></td></tr>
<tr><td style="padding:8px 32px;font-size:15px;line-height:22px;text-align:center;color:#3f3f46">as {{ email }}</td></tr>
<tr><td align="center" style="padding:24px 32px">
<a href="{{ url }}" target="_blank" rel="noopener" style="display:inline-block;padding:12px 24px;border-radius:8px;background:{{ theme.brandColor }};color:{{ theme.buttonText }};font-size:16px;font-weight:600;text-decoration:none">Sign in</a>
</td></tr>
<tr><td style="padding:0 32px 32px;font-size:13px;line-height:20px;text-align:center;color:#71717a">The link works once and expires at {{ expires }}.<br>If you did not ask to sign in, ignore this email.</td></tr>
</table></td></tr></table>
</body></html>
"#;

/// The most template work one message may take (minijinja fuel units).
const FUEL: u64 = 50_000;

/// What the templates see.
#[derive(Debug, Clone, Serialize)]
pub struct MessageContext {
    pub url: String,
    /// The host of the public URL.
    pub host: String,
    pub email: String,
    /// RFC 3339, UTC.
    pub expires: String,
    /// The provider's display name.
    pub provider: String,
    pub brand_color: String,
    pub button_text: String,
}

/// A rendered sign-in email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RenderedMessage {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The compiled templates of one email provider.
#[derive(Debug)]
pub struct EmailTemplates {
    env: Environment<'static>,
}

/// A template that does not compile: the `message` field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub field: &'static str,
    pub message: String,
}

impl EmailTemplates {
    /// Compiles the provider's templates over the built-in ones.
    pub fn new(custom: Option<&EmailMessage>) -> Result<EmailTemplates, TemplateError> {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        let custom = custom.cloned().unwrap_or_default();
        for (name, field, custom, default) in [
            (SUBJECT, "subject", custom.subject, DEFAULT_SUBJECT),
            (TEXT, "text", custom.text, DEFAULT_TEXT),
            (HTML, "html", custom.html, DEFAULT_HTML),
        ] {
            env.add_template_owned(name, custom.unwrap_or_else(|| default.to_string()))
                .map_err(|error| TemplateError {
                    field,
                    message: error.to_string(),
                })?;
        }
        Ok(EmailTemplates { env })
    }

    /// Renders the three parts. The subject is one line.
    pub fn render(&self, message: &MessageContext) -> Result<RenderedMessage, String> {
        let context = context! {
            url => &message.url,
            host => &message.host,
            // Zero-width spaces before the dots keep mail clients from turning the host
            // into a link of its own.
            host_html => message.host.replace('.', "\u{200B}."),
            email => &message.email,
            expires => &message.expires,
            provider => &message.provider,
            theme => context! {
                brandColor => &message.brand_color,
                buttonText => &message.button_text,
            },
        };
        let render = |name: &str| {
            self.env
                .get_template(name)
                .and_then(|template| template.render(&context))
                .map_err(|error| format!("the {name} template failed: {error}"))
        };
        let subject = render(SUBJECT)?
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(RenderedMessage {
            subject,
            text: render(TEXT)?,
            html: render(HTML)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(url: &str, email: &str) -> MessageContext {
        MessageContext {
            url: url.into(),
            host: "auth.example.com".into(),
            email: email.into(),
            expires: "2026-12-01T10:00:00Z".into(),
            provider: "Email".into(),
            brand_color: "#346df1".into(),
            button_text: "#ffffff".into(),
        }
    }

    #[test]
    fn the_built_in_message_has_both_parts_with_the_link() {
        let templates = EmailTemplates::new(None).unwrap();
        let url = "https://auth.example.com/api/auth/callback/email?token=abc&email=a%40b.com";
        let message = templates.render(&context(url, "a@b.com")).unwrap();
        assert_eq!(message.subject, "Sign in to auth.example.com");
        assert!(message.text.contains(url), "{}", message.text);
        // In HTML the link is escaped for an attribute (`&` and `/` as entities).
        assert!(
            message.html.contains("href=\"https:&#x2f;&#x2f;auth.example.com&#x2f;api&#x2f;auth&#x2f;callback&#x2f;email?token=abc&amp;email=a%40b.com\""),
            "{}",
            message.html
        );
        assert!(message.html.contains("background:#346df1"));
    }

    #[test]
    fn values_cannot_become_markup_in_the_html_part() {
        let templates = EmailTemplates::new(None).unwrap();
        let message = templates
            .render(&context(
                "https://x.example/\"><script>alert(1)</script>",
                "<b>@x.com",
            ))
            .unwrap();
        assert!(!message.html.contains("<script>"), "{}", message.html);
        assert!(!message.html.contains("<b>@"), "{}", message.html);
    }

    #[test]
    fn custom_templates_replace_only_the_parts_they_name() {
        let custom = EmailMessage {
            subject: Some("Your link for {{ provider }}\nBcc: evil@example.com".into()),
            text: None,
            html: Some("<p>{{ email }}</p><a href=\"{{ url }}\">go</a>".into()),
        };
        let templates = EmailTemplates::new(Some(&custom)).unwrap();
        let message = templates
            .render(&context("https://a.example/x", "a@b.com"))
            .unwrap();
        // A subject is one line: a template cannot add a header.
        assert_eq!(message.subject, "Your link for Email Bcc: evil@example.com");
        assert!(message.text.contains("https://a.example/x"));
        assert_eq!(
            message.html,
            "<p>a@b.com</p><a href=\"https:&#x2f;&#x2f;a.example&#x2f;x\">go</a>"
        );
    }

    #[test]
    fn broken_and_endless_templates_are_errors() {
        let broken = EmailMessage {
            text: Some("{% if url %}never closed".into()),
            ..EmailMessage::default()
        };
        assert_eq!(
            EmailTemplates::new(Some(&broken)).unwrap_err().field,
            "text"
        );
        let endless = EmailMessage {
            text: Some(
                "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
                    .into(),
            ),
            ..EmailMessage::default()
        };
        let templates = EmailTemplates::new(Some(&endless)).unwrap();
        assert!(
            templates
                .render(&context("https://a.example/", "a@b.com"))
                .is_err()
        );
    }
}
