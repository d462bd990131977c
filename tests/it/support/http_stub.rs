//! A loopback HTTP server for stand-ins of outside services (a provider, an email API):
//! every request, whatever its method and path, goes to one handler, on a thread of its
//! own with one worker, until the test process ends.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// Binds a loopback port; the caller learns its address before serving (to put it in the
/// answers).
pub fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("its address").port();
    (listener, format!("http://127.0.0.1:{port}"))
}

/// Serves every request on `listener` with `handler(request, body)`; returns once it
/// accepts connections.
pub fn serve(
    listener: TcpListener,
    handler: impl Fn(&HttpRequest, &[u8]) -> HttpResponse + Send + Sync + 'static,
) {
    let handler = Arc::new(handler);
    let (ready, started) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let handler = handler.clone();
                App::new().default_service(web::to(
                    move |request: HttpRequest, body: web::Bytes| {
                        let handler = handler.clone();
                        async move { handler(&request, &body) }
                    },
                ))
            })
            .workers(1)
            .listen(listener)
            .expect("serve the stand-in")
            .run();
            ready.send(()).expect("ready");
            server.await.expect("the stand-in runs");
        });
    });
    started.recv().expect("the stand-in started");
}
