//! How an email provider's sign-in messages leave: over SMTP (lettre), by an email API's
//! HTTP request (`http_transport`), or, with the `dev` transport, into the log. Built once
//! per pipeline, without I/O: lettre connects at the first send.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::http_transport::HttpTransport;
use super::message::{EmailTemplates, MessageContext, RenderedMessage};
use super::smtp::SmtpServer;
use crate::config::provider::{EmailTransport, ProviderConfig};

/// How long one delivery may take: connecting, TLS, AUTH and the message.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// The default lifetime of a sign-in link.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3_600);

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dev,
    Http(Box<HttpTransport>),
    /// No `server`: only a `sendVerificationRequest` script delivers, by HTTP.
    None,
}

/// An email provider's sender: its transport, its `from` and its templates.
pub struct EmailSender {
    /// Required except by the `http` transport, whose API may not need it (Loops).
    from: Option<Mailbox>,
    transport: Transport,
    pub templates: EmailTemplates,
    /// How long a link stays valid.
    pub max_age: Duration,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from.as_ref().map(ToString::to_string))
            .field("dev", &self.is_dev())
            .finish_non_exhaustive()
    }
}

/// A provider field that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderError {
    /// The field under the provider (`server`, `from`, `message/html`, ...).
    pub field: String,
    pub message: String,
}

impl SenderError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> SenderError {
        SenderError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl EmailSender {
    /// The sender of an email provider; `ca_pem` is its `serverCaFile`, read.
    pub fn build(
        provider: &ProviderConfig,
        ca_pem: Option<&str>,
    ) -> Result<EmailSender, SenderError> {
        let transport_kind = provider.transport.unwrap_or(EmailTransport::Smtp);
        let from = match provider.from.as_deref() {
            Some(from) => Some(from.parse::<Mailbox>().map_err(|error| {
                SenderError::new("from", format!("not an email address: {error}"))
            })?),
            None if transport_kind == EmailTransport::Http => None,
            None => return Err(SenderError::new("from", "required property is missing")),
        };
        let transport = match transport_kind {
            EmailTransport::Dev => Transport::Dev,
            EmailTransport::Http => {
                let http = provider.http.as_ref().ok_or_else(|| {
                    SenderError::new("http", "`transport: http` needs the `http` request")
                })?;
                let api_key = provider.api_key.as_ref().map(|key| key.expose());
                let transport =
                    HttpTransport::build(http, api_key, &provider.settings, from.as_ref())
                        .map_err(|error| {
                            SenderError::new(format!("http/{}", error.field), error.message)
                        })?;
                Transport::Http(Box::new(transport))
            }
            EmailTransport::Smtp
                if provider.server.is_none() && provider.send_verification_request.is_some() =>
            {
                Transport::None
            }
            EmailTransport::Smtp => {
                let server = provider
                    .server
                    .as_deref()
                    .ok_or_else(|| SenderError::new("server", "required property is missing"))?;
                let server =
                    SmtpServer::parse(server).map_err(|error| SenderError::new("server", error))?;
                let transport = server
                    .transport(ca_pem, SEND_TIMEOUT)
                    .map_err(|error| SenderError::new("serverCaFile", error))?;
                Transport::Smtp(transport)
            }
        };
        let templates = EmailTemplates::new(provider.message.as_ref())
            .map_err(|error| SenderError::new(format!("message/{}", error.field), error.message))?;
        Ok(EmailSender {
            from,
            transport,
            templates,
            max_age: provider
                .max_age
                .map(|age| age.as_std())
                .unwrap_or(DEFAULT_MAX_AGE),
        })
    }

    pub fn is_dev(&self) -> bool {
        matches!(self.transport, Transport::Dev)
    }

    /// Sends `message` to `context.email` (a normalised address). The `dev` transport logs
    /// the link instead. The error is for the log.
    pub async fn send(
        &self,
        provider: &str,
        context: &MessageContext,
        message: &RenderedMessage,
    ) -> Result<(), String> {
        let (to, link) = (context.email.as_str(), context.url.as_str());
        let transport = match &self.transport {
            Transport::Dev => {
                tracing::warn!(
                    provider,
                    to,
                    link,
                    "dev email transport: this sign-in link was logged, not sent; never use the dev transport in production"
                );
                return Ok(());
            }
            Transport::Smtp(transport) => transport,
            Transport::Http(http) => {
                let request = http
                    .request(context, message, self.from.as_ref())
                    .map_err(|(field, error)| format!("http/{field}: {error}"))?;
                return request.send().await;
            }
            Transport::None => {
                return Err(
                    "the provider has no `server` to send the message the script returned".into(),
                );
            }
        };
        let to: Mailbox = to
            .parse()
            .map_err(|error| format!("the recipient is not an address: {error}"))?;
        let from = self
            .from
            .clone()
            .ok_or("an SMTP message needs a `from` address")?;
        let email = Message::builder()
            .from(from)
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(|error| format!("cannot build the message: {error}"))?;
        transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|error| format!("the SMTP server did not take the message: {error}"))
    }
}
