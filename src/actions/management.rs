//! What account and session management shares: a signed-in user and a store, or a clear
//! JSON refusal; and the refusal's shape, `{"error": code, "message": text}`.

use std::sync::Arc;

use serde_json::json;

use super::session_state::{Current, current_session};
use super::{AuthRequest, AuthResponse, failure};
use crate::pipeline::Pipeline;
use crate::store::Adapter;

/// A refusal as JSON.
pub fn refusal(status: u16, error: &str, message: &str) -> AuthResponse {
    AuthResponse::json(status, json!({ "error": error, "message": message }))
}

/// The store and the signed-in user, or the answer for a request that has neither.
pub async fn signed_in(
    request: &AuthRequest,
    pipeline: &Pipeline,
) -> Result<(Arc<dyn Adapter>, Current), AuthResponse> {
    let Some(store) = pipeline.store.clone() else {
        return Err(refusal(
            501,
            "NoStore",
            "account and session management needs a database (`database:` in the configuration)",
        ));
    };
    match current_session(request, pipeline).await {
        Ok(Some(current)) => Ok((store, current)),
        Ok(None) => Err(refusal(401, "SessionRequired", "sign in first")),
        Err(error) => Err(failure::json(error)),
    }
}

/// The CSRF check of a management POST: the JSON refusal when it fails.
pub fn refuse_without_csrf(
    request: &AuthRequest,
    pipeline: &Pipeline,
    what: &str,
) -> Option<AuthResponse> {
    request
        .require_csrf(pipeline, what)
        .err()
        .map(failure::json)
}
