//! What a `sendVerificationRequest` script asks for, read from its result:
//!
//! - `()` or `true`: send the rendered message as it is;
//! - `#{subject, text, html}` (any of them): send with those parts replaced;
//! - `#{http: #{url, method, headers, body | json}}`: deliver by that HTTP request (an
//!   email API, an SMS gateway) instead of email; a 2xx answer means delivered;
//! - `false`: refuse (EmailSignin).
//!
//! Scripts do no I/O themselves: authgate makes the request, with its own timeouts.

use serde_json::{Map, Value};

use super::message::RenderedMessage;

/// How a sign-in link is delivered.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Send(RenderedMessage),
    Http(HttpDelivery),
    Refuse,
}

/// An HTTP request that delivers the link.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpDelivery {
    pub url: url::Url,
    pub method: HttpMethod,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Post,
    Put,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HttpBody {
    None,
    Text(String),
    Json(Value),
    /// `application/x-www-form-urlencoded` fields.
    Form(Vec<(String, String)>),
}

impl HttpDelivery {
    /// Makes the request with the shared HTTP client (no redirects, bounded time and
    /// size). Only a 2xx answer counts as delivered. The error names no URL query, which
    /// may hold a key.
    pub async fn send(&self) -> Result<(), String> {
        let method = match self.method {
            HttpMethod::Post => http::Method::POST,
            HttpMethod::Put => http::Method::PUT,
        };
        let (content_type, body) = match &self.body {
            HttpBody::None => (None, Vec::new()),
            HttpBody::Text(text) => (Some("text/plain; charset=utf-8"), text.clone().into_bytes()),
            HttpBody::Json(json) => (Some("application/json"), json.to_string().into_bytes()),
            HttpBody::Form(fields) => (
                Some("application/x-www-form-urlencoded"),
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish()
                    .into_bytes(),
            ),
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(self.url.as_str());
        let has_content_type = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if let (Some(content_type), false) = (content_type, has_content_type) {
            request = request.header(http::header::CONTENT_TYPE, content_type);
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(body)
            .map_err(|error| format!("the delivery request is not valid: {error}"))?;
        let shown = format!(
            "{}://{}{}",
            self.url.scheme(),
            self.url.host_str().unwrap_or_default(),
            self.url.path()
        );
        let response = crate::providers::http_client::execute(request)
            .await
            .map_err(|error| format!("{shown}: {error}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("{shown} answered {}", response.status()))
        }
    }
}

/// The delivery a script's `result` asks for; `message` is the rendered default.
pub fn delivery_from_script(result: Value, message: RenderedMessage) -> Result<Delivery, String> {
    match result {
        Value::Null | Value::Bool(true) => Ok(Delivery::Send(message)),
        Value::Bool(false) => Ok(Delivery::Refuse),
        Value::Object(mut map) => match map.remove("http") {
            Some(Value::Object(http)) if map.is_empty() => http_delivery(http).map(Delivery::Http),
            Some(_) => Err("`http` must be a map, alone in the result".into()),
            None => replaced_message(map, message).map(Delivery::Send),
        },
        other => Err(format!(
            "expected (), true, false or a map, found {}",
            crate::script::type_name(&other)
        )),
    }
}

fn replaced_message(
    map: Map<String, Value>,
    mut message: RenderedMessage,
) -> Result<RenderedMessage, String> {
    for (key, value) in map {
        let Value::String(text) = value else {
            return Err(format!("`{key}` must be a string"));
        };
        match key.as_str() {
            // One line, as the templates' subject.
            "subject" => message.subject = text.replace(['\r', '\n'], " "),
            "text" => message.text = text,
            "html" => message.html = text,
            other => {
                return Err(format!(
                    "unknown key `{other}`; expected subject, text, html or http"
                ));
            }
        }
    }
    Ok(message)
}

fn http_delivery(mut http: Map<String, Value>) -> Result<HttpDelivery, String> {
    let url = match http.remove("url") {
        Some(Value::String(url)) => {
            url::Url::parse(&url).map_err(|error| format!("http.url: {error}"))?
        }
        _ => return Err("http.url is required and must be a string".into()),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err("http.url must be http or https".into());
    }
    let method = match http.remove("method") {
        None => HttpMethod::Post,
        Some(Value::String(method)) => match method.to_ascii_uppercase().as_str() {
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            other => return Err(format!("http.method `{other}`: expected POST or PUT")),
        },
        Some(_) => return Err("http.method must be a string".into()),
    };
    let headers = match http.remove("headers") {
        None => Vec::new(),
        Some(Value::Object(headers)) => headers
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(value) => Ok((name, value)),
                _ => Err(format!("http.headers.{name} must be a string")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("http.headers must be a map".into()),
    };
    let body = match (http.remove("body"), http.remove("json")) {
        (None, None) => HttpBody::None,
        (Some(Value::String(text)), None) => HttpBody::Text(text),
        (None, Some(json)) => HttpBody::Json(json),
        (Some(_), None) => return Err("http.body must be a string (use `json` for a map)".into()),
        (Some(_), Some(_)) => return Err("http has both `body` and `json`".into()),
    };
    if let Some(key) = http.keys().next() {
        return Err(format!(
            "unknown key http.{key}; expected url, method, headers, body or json"
        ));
    }
    Ok(HttpDelivery {
        url,
        method,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message() -> RenderedMessage {
        RenderedMessage {
            subject: "Sign in".into(),
            text: "text".into(),
            html: "<p>html</p>".into(),
        }
    }

    #[test]
    fn script_results_choose_the_delivery() {
        let cases = [
            (json!(null), Ok(Delivery::Send(message()))),
            (json!(true), Ok(Delivery::Send(message()))),
            (json!(false), Ok(Delivery::Refuse)),
            (
                json!({"subject": "Hi\r\nBcc: x@evil.com", "text": "t2"}),
                Ok(Delivery::Send(RenderedMessage {
                    subject: "Hi  Bcc: x@evil.com".into(),
                    text: "t2".into(),
                    html: "<p>html</p>".into(),
                })),
            ),
            (
                json!({"http": {"url": "https://api.example.com/send", "headers": {"Authorization": "Bearer k"}, "json": {"to": "a@b.com"}}}),
                Ok(Delivery::Http(HttpDelivery {
                    url: url::Url::parse("https://api.example.com/send").unwrap(),
                    method: HttpMethod::Post,
                    headers: vec![("Authorization".into(), "Bearer k".into())],
                    body: HttpBody::Json(json!({"to": "a@b.com"})),
                })),
            ),
        ];
        for (result, expected) in cases {
            assert_eq!(
                delivery_from_script(result.clone(), message()),
                expected,
                "{result}"
            );
        }
    }

    #[test]
    fn malformed_results_are_errors() {
        let cases = [
            json!("send"),
            json!(1),
            json!({"subject": 1}),
            json!({"to": "other@example.com"}),
            json!({"http": {"url": "file:///etc/passwd"}}),
            json!({"http": {"method": "POST"}}),
            json!({"http": {"url": "https://a.example", "method": "DELETE"}}),
            json!({"http": {"url": "https://a.example", "body": "x", "json": {}}}),
            json!({"http": {"url": "https://a.example", "timeout": 1}}),
            json!({"http": {"url": "https://a.example"}, "subject": "x"}),
            json!({"http": "https://a.example"}),
        ];
        for result in cases {
            assert!(
                delivery_from_script(result.clone(), message()).is_err(),
                "{result}"
            );
        }
    }
}
