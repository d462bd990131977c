//! The HTTP edge: the only module that knows actix-web. It routes `{basePath}/<action>` to
//! one handler module per action, each working on one pipeline snapshot, and serves the
//! operational endpoints `/healthz` and `/readyz` (status and generation only). A second,
//! loopback listener (`server.admin`) serves the operators' view: readiness with the
//! providers, the store and the last reload's diagnostics, the Prometheus metrics and the
//! admin API.

mod admin_api;
mod auth_request;
mod client_script;
mod cookie_limit;
mod cors;
mod dispatch;
mod health;
mod listener;
mod metrics_endpoint;
mod origin;
mod original_request;
mod providers;
pub mod request_log;
mod responses;
mod set_cookie;
pub mod socket_activation;
mod write_batching;

use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{App, web};

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

/// Registers the admin listener's routes.
pub fn configure_admin(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::admin_readyz))
        .route("/metrics", web::get().to(metrics_endpoint::metrics))
        .route("/admin/{tail:.*}", web::to(admin_api::handle));
}

/// Runs the server (and the admin listener, when enabled) until SIGTERM/SIGINT, then
/// drains in-flight requests.
pub async fn serve(
    live: Arc<LiveConfig>,
    passed_socket: Option<std::net::TcpListener>,
) -> std::io::Result<()> {
    let settings = live.running_settings().clone();
    let data = web::Data::from(live);
    let cookie_limit = settings.max_cookie_header_bytes;
    let public_data = data.clone();
    let app = move || {
        App::new()
            .app_data(public_data.clone())
            .app_data(web::PayloadConfig::new(auth_request::MAX_BODY_BYTES))
            .wrap(from_fn(move |request, next| {
                cookie_limit::limit_cookie_header(cookie_limit, request, next)
            }))
            .wrap(from_fn(request_log::log_request))
            .configure(configure)
    };
    // A socket handed over by the service manager (`socket_activation`) is served
    // instead of binding `server.listen`.
    let listeners = listener::listeners(settings.listen.as_str(), passed_socket)?;
    log_addresses(&listeners, "listening");
    let server = listener::server(listeners, settings.workers, settings.shutdown_timeout, app)?;
    let Some(admin_listen) = settings.admin_listen.clone() else {
        return server.await;
    };
    let admin_app = move || {
        App::new()
            .app_data(data.clone())
            .wrap(from_fn(request_log::log_request))
            .configure(configure_admin)
    };
    let admin = listener::listeners(admin_listen.as_str(), None).and_then(|listeners| {
        log_addresses(&listeners, "admin listening");
        listener::server(listeners, Some(1), settings.shutdown_timeout, admin_app)
    });
    // The public server is what users need: a taken admin port is reported, not fatal.
    let admin = match admin {
        Ok(admin) => admin,
        Err(error) => {
            tracing::error!(address = %admin_listen, %error, "cannot listen on server.admin.listen; serving without the admin listener");
            return server.await;
        }
    };
    let (public, admin) = tokio::join!(server, admin);
    public.and(admin)
}

fn log_addresses(listeners: &[std::net::TcpListener], message: &str) {
    for address in listeners
        .iter()
        .filter_map(|listener| listener.local_addr().ok())
    {
        tracing::info!(%address, "{message}");
    }
}
