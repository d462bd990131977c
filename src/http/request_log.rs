//! One tracing line per request: its id, method, path (never the query, which can carry
//! tokens), status and duration; and the request metrics by route. The id is made here,
//! answered as `X-Request-Id`, and carried to the audit log, so the two logs correlate.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};

use crate::reload::LiveConfig;
use crate::telemetry::metrics;

/// The id of the request being answered.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The id `log_request` gave `request`.
pub fn request_id(request: &HttpRequest) -> Option<String> {
    request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
}

/// The routes, as the metrics name them; anything else is `other`, so that no label value
/// comes from a request.
const ACTIONS: [&str; 17] = [
    "csrf",
    "providers",
    "session",
    "signin",
    "callback",
    "signout",
    "error",
    "verify-request",
    "jwks",
    "client.js",
    "client.d.ts",
    "accounts",
    "unlink",
    "sessions",
    "forward-auth",
    "token",
    "introspect",
];

const FIXED_ROUTES: [&str; 5] = ["healthz", "readyz", "metrics", "admin", ".well-known"];

/// The metrics label of `path` under `base_path`.
fn action_label(path: &str, base_path: &str) -> &'static str {
    let first = |rest: &str| -> Option<&'static str> {
        let segment = rest.trim_start_matches('/').split('/').next()?;
        ACTIONS
            .iter()
            .chain(FIXED_ROUTES.iter())
            .find(|name| **name == segment)
            .copied()
    };
    if let Some(rest) = path
        .strip_prefix(base_path)
        .filter(|rest| rest.starts_with('/'))
        && let Some(action) = first(rest).filter(|action| ACTIONS.contains(action))
    {
        return action;
    }
    first(path)
        .filter(|route| FIXED_ROUTES.contains(route))
        .unwrap_or("other")
}

pub async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = format!("{:032x}", rand::random::<u128>());
    request.extensions_mut().insert(RequestId(id.clone()));
    let action = request
        .app_data::<web::Data<LiveConfig>>()
        .map_or("other", |live| {
            action_label(request.path(), &live.snapshot().base_path)
        });
    // The line's fields are copied only when the line is written.
    let logged = tracing::enabled!(target: "authgate::http", tracing::Level::INFO)
        .then(|| (request.method().to_string(), request.path().to_string()));
    let mut response = next.call(request).await?;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    metrics::http_request(action, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    if let Some((method, path)) = logged {
        tracing::info!(
            target: "authgate::http",
            request_id = %id,
            %method,
            %path,
            status,
            micros = elapsed.as_micros() as u64,
            "request"
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::action_label;

    #[test]
    fn labels_come_from_a_fixed_list_never_from_the_path() {
        let cases = [
            ("/api/auth/session", "/api/auth", "session"),
            ("/api/auth/callback/github", "/api/auth", "callback"),
            ("/api/auth/unlink/github", "/api/auth", "unlink"),
            ("/api/auth/sessions/revoke", "/api/auth", "sessions"),
            ("/api/auth/evil-<script>", "/api/auth", "other"),
            ("/api/authsession", "/api/auth", "other"),
            ("/healthz", "/api/auth", "healthz"),
            ("/metrics", "/api/auth", "metrics"),
            ("/.well-known/jwks.json", "/api/auth", ".well-known"),
            ("/session", "", "session"),
            ("/healthz", "", "healthz"),
            ("/random", "", "other"),
        ];
        for (path, base, label) in cases {
            assert_eq!(action_label(path, base), label, "{path}");
        }
    }
}
