//! Response helpers shared by the handlers: no-cache headers, cookies from the cookie
//! policy, and Auth.js-style error answers.

use actix_web::cookie::{Cookie, SameSite as CookieSameSite};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::config::model::SameSite;
use crate::session::cookie_header::encode_value;
use crate::session::cookies::CookieSpec;

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

/// A session-lifetime cookie with the policy's name and attributes; the value is
/// percent-encoded, so it cannot end early and add attributes.
pub fn cookie(spec: &CookieSpec, value: &str) -> Cookie<'static> {
    let mut cookie = Cookie::build(spec.name.clone(), encode_value(value))
        .path(spec.path.clone())
        .http_only(spec.http_only)
        .secure(spec.secure)
        .same_site(match spec.same_site {
            SameSite::Lax => CookieSameSite::Lax,
            SameSite::Strict => CookieSameSite::Strict,
            SameSite::None => CookieSameSite::None,
        })
        .finish();
    if let Some(domain) = &spec.domain {
        cookie.set_domain(domain.clone());
    }
    cookie
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
