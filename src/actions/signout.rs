//! `POST /signout`: with a valid CSRF token, clear the session cookies, run the signOut
//! event with the ended token, and redirect to the validated callbackUrl.

use serde_json::Value;

use super::redirect::resolve_callback_url;
use super::session::current_token;
use super::{AuthRequest, AuthResponse, PendingEvent, session_cookie_writes};
use crate::error::ErrorCode;
use crate::pipeline::Pipeline;

pub fn sign_out(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    if !request.csrf_is_valid(pipeline) {
        return AuthResponse::error_redirect(request, pipeline, ErrorCode::MissingCSRF);
    }
    let token = current_token(request, pipeline).and_then(Result::ok);
    let callback_cookie = request.cookie(&request.cookie_policy(pipeline).callback_url.name);
    let destination = resolve_callback_url(
        pipeline,
        &request.origin,
        request.field("callbackUrl").or(callback_cookie),
    );
    let mut response = AuthResponse::redirect(request, destination);
    response.cookies = session_cookie_writes(request, pipeline, None, 0);
    if let (Some(token), true) = (token, pipeline.script("events.signOut").is_some()) {
        response.events.push(PendingEvent {
            script: "events.signOut".into(),
            arguments: vec![("token", Value::Object(token)), ("session", Value::Null)],
        });
    }
    response
}
