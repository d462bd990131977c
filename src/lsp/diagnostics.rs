//! The configuration checked as `authgate check` checks it, with the editor's buffers in
//! place of their files, as LSP diagnostics grouped by file URI.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{lsp_position, uri_of};
use crate::config::codes::Code;
use crate::config::diagnostics::Severity;
use crate::config::diagnostics::{Diagnostic, Diagnostics};
use crate::config::files::{overlay, read_text_file};
use crate::config::report::span;
use crate::config::{ConfigSource, ProcessEnvironment};
use crate::pipeline::build_pipeline;

/// Every diagnostic of the configuration at `config_path`, by the URI of its file; one
/// with no place goes to the configuration file, at its start.
/// `open` maps each open buffer's path to the URI the editor gave it, which is used for that
/// file (an editor may encode a path differently from `url`).
pub fn check(
    config_path: &Path,
    buffers: HashMap<PathBuf, String>,
    open: &HashMap<PathBuf, String>,
) -> HashMap<String, Vec<Value>> {
    let source = ConfigSource::new(config_path);
    // A panic while building is a bug, reported as one; the server keeps serving.
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        overlay::with(buffers.clone(), || {
            match build_pipeline(&source, &ProcessEnvironment, 1) {
                Ok(pipeline) => pipeline.warnings.clone(),
                Err(diagnostics) => diagnostics,
            }
        })
    }));
    let diagnostics = built.unwrap_or_else(|_| {
        Diagnostics(vec![Diagnostic::error(
            Code::Internal,
            "configuration",
            "checking failed on an internal error (a bug; please report it)",
        )])
    });
    // Through the loader's reader: a FIFO or `/dev/zero` named by a diagnostic is not read.
    let text_of = |path: &Path| -> Option<String> {
        buffers
            .get(path)
            .cloned()
            .or_else(|| read_text_file(path, "").ok())
    };
    let read = |file: &str| {
        std::path::absolute(file)
            .ok()
            .and_then(|path| text_of(&path))
    };
    let mut by_uri: HashMap<String, Vec<Value>> = HashMap::new();
    for diagnostic in diagnostics.iter() {
        let (path, start, end) = match span(diagnostic, &read) {
            Some(span) => (
                std::path::absolute(&span.file).unwrap_or_else(|_| PathBuf::from(&span.file)),
                span.start,
                span.end,
            ),
            None => (config_path.to_path_buf(), (1, 1), (1, 1)),
        };
        let Some(uri) = open.get(&path).cloned().or_else(|| uri_of(&path)) else {
            continue;
        };
        let text = text_of(&path);
        by_uri.entry(uri).or_default().push(json!({
            "range": {
                "start": lsp_position(text.as_deref(), start),
                "end": lsp_position(text.as_deref(), end),
            },
            "severity": if diagnostic.severity == Severity::Error { 1 } else { 2 },
            "code": diagnostic.code.id(),
            "source": "authgate",
            "message": diagnostic.text(),
        }));
    }
    by_uri
}
