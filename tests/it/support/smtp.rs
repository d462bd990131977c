//! A real SMTP server for the email tests: `tests/smtp/smtp_server.py` (aiosmtpd under
//! Debian's python3), which writes every message it accepts as `<n>.json` into a temporary
//! directory that the tests read back as `Mail`s.

use std::io::{BufRead, BufReader, ErrorKind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's interpreter, the one `python3-aiosmtpd` installs for (a `python3` found first
/// on PATH, such as pyenv's, would not see the package).
const PYTHON: &str = "/usr/bin/python3";

const NO_AIOSMTPD: &str =
    "aiosmtpd is not installed: apt-get install python3-aiosmtpd (.ci/run does)";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp")
}

/// How the server behaves; the default accepts anything in the clear, without AUTH.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Offer STARTTLS with the fixture certificate, and refuse MAIL before it.
    pub starttls: bool,
    /// Require AUTH (PLAIN or LOGIN) as this user and password; under TLS if `starttls`,
    /// in the clear otherwise.
    pub auth: Option<(String, String)>,
    /// Answer `550 5.1.1 mailbox unavailable` to every RCPT TO.
    pub reject_rcpt: bool,
}

/// A running SMTP server on `127.0.0.1:port`, stopped on drop.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server and waits for its `ready <port>` line.
    pub fn start(options: SmtpOptions) -> SmtpServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("smtp log file");
        let mut command = Command::new(PYTHON);
        command
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/smtp_server.py"))
            .arg("--maildir")
            .arg(dir.path().join("mail"));
        if options.starttls {
            command
                .arg("--starttls")
                .arg(SmtpServer::cert_path())
                .arg(fixtures().join("key.pem"));
        }
        if let Some((user, password)) = &options.auth {
            command.arg("--auth").arg(format!("{user}:{password}"));
        }
        if options.reject_rcpt {
            command.arg("--reject-rcpt");
        }
        let spawned = command
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == ErrorKind::NotFound => panic!(
                "{PYTHON} is not installed: apt-get install python3 python3-aiosmtpd (.ci/run does)"
            ),
            Err(error) => panic!("start {PYTHON}: {error}"),
        };
        let stdout = child.stdout.take().expect("smtp server stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|port| port.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            if log.contains("aiosmtpd is not installed") {
                panic!("{NO_AIOSMTPD}");
            }
            panic!("the SMTP test server did not start: {line:?}; its log:\n{log}");
        };
        SmtpServer { child, port, dir }
    }

    /// The server's certificate (CA:TRUE, for 127.0.0.1 and localhost), for clients to
    /// trust as their root.
    pub fn cert_path() -> PathBuf {
        fixtures().join("cert.pem")
    }

    /// Where the server writes each message as `<n>.json`.
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// The server's stderr: aiosmtpd's log of sessions, senders and recipients.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Every message accepted so far, in order of receipt.
    pub fn messages(&self) -> Vec<Mail> {
        let maildir = self.dir.path().join("mail");
        let entries = std::fs::read_dir(&maildir)
            .unwrap_or_else(|error| panic!("read {}: {error}", maildir.display()));
        // `<n>.json` only: a `<n>.json.tmp` is still being written.
        let mut numbered: Vec<(u64, PathBuf)> = entries
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let n = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()?;
                Some((n, path))
            })
            .collect();
        numbered.sort();
        numbered
            .into_iter()
            .map(|(_, path)| {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
                serde_json::from_str(&text)
                    .unwrap_or_else(|error| panic!("parse {}: {error}", path.display()))
            })
            .collect()
    }

    /// Polls every 50 ms until at least `count` messages arrived; all of them.
    pub async fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the SMTP server got {} message(s), not {count}, within {timeout:?}; its log:\n{}",
                    messages.len(),
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One accepted message, as `smtp_server.py` describes it. Header values are decoded;
/// `text` and `html` are the decoded text/plain and text/html bodies with LF line ends;
/// `raw` is the message as received.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The AUTH login of the session, if it authenticated.
    pub authenticated_as: Option<String>,
    /// Whether the message came through STARTTLS.
    pub tls: bool,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The top-level type, such as `multipart/alternative`.
    pub content_type: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub raw: String,
}

impl Mail {
    /// The first `http://` or `https://` URL in the text part, up to whitespace.
    pub fn link(&self) -> String {
        let text = self
            .text
            .as_deref()
            .unwrap_or_else(|| panic!("the message has no text part:\n{}", self.raw));
        let start = ["http://", "https://"]
            .iter()
            .filter_map(|scheme| text.find(scheme))
            .min()
            .unwrap_or_else(|| panic!("no link in the text part:\n{text}"));
        text[start..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}
