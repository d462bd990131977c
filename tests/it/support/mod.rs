//! Helpers shared by the integration tests: throwaway config directories and a real
//! authgate server process on a free loopback port.

#![allow(dead_code)]

pub mod databases;
pub mod fake_idp;
pub mod idp;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

/// A minimal valid config listening on `port`.
pub fn base_config(port: u16, extra: &str) -> String {
    format!(
        "url: http://127.0.0.1:{port}\nsecret: {SECRET}\nserver:\n  listen: 127.0.0.1:{port}\n  workers: 2\n  admin:\n    listen: 127.0.0.1:0\n{extra}"
    )
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

    pub fn start_with_env(config: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        let log_path = config.with_extension("log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_authgate"));
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
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log_path,
        };
        server.wait_until_healthy();
        server
    }

    fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(self.base.trim_start_matches("http://")).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
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
