//! `authgate lsp` driven over stdio as an editor drives it: the diagnostics it publishes
//! for an unsaved buffer equal `authgate check --format json` for the same text and clear
//! once the buffer is fixed; completion after `use: ` lists the presets; hover shows the
//! schema's description.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ConfigDir, cli};

const BAD: &str =
    "url: example.com\nsecret: short\nproviders:\n  - use: githubb\n    clientId: x\n";

struct Editor {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
}

impl Editor {
    fn start(dir: &ConfigDir) -> Editor {
        let mut child = cli()
            .args(["lsp", "--config"])
            .arg(dir.config_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start authgate lsp");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            loop {
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if stdout.read_line(&mut header).unwrap_or(0) == 0 {
                        return;
                    }
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some(value) = header.strip_prefix("Content-Length: ") {
                        length = value.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                stdout.read_exact(&mut body).unwrap();
                if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut editor = Editor {
            child,
            stdin,
            messages,
            next_id: 1,
        };
        let answer = editor.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert_eq!(
            answer["result"]["capabilities"]["hoverProvider"], true,
            "{answer}"
        );
        editor.notify("initialized", json!({}));
        editor
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|message| message["id"] == id)
    }

    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .messages
                .recv_timeout(Duration::from_secs(20))
                .expect("authgate lsp answered in time");
            if wanted(&message) {
                return message;
            }
        }
    }

    fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        let published = self.wait_for(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
        });
        published["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// `authgate check --format json` for `text` as a whole configuration.
fn check_json(text: &str) -> Vec<Value> {
    let dir = ConfigDir::new(text);
    let output = cli()
        .args(["check", "--format", "json", "--config"])
        .arg(dir.config_path())
        .output()
        .expect("run check");
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn an_editor_sees_checks_diagnostics_as_it_types_and_gets_presets_and_hovers() {
    // On disk the configuration is good; the editor's buffer is not, until it is fixed.
    let good = "url: https://auth.example.com\nsecret: 0123456789abcdef0123456789abcdef\nproviders:\n  - use: github\n    clientId: a\n    clientSecret: b\n".to_string();
    let dir = ConfigDir::new(&good);
    let uri = url::Url::from_file_path(dir.config_path())
        .unwrap()
        .to_string();
    let mut editor = Editor::start(&dir);
    editor.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": BAD}}),
    );
    let published = editor.diagnostics_for(&uri);
    let expected: Vec<Value> = check_json(BAD)
        .iter()
        .map(|entry| {
            let zero = |value: &Value| value.as_u64().unwrap() - 1;
            json!({
                "code": entry["code"],
                "message": entry["message"],
                "severity": if entry["severity"] == "error" { 1 } else { 2 },
                "range": {
                    "start": {"line": zero(&entry["line"]), "character": zero(&entry["column"])},
                    "end": {"line": zero(&entry["end"]["line"]), "character": zero(&entry["end"]["column"])},
                },
            })
        })
        .collect();
    let seen: Vec<Value> = published
        .iter()
        .map(|diagnostic| {
            json!({
                "code": diagnostic["code"],
                "message": diagnostic["message"],
                "severity": diagnostic["severity"],
                "range": diagnostic["range"],
            })
        })
        .collect();
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(seen, expected);

    // Fixed in the buffer: the diagnostics clear.
    editor.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": good}]}),
    );
    assert_eq!(editor.diagnostics_for(&uri), Vec::<Value>::new());

    // A drop-in provider file's buffer is checked with the rest, at its own URI.
    dir.write(
        "providers.d/acme.yaml",
        "type: oauth\nclientId: a\nissuer: https://idp.example.com\n",
    );
    let dropin = url::Url::from_file_path(dir.path().join("providers.d/acme.yaml"))
        .unwrap()
        .to_string();
    editor.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": dropin, "languageId": "yaml", "version": 1, "text": "type: oauth\nclientId: a\n"}}),
    );
    let published = editor.diagnostics_for(&dropin);
    assert!(
        published
            .iter()
            .any(|diagnostic| diagnostic["code"] == "AG0010"
                && diagnostic["message"]
                    .as_str()
                    .unwrap()
                    .contains("authorization")),
        "{published:?}"
    );
    editor.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": dropin}}),
    );
    assert_eq!(editor.diagnostics_for(&dropin), Vec::<Value>::new());

    // So is a script file's buffer, at the script's URI.
    dir.write("scripts/session.rhai", "session\n");
    let with_script = format!("{good}callbacks:\n  session:\n    file: scripts/session.rhai\n");
    editor.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": with_script}]}),
    );
    assert_eq!(editor.diagnostics_for(&uri), Vec::<Value>::new());
    let script = url::Url::from_file_path(dir.path().join("scripts/session.rhai"))
        .unwrap()
        .to_string();
    editor.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": script, "languageId": "rhai", "version": 1, "text": "session.user.id = ;\n"}}),
    );
    let published = editor.diagnostics_for(&script);
    assert!(
        published
            .iter()
            .any(|diagnostic| diagnostic["code"] == "AG0007"),
        "{published:?}"
    );
    editor.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": script}}),
    );
    assert_eq!(editor.diagnostics_for(&script), Vec::<Value>::new());

    // Completion after `use: ` lists the presets.
    let with_use = format!("{good}  - use: \n");
    editor.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": with_use}]}),
    );
    let line = with_use.lines().count() - 1;
    let answer = editor.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": 9}}),
    );
    let labels: Vec<&str> = answer["result"]
        .as_array()
        .expect("completion items")
        .iter()
        .map(|item| item["label"].as_str().unwrap())
        .collect();
    for preset in ["github", "google", "keycloak"] {
        assert!(labels.contains(&preset), "{preset} missing from {labels:?}");
    }
    // Hover on `url:` shows its description.
    let answer = editor.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}}),
    );
    let markdown = answer["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(markdown.contains("Public base URL"), "{answer}");

    let answer = editor.request("shutdown", Value::Null);
    assert!(answer.get("error").is_none(), "{answer}");
    editor.notify("exit", Value::Null);
    let status = editor.child.wait().unwrap();
    assert!(status.success());
}
