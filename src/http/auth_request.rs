//! Translating between actix-web and the framework-free actions: the request's fields
//! (form or JSON body, bounded), cookies and origin in; status, headers, cookies and
//! after-response events out.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::origin::{client_ip, request_origin};
use super::responses::no_store;
use crate::actions::{AuthRequest, AuthResponse, Body, Method, PendingEvent};
use crate::config::ScriptKey;
use crate::pipeline::Pipeline;
use crate::session::cookie_header::{RequestCookies, read_cookies};

/// Largest request body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Most distinct fields a form or JSON body may have (a JSON object's top-level strings,
/// numbers and booleans, read as form fields). Auth.js's forms have a handful; every
/// field becomes part of a credentials sign-in's `credentials`, which a straight-line
/// `authorize` script reads on the async worker.
pub const MAX_BODY_FIELDS: usize = 200;

/// Why a request could not be turned into an `AuthRequest`.
#[derive(Debug)]
pub enum RequestError {
    TooLarge,
    TooManyFields,
    Malformed(&'static str),
}

impl RequestError {
    pub fn response(&self) -> HttpResponse {
        match self {
            RequestError::TooLarge => HttpResponse::PayloadTooLarge()
                .content_type("text/plain; charset=utf-8")
                .body(format!(
                    "Error: the request body is larger than {MAX_BODY_BYTES} bytes."
                )),
            RequestError::TooManyFields => HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body(format!(
                    "Error: the body has more than {MAX_BODY_FIELDS} fields."
                )),
            RequestError::Malformed(what) => HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body(format!("Error: {what}.")),
        }
    }
}

fn parse_form(bytes: &[u8]) -> Result<BTreeMap<String, String>, RequestError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|_| RequestError::Malformed("the form body is not valid"))?;
    let mut form = BTreeMap::new();
    for (key, value) in pairs {
        form.entry(key).or_insert(value);
    }
    Ok(form)
}

fn parse_query(query: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        fields
            .entry(key.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    fields
}

/// The request's cookies that authgate reads under the policy for its scheme (see
/// `session::cookie_header`: exact raw names, linear, bounded).
pub fn request_cookies(request: &HttpRequest, pipeline: &Pipeline, https: bool) -> RequestCookies {
    read_cookies(
        request
            .headers()
            .get_all(header::COOKIE)
            .map(HeaderValue::as_bytes),
        pipeline.cookie_policy(https),
    )
}

/// Builds the action request from actix's request and its (already bounded) body.
pub fn auth_request(
    request: &HttpRequest,
    body: &[u8],
    pipeline: &Pipeline,
) -> Result<AuthRequest, RequestError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(RequestError::TooLarge);
    }
    let method = if request.method() == actix_web::http::Method::POST {
        Method::Post
    } else {
        Method::Get
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (form, json) = if body.is_empty() {
        (BTreeMap::new(), None)
    } else if content_type.starts_with("application/json") {
        let json: Value = serde_json::from_slice(body)
            .map_err(|_| RequestError::Malformed("the JSON body is not valid"))?;
        let form = json
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .filter_map(|(key, value)| match value {
                        Value::String(text) => Some((key.clone(), text.clone())),
                        Value::Bool(flag) => Some((key.clone(), flag.to_string())),
                        Value::Number(number) => Some((key.clone(), number.to_string())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        (form, Some(json))
    } else {
        (parse_form(body)?, None)
    };
    if form.len() > MAX_BODY_FIELDS {
        return Err(RequestError::TooManyFields);
    }
    let origin = request_origin(request, pipeline);
    let cookies = request_cookies(request, pipeline, origin.https);
    Ok(AuthRequest {
        method,
        query: parse_query(request.query_string()),
        form,
        json,
        cookies,
        redirect_as_json_header: request.headers().contains_key("x-auth-return-redirect"),
        origin,
        client_ip: client_ip(request, pipeline),
        request_id: super::request_log::request_id(request),
        user_agent: user_agent(request),
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string),
    })
}

/// The actix response for an action's answer; events are started after it.
pub fn http_response(response: AuthResponse, pipeline: &Arc<Pipeline>) -> HttpResponse {
    let mut builder = HttpResponse::build(
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    if response.no_store {
        no_store(&mut builder);
    }
    if let Some(seconds) = response.retry_after {
        builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    for (name, value) in &response.headers {
        match (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                builder.append_header((name, value));
            }
            _ => tracing::warn!(header = %name, "dropped a header that is not valid HTTP"),
        }
    }
    if let Some(location) = &response.location
        && let Ok(value) = HeaderValue::from_str(location)
    {
        builder.insert_header((header::LOCATION, value));
    }
    // The clock is read only for responses that set cookies (`/providers` sets none).
    let now = if response.cookies.is_empty() {
        0
    } else {
        pipeline.clock.unix_seconds()
    };
    for set in &response.cookies {
        match HeaderValue::try_from(super::set_cookie::header_value(set, now)) {
            Ok(value) => {
                builder.append_header((header::SET_COOKIE, value));
            }
            // Only a cookie policy could do this (values are percent-encoded). Dropping
            // the one cookie could leave a session a sign-out meant to clear.
            Err(_) => {
                tracing::error!(cookie = %set.spec.name, "a cookie is not valid HTTP; answering 500");
                return HttpResponse::InternalServerError().finish();
            }
        }
    }
    spawn_events(response.events, pipeline.clone());
    match response.body {
        Body::Json(value) => builder.json(value),
        Body::Html(html) => {
            page_security_headers(&mut builder);
            builder.content_type("text/html; charset=utf-8").body(html)
        }
        Body::Text(text) => builder.content_type("text/plain; charset=utf-8").body(text),
        Body::Empty => builder.finish(),
    }
}

/// The longest `User-Agent` kept for the session list, in characters.
const MAX_USER_AGENT_CHARS: usize = 256;

/// The request's `User-Agent` as the session list shows it: control characters dropped,
/// at most `MAX_USER_AGENT_CHARS` characters.
fn user_agent(request: &HttpRequest) -> Option<String> {
    let header = request.headers().get(header::USER_AGENT)?;
    let text = String::from_utf8_lossy(header.as_bytes());
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// The policy of every built-in page: inline styles and provider logos only, no script,
/// no framing, no plugins, and no Referer (a page URL can carry a callbackUrl or an error).
const PAGE_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src 'self' data: https:; base-uri 'none'; frame-ancestors 'none'";

fn page_security_headers(builder: &mut actix_web::HttpResponseBuilder) {
    builder
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
}

/// Queues the events' webhooks and runs their scripts on the blocking pool, after the
/// response; failures are logged.
fn spawn_events(events: Vec<PendingEvent>, pipeline: Arc<Pipeline>) {
    if events.is_empty() {
        return;
    }
    if let Some(webhooks) = &pipeline.webhooks {
        for event in &events {
            let given = event.borrowed_arguments();
            let arguments =
                crate::actions::callbacks::with_defaults(ScriptKey::Event(event.event), &given);
            webhooks.send(&pipeline.config.webhooks, event.event, &arguments);
        }
    }
    actix_web::rt::spawn(async move {
        let _ = web::block(move || {
            for event in events {
                let key = ScriptKey::Event(event.event);
                let script = match pipeline.script(key) {
                    Ok(Some(script)) => script,
                    Ok(None) => continue,
                    Err(error) => {
                        tracing::error!("{}", error.internal);
                        continue;
                    }
                };
                let given = event.borrowed_arguments();
                let arguments = crate::actions::callbacks::with_defaults(key, &given);
                if let Err(error) = pipeline.scripts_runtime.call_borrowed(script, &arguments) {
                    tracing::warn!(script = %error.script, "{error}");
                }
            }
        })
        .await;
    });
}
