//! `authgate lsp`: a Language Server on stdio for `authgate.yaml`, drop-in provider files
//! and `.rhai` script files. It publishes exactly what `authgate check` reports (the same
//! build, with the editor's unsaved buffers read in place of the files, and the same
//! codes, wording and ranges), a short pause after the last keystroke; completes preset
//! ids after `use:`; and answers hovers with the schema's descriptions.

mod assist;
mod diagnostics;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use serde_json::{Value, json};

/// How long after the last change the configuration is checked again.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// An open editor buffer.
struct Document {
    path: PathBuf,
    text: String,
}

struct Server {
    config_path: PathBuf,
    /// By URI, as the editor names them.
    documents: HashMap<String, Document>,
    /// The URIs that were last sent diagnostics, so that fixed files are cleared.
    published: HashSet<String>,
}

/// Serves one editor session on stdin/stdout until it says `exit`.
pub fn run(config_path: &Path) -> anyhow::Result<()> {
    let config_path = std::path::absolute(config_path)?;
    let (connection, io_threads) = Connection::stdio();
    connection.initialize(json!({
        "textDocumentSync": { "openClose": true, "change": 1 },
        "completionProvider": { "triggerCharacters": [" ", ":"] },
        "hoverProvider": true,
    }))?;
    let mut server = Server {
        config_path,
        documents: HashMap::new(),
        published: HashSet::new(),
    };
    server.serve(&connection)?;
    drop(connection);
    io_threads.join()?;
    Ok(())
}

impl Server {
    fn serve(&mut self, connection: &Connection) -> anyhow::Result<()> {
        let mut due: Option<Instant> = None;
        loop {
            let message = match due {
                Some(at) => {
                    match connection
                        .receiver
                        .recv_timeout(at.saturating_duration_since(Instant::now()))
                    {
                        Ok(message) => Some(message),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return Ok(()),
                    }
                }
                None => match connection.receiver.recv() {
                    Ok(message) => Some(message),
                    Err(_) => return Ok(()),
                },
            };
            match message {
                None => {
                    due = None;
                    self.publish(connection)?;
                }
                Some(Message::Request(request)) => {
                    if connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    connection.sender.send(self.answer(request).into())?;
                }
                Some(Message::Notification(notification)) => {
                    if notification.method == "exit" {
                        return Ok(());
                    }
                    if self.follow(notification) {
                        due = Some(Instant::now() + DEBOUNCE);
                    }
                }
                Some(Message::Response(_)) => {}
            }
        }
    }

    /// Applies a document notification; whether the diagnostics need refreshing.
    fn follow(&mut self, notification: Notification) -> bool {
        let params = &notification.params;
        let uri = params["textDocument"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default();
                match path_of(&uri) {
                    Some(path) => {
                        self.documents.insert(
                            uri,
                            Document {
                                path,
                                text: text.to_string(),
                            },
                        );
                        true
                    }
                    None => false,
                }
            }
            "textDocument/didChange" => {
                // Full synchronisation: the last change holds the whole text.
                let text = params["contentChanges"]
                    .as_array()
                    .and_then(|changes| changes.last())
                    .and_then(|change| change["text"].as_str());
                match (self.documents.get_mut(&uri), text) {
                    (Some(document), Some(text)) => {
                        document.text = text.to_string();
                        true
                    }
                    _ => false,
                }
            }
            "textDocument/didClose" => self.documents.remove(&uri).is_some(),
            _ => false,
        }
    }

    fn answer(&self, request: Request) -> Response {
        let params = &request.params;
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default();
        let position = (
            params["position"]["line"].as_u64().unwrap_or(0) as usize,
            params["position"]["character"].as_u64().unwrap_or(0) as usize,
        );
        let document = self.documents.get(uri);
        let result = match request.method.as_str() {
            "textDocument/completion" => document
                .map(|document| assist::completion(&document.text, position))
                .unwrap_or(Value::Null),
            "textDocument/hover" => document
                .and_then(|document| assist::hover(&document.path, &document.text, position))
                .unwrap_or(Value::Null),
            _ => {
                return Response::new_err(
                    request.id,
                    ErrorCode::MethodNotFound as i32,
                    format!("authgate lsp does not answer {}", request.method),
                );
            }
        };
        Response::new_ok(request.id, result)
    }

    /// Checks the configuration with the open buffers and sends every file's diagnostics,
    /// clearing those of files that have none now.
    fn publish(&mut self, connection: &Connection) -> anyhow::Result<()> {
        let buffers: HashMap<PathBuf, String> = self
            .documents
            .values()
            .map(|document| (document.path.clone(), document.text.clone()))
            .collect();
        let open: HashMap<PathBuf, String> = self
            .documents
            .iter()
            .map(|(uri, document)| (document.path.clone(), uri.clone()))
            .collect();
        let mut by_uri = diagnostics::check(&self.config_path, buffers, &open);
        for uri in self.documents.keys().chain(self.published.iter()) {
            by_uri.entry(uri.clone()).or_default();
        }
        self.published = by_uri
            .iter()
            .filter(|(_, list)| !list.is_empty())
            .map(|(uri, _)| uri.clone())
            .collect();
        for (uri, list) in by_uri {
            let notification = Notification::new(
                "textDocument/publishDiagnostics".into(),
                json!({ "uri": uri, "diagnostics": list }),
            );
            connection.sender.send(notification.into())?;
        }
        Ok(())
    }
}

/// The file a `file://` URI names.
fn path_of(uri: &str) -> Option<PathBuf> {
    url::Url::parse(uri).ok()?.to_file_path().ok()
}

/// The `file://` URI of a path.
fn uri_of(path: &Path) -> Option<String> {
    url::Url::from_file_path(path).ok().map(String::from)
}

/// The 0-based UTF-16 position (LSP's default) of a 1-based line and code-point column
/// in `text`.
fn lsp_position(text: Option<&str>, (line, column): (usize, usize)) -> Value {
    let character = text
        .and_then(|text| text.lines().nth(line.saturating_sub(1)))
        .map(|line_text| {
            let before: usize = line_text
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf16)
                .sum();
            before
                + column
                    .saturating_sub(1)
                    .saturating_sub(line_text.chars().count())
        })
        .unwrap_or(column.saturating_sub(1));
    json!({ "line": line.saturating_sub(1), "character": character })
}
