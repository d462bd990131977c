//! `transport: http`: an email provider that hands each sign-in link to an email API
//! (Resend, SendGrid, Postmark, Mailgun, Loops, Forward Email) by one HTTP request that
//! its `http` field describes as data. The URL, each header value and each string of the
//! JSON or form body is a minijinja template; they are compiled and rendered once on
//! sample values when the configuration loads, so a typo or an unknown variable is a
//! configuration error, not a failed sign-in. Values printed into the URL are
//! percent-encoded, so an address such as `a/../b?x=1#@example.com` stays one path segment
//! or query value; elsewhere rendering never escapes: values become JSON strings, form
//! fields or header values, which are encoded as such.

use std::collections::BTreeMap;

use base64::Engine;
use lettre::message::Mailbox;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

use super::delivery::{HttpBody, HttpDelivery, HttpMethod};
use super::message::{MessageContext, RenderedMessage};
use crate::config::provider::{DeliveryMethod, HttpTransport as HttpTransportConfig};

/// The most template work one request may take (minijinja fuel units).
const FUEL: u64 = 50_000;

/// The compiled request of one provider.
pub struct HttpTransport {
    /// The URL template alone, printing every value percent-encoded.
    url_env: Environment<'static>,
    /// The headers' and the body's templates, printing values as they are.
    env: Environment<'static>,
    method: HttpMethod,
    /// Header names, each with its template's name.
    headers: Vec<(String, String)>,
    body: BodyTemplate,
    api_key: String,
    settings: BTreeMap<String, String>,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

enum BodyTemplate {
    None,
    /// The JSON value, with each string replaced by its template's name.
    Json(Value),
    /// Field names with their templates' names.
    Form(Vec<(String, String)>),
}

const URL_TEMPLATE: &str = "url";

/// A field of `http` that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// The field under `http` (`url`, `headers/Authorization`, `json/to`, ...).
    pub field: String,
    pub message: String,
}

impl HttpTransport {
    /// Compiles `config`, then renders it once on sample values.
    pub fn build(
        config: &HttpTransportConfig,
        api_key: Option<&str>,
        settings: &BTreeMap<String, String>,
        from: Option<&Mailbox>,
    ) -> Result<HttpTransport, TransportError> {
        // The URL has an environment of its own, where every printed value is encoded: an
        // `{% include %}` cannot reach a template that prints raw.
        let mut url_env = environment();
        url_env.set_formatter(|out, _, value| {
            let text = value.to_string();
            if matches!(text.as_str(), "." | "..") {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "a value printed into the URL is `.` or `..`, which would name another path",
                ));
            }
            out.write_str(&crate::text::percent_encoded(&text))
                .map_err(|error| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, error.to_string())
                })
        });
        Templates {
            env: &mut url_env,
            count: 0,
        }
        .add("url", URL_TEMPLATE.to_string(), &config.url)?;
        let mut env = environment();
        let mut templates = Templates {
            env: &mut env,
            count: 0,
        };
        let headers = config
            .headers
            .iter()
            .map(|(name, template)| {
                http::HeaderName::try_from(name.as_str()).map_err(|_| TransportError {
                    field: format!("headers/{name}"),
                    message: "not a valid header name".into(),
                })?;
                let key = templates.next(&format!("headers/{name}"), template)?;
                Ok((name.clone(), key))
            })
            .collect::<Result<Vec<_>, TransportError>>()?;
        let body = match (&config.json, &config.form) {
            (Some(_), Some(_)) => {
                return Err(TransportError {
                    field: "json".into(),
                    message: "`json` and `form` cannot both be set".into(),
                });
            }
            (Some(json), None) => BodyTemplate::Json(templates.json("json", json)?),
            (None, Some(form)) => BodyTemplate::Form(
                form.iter()
                    .map(|(name, template)| {
                        Ok((
                            name.clone(),
                            templates.next(&format!("form/{name}"), template)?,
                        ))
                    })
                    .collect::<Result<_, TransportError>>()?,
            ),
            (None, None) => BodyTemplate::None,
        };
        let transport = HttpTransport {
            url_env,
            env,
            method: match config.method {
                Some(DeliveryMethod::Put) => HttpMethod::Put,
                Some(DeliveryMethod::Post) | None => HttpMethod::Post,
            },
            headers,
            body,
            api_key: api_key.unwrap_or_default().to_string(),
            settings: settings.clone(),
        };
        transport.dry_run(from)?;
        Ok(transport)
    }

    /// Renders every template on sample values, so that an unknown variable is found now.
    fn dry_run(&self, from: Option<&Mailbox>) -> Result<(), TransportError> {
        let sample = MessageContext {
            url: "https://auth.example.com/api/auth/callback/email?token=t&email=a%40example.com"
                .into(),
            host: "auth.example.com".into(),
            email: "a@example.com".into(),
            expires: "2026-01-01T00:00:00Z".into(),
            provider: "Email".into(),
            brand_color: String::new(),
            button_text: String::new(),
        };
        let message = RenderedMessage {
            subject: "Sign in".into(),
            text: "text".into(),
            html: "<p>html</p>".into(),
        };
        self.request(&sample, &message, from)
            .map(|_| ())
            .map_err(|(field, message)| TransportError { field, message })
    }

    /// The request that delivers `message` for `context`; the error names the field
    /// whose template failed.
    pub fn request(
        &self,
        context: &MessageContext,
        message: &RenderedMessage,
        from: Option<&Mailbox>,
    ) -> Result<HttpDelivery, (String, String)> {
        let from_address = from.map(|from| from.email.to_string()).unwrap_or_default();
        let values = minijinja::context! {
            email => &context.email,
            url => &context.url,
            host => &context.host,
            expires => &context.expires,
            provider => &context.provider,
            from => from.map(ToString::to_string).unwrap_or_default(),
            from_name => from.and_then(|from| from.name.clone()).unwrap_or_default(),
            from_domain => from.map(|from| from.email.domain().to_string()).unwrap_or_default(),
            from_address => &from_address,
            subject => &message.subject,
            text => &message.text,
            html => &message.html,
            api_key => &self.api_key,
            settings => &self.settings,
        };
        let render_in = |env: &Environment<'static>, name: &str| {
            env.get_template(name)
                .and_then(|template| template.render(&values))
                .map_err(|error| (field_of(name), error.to_string()))
        };
        let render = |name: &str| render_in(&self.env, name);
        let url = render_in(&self.url_env, URL_TEMPLATE)?;
        let url = url::Url::parse(url.trim())
            .ok()
            .filter(|url| url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url)))
            .ok_or_else(|| {
                (
                    "url".to_string(),
                    "does not render to an https URL (http only to a loopback host)".into(),
                )
            })?;
        let headers = self
            .headers
            .iter()
            .map(|(name, template)| {
                let value = render(template)?;
                http::HeaderValue::from_str(&value).map_err(|_| {
                    (
                        field_of(template),
                        "renders to a value a header cannot hold".to_string(),
                    )
                })?;
                Ok((name.clone(), value))
            })
            .collect::<Result<Vec<_>, (String, String)>>()?;
        let body = match &self.body {
            BodyTemplate::None => HttpBody::None,
            BodyTemplate::Json(json) => HttpBody::Json(render_json(json, &render)?),
            BodyTemplate::Form(fields) => HttpBody::Form(
                fields
                    .iter()
                    .map(|(name, template)| Ok((name.clone(), render(template)?)))
                    .collect::<Result<_, (String, String)>>()?,
            ),
        };
        Ok(HttpDelivery {
            url,
            method: self.method,
            headers,
            body,
        })
    }
}

/// A template environment as both halves of the request use it: bounded by fuel, strict
/// about undefined values, escaping nothing, with the `base64` filter.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.add_filter("base64", |text: String| {
        base64::engine::general_purpose::STANDARD.encode(text)
    });
    env
}

/// Whether `url` names this machine, where plain http carries the key nowhere.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// The `http` field a template name stands for (`headers/Authorization#3` → `headers/Authorization`).
fn field_of(name: &str) -> String {
    name.split_once('#')
        .map_or(name, |(field, _)| field)
        .to_string()
}

/// Adds templates under unique names that keep their field for messages.
struct Templates<'e> {
    env: &'e mut Environment<'static>,
    count: usize,
}

impl Templates<'_> {
    fn add(&mut self, field: &str, name: String, source: &str) -> Result<String, TransportError> {
        self.env
            .add_template_owned(name.clone(), source.to_string())
            .map_err(|error| TransportError {
                field: field.to_string(),
                message: error.to_string(),
            })?;
        Ok(name)
    }

    fn next(&mut self, field: &str, source: &str) -> Result<String, TransportError> {
        self.count += 1;
        let name = format!("{field}#{}", self.count);
        self.add(field, name, source)
    }

    /// `value` with each string replaced by the name of its compiled template.
    fn json(&mut self, field: &str, value: &Value) -> Result<Value, TransportError> {
        Ok(match value {
            Value::String(source) => Value::String(self.next(field, source)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| self.json(&format!("{field}/{index}"), item))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| {
                        Ok((key.clone(), self.json(&format!("{field}/{key}"), item)?))
                    })
                    .collect::<Result<_, TransportError>>()?,
            ),
            other => other.clone(),
        })
    }
}

fn render_json(
    value: &Value,
    render: &impl Fn(&str) -> Result<String, (String, String)>,
) -> Result<Value, (String, String)> {
    Ok(match value {
        Value::String(template) => Value::String(render(template)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_json(item, render))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), render_json(item, render)?)))
                .collect::<Result<_, (String, String)>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
#[path = "http_transport_tests.rs"]
mod tests;
