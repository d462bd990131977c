//! The listeners, public and admin, built as actix-web's `HttpServer` builds one (its
//! socket options, backlog, timeouts and graceful shutdown; HTTP/1.x on plain TCP) but
//! with every connection wrapped in `BatchedWrites`, which `HttpServer` has no hook for.

use std::future::ready;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_http::{HttpService, Protocol};
use actix_server::{Server, ServerBuilder};
use actix_service::{
    IntoServiceFactory, ServiceFactory, ServiceFactoryExt, fn_service, map_config,
};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, ServiceResponse};
use actix_web::rt::net::TcpStream;
use actix_web::{App, Error};

use super::write_batching::BatchedWrites;

/// `HttpServer`'s defaults: how long a client may take to send a request's head, and to
/// close after its answer.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// `HttpServer`'s listen backlog.
const BACKLOG: i32 = 1024;

/// The listeners for `listen` (every address it resolves to), or the socket passed in.
pub fn listeners(listen: &str, passed: Option<TcpListener>) -> io::Result<Vec<TcpListener>> {
    if let Some(listener) = passed {
        return Ok(vec![listener]);
    }
    let mut bound = Vec::new();
    let mut failed = Vec::new();
    for address in std::net::ToSocketAddrs::to_socket_addrs(listen)? {
        match bind(address) {
            Ok(listener) => bound.push(listener),
            Err(error) => failed.push((address, error)),
        }
    }
    if bound.is_empty() {
        return Err(failed.pop().map_or_else(
            || io::Error::other(format!("{listen} names no address")),
            |(_, error)| error,
        ));
    }
    // Another process holding one of the addresses (`[::1]` of `localhost`) would get
    // the clients that try that address first: said, not silently skipped.
    for (address, error) in failed {
        tracing::warn!(%address, %error, "cannot listen on one of the addresses {listen} names; serving the others");
    }
    Ok(bound)
}

/// A listening socket as `HttpServer` makes one on Linux: with address reuse, so that a
/// restart does not wait for the old connections' TIME_WAIT.
fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(TcpListener::from(socket))
}

/// A server answering on `listeners` with the app `app` makes for each worker. It runs
/// from here on; awaiting it waits for its end (SIGTERM or SIGINT, then a drain of at
/// most `shutdown_timeout_seconds`).
pub fn server<F, T, B>(
    listeners: Vec<TcpListener>,
    workers: Option<usize>,
    shutdown_timeout_seconds: u64,
    app: F,
) -> io::Result<Server>
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let mut builder: ServerBuilder = Server::build().shutdown_timeout(shutdown_timeout_seconds);
    if let Some(workers) = workers {
        builder = builder.workers(workers);
    }
    let shutdown = builder.graceful_shutdown_signal();
    for listener in listeners {
        let address = listener.local_addr()?;
        let app = app.clone();
        let shutdown = shutdown.clone();
        builder = builder.listen(format!("authgate-{address}"), listener, move || {
            let shutdown = shutdown.clone();
            let http = HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = shutdown.clone();
                    async move { signal.notified().await }
                })
                .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
                .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
                .h1_allow_half_closed(true)
                .local_addr(address)
                .finish(map_config(
                    app()
                        .into_factory()
                        .map_err(|error: Error| error.error_response()),
                    // authgate reads only `secure()` (false: plain TCP) from it. The host
                    // and local address are the default's, not this listener's:
                    // `connection_info` and `url_for` would be wrong, and nothing uses them.
                    |_| AppConfig::default(),
                ));
            fn_service(|io: TcpStream| {
                let peer = io.peer_addr().ok();
                ready(Ok::<_, actix_http::error::DispatchError>((
                    BatchedWrites::new(io),
                    Protocol::Http1,
                    peer,
                )))
            })
            .and_then(http)
        })?;
    }
    Ok(builder.run())
}
