//! The Auth.js actions, free of any HTTP framework: an `AuthRequest` (method, action,
//! fields, cookies, origin) comes in, an `AuthResponse` (status, body, redirect, cookies,
//! events to run afterwards) goes out. `http/` translates to and from actix-web; tests can
//! call these directly.

pub mod access_tokens;
pub mod accounts;
pub mod callbacks;
pub mod credentials;
pub mod csrf;
pub mod email;
pub mod failure;
pub mod forward_auth;
pub mod introspection;
pub mod issue;
pub mod limits;
pub mod linked_accounts;
pub mod management;
pub mod oauth;
pub mod pages;
pub mod redirect;
pub mod session;
pub mod session_state;
pub mod sign_in;
pub mod signout;
pub mod token_refresh;
pub mod user_sessions;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::config::script_key::{Event, ScriptKey};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::Pipeline;
use crate::session::chunks::{CookieWrite, plan_write};
use crate::session::cookie_header::RequestCookies;
use crate::session::cookies::{CookiePolicy, CookieSpec};
use crate::session::csrf::{browser_binding, token_from_cookie, verify_token};
use crate::telemetry::audit::{AuditContext, AuditRecord};

/// Where the client reached authgate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin {
    /// `https://host[:port]` (from the configured `url`, or a trusted proxy).
    pub origin: String,
    /// The public URL the `url` setting (or a trusted proxy) gives, without a trailing slash.
    pub base_url: String,
    /// `base_url` plus the base path, without a trailing slash.
    pub auth_url: String,
    /// Whether the client side is https (decides `__Secure-`/`__Host-` cookies).
    pub https: bool,
}

impl RequestOrigin {
    /// The origin of the configured `url`, whatever host a request named.
    pub fn configured(pipeline: &Pipeline) -> RequestOrigin {
        pipeline.configured_origin.clone()
    }

    /// The origin of `base_url` (the configured `url`, no trailing slash) under
    /// `base_path`.
    pub fn of_url(base_url: &str, base_path: &str) -> RequestOrigin {
        let origin = url::Url::parse(base_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|_| base_url.to_string());
        RequestOrigin {
            auth_url: format!("{base_url}{base_path}"),
            base_url: base_url.to_string(),
            https: base_url.starts_with("https://"),
            origin,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One request to an action.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub method: Method,
    pub query: BTreeMap<String, String>,
    /// Form fields, or the string fields of a JSON body.
    pub form: BTreeMap<String, String>,
    /// The JSON body, when there was one (`POST /session` sends `{csrfToken, data}`).
    pub json: Option<Value>,
    pub cookies: RequestCookies,
    /// `X-Auth-Return-Redirect` was sent (the v5 client).
    pub redirect_as_json_header: bool,
    pub origin: RequestOrigin,
    /// The client's address: the connection's, or the one a trusted proxy reported.
    pub client_ip: Option<std::net::IpAddr>,
    /// The `User-Agent`, shortened and without control characters, for the session list.
    pub user_agent: Option<String>,
    /// The `Authorization` header (client authentication at `/introspect`).
    pub authorization: Option<String>,
    /// The id the request log gave this request (for the audit log).
    pub request_id: Option<String>,
}

impl AuthRequest {
    /// The value of cookie `name`, when it came exactly once.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name)
    }

    /// A field from the form (or JSON body), else from the query.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .get(name)
            .or_else(|| self.query.get(name))
            .map(String::as_str)
    }

    /// Whether a redirect must be answered as `{"url": ...}` (v4 `json=true`, v5 header).
    pub fn wants_json_redirect(&self) -> bool {
        self.redirect_as_json_header || self.form.get("json").is_some_and(|v| v == "true")
    }

    /// The cookie policy for this request's scheme.
    pub fn cookie_policy<'a>(&self, pipeline: &'a Pipeline) -> &'a CookiePolicy {
        pipeline.cookie_policy(self.origin.https)
    }

    /// Where this request's audit records come from.
    pub fn audit_context(&self) -> AuditContext {
        AuditContext {
            request_id: self.request_id.clone(),
            client_ip: self.client_ip,
        }
    }

    /// The token of this request's CSRF cookie, when authgate made that cookie.
    pub fn csrf_cookie_token(&self, pipeline: &Pipeline) -> Option<&str> {
        let cookie = self.cookie(&self.cookie_policy(pipeline).csrf_token.name)?;
        token_from_cookie(cookie, &pipeline.secret_refs())
    }

    /// This browser's binding (`session::csrf::browser_binding` of its CSRF token), when
    /// it has a CSRF cookie authgate made.
    pub fn browser_binding(&self, pipeline: &Pipeline) -> Option<String> {
        self.csrf_cookie_token(pipeline).map(browser_binding)
    }

    /// The CSRF check of a state-changing POST: MissingCSRF unless the submitted token
    /// matches this request's cookie. `what` names the action for the log.
    pub fn require_csrf(&self, pipeline: &Pipeline, what: &str) -> Result<(), AuthError> {
        if self.csrf_is_valid(pipeline) {
            Ok(())
        } else {
            Err(AuthError::new(
                ErrorCode::MissingCSRF,
                format!("{what} without a valid CSRF token"),
            ))
        }
    }

    /// Whether the submitted `csrfToken` matches this request's CSRF cookie.
    pub fn csrf_is_valid(&self, pipeline: &Pipeline) -> bool {
        let cookie = self.cookie(&self.cookie_policy(pipeline).csrf_token.name);
        // Only the body: a token in the query string would end up in logs and Referer.
        let submitted = self.form.get("csrfToken").map(String::as_str).or_else(|| {
            self.json
                .as_ref()
                .and_then(|body| body.get("csrfToken"))
                .and_then(Value::as_str)
        });
        match submitted {
            Some(submitted) => verify_token(cookie, submitted, &pipeline.secret_refs()),
            None => false,
        }
    }
}

/// A cookie to set (`value: Some`) or expire (`None`), with its policy's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub spec: CookieSpec,
    pub value: Option<String>,
    /// Seconds until it expires; `None` for a browser-session cookie.
    pub max_age: Option<u64>,
}

/// A script event to run after the response, its result ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    pub event: Event,
    pub arguments: Vec<(&'static str, Value)>,
}

impl PendingEvent {
    /// The event with `arguments`, when the configuration has a script or a webhook
    /// endpoint for it.
    pub fn if_configured(
        pipeline: &Pipeline,
        event: Event,
        arguments: Vec<(&'static str, Value)>,
    ) -> Option<PendingEvent> {
        Self::wanted(pipeline, event).then_some(PendingEvent { event, arguments })
    }

    /// Whether the configuration has a script or a webhook endpoint for `event`: when it
    /// has neither, the event's arguments need not be built.
    pub fn wanted(pipeline: &Pipeline, event: Event) -> bool {
        pipeline.has_script(ScriptKey::Event(event))
            || pipeline
                .config
                .webhooks
                .endpoints
                .iter()
                .any(|endpoint| endpoint.wants(event))
    }

    /// The arguments, borrowed.
    pub fn borrowed_arguments(&self) -> Vec<(&'static str, &Value)> {
        self.arguments
            .iter()
            .map(|(name, value)| (*name, value))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Html(String),
    Text(String),
    Empty,
}

/// What an action answers.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthResponse {
    pub status: u16,
    pub body: Body,
    pub location: Option<String>,
    pub cookies: Vec<SetCookie>,
    pub no_store: bool,
    pub events: Vec<PendingEvent>,
    /// `Retry-After` in seconds (a 429).
    pub retry_after: Option<u64>,
    /// More headers (forward-auth's identity headers). Names and values that are not valid
    /// HTTP are dropped when the answer is written.
    pub headers: Vec<(String, String)>,
    /// Security events for the audit log, written with the request's id and address.
    pub audit: Vec<AuditRecord>,
    /// The error code a failure was answered with (set by `failure`).
    pub failure: Option<ErrorCode>,
}

impl AuthResponse {
    pub fn json(status: u16, body: Value) -> Self {
        AuthResponse {
            status,
            body: Body::Json(body),
            location: None,
            cookies: Vec::new(),
            no_store: true,
            events: Vec::new(),
            retry_after: None,
            headers: Vec::new(),
            audit: Vec::new(),
            failure: None,
        }
    }

    pub fn html(status: u16, html: String) -> Self {
        AuthResponse {
            body: Body::Html(html),
            ..AuthResponse::json(status, Value::Null)
        }
    }

    /// A redirect: 302, or `{"url": ...}` when the client asked for JSON.
    pub fn redirect(request: &AuthRequest, url: String) -> Self {
        if request.wants_json_redirect() {
            AuthResponse::json(200, json!({ "url": url }))
        } else {
            AuthResponse {
                status: 302,
                body: Body::Empty,
                location: Some(url),
                ..AuthResponse::json(302, Value::Null)
            }
        }
    }

    /// The v4 client (`json=true` without the v5 header) reads a failed sign-in from the
    /// status: 401 for CredentialsSignin, 403 for AccessDenied, as next-auth v4 answers.
    /// Without it, `signIn(..., {redirect: false})` would report `ok: true`.
    pub fn with_v4_failure_status(mut self, request: &AuthRequest, code: ErrorCode) -> Self {
        if !request.redirect_as_json_header && request.wants_json_redirect() {
            match code {
                ErrorCode::CredentialsSignin => self.status = 401,
                ErrorCode::AccessDenied => self.status = 403,
                _ => {}
            }
        }
        self
    }
}

/// Runs work that may block (scripts that loop or hash passwords: `script::blocking`) on
/// the blocking pool and awaits it. Actions themselves run on the async workers, so their
/// network and store awaits hold no thread; only work that may block hops here, and only
/// when `may_block` (straight-line scripts take microseconds and run in place: the hop
/// would cost more). On the pool, a lost task (a panic in the work) is a Configuration
/// error.
pub async fn off_workers<T, F>(may_block: bool, work: F) -> Result<T, AuthError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if !may_block {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        AuthError::configuration(format!("work on the blocking pool did not finish: {error}"))
    })
}

/// `off_workers` for work on the request and pipeline: they are copied for the blocking
/// pool only when the work hops there, so work that runs in place borrows them.
pub async fn off_workers_on_request<T, F>(
    may_block: bool,
    request: &AuthRequest,
    pipeline: &Arc<Pipeline>,
    work: F,
) -> Result<T, AuthError>
where
    F: FnOnce(&AuthRequest, &Pipeline) -> T + Send + 'static,
    T: Send + 'static,
{
    if !may_block {
        return Ok(work(request, pipeline));
    }
    let (request, pipeline) = (request.clone(), pipeline.clone());
    off_workers(true, move || work(&request, &pipeline)).await
}

/// The cookie writes that store `token` (or clear it, for `None`) in the session cookie,
/// chunked as needed and clearing stale chunks. Storing one also refreshes the CSRF
/// cookie, which names the browser the session is bound to.
pub fn session_cookie_writes(
    request: &AuthRequest,
    pipeline: &Pipeline,
    token: Option<&str>,
    max_age: u64,
) -> Vec<SetCookie> {
    let spec = &request.cookie_policy(pipeline).session_token;
    let csrf = token.and_then(|_| csrf::refreshed_csrf_cookie(request, pipeline));
    plan_write(&spec.name, token, request.cookies.names())
        .into_iter()
        .map(|CookieWrite { name, value }| SetCookie {
            spec: CookieSpec {
                name,
                ..spec.clone()
            },
            max_age: value.as_ref().map(|_| max_age),
            value,
        })
        .chain(csrf)
        .collect()
}
