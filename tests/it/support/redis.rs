//! A real Redis for the shared-state tests: Debian's `redis-server` in the foreground on a
//! loopback port, without persistence, its working directory and log in a temporary
//! directory. A test can stop it and start it again on the same port (an outage), and
//! read its keys back with raw RESP commands; it is killed on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::unbound_port;

const REDIS_SERVER: &str = "/usr/bin/redis-server";

const NO_REDIS: &str = "install redis-server (apt-get install -y redis-server; .ci/run does)";

/// A running `redis-server` on `127.0.0.1:port`, killed on drop.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts the server on a free loopback port and waits until it answers `PING`.
    pub fn start() -> RedisServer {
        assert!(
            Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is missing: {NO_REDIS}"
        );
        let mut server = RedisServer {
            port: unbound_port(),
            child: None,
            dir: tempfile::tempdir().expect("redis dir"),
        };
        server.spawn();
        server
    }

    /// The URL of database 0.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server and waits for it: its port refuses connections afterwards.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: nothing is persisted) and waits
    /// until it answers `PING`.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Sends one command (`["KEYS", "*"]`) and returns the raw RESP reply, such as
    /// `*1\r\n$3\r\nkey\r\n`.
    pub fn command(&self, args: &[&str]) -> String {
        request(self.port, args).unwrap_or_else(|error| {
            panic!(
                "redis {args:?} on port {}: {error}; log:\n{}",
                self.port,
                self.log()
            )
        })
    }

    /// The server's log, then what it wrote to stderr (its startup errors).
    pub fn log(&self) -> String {
        let read = |path: PathBuf| std::fs::read_to_string(path).unwrap_or_default();
        format!(
            "{}{}",
            read(self.dir.path().join("redis.log")),
            read(self.dir.path().join("redis.stderr"))
        )
    }

    fn spawn(&mut self) {
        let stderr =
            std::fs::File::create(self.dir.path().join("redis.stderr")).expect("redis stderr");
        let child = Command::new(REDIS_SERVER)
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--daemonize", "no", "--protected-mode", "no"])
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|error| panic!("start {REDIS_SERVER}: {error}; {NO_REDIS}"));
        self.child = Some(child);
        self.wait_until_ready();
    }

    /// Polls `PING` every 50 ms for up to 10 s; fails at once if the process exits.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("redis-server exited ({status}); log:\n{}", self.log());
            }
            if request(self.port, &["PING"]).is_ok_and(|reply| reply.starts_with("+PONG")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server did not answer PING on port {} within 10 s; log:\n{}",
            self.port,
            self.log()
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One RESP command on a fresh connection; the raw reply once it is complete (or the
/// server closed the connection).
fn request(port: u16, args: &[&str]) -> std::io::Result<String> {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut message = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        message.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        message.extend_from_slice(arg.as_bytes());
        message.extend_from_slice(b"\r\n");
    }
    stream.write_all(&message)?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while reply_length(&reply).is_none() {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// The length of the first RESP reply in `bytes` if it is all there: a simple string, an
/// error, an integer, a bulk string (or null), or an array of those.
fn reply_length(bytes: &[u8]) -> Option<usize> {
    let line_end = bytes.windows(2).position(|pair| pair == b"\r\n")? + 2;
    let header = std::str::from_utf8(bytes.get(1..line_end - 2)?).ok()?;
    match bytes.first()? {
        b'+' | b'-' | b':' => Some(line_end),
        b'$' => {
            // `$-1`: null.
            let Ok(length) = usize::try_from(header.parse::<i64>().ok()?) else {
                return Some(line_end);
            };
            let end = line_end + length + 2;
            (bytes.len() >= end).then_some(end)
        }
        b'*' => {
            // `*-1`: null.
            let Ok(count) = usize::try_from(header.parse::<i64>().ok()?) else {
                return Some(line_end);
            };
            let mut end = line_end;
            for _ in 0..count {
                end += reply_length(bytes.get(end..)?)?;
            }
            Some(end)
        }
        _ => None,
    }
}
