//! The SMTP server of an email provider: its `server` URL parsed into settings, and the
//! lettre transport built from them. Nothing here is hand-written SMTP.
//!
//! - `smtps://host[:465]`: TLS from the first byte.
//! - `smtp://host[:587]`: STARTTLS when the server offers it (as nodemailer does).
//! - `smtp://host[:587]?tls=required`: STARTTLS or no mail.
//! - `smtp://host[:25]?tls=none`: never encrypted (a local relay).
//!
//! Credentials are the URL's user and password, percent-decoded.

use std::time::Duration;

use lettre::Tokio1Executor;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use percent_encoding::percent_decode_str;

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the start.
    Implicit,
    /// STARTTLS, refusing a server without it.
    StartTlsRequired,
    /// STARTTLS when the server offers it.
    StartTlsOpportunistic,
    /// Plain text.
    None,
}

/// A parsed `server` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpServer {
    // The password never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish()
    }
}

impl SmtpServer {
    /// Parses `server`. The error never repeats the URL, which may hold a password.
    pub fn parse(text: &str) -> Result<SmtpServer, String> {
        let url = url::Url::parse(text.trim()).map_err(|error| {
            format!("not an SMTP URL ({error}); expected `smtp://host:587` or `smtps://host:465`")
        })?;
        let mut security = match url.scheme() {
            "smtps" => Security::Implicit,
            "smtp" => Security::StartTlsOpportunistic,
            other => {
                return Err(format!(
                    "unsupported scheme `{other}`; expected `smtp` or `smtps`"
                ));
            }
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref(), security) {
                ("tls", "required", Security::StartTlsOpportunistic) => {
                    security = Security::StartTlsRequired;
                }
                ("tls", "opportunistic", Security::StartTlsOpportunistic) => {}
                ("tls", "none", Security::StartTlsOpportunistic) => security = Security::None,
                ("tls", _, Security::Implicit) => {
                    return Err("`smtps://` is always TLS; `tls=` applies to `smtp://` only".into());
                }
                ("tls", other, _) => {
                    return Err(format!(
                        "unknown `tls={other}`; expected `required`, `opportunistic` or `none`"
                    ));
                }
                (other, _, _) => {
                    return Err(format!(
                        "unknown URL parameter `{other}`; only `tls` is read"
                    ));
                }
            }
        }
        let host = match url.host() {
            Some(url::Host::Domain(host)) => host.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("the URL has no host".into()),
        };
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err("an SMTP URL has no path or fragment".into());
        }
        let default_port = if security == Security::Implicit {
            465
        } else {
            587
        };
        let decode = |text: &str| {
            percent_decode_str(text)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|_| "the URL's user or password is not UTF-8 once decoded".to_string())
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) => Some((decode(user)?, decode(password)?)),
            (_, None) => return Err("the URL has a user but no password".into()),
        };
        Ok(SmtpServer {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
        })
    }

    /// Whether the password may cross the network in clear: credentials without TLS that
    /// is guaranteed, to a host that is not this machine.
    pub fn may_send_password_in_clear(&self) -> bool {
        let loopback = self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        self.credentials.is_some()
            && !loopback
            && matches!(
                self.security,
                Security::StartTlsOpportunistic | Security::None
            )
    }

    /// The lettre transport. `extra_roots` is a PEM bundle trusted besides the system's.
    pub fn transport(
        &self,
        extra_roots: Option<&str>,
        timeout: Duration,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls = match self.security {
            Security::None => Tls::None,
            security => {
                let mut parameters = TlsParameters::builder(self.host.clone());
                if let Some(pem) = extra_roots {
                    for certificate in pem_certificates(pem)? {
                        parameters = parameters.add_root_certificate(certificate);
                    }
                }
                let parameters = parameters
                    .build_native()
                    .map_err(|error| format!("cannot set up TLS: {error}"))?;
                match security {
                    Security::Implicit => Tls::Wrapper(parameters),
                    Security::StartTlsRequired => Tls::Required(parameters),
                    _ => Tls::Opportunistic(parameters),
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }
}

/// Each certificate of a PEM bundle.
fn pem_certificates(pem: &str) -> Result<Vec<Certificate>, String> {
    const END: &str = "-----END CERTIFICATE-----";
    let mut certificates = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let Some(end) = rest[start..].find(END) else {
            return Err("a certificate in the CA file has no END line".into());
        };
        let block = &rest[start..start + end + END.len()];
        certificates.push(
            Certificate::from_pem(block.as_bytes())
                .map_err(|error| format!("a certificate in the CA file is not valid: {error}"))?,
        );
        rest = &rest[start + end + END.len()..];
    }
    if certificates.is_empty() {
        return Err("the CA file holds no PEM certificate".into());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL, then the host, port, security and credentials it names.
    type Case = (
        &'static str,
        &'static str,
        u16,
        Security,
        Option<(&'static str, &'static str)>,
    );

    #[test]
    fn server_urls_name_host_port_security_and_credentials() {
        let cases: [Case; 6] = [
            (
                "smtp://127.0.0.1:2525",
                "127.0.0.1",
                2525,
                Security::StartTlsOpportunistic,
                None,
            ),
            (
                "smtp://mail.example.com",
                "mail.example.com",
                587,
                Security::StartTlsOpportunistic,
                None,
            ),
            (
                "smtps://mail.example.com",
                "mail.example.com",
                465,
                Security::Implicit,
                None,
            ),
            (
                "smtp://user%40example.com:p%40ss%3Aw@mail.example.com:587?tls=required",
                "mail.example.com",
                587,
                Security::StartTlsRequired,
                Some(("user@example.com", "p@ss:w")),
            ),
            (
                "smtp://relay:25?tls=none",
                "relay",
                25,
                Security::None,
                None,
            ),
            (
                "smtp://[::1]:2525?tls=opportunistic",
                "::1",
                2525,
                Security::StartTlsOpportunistic,
                None,
            ),
        ];
        for (text, host, port, security, credentials) in cases {
            let server = SmtpServer::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"));
            assert_eq!(server.host, host, "{text}");
            assert_eq!(server.port, port, "{text}");
            assert_eq!(server.security, security, "{text}");
            assert_eq!(
                server.credentials,
                credentials.map(|(u, p)| (u.to_string(), p.to_string())),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_server_urls_are_refused_without_echoing_the_password() {
        let cases = [
            "http://mail.example.com",
            "smtp://",
            "smtp://user@mail.example.com",
            "smtp://mail.example.com?tls=maybe",
            "smtps://mail.example.com?tls=none",
            "smtp://mail.example.com?auth=plain",
            "smtp://mail.example.com/inbox",
            "mail.example.com:587",
        ];
        for text in cases {
            assert!(SmtpServer::parse(text).is_err(), "{text} was accepted");
        }
        let error = SmtpServer::parse("smtp://u:hunter2secret@h?tls=maybe").unwrap_err();
        assert!(!error.contains("hunter2secret"), "{error}");
        let debug = format!(
            "{:?}",
            SmtpServer::parse("smtp://u:hunter2secret@h").unwrap()
        );
        assert!(!debug.contains("hunter2secret"), "{debug}");
    }

    #[test]
    fn a_password_in_clear_to_another_host_is_noticed() {
        let cases = [
            ("smtp://u:p@mail.example.com", true),
            ("smtp://u:p@mail.example.com?tls=none", true),
            ("smtp://u:p@mail.example.com?tls=required", false),
            ("smtps://u:p@mail.example.com", false),
            ("smtp://u:p@127.0.0.1:2525?tls=none", false),
            ("smtp://mail.example.com?tls=none", false),
        ];
        for (text, expected) in cases {
            let server = SmtpServer::parse(text).unwrap();
            assert_eq!(server.may_send_password_in_clear(), expected, "{text}");
        }
    }
}
