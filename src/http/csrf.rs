//! `GET {basePath}/csrf`: the CSRF token, reusing the one in a valid cookie, else a new one
//! with its cookie.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::auth_request::request_cookies;
use super::origin::request_origin;
use super::responses::{cookie, no_store};
use crate::pipeline::Pipeline;
use crate::session::csrf::issue_token;

pub fn get(request: &HttpRequest, pipeline: &Pipeline) -> HttpResponse {
    let https = request_origin(request, pipeline).https;
    let spec = &pipeline.cookie_policy(https).csrf_token;
    let cookies = request_cookies(request, pipeline, https);
    let existing = cookies.get(&spec.name);
    let issued = issue_token(existing, &pipeline.secret_refs());
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    if let Some(value) = issued.new_cookie_value {
        response.cookie(cookie(spec, &value));
    }
    response.json(json!({ "csrfToken": issued.token }))
}
