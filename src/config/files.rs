//! Reading one YAML file from disk (or from the presets built into the binary), parsing
//! it with positions and expanding `${ENV}` in it. Every way a file can be bad (missing, a
//! directory, unreadable, too large, not UTF-8, not YAML, empty, not a mapping) becomes a
//! diagnostic naming the file.

use super::codes::Code;
use std::collections::HashSet;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::diagnostics::{Diagnostic, SourceLocation};
use super::interpolate::{Environment, interpolate_document};
use super::yaml::{Position, YamlDocument, parse_document};

/// Largest configuration or preset file authgate reads.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A parsed YAML file with `${ENV}` expanded.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    /// How diagnostics name the file.
    pub display: String,
    /// The file on disk; `None` for a preset built into the binary.
    pub path: Option<PathBuf>,
    pub text: String,
    pub document: YamlDocument,
    /// Pointers whose value came from the environment.
    pub masked: HashSet<String>,
}

impl ParsedFile {
    pub fn location(&self, pointer: &str, prefer_key: bool) -> SourceLocation {
        SourceLocation::new(
            self.display.clone(),
            self.document.position_of(pointer, prefer_key),
        )
    }

    /// The directory relative paths in this file are resolved against.
    pub fn directory(&self) -> Option<PathBuf> {
        self.path
            .as_ref()
            .map(|path| path.parent().map(Path::to_path_buf).unwrap_or_default())
    }
}

fn file_error(display: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::File, "", message).at(SourceLocation::new(
        display,
        Position { line: 1, column: 1 },
    ))
}

/// Reads a UTF-8 text file of bounded size.
pub fn read_text_file(path: &Path, display: &str) -> Result<String, Diagnostic> {
    if let Some(text) = overlay::text_of(path) {
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large(display, text.len() as u64));
        }
        return Ok(text);
    }
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        ErrorKind::NotFound => file_error(display, "file not found"),
        ErrorKind::PermissionDenied => file_error(display, "cannot read file: permission denied"),
        _ => file_error(display, format!("cannot read file: {error}")),
    })?;
    if metadata.is_dir() {
        return Err(file_error(display, "expected a file, found a directory"));
    }
    if !metadata.is_file() {
        // A FIFO would block the reload forever, /dev/zero would never end.
        return Err(file_error(
            display,
            "expected a regular file, found a device, socket or pipe",
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(display, metadata.len()));
    }
    let mut bytes = Vec::new();
    // `take` guards against a file that grew since it was measured.
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|error| match error.kind() {
            ErrorKind::PermissionDenied => {
                file_error(display, "cannot read file: permission denied")
            }
            _ => file_error(display, format!("cannot read file: {error}")),
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(display, bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|byte| **byte == b'\n').count() + 1;
        let line_start = valid
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(0, |at| at + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        Diagnostic::error(Code::File, "", "file is not valid UTF-8")
            .at(SourceLocation::new(display, Position { line, column }))
    })
}

fn too_large(display: &str, size: u64) -> Diagnostic {
    file_error(
        display,
        format!("file is {size} bytes, larger than the {MAX_FILE_BYTES}-byte limit"),
    )
}

/// Parses `text` as one YAML mapping and expands `${ENV}` in it. A file that parses comes
/// back with the diagnostics of its failed expansions (the rest can still be validated).
pub fn parse_yaml_file(
    text: String,
    display: &str,
    path: Option<PathBuf>,
    env: &dyn Environment,
    is_script: &dyn Fn(&str) -> bool,
) -> Result<(ParsedFile, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut document = parse_document(&text).map_err(|error| {
        vec![
            Diagnostic::error(Code::Yaml, "", format!("invalid YAML: {}", error.message))
                .at(SourceLocation::new(display, error.position)),
        ]
    })?;
    match &document.value {
        Value::Object(_) => {}
        Value::Null => {
            return Err(vec![file_error(
                display,
                "file is empty: expected a mapping of settings",
            )]);
        }
        other => {
            let found = match other {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                _ => "a scalar",
            };
            return Err(vec![file_error(
                display,
                format!("expected a mapping of settings at the top level, found {found}"),
            )]);
        }
    }
    let (masked, diagnostics) = interpolate_document(&mut document, env, display, is_script);
    let file = ParsedFile {
        display: display.to_string(),
        path,
        text,
        document,
        masked,
    };
    Ok((file, diagnostics))
}

pub mod overlay {
    //! Unsaved editor buffers (`authgate lsp`): while `with` runs on this thread, a file
    //! it holds is read from it instead of the disk. Nothing else ever sets it.

    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    thread_local! {
        static OVERLAY: RefCell<HashMap<PathBuf, String>> = RefCell::new(HashMap::new());
    }

    /// Puts the previous overlay back, even when `f` panics.
    struct Restore(Option<HashMap<PathBuf, String>>);

    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                OVERLAY.with(|overlay| overlay.replace(previous));
            }
        }
    }

    /// Runs `f` with `files` (absolute paths) read from memory on this thread.
    pub fn with<T>(files: HashMap<PathBuf, String>, f: impl FnOnce() -> T) -> T {
        let _restore = Restore(Some(OVERLAY.with(|overlay| overlay.replace(files))));
        f()
    }

    /// The buffer's text for `path`, when one is overlaid.
    pub(super) fn text_of(path: &Path) -> Option<String> {
        OVERLAY.with(|overlay| {
            let overlay = overlay.borrow();
            if overlay.is_empty() {
                return None;
            }
            let absolute = std::path::absolute(path).ok()?;
            overlay.get(&absolute).cloned()
        })
    }
}
