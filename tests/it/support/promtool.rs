//! Prometheus's own checker for the metrics tests: `promtool check metrics` from Debian's
//! `prometheus` package, run on an exposition text. Its lint problems (a counter without
//! `_total`, a metric without HELP, ...) fail the check as parse errors do.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const PROMTOOL: &str = "/usr/bin/promtool";

/// `Ok` when `promtool check metrics` accepts `text` without a problem; otherwise what it
/// wrote (stdout, then stderr).
pub fn check_metrics(text: &str) -> Result<(), String> {
    assert!(
        Path::new(PROMTOOL).exists(),
        "{PROMTOOL} is missing: install promtool (apt-get install -y prometheus; .ci/run does)"
    );
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("run {PROMTOOL}: {error}"));
    let mut stdin = child.stdin.take().expect("promtool stdin");
    // Written from a thread while the output is read, so neither pipe can fill up and
    // stall both sides; closing stdin (at the thread's end) ends promtool's input.
    let output = std::thread::scope(|scope| {
        scope.spawn(move || {
            // promtool may stop reading at a parse error: its exit status tells.
            let _ = stdin.write_all(text.as_bytes());
        });
        child.wait_with_output()
    })
    .unwrap_or_else(|error| panic!("wait for {PROMTOOL}: {error}"));
    if output.status.success() {
        return Ok(());
    }
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Err(if report.trim().is_empty() {
        format!("promtool check metrics failed ({})", output.status)
    } else {
        report
    })
}
