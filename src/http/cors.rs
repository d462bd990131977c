//! CORS for `{basePath}/...`: an `Origin` listed in `cors.allowedOrigins` gets
//! `Access-Control-Allow-Origin` (that origin, never `*`), with credentials when
//! `cors.allowCredentials`, and preflight requests an answer. Any other origin gets no CORS
//! header, so the browser keeps its same-origin rule. Off by default.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::pipeline::Pipeline;

/// The request's `Origin`, when the configuration allows it.
pub fn allowed_origin(request: &HttpRequest, pipeline: &Pipeline) -> Option<HeaderValue> {
    let origin = request.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    pipeline
        .config
        .cors
        .allowed_origins
        .iter()
        .any(|allowed| allowed == text)
        .then(|| origin.clone())
}

/// Adds the CORS headers for `origin` to `response`.
pub fn decorate(response: &mut HttpResponse, origin: HeaderValue, pipeline: &Pipeline) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if pipeline.config.cors.allow_credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// `Vary: Origin`, for answers to requests from no or another origin.
pub fn vary(response: &mut HttpResponse) {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
}

/// The answer to a preflight (`OPTIONS`) from an allowed origin.
pub fn preflight(origin: HeaderValue, pipeline: &Pipeline) -> HttpResponse {
    let mut response = HttpResponse::NoContent()
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        ))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, X-Auth-Return-Redirect, Authorization"),
        ))
        .insert_header((
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        ))
        .finish();
    decorate(&mut response, origin, pipeline);
    response
}
