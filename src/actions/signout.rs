//! `POST /signout`: with a valid CSRF token, end the session (a database session's row, or a
//! tracked JWT session's record, is deleted), clear the session cookies, run the signOut event, and redirect to the
//! validated callbackUrl.

use std::sync::Arc;

use serde_json::{Value, json};

use super::redirect::resolve_callback_url_off_workers;
use super::session::{SessionCookie, session_cookie};
use super::session_state::end_jwt_session;
use super::{AuthRequest, AuthResponse, PendingEvent, failure, session_cookie_writes};
use crate::config::script_key::Event;
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::Pipeline;
use crate::telemetry::audit::{AuditEvent, AuditRecord};

pub async fn sign_out(request: &AuthRequest, pipeline: &Arc<Pipeline>) -> AuthResponse {
    if !request.csrf_is_valid(pipeline) {
        return failure::redirect(
            request,
            pipeline,
            AuthError::new(
                ErrorCode::MissingCSRF,
                "sign-out without a valid CSRF token",
            ),
        );
    }
    let ended = match session_cookie(request, pipeline) {
        Some(Ok(SessionCookie::Jwt(token))) => {
            if let Err(error) = end_jwt_session(pipeline, &token).await {
                return signed_out_with_error(request, pipeline, error);
            }
            Some(("token", Value::Object(token)))
        }
        Some(Ok(SessionCookie::Database { token, store })) => {
            match store.delete_session(&token).await {
                Ok(Some(session)) => Some((
                    "session",
                    json!({ "userId": session.user_id, "expires": session.expires }),
                )),
                Ok(None) => None,
                Err(error) => {
                    // The row outlives the cookie: say so rather than pretend.
                    return signed_out_with_error(request, pipeline, error.into());
                }
            }
        }
        _ => None,
    };
    // A session cookie that came twice names sessions none of which may be trusted, and
    // one of them may be this user's own: revoke every database session they name.
    if let Err(error) = revoke_ambiguous_sessions(request, pipeline).await {
        return signed_out_with_error(request, pipeline, error.into());
    }
    let callback_cookie = request.cookie(&request.cookie_policy(pipeline).callback_url.name);
    let destination = resolve_callback_url_off_workers(
        pipeline,
        &request.origin,
        request.field("callbackUrl").or(callback_cookie),
    )
    .await;
    let mut response = AuthResponse::redirect(request, destination);
    response.cookies = session_cookie_writes(request, pipeline, None, 0);
    if let Some((_, value)) = &ended {
        let user_id = value
            .get("sub")
            .or_else(|| value.get("userId"))
            .and_then(Value::as_str)
            .map(str::to_string);
        response
            .audit
            .push(AuditRecord::user(AuditEvent::SignOut, user_id));
    }
    if let Some((name, value)) = ended {
        let arguments = match name {
            "token" => vec![("token", value), ("session", Value::Null)],
            _ => vec![("token", Value::Null), ("session", value)],
        };
        response.events.extend(PendingEvent::if_configured(
            pipeline,
            Event::SignOut,
            arguments,
        ));
    }
    response
}

/// The cookie is cleared, but a session row could not be deleted: the error page says so.
fn signed_out_with_error(
    request: &AuthRequest,
    pipeline: &Pipeline,
    error: AuthError,
) -> AuthResponse {
    let mut response = failure::redirect(request, pipeline, error);
    response.cookies = session_cookie_writes(request, pipeline, None, 0);
    response
}

/// Deletes every database session a repeated session cookie names.
async fn revoke_ambiguous_sessions(
    request: &AuthRequest,
    pipeline: &Pipeline,
) -> Result<(), crate::store::StoreError> {
    let Some(store) = &pipeline.store else {
        return Ok(());
    };
    let name = &request.cookie_policy(pipeline).session_token.name;
    for (cookie, value) in &request.cookies.ambiguous_values {
        // Database tokens are never chunked and have no dots; JWTs have nothing to revoke.
        if cookie == name && !value.contains('.') {
            store.delete_session(value).await?;
        }
    }
    Ok(())
}
