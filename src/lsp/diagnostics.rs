//! The configuration checked as `authgate check` checks it, with the editor's buffers in
//! place of their files, as LSP diagnostics grouped by file URI.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{lsp_position, uri_of};
use crate::config::diagnostics::Severity;
use crate::config::files::overlay;
use crate::config::report::span;
use crate::config::{ConfigSource, ProcessEnvironment};
use crate::pipeline::build_pipeline;

/// Every diagnostic of the configuration at `config_path`, by the URI of its file; one
/// with no place goes to the configuration file, at its start.
pub fn check(config_path: &Path, buffers: HashMap<PathBuf, String>) -> HashMap<String, Vec<Value>> {
    let source = ConfigSource::new(config_path);
    let diagnostics = overlay::with(buffers.clone(), || {
        match build_pipeline(&source, &ProcessEnvironment, 1) {
            Ok(pipeline) => pipeline.warnings.clone(),
            Err(diagnostics) => diagnostics,
        }
    });
    let text_of = |path: &Path| -> Option<String> {
        buffers
            .get(path)
            .cloned()
            .or_else(|| std::fs::read_to_string(path).ok())
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
        let Some(uri) = uri_of(&path) else {
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
