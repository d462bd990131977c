//! systemd socket activation: the listening socket a service manager passes as fd 3 with
//! `LISTEN_FDS`. It is taken only when `LISTEN_PID` names this very process, as systemd
//! sets it, so a variable inherited from a parent (or exported by mistake) is never
//! mistaken for a socket meant for us; the non-standard `LISTEN_FDS_FIRST_FD` is refused.
//! It must run first in `main`, before any thread or other file descriptor exists.

use std::net::TcpListener;

/// The socket passed to this process, and a note for the log once logging is set up.
pub struct Activation {
    pub listener: Option<TcpListener>,
    pub note: Option<String>,
}

/// Takes the socket passed for this process, if any.
pub fn take_passed_socket() -> Activation {
    let none = |note: Option<String>| Activation {
        listener: None,
        note,
    };
    if std::env::var_os("LISTEN_FDS").is_none() {
        return none(None);
    }
    let pid = std::env::var("LISTEN_PID").unwrap_or_default();
    if pid != std::process::id().to_string() {
        return none(Some(
            "LISTEN_FDS is set, but LISTEN_PID does not name this process; binding server.listen"
                .into(),
        ));
    }
    if std::env::var_os("LISTEN_FDS_FIRST_FD").is_some() {
        return none(Some(
            "LISTEN_FDS_FIRST_FD is not supported; binding server.listen".into(),
        ));
    }
    match listenfd::ListenFd::from_env().take_tcp_listener(0) {
        Ok(Some(listener)) => Activation {
            note: Some(match listener.local_addr() {
                Ok(address) => format!(
                    "serving the socket passed in LISTEN_FDS ({address}) instead of server.listen"
                ),
                Err(_) => "serving the socket passed in LISTEN_FDS instead of server.listen".into(),
            }),
            listener: Some(listener),
        },
        Ok(None) => none(Some(
            "LISTEN_FDS passes no TCP socket; binding server.listen".into(),
        )),
        Err(error) => none(Some(format!(
            "the socket passed in LISTEN_FDS cannot be used ({error}); binding server.listen"
        ))),
    }
}
