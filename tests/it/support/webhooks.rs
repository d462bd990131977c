//! A real webhook receiver for the event webhook tests: `tests/webhooks/receiver.py` (Debian's
//! python3, standard library only), which checks each delivery's Standard Webhooks signature
//! with its own HMAC code, not authgate's, and appends it as one JSON line to a file in a
//! temporary directory that the tests read back as `Delivery`s.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's interpreter, as for the SMTP server.
const PYTHON: &str = "/usr/bin/python3";

/// How long `start` waits for the port file and for `GET /_health`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running webhook receiver on `127.0.0.1:port`, stopped on drop.
pub struct WebhookReceiver {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl WebhookReceiver {
    /// Starts the receiver checking signatures with `secret` (`whsec_<base64 key>`), and
    /// waits until it wrote its port and answers `GET /_health`.
    pub fn start(secret: &str) -> WebhookReceiver {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("receiver.log"))
            .expect("webhook receiver log file");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let spawned = Command::new(PYTHON)
            .current_dir(root)
            .arg(root.join("tests/webhooks/receiver.py"))
            .arg("--port")
            .arg("0")
            .arg("--port-file")
            .arg(dir.path().join("port"))
            .arg("--secret")
            .arg(secret)
            .arg("--out")
            .arg(dir.path().join("deliveries.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                panic!("{PYTHON} is not installed: apt-get install python3 (.ci/run does)")
            }
            Err(error) => panic!("start {PYTHON}: {error}"),
        };
        // Built before the wait, so that a panic below still kills the process (Drop).
        let mut receiver = WebhookReceiver {
            child,
            port: 0,
            dir,
        };
        receiver.wait_until_ready();
        receiver
    }

    /// Polls for the port file, then for `GET /_health`; fails at once if the process exits.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let port_file = self.dir.path().join("port");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the webhook receiver exited ({status}); its log:\n{}",
                    self.log()
                );
            }
            if self.port == 0 {
                // Written through a temporary file and a rename: never half a number.
                if let Some(port) = std::fs::read_to_string(&port_file)
                    .ok()
                    .and_then(|text| text.trim().parse::<u16>().ok())
                    .filter(|port| *port != 0)
                {
                    self.port = port;
                }
            }
            if self.port != 0 && health_answers(self.port) {
                return;
            }
            if Instant::now() >= deadline {
                let stage = if self.port == 0 {
                    format!("write its port file {}", port_file.display())
                } else {
                    format!("answer GET /_health on port {}", self.port)
                };
                panic!(
                    "the webhook receiver did not {stage} within {START_TIMEOUT:?}; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:{port}{path}`, the URL to configure as a webhook endpoint.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The JSON Lines file the receiver appends each delivery to.
    pub fn deliveries_path(&self) -> PathBuf {
        self.dir.path().join("deliveries.jsonl")
    }

    /// The receiver's stderr: its start line and any errors.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("receiver.log")).unwrap_or_default()
    }

    /// Every delivery so far, verified or not, in order of receipt. A line that does not
    /// parse (the last one, while it is being written) is skipped.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let path = self.deliveries_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == ErrorKind::NotFound => return Vec::new(),
            Err(error) => panic!("read {}: {error}", path.display()),
        };
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Sets the status later verified deliveries are answered (204 at the start): 503 to
    /// play a failing endpoint, 204 again to recover.
    pub async fn set_status(&self, status: u16) {
        let response = reqwest::Client::new()
            .post(self.url("/_control"))
            .json(&serde_json::json!({ "status": status }))
            .send()
            .await
            .unwrap_or_else(|error| {
                panic!("set the webhook receiver's status to {status}: {error}")
            });
        let answered = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert!(
            answered == 200,
            "the webhook receiver answered {answered} to setting its status to {status}: {body}"
        );
    }

    /// Polls the deliveries every 50 ms until `pred` holds for them, and returns them; after
    /// `timeout`, panics naming `what` and listing the deliveries seen.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let deadline = Instant::now() + timeout;
        loop {
            let deliveries = self.deliveries();
            if pred(&deliveries) {
                return deliveries;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the webhook receiver did not get {what} within {timeout:?}; its {} \
                     delivery(ies):\n{deliveries:#?}\nits log:\n{}",
                    deliveries.len(),
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /_health` on the port answers 200 within a second.
fn health_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream
        .write_all(b"GET /_health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// One delivery, as `receiver.py` records it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Delivery {
    /// The request target, query included.
    pub path: String,
    /// `webhook-id`, as received; `None` when absent (or repeated).
    pub id: Option<String>,
    /// `webhook-timestamp`, as received (Unix seconds as text); `None` when absent.
    pub timestamp: Option<String>,
    /// Whether the signature matched and the timestamp was within 5 minutes of receipt.
    pub verified: bool,
    /// Why it is not verified; `None` when it is.
    pub reason: Option<String>,
    /// The body parsed as JSON; `None` when it is not JSON.
    pub body: Option<serde_json::Value>,
    /// The status the receiver answered: its reply status when verified, 401 when not.
    pub status: u16,
}
