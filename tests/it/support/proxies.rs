//! Real reverse proxies in front of an echo upstream, for the forward-auth tests: Debian's
//! nginx (`auth_request`) and Caddy (`forward_auth`), each with its config in a temporary
//! directory, on loopback ports, stopped on drop. The configurations are the README's
//! recipes. Also nginx as a round-robin load balancer in front of several authgate
//! instances, for the shared-state tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::unbound_port;

/// An upstream that answers every request with the request's headers as JSON
/// (`{"path": ..., "headers": {lower-case name: value}}`).
pub struct EchoUpstream {
    pub port: u16,
}

impl EchoUpstream {
    pub fn start() -> EchoUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind echo upstream");
        let port = listener.local_addr().expect("echo address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut reader = BufReader::new(match stream.try_clone() {
                        Ok(clone) => clone,
                        Err(_) => return,
                    });
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).is_err() {
                        return;
                    }
                    let path = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .to_string();
                    let mut headers = serde_json::Map::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':') {
                            headers.insert(
                                name.trim().to_ascii_lowercase(),
                                serde_json::Value::String(value.trim().to_string()),
                            );
                        }
                    }
                    let body = serde_json::json!({ "path": path, "headers": headers }).to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.flush();
                    let _ = reader.read(&mut [0u8; 1]);
                });
            }
        });
        EchoUpstream { port }
    }
}

/// A proxy process, killed on drop.
pub struct Proxy {
    child: Child,
    pub port: u16,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until_listening(port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the proxy exited ({status}):\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the proxy did not listen on {port}");
}

/// The whole nginx configuration: one process, its logs, pid and temporary files under
/// `root`, and `http` (`server` and `upstream` blocks) inside the `http` block. Without a
/// master process, the kill on drop stops everything: a master's workers would outlive
/// it, still listening.
fn nginx_config(root: &str, http: &str) -> String {
    format!(
        "master_process off;
error_log {root}/error.log;
pid {root}/nginx.pid;
events {{}}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
{http}}}
"
    )
}

/// Debian's nginx in the foreground with `http` (see `nginx_config`) in a temporary
/// directory, once it listens on `port`.
fn start_nginx(port: u16, http: &str) -> Proxy {
    require("/usr/sbin/nginx");
    let dir = tempfile::tempdir().expect("nginx dir");
    let config = nginx_config(&dir.path().display().to_string(), http);
    let config_path = dir.path().join("nginx.conf");
    std::fs::write(&config_path, config).expect("write nginx.conf");
    let log = dir.path().join("error.log");
    let mut child = Command::new("/usr/sbin/nginx")
        .arg("-c")
        .arg(&config_path)
        .arg("-p")
        .arg(dir.path())
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    wait_until_listening(port, &mut child, &log);
    Proxy {
        child,
        port,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

fn require(program: &str) {
    assert!(
        Path::new(program).exists(),
        "{program} is missing: apt-get install nginx caddy (.ci/run does)"
    );
}

/// The headers the recipes carry from authgate's answer to the upstream.
pub const IDENTITY_HEADERS: [&str; 4] = [
    "X-Auth-Request-User",
    "X-Auth-Request-Email",
    "X-Auth-Request-Name",
    "X-Auth-Request-Role",
];

impl Proxy {
    /// A port for a proxy, chosen before authgate's config names it.
    pub fn pick_port() -> u16 {
        unbound_port()
    }

    /// nginx on `port` protecting `upstream` with authgate at `authgate` (`http://host:port`).
    pub fn nginx(port: u16, authgate: &str, upstream: u16) -> Proxy {
        let mut sets = String::new();
        let mut passes = String::new();
        for (index, name) in IDENTITY_HEADERS.iter().enumerate() {
            let variable = name.to_ascii_lowercase().replace('-', "_");
            sets.push_str(&format!(
                "      auth_request_set $identity_{index} $upstream_http_{variable};\n"
            ));
            // An empty value removes the header: a client's own copy never gets through.
            passes.push_str(&format!(
                "      proxy_set_header {name} $identity_{index};\n"
            ));
        }
        let server = format!(
            "  server {{
    listen 127.0.0.1:{port};
    location = /_authgate {{
      internal;
      proxy_pass {authgate}/api/auth/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length \"\";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      # The other family of headers, should a client send it, goes.
      proxy_set_header X-Forwarded-Uri \"\";
      proxy_set_header X-Forwarded-Method \"\";
    }}
    location @signin {{
      return 302 {authgate}/api/auth/signin?callbackUrl=$scheme://$http_host$request_uri;
    }}
    location / {{
      auth_request /_authgate;
{sets}{passes}      error_page 401 = @signin;
      proxy_pass http://127.0.0.1:{upstream};
    }}
  }}
"
        );
        start_nginx(port, &server)
    }

    /// nginx on a free loopback port in front of several authgate instances on
    /// `backends`: every request (no keepalive to the instances) goes to the next instance
    /// in turn, whatever the path. A request that fails is not retried on another
    /// instance, and a failed instance keeps its turn (`max_fails=0`): with one instance
    /// down, every other request fails (502).
    pub fn nginx_load_balancer(backends: &[u16]) -> Proxy {
        assert!(!backends.is_empty(), "a load balancer needs a backend");
        let port = unbound_port();
        let servers: String = backends
            .iter()
            .map(|backend| format!("    server 127.0.0.1:{backend} max_fails=0;\n"))
            .collect();
        let http = format!(
            "  upstream authgate_instances {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://authgate_instances;
      proxy_next_upstream off;
      proxy_buffering off;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
    }}
  }}
"
        );
        start_nginx(port, &http)
    }

    /// Caddy on `port`, the same way. Caddy 2.6 copies a header authgate did not send as the
    /// literal placeholder, so only the identity headers authgate always sends are copied.
    pub fn caddy(port: u16, authgate_address: &str, upstream: u16) -> Proxy {
        require("/usr/bin/caddy");
        let dir = tempfile::tempdir().expect("caddy dir");
        // Every header of the identity family, dashed or underscored (some upstreams read
        // `X_Auth_Request_User` as `X-Auth-Request-User`).
        let strip = "    request_header -X-Auth-Request-*\n    request_header -X_Auth_Request_*\n";
        let config = format!(
            "{{
  admin off
  auto_https off
}}
http://127.0.0.1:{port} {{
  route {{
    # The identity headers come from authgate only: a client's own copies go first.
{strip}    forward_auth {authgate_address} {{
      uri /api/auth/forward-auth
      # Caddy forwards what it does not overwrite: the nginx family goes.
      header_up -X-Original-URI
      header_up -X-Original-Method
      copy_headers {}
    }}
    reverse_proxy 127.0.0.1:{upstream}
  }}
}}
",
            IDENTITY_HEADERS[..3].join(" ")
        );
        let config_path = dir.path().join("Caddyfile");
        std::fs::write(&config_path, config).expect("write Caddyfile");
        let log = dir.path().join("caddy.log");
        let mut child = Command::new("/usr/bin/caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&config_path)
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env("HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("caddy log"))
            .spawn()
            .expect("start caddy");
        wait_until_listening(port, &mut child, &log);
        Proxy {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}
