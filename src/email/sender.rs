//! How an email provider's sign-in messages leave: over SMTP (lettre), or, with the `dev`
//! transport, into the log. Built once per pipeline, without I/O: lettre connects at the
//! first send.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::message::{EmailTemplates, RenderedMessage};
use super::smtp::SmtpServer;
use crate::config::provider::{EmailTransport, ProviderConfig};

/// How long one delivery may take: connecting, TLS, AUTH and the message.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// The default lifetime of a sign-in link.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3_600);

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dev,
    /// No `server`: only a `sendVerificationRequest` script delivers, by HTTP.
    None,
}

/// An email provider's sender: its transport, its `from` and its templates.
pub struct EmailSender {
    from: Mailbox,
    transport: Transport,
    pub templates: EmailTemplates,
    /// How long a link stays valid.
    pub max_age: Duration,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from.to_string())
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
        let from = provider
            .from
            .as_deref()
            .ok_or_else(|| SenderError::new("from", "required property is missing"))?
            .parse::<Mailbox>()
            .map_err(|error| SenderError::new("from", format!("not an email address: {error}")))?;
        let transport = match provider.transport.unwrap_or(EmailTransport::Smtp) {
            EmailTransport::Dev => Transport::Dev,
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

    /// Sends `message` to `to` (a normalised address). The `dev` transport logs `link`
    /// instead. The error is for the log.
    pub async fn send(
        &self,
        provider: &str,
        to: &str,
        message: &RenderedMessage,
        link: &str,
    ) -> Result<(), String> {
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
            Transport::None => {
                return Err(
                    "the provider has no `server` to send the message the script returned".into(),
                );
            }
        };
        let to: Mailbox = to
            .parse()
            .map_err(|error| format!("the recipient is not an address: {error}"))?;
        let email = Message::builder()
            .from(self.from.clone())
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
