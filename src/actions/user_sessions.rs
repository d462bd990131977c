//! `GET /sessions` (the signed-in user's active sessions, database and JWT: an opaque id,
//! created, last seen, user agent, expiry, and which one this is) and
//! `POST /sessions/revoke` (CSRF) with `id=<id>`, `scope=others` or `scope=all`. A revoked
//! JWT stops reading as a session on this process at once, and on others within
//! `session.revocationStaleness`; revoking the current session clears its cookie.

use serde_json::{Value, json};

use super::management::{refusal, refuse_without_csrf, signed_in};
use super::session::{iso_time_of_unix, unix_now};
use super::session_state::forget_user;
use super::{AuthRequest, AuthResponse, failure, session_cookie_writes};
use crate::pipeline::Pipeline;
use crate::store::{Revoke, SessionRecord};
use crate::telemetry::audit::{AuditEvent, AuditRecord};

fn session_json(record: &SessionRecord, current: &str) -> Value {
    json!({
        "id": record.id,
        "kind": record.kind,
        "createdAt": record.created_at.map(iso_time_of_unix),
        "lastSeen": record.last_seen.map(iso_time_of_unix),
        "expires": iso_time_of_unix(record.expires),
        "userAgent": record.user_agent,
        "current": current == record.id,
    })
}

/// `GET /sessions`.
pub async fn list(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    let (store, current) = match signed_in(request, pipeline).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    match store
        .sessions_of_user(&current.user_id, unix_now(pipeline))
        .await
    {
        Ok(sessions) => AuthResponse::json(
            200,
            Value::Array(
                sessions
                    .iter()
                    .map(|record| session_json(record, &current.session_id))
                    .collect(),
            ),
        ),
        Err(error) => failure::json(error.into()),
    }
}

/// `POST /sessions/revoke`.
pub async fn revoke(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    if let Some(answer) = refuse_without_csrf(request, pipeline, "session revocation") {
        return answer;
    }
    let (store, current) = match signed_in(request, pipeline).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let this = current.session_id.as_str();
    let which = match (request.field("id"), request.field("scope")) {
        (Some(id), None) => Revoke::One(id),
        (None, Some("all")) => Revoke::All,
        (None, Some("others")) => Revoke::AllBut(this),
        _ => {
            return refusal(
                400,
                "InvalidRequest",
                "send either id=<session id> or scope=others|all",
            );
        }
    };
    let revoked = match store
        .revoke_sessions(&current.user_id, which, unix_now(pipeline))
        .await
    {
        Ok(revoked) => revoked,
        Err(error) => return failure::json(error.into()),
    };
    // Nothing revoked, nothing to announce: a bogus id costs the other instances nothing.
    if revoked > 0 {
        forget_user(pipeline, &current.user_id).await;
    }
    let ended_this = match which {
        Revoke::All => true,
        Revoke::One(id) => this == id,
        Revoke::AllBut(_) => false,
    };
    let mut answer = AuthResponse::json(200, json!({ "revoked": revoked }));
    let scope = match which {
        Revoke::All => "all",
        Revoke::One(_) => "one",
        Revoke::AllBut(_) => "others",
    };
    answer.audit.push(
        AuditRecord::user(AuditEvent::SessionsRevoked, Some(current.user_id.clone()))
            .with_session(Some(current.session_id.clone()))
            .with_detail(json!({ "revoked": revoked, "scope": scope })),
    );
    if ended_this {
        answer.cookies = session_cookie_writes(request, pipeline, None, 0);
    }
    answer
}
