//! The CSRF double-submit token of a browser: `GET /csrf`, and the token every page form
//! carries. The cookie lives as long as a session may (`session.maxAge`, refreshed with
//! the session cookie), because it also names the browser a session is bound to: a
//! browser-session cookie would end every session at a browser restart.

use serde_json::json;

use super::session::token_max_age;
use super::{AuthRequest, AuthResponse, SetCookie};
use crate::pipeline::Pipeline;
use crate::session::csrf::issue_token;

/// The CSRF token for this browser, and the cookie to set when it is new.
pub fn csrf_token(request: &AuthRequest, pipeline: &Pipeline) -> (String, Option<SetCookie>) {
    let spec = &request.cookie_policy(pipeline).csrf_token;
    let issued = issue_token(request.cookie(&spec.name), &pipeline.secret_refs());
    let cookie = issued.new_cookie_value.map(|value| SetCookie {
        spec: spec.clone(),
        value: Some(value),
        max_age: Some(token_max_age(pipeline).as_secs()),
    });
    (issued.token, cookie)
}

/// The CSRF cookie written again with a fresh max-age, when the request carries a valid
/// one: done with every session cookie write, so the binding outlives the session.
pub fn refreshed_csrf_cookie(request: &AuthRequest, pipeline: &Pipeline) -> Option<SetCookie> {
    request.csrf_cookie_token(pipeline)?;
    let spec = &request.cookie_policy(pipeline).csrf_token;
    Some(SetCookie {
        spec: spec.clone(),
        value: request.cookie(&spec.name).map(str::to_string),
        max_age: Some(token_max_age(pipeline).as_secs()),
    })
}

/// `GET /csrf`: `{"csrfToken"}`, setting the cookie when the browser has no valid one.
pub fn get(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    let (token, cookie) = csrf_token(request, pipeline);
    let mut response = AuthResponse::json(200, json!({ "csrfToken": token }));
    response.cookies.extend(cookie);
    response
}
