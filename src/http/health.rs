//! `/healthz` (the process answers) and `/readyz` (a configuration is being served). The
//! public `/readyz` tells only the status and the generation; the admin listener's adds the
//! providers, the store and the last reload's result (diagnostic headlines never carry
//! secrets).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::responses::no_store;
use crate::reload::LiveConfig;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The public readiness: nothing an outsider could use to map the deployment.
pub async fn readyz(live: web::Data<LiveConfig>) -> HttpResponse {
    let pipeline = live.snapshot();
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    response.json(json!({
        "status": "ready",
        "generation": pipeline.generation,
    }))
}

/// The operators' readiness, on the admin listener only.
pub async fn admin_readyz(live: web::Data<LiveConfig>) -> HttpResponse {
    let pipeline = live.snapshot();
    let status = live.status();
    let shared_state = match live.shared_state() {
        Some(shared) => json!({ "backend": shared.backend(), "answers": shared.answers().await }),
        None => json!({ "backend": "local" }),
    };
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    // The generation comes from the same status snapshot as the last reload, so the two
    // always agree: a reload swaps the pipeline a moment before it records its status.
    response.json(json!({
        "status": "ready",
        "generation": status.generation,
        "summary": pipeline.summary(),
        "reload": *status,
        "sharedState": shared_state,
    }))
}
