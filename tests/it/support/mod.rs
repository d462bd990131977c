//! The one harness of the integration tests: throwaway config directories, real authgate
//! server processes on loopback ports that stay bound from the moment a test picks them
//! (no free-port race), the cookie-jar `Browser`, and polling waits.

#![allow(dead_code)]

pub mod browser;
pub mod databases;
pub mod fake_idp;
pub mod http_stub;
pub mod idp;
pub mod promtool;
pub mod provider_standin;
pub mod proxies;
pub mod redis;
pub mod smtp;
pub mod webhooks;

pub use browser::Browser;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};

/// A secret long enough for every check.
pub const SECRET: &str = "integration-secret-0123456789abcdef0123456789";

/// A directory holding `authgate.yaml` and, optionally, `providers.d/`.
pub struct ConfigDir {
    pub dir: tempfile::TempDir,
}

impl ConfigDir {
    pub fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let this = ConfigDir { dir };
        this.write("authgate.yaml", config);
        this
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("authgate.yaml")
    }

    /// Writes a file relative to the directory, creating parent directories.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(path, text).expect("write file");
    }

    /// Writes through a temporary file and a rename, as editors do.
    pub fn replace(&self, relative: &str, text: &str) {
        let path = self.dir.path().join(relative);
        let temporary = path.with_extension("tmp~");
        std::fs::write(&temporary, text).expect("write temp file");
        std::fs::rename(&temporary, &path).expect("rename");
    }

    pub fn write_bytes(&self, relative: &str, bytes: &[u8]) {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(path, bytes).expect("write file");
    }
}

/// Listeners bound by `free_port`, each waiting for the server `Server::start` runs on its
/// port, which inherits it (LISTEN_FDS) instead of binding the port again.
static RESERVED: Mutex<BTreeMap<u16, TcpListener>> = Mutex::new(BTreeMap::new());

/// A loopback port for an authgate server, bound (port 0) and held until `Server::start`
/// hands its socket to the server: no other process can take it in between.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("bound address").port();
    RESERVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(port, listener);
    port
}

/// A loopback port nobody listens on right now, for a peer that must bind it by itself
/// or for a test that needs a closed port. Another process may take it meanwhile.
pub fn unbound_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

fn take_reserved(port: u16) -> Option<TcpListener> {
    RESERVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .remove(&port)
}

/// A configuration from `tests/fixtures/configs/<name>`, with `{port}` replaced.
pub fn fixture_config(name: &str, port: u16) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/configs")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("fixture {}: {error}", path.display()))
        .replace("{port}", &port.to_string())
}

/// The minimal valid config (`base.yaml`) on `port`, followed by `extra`.
pub fn base_config(port: u16, extra: &str) -> String {
    format!("{}{extra}", fixture_config("base.yaml", port))
}

/// `base.yaml` and `credentials.yaml` (the `password` provider with `ada`) on `port`,
/// followed by `extra`.
pub fn credentials_config(port: u16, extra: &str) -> String {
    format!(
        "{}{}{extra}",
        fixture_config("base.yaml", port),
        fixture_config("credentials.yaml", port)
    )
}

/// Whether `GET /healthz` on `address` answers 200 within a second.
fn healthz_answers(address: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// `authgate check --config <config>`: its exit code, and what it wrote (stderr, then
/// stdout).
pub fn check_config(config: &Path) -> (Option<i32>, String) {
    let output = cli()
        .args(["check", "--config"])
        .arg(config)
        .output()
        .expect("run authgate check");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    (output.status.code(), report)
}

/// The `authgate` binary, for one-shot commands (`check`, `schema`, `migrate`, ...).
pub fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_authgate"))
}

/// A running `authgate serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log_path: PathBuf,
}

impl Server {
    /// Starts the binary on `config` and waits until `/healthz` answers.
    pub fn start(config: &Path, port: u16) -> Server {
        Server::start_with_env(config, port, &[])
    }

    /// Starts the binary with `env` added, handing it the port `free_port` holds.
    pub fn start_with_env(config: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        Server::start_instance(config, port, env, "")
    }

    /// One of several servers on the same `config`, each on its own port and with its own
    /// log (`<config>.<instance>.log`).
    pub fn start_instance(
        config: &Path,
        port: u16,
        env: &[(&str, &str)],
        instance: &str,
    ) -> Server {
        // Through `sh`, which sets LISTEN_PID to its own pid and then execs authgate under
        // that same pid, as systemd does: authgate takes a passed socket only for itself.
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("LISTEN_PID=$$ exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_authgate"));
        if let Some(listener) = take_reserved(port) {
            command
                .env("LISTEN_FDS", "1")
                .fd_mappings(vec![FdMapping {
                    parent_fd: listener.into(),
                    child_fd: 3,
                }])
                .expect("pass the listening socket");
        }
        let log_path = if instance.is_empty() {
            config.with_extension("log")
        } else {
            config.with_extension(format!("{instance}.log"))
        };
        Server::launch(command, config, port, env, log_path)
    }

    /// Starts the binary itself with exactly `env` added (no socket handed over).
    pub fn start_direct(config: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        Server::launch(
            Command::new(env!("CARGO_BIN_EXE_authgate")),
            config,
            port,
            env,
            config.with_extension("log"),
        )
    }

    fn launch(
        mut command: Command,
        config: &Path,
        port: u16,
        env: &[(&str, &str)],
        log_path: PathBuf,
    ) -> Server {
        let log = std::fs::File::create(&log_path).expect("log file");
        command
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("spawn authgate");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log_path,
        };
        server.wait_until_healthy();
        server
    }

    /// Polls `GET /healthz` until it answers 200; fails at once if the process exits.
    fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let address = self.base.trim_start_matches("http://").to_string();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("authgate exited ({status}); log:\n{}", self.log());
            }
            if healthz_answers(&address) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("authgate did not start; log:\n{}", self.log());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A URL on the admin listener, whose port (0 in `base_config`) the log reports.
    pub fn admin_url(&self, path: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            let address = log
                .lines()
                .find(|line| line.contains("admin listening"))
                .and_then(|line| line.split("address=").nth(1))
                .and_then(|rest| rest.split_whitespace().next());
            if let Some(address) = address {
                return format!("http://{address}{path}");
            }
            assert!(
                Instant::now() < deadline,
                "the admin listener is not in the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Polls the log until `condition` holds (or `timeout` passes), and returns it.
    pub async fn log_when(&self, timeout: Duration, condition: impl Fn(&str) -> bool) -> String {
        eventually(timeout, || async {
            let log = self.log();
            condition(&log).then_some(log)
        })
        .await
        .unwrap_or_else(|| self.log())
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends a signal with the system `kill` command (no unsafe code needed).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client with no cookie store and no redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect()
}

/// The JSON a GET of `url` answers, if it answers JSON.
pub async fn get_json(url: String) -> Option<serde_json::Value> {
    client().get(url).send().await.ok()?.json().await.ok()
}

/// The display name `/providers` gives provider `id`.
pub async fn provider_name(server: &Server, id: &str) -> Option<String> {
    let body = get_json(server.url("/api/auth/providers")).await?;
    body[id]["name"].as_str().map(str::to_string)
}

/// The generation the public `/readyz` says is served.
pub async fn served_generation(server: &Server) -> Option<u64> {
    get_json(server.url("/readyz")).await?["generation"].as_u64()
}

/// A request for calling an action of the library directly (no HTTP): `method` at
/// `origin` (its auth URL under `/api/auth`), carrying `cookies`, nothing else.
pub fn library_request(
    origin: &str,
    method: authgate::actions::Method,
    cookies: &[(&str, &str)],
) -> authgate::actions::AuthRequest {
    authgate::actions::AuthRequest {
        method,
        query: BTreeMap::new(),
        form: BTreeMap::new(),
        json: None,
        cookies: cookies
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect::<Vec<_>>()
            .into(),
        redirect_as_json_header: false,
        client_ip: None,
        user_agent: None,
        authorization: None,
        request_id: None,
        origin: authgate::actions::RequestOrigin {
            origin: origin.into(),
            base_url: origin.into(),
            auth_url: format!("{origin}/api/auth"),
            https: false,
        },
    }
}
