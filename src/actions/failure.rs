//! The one place an action's failure is logged and turned into what the client sees: a
//! redirect to the error page (or, for a failed credentials check, back to the sign-in
//! page) for browser flows, or a JSON body for the JSON endpoints.

use serde_json::json;

use super::pages::{error_page, error_page_url, sign_in_page_url, with_query};
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

/// A browser flow's failure: Auth.js's redirect for its code. Too many attempts is no
/// redirect but a 429 with `Retry-After`: the error page for a browser, `{url}` naming
/// the error for a JSON client.
pub fn redirect(request: &AuthRequest, pipeline: &Pipeline, error: AuthError) -> AuthResponse {
    log(&error);
    let code = error.code;
    let mut response = redirect_for(request, pipeline, error);
    response.failure = Some(code);
    response
}

fn redirect_for(request: &AuthRequest, pipeline: &Pipeline, error: AuthError) -> AuthResponse {
    let url = match error.code {
        // Auth.js sends a failed credentials check back to the form, and v5 a failed
        // email sign-in.
        ErrorCode::CredentialsSignin => sign_in_page_with_error(
            request,
            pipeline,
            &[("error", "CredentialsSignin"), ("code", "credentials")],
        ),
        ErrorCode::EmailSignin => {
            sign_in_page_with_error(request, pipeline, &[("error", "EmailSignin")])
        }
        ErrorCode::RateLimited => return too_many_attempts(request, pipeline, &error),
        code => error_page_url(request, pipeline, code),
    };
    AuthResponse::redirect(request, url).with_v4_failure_status(request, error.code)
}

/// The sign-in page with `pairs`, and the `callbackUrl` the form posted, so that trying
/// again still leads where the user was going.
fn sign_in_page_with_error(
    request: &AuthRequest,
    pipeline: &Pipeline,
    pairs: &[(&str, &str)],
) -> String {
    let mut pairs = pairs.to_vec();
    if let Some(callback_url) = request.field("callbackUrl").filter(|url| !url.is_empty()) {
        pairs.push(("callbackUrl", callback_url));
    }
    with_query(sign_in_page_url(request, pipeline), &pairs)
}

fn too_many_attempts(
    request: &AuthRequest,
    pipeline: &Pipeline,
    error: &AuthError,
) -> AuthResponse {
    let mut response = if request.wants_json_redirect() {
        AuthResponse::json(
            error.status,
            json!({ "url": error_page_url(request, pipeline, error.code) }),
        )
    } else {
        let mut page = error_page(request, pipeline, error.code);
        page.status = error.status;
        page
    };
    response.retry_after = error.retry_after;
    response
}

/// A JSON endpoint's failure: `{"error": <code>}` with the error's status.
pub fn json(error: AuthError) -> AuthResponse {
    log(&error);
    let mut response = AuthResponse::json(error.status, json!({ "error": error.code.as_str() }));
    response.failure = Some(error.code);
    response
}
