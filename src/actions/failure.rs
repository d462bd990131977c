//! The one place an action's failure is logged and turned into what the client sees: a
//! redirect to the error page (or, for a failed credentials check, back to the sign-in
//! page) for browser flows, or a JSON body for the JSON endpoints.

use serde_json::json;

use super::pages::{error_page_url, sign_in_page_url};
use super::{AuthRequest, AuthResponse};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::Pipeline;

fn log(error: &AuthError) {
    match error.code {
        ErrorCode::Configuration => {
            tracing::error!(code = %error.code, "{}", error.internal);
        }
        _ => tracing::info!(code = %error.code, "{}", error.internal),
    }
}

/// A browser flow's failure: Auth.js's redirect for its code.
pub fn redirect(request: &AuthRequest, pipeline: &Pipeline, error: AuthError) -> AuthResponse {
    log(&error);
    let url = match error.code {
        // Auth.js sends a failed credentials check back to the form.
        ErrorCode::CredentialsSignin => {
            let mut url = sign_in_page_url(request, pipeline);
            url.push_str(if url.contains('?') { "&" } else { "?" });
            url.push_str("error=CredentialsSignin&code=credentials");
            url
        }
        code => error_page_url(request, pipeline, code),
    };
    AuthResponse::redirect(request, url).with_v4_failure_status(request, error.code)
}

/// A JSON endpoint's failure: `{"error": <code>}` with the error's status.
pub fn json(error: AuthError) -> AuthResponse {
    log(&error);
    AuthResponse::json(error.status, json!({ "error": error.code.as_str() }))
}
