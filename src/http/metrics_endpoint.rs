//! `GET /metrics` on the admin listener: the Prometheus text exposition, with the gauges
//! that are read rather than counted (the pool, the webhook queue) brought up to date first.

use actix_web::{HttpResponse, web};

use super::responses::no_store;
use crate::reload::LiveConfig;
use crate::telemetry::metrics;

pub async fn metrics(live: web::Data<LiveConfig>) -> HttpResponse {
    let pipeline = live.snapshot();
    if let Some(stats) = pipeline.store.as_ref().and_then(|store| store.pool_stats()) {
        metrics::store_pool(stats);
    }
    if let Some(webhooks) = &pipeline.webhooks {
        metrics::webhook_queue_depth(webhooks.depth());
    }
    if let Some(shared) = live.shared_state() {
        metrics::shared_state_up(Some(shared.answers().await));
    }
    match metrics::render() {
        Some(text) => {
            let mut response = HttpResponse::Ok();
            no_store(&mut response);
            response
                .content_type("text/plain; version=0.0.4; charset=utf-8")
                .body(text)
        }
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("metrics are not recorded by this process"),
    }
}
