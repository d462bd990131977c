//! Refuses a request whose `Cookie` headers together exceed `server.maxCookieHeaderBytes`
//! with 431, before any handler reads them (Node, and so Auth.js, answers the same).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// The `Cookie` headers' total size in bytes.
pub fn cookie_header_bytes(request: &ServiceRequest) -> usize {
    request
        .headers()
        .get_all(header::COOKIE)
        .map(|value| value.len())
        .sum()
}

pub async fn limit_cookie_header(
    limit: usize,
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if cookie_header_bytes(&request) > limit {
        let response =
            HttpResponse::build(actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
                .content_type("text/plain; charset=utf-8")
                .body(format!(
                    "Error: the Cookie header is larger than {limit} bytes."
                ));
        return Ok(request.into_response(response).map_into_right_body());
    }
    Ok(next.call(request).await?.map_into_left_body())
}
