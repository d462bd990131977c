//! The HTTP edge: the only module that knows actix-web. It routes `{basePath}/<action>` to
//! one handler module per action, each working on one pipeline snapshot, and serves the
//! operational endpoints `/healthz` and `/readyz`.

mod auth_request;
mod csrf;
mod dispatch;
mod health;
mod origin;
mod providers;
mod request_log;
mod responses;

use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::reload::LiveConfig;

/// Registers every route; used by the server and by in-process tests.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route(
            "/.well-known/jwks.json",
            web::get().to(dispatch::well_known_jwks),
        )
        .default_service(web::to(dispatch::dispatch));
}

/// Runs the server until SIGTERM/SIGINT, then drains in-flight requests.
pub async fn serve(live: Arc<LiveConfig>) -> std::io::Result<()> {
    let settings = live.running_settings().clone();
    let data = web::Data::from(live);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(auth_request::MAX_BODY_BYTES))
            .wrap(from_fn(request_log::log_request))
            .configure(configure)
    })
    .shutdown_timeout(settings.shutdown_timeout)
    .bind(settings.listen.as_str())?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    for address in server.addrs() {
        tracing::info!(%address, "listening");
    }
    server.run().await
}
