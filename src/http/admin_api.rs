//! The admin API on the admin listener: `/admin/users...` as JSON, the same operations as
//! `authgate users` and `authgate sessions` (`crate::admin`), behind
//! `Authorization: Bearer <server.admin.bearerToken>`. Without a configured token it is off.
//!
//! - `GET /admin/users?limit=&offset=`, `GET /admin/users/<id|email>`
//! - `POST /admin/users/<user>/disable`, `.../enable`, `.../delete` (or `DELETE .../<user>`)
//! - `GET /admin/users/<user>/sessions`, `POST /admin/users/<user>/sessions/revoke` with
//!   `{"id": "<session id>"}` or `{"all": true}`

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::admin;
use crate::pipeline::Pipeline;
use crate::reload::LiveConfig;
use crate::store::Adapter;
use crate::telemetry::audit::{self, Actor, AuditContext, AuditEvent, AuditRecord};
use crate::text::constant_time_eq;

/// The largest page of users.
const MAX_PAGE: u32 = 1000;

fn answer(status: u16, body: Value) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(body)
}

fn refusal(status: u16, error: &str, message: &str) -> HttpResponse {
    answer(status, json!({ "error": error, "message": message }))
}

/// Whether the request carries the configured bearer token; `None` when the API is off.
fn authorized(request: &HttpRequest, pipeline: &Pipeline) -> Option<bool> {
    let token = pipeline.config.server.admin.bearer_token.as_ref()?;
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    Some(constant_time_eq(presented, token.expose()))
}

pub async fn handle(
    request: HttpRequest,
    body: web::Bytes,
    live: web::Data<LiveConfig>,
) -> HttpResponse {
    let pipeline = live.snapshot();
    match authorized(&request, &pipeline) {
        None => {
            return refusal(
                404,
                "AdminApiOff",
                "the admin API is off: set server.admin.bearerToken",
            );
        }
        Some(false) => {
            let context = AuditContext {
                request_id: super::request_log::request_id(&request),
                client_ip: request.peer_addr().map(|address| address.ip()),
            };
            audit::record(
                &AuditRecord {
                    failure: Some(crate::error::ErrorCode::AccessDenied),
                    actor: Actor::Admin,
                    ..AuditRecord::user(AuditEvent::AdminRequest, None)
                },
                &context,
            );
            let mut response = refusal(401, "Unauthorized", "a valid bearer token is required");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
        Some(true) => {}
    }
    let Some(store) = pipeline.store.clone() else {
        return refusal(501, "NoStore", "the configuration has no database");
    };
    let segments: Vec<String> = request
        .path()
        .trim_start_matches("/admin/")
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let now = i64::try_from(pipeline.clock.unix_seconds()).unwrap_or(i64::MAX);
    let result = route(&request, &body, &pipeline, store.as_ref(), &segments, now).await;
    match result {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "admin API: store error");
            refusal(
                crate::store::StoreError::status(&error),
                "StoreError",
                "the database could not answer",
            )
        }
    }
}

async fn route(
    request: &HttpRequest,
    body: &web::Bytes,
    pipeline: &Pipeline,
    store: &dyn Adapter,
    segments: &[&str],
    now: i64,
) -> Result<HttpResponse, crate::store::StoreError> {
    let method = request.method();
    if let (&Method::GET, ["users"]) = (method, segments) {
        let query = web::Query::<std::collections::HashMap<String, String>>::from_query(
            request.query_string(),
        )
        .map(web::Query::into_inner)
        .unwrap_or_default();
        let number = |key: &str, default: u32| {
            query
                .get(key)
                .and_then(|value| value.parse::<u32>().ok())
                .unwrap_or(default)
        };
        let limit = number("limit", 100).min(MAX_PAGE);
        return Ok(answer(
            200,
            admin::list_users(store, limit, number("offset", 0)).await?,
        ));
    }
    let ["users", who, rest @ ..] = segments else {
        return Ok(refusal(404, "NotFound", "no such admin route"));
    };
    let user = match rest {
        ["sessions", ..] => admin::find_session_owner(store, who, now).await?,
        _ => admin::find_user(store, who).await?,
    };
    let Some(user) = user else {
        return Ok(refusal(404, "NoSuchUser", "no user has this id or email"));
    };
    let forget = || crate::actions::session_state::forget_user(pipeline, &user.id);
    let context = AuditContext {
        request_id: super::request_log::request_id(request),
        client_ip: request.peer_addr().map(|address| address.ip()),
    };
    let audit = |event: AuditEvent, detail: Option<Value>| {
        let mut record = AuditRecord::admin(event, &user.id);
        record.detail = detail;
        audit::record(&record, &context);
    };
    let body = match (method, rest) {
        (&Method::GET, []) => admin::show_user(store, &user, now).await?,
        (&Method::POST, ["disable"]) => {
            let changed = admin::set_disabled(store, &user, true, now).await?;
            forget().await;
            audit(AuditEvent::UserDisabled, None);
            changed
        }
        (&Method::POST, ["enable"]) => {
            let changed = admin::set_disabled(store, &user, false, now).await?;
            audit(AuditEvent::UserEnabled, None);
            changed
        }
        (&Method::POST, ["delete"]) | (&Method::DELETE, []) => {
            let deleted = admin::delete_user(store, &user).await?;
            forget().await;
            audit(AuditEvent::UserDeleted, None);
            deleted
        }
        (&Method::GET, ["sessions"]) => admin::list_sessions(store, &user, now).await?,
        (&Method::POST, ["sessions", "revoke"]) => {
            let request_body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let id = request_body.get("id").and_then(Value::as_str);
            let all = request_body.get("all").and_then(Value::as_bool) == Some(true);
            if id.is_some() == all {
                return Ok(refusal(
                    400,
                    "InvalidRequest",
                    "send {\"id\": \"<session id>\"} or {\"all\": true}",
                ));
            }
            let revoked = admin::revoke_sessions(store, &user, id, now).await?;
            forget().await;
            let scope = if all { "all" } else { "one" };
            audit(
                AuditEvent::SessionsRevoked,
                Some(serde_json::json!({ "scope": scope, "result": revoked })),
            );
            revoked
        }
        _ => return Ok(refusal(404, "NotFound", "no such admin route")),
    };
    Ok(answer(200, body))
}
