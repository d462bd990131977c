//! Response helpers shared by the handlers: no-cache headers and the answers to what
//! authgate does not serve.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};

/// Marks a response as never cacheable, as Auth.js does for `/csrf` and `/session`.
pub fn no_store(builder: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    builder
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store"),
        ))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .insert_header((header::EXPIRES, HeaderValue::from_static("0")))
}

/// The answer to an action authgate does not serve (Auth.js answers these with 404).
pub fn unknown_action(method: &str) -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "Error: This action with HTTP {method} is not supported by authgate."
        ))
}

/// The answer to a method other than GET or POST.
pub fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, HeaderValue::from_static("GET, POST")))
        .content_type("text/plain; charset=utf-8")
        .body("Error: only GET and POST are supported.")
}
