//! Token endpoint answers as real providers send them, rewritten into the shape RFC 6749
//! §5.1 describes before the oauth2 crate reads them, for every provider alike:
//!
//! - `scope` as a JSON array (Twitch) becomes the space-separated string;
//! - `expires_in` as a numeric string (Naver) or a float becomes a whole number, and one
//!   that is no number at all is dropped (an unknown lifetime, not a failed sign-in);
//! - a missing or null `token_type` (VK, WeChat) is read as `bearer`;
//! - an answer that is a JSON object, or an `application/x-www-form-urlencoded` document
//!   with an `access_token`, is served as `application/json` whatever type it was sent
//!   with;
//! - a `200 OK` carrying `error` and no `access_token` (GitHub) becomes the `400` that
//!   §5.2 prescribes, so it is reported as the provider's refusal.
//!
//! It also sends the request the way a provider wants it: `token.method: GET` (WeChat)
//! moves the form parameters into the query string.

use serde_json::{Map, Value};

use super::http_client::{self, HttpError};

/// How the token request leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenRequestMethod {
    /// The form in a POST body (RFC 6749).
    #[default]
    Post,
    /// The form's parameters in the query of a GET.
    Get,
}

/// Sends a token request built by the oauth2 crate, then normalises the answer.
pub async fn execute(
    method: TokenRequestMethod,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, HttpError> {
    let request = match method {
        TokenRequestMethod::Post => request,
        TokenRequestMethod::Get => as_get(request)?,
    };
    let response = http_client::execute(request).await?;
    Ok(normalise(response))
}

/// The same request as a GET with its form body appended to the URL's query.
fn as_get(request: oauth2::HttpRequest) -> Result<oauth2::HttpRequest, HttpError> {
    let (mut parts, body) = request.into_parts();
    let mut url = url::Url::parse(&parts.uri.to_string())
        .map_err(|error| HttpError::Request(format!("token URL: {error}")))?;
    url.query_pairs_mut()
        .extend_pairs(url::form_urlencoded::parse(&body));
    parts.method = http::Method::GET;
    parts.uri = url
        .as_str()
        .parse()
        .map_err(|error| HttpError::Request(format!("token URL: {error}")))?;
    parts.headers.remove(http::header::CONTENT_TYPE);
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Ok(http::Request::from_parts(parts, Vec::new()))
}

/// The answer with its body rewritten to RFC 6749's shape; one that cannot be read is
/// passed on as it came, for the oauth2 crate to report.
pub fn normalise(response: oauth2::HttpResponse) -> oauth2::HttpResponse {
    let (mut parts, body) = response.into_parts();
    let Some(mut fields) = fields_of(&parts.headers, &body) else {
        return http::Response::from_parts(parts, body);
    };
    let granted = fields.contains_key("access_token");
    if granted {
        normalise_grant(&mut fields);
    } else if parts.status == http::StatusCode::OK && fields.contains_key("error") {
        parts.status = http::StatusCode::BAD_REQUEST;
    }
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&Value::Object(fields)).unwrap_or(body);
    http::Response::from_parts(parts, body)
}

/// The answer's fields: a JSON object, or a form document naming an `access_token` or an
/// `error`.
fn fields_of(headers: &http::HeaderMap, body: &[u8]) -> Option<Map<String, Value>> {
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) {
        return Some(fields);
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !(content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.starts_with("text/plain"))
    {
        return None;
    }
    let fields: Map<String, Value> = url::form_urlencoded::parse(body)
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect();
    (fields.contains_key("access_token") || fields.contains_key("error")).then_some(fields)
}

fn normalise_grant(fields: &mut Map<String, Value>) {
    if let Some(Value::Array(scopes)) = fields.get("scope") {
        let joined: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
        let joined = joined.join(" ");
        fields.insert("scope".into(), Value::String(joined));
    }
    if !matches!(fields.get("scope"), None | Some(Value::String(_))) {
        fields.remove("scope");
    }
    if let Some(lifetime) = fields.get("expires_in") {
        match seconds(lifetime) {
            Some(seconds) => {
                fields.insert("expires_in".into(), Value::from(seconds));
            }
            None => {
                fields.remove("expires_in");
            }
        }
    }
    if matches!(fields.get("token_type"), None | Some(Value::Null)) {
        fields.insert("token_type".into(), Value::String("bearer".into()));
    }
}

/// A lifetime in whole seconds: a number, or a string holding one; never negative.
fn seconds(value: &Value) -> Option<u64> {
    let number = match value {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // `as` saturates: a huge lifetime stays huge, never wraps.
    (number.is_finite() && number >= 0.0).then_some(number as u64)
}

#[cfg(test)]
#[path = "token_response_tests.rs"]
mod tests;
