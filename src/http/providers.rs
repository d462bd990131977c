//! `GET {basePath}/providers`: the configured providers in Auth.js's shape, in config order.

use actix_web::HttpResponse;
use serde_json::{Map, Value, json};

use crate::pipeline::Pipeline;

pub fn get(pipeline: &Pipeline) -> HttpResponse {
    let mut providers = Map::new();
    for provider in &pipeline.providers {
        providers.insert(
            provider.id.clone(),
            json!({
                "id": provider.id,
                "name": provider.name,
                "type": provider.kind.as_str(),
                "signinUrl": pipeline.action_url(&format!("signin/{}", provider.id)),
                "callbackUrl": pipeline.action_url(&format!("callback/{}", provider.id)),
            }),
        );
    }
    HttpResponse::Ok().json(Value::Object(providers))
}
