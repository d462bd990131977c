//! `GET {basePath}/providers`: the configured providers in Auth.js's shape, in config order.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};

use super::origin::request_origin;
use crate::pipeline::Pipeline;

pub fn get(request: &HttpRequest, pipeline: &Pipeline) -> HttpResponse {
    let base = request_origin(request, pipeline).auth_url;
    let mut providers = Map::new();
    for provider in &pipeline.providers {
        providers.insert(
            provider.id.clone(),
            json!({
                "id": provider.id,
                "name": provider.name,
                "type": provider.kind.as_str(),
                "signinUrl": format!("{base}/signin/{}", provider.id),
                "callbackUrl": format!("{base}/callback/{}", provider.id),
            }),
        );
    }
    HttpResponse::Ok().json(Value::Object(providers))
}
