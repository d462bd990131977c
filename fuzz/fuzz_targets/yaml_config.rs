//! Configuration files: the YAML reader (`config::yaml::parse_document`) on arbitrary
//! text, then the whole of `authgate check` (`pipeline::build_pipeline`: read the files,
//! `${ENV}` expansion with no variables set, the schema and semantic layers, the built-in
//! and user presets, script compilation) on the same bytes written as `authgate.yaml`.
//!
//! Input: up to three files separated by NUL bytes (never valid in YAML):
//! `authgate.yaml` `\0` `providers.d/fuzz.yaml` `\0` `fuzz.rhai`. A missing part means
//! the file does not exist.
//!
//! Properties:
//! - nothing panics, overflows a server thread's stack or takes long (libFuzzer's timeout);
//! - a parsed document keeps the limits (depth, nodes), and every position it records is
//!   inside the text (an error at the end of the text may name the line after it);
//! - a refused config has at least one error, and no diagnostic has a control character
//!   (a value cannot forge a line of output).

#![no_main]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use authgate::config::ConfigSource;
use authgate::config::yaml::{MAX_DEPTH, MAX_NODES, parse_document};
use authgate::config::{Diagnostic, Diagnostics};
use authgate::pipeline::build_pipeline;
use authgate_fuzz::on_server_stack;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A directory of this process's own, made once; each input overwrites its files.
fn config_directory() -> &'static Path {
    static DIRECTORY: OnceLock<PathBuf> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let directory =
            std::env::temp_dir().join(format!("authgate-fuzz-yaml-config-{}", std::process::id()));
        std::fs::create_dir_all(directory.join("providers.d"))
            .expect("cannot create the config directory");
        directory
    })
}

fn write_or_remove(path: &Path, contents: Option<&[u8]>) {
    match contents {
        Some(contents) => std::fs::write(path, contents).expect("cannot write a config file"),
        None => {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Depth and node count of a value, without recursion.
fn depth_and_nodes(value: &Value) -> (usize, usize) {
    let mut deepest = 0;
    let mut nodes = 0;
    let mut pending = vec![(value, 1usize)];
    while let Some((value, depth)) = pending.pop() {
        nodes += 1;
        deepest = deepest.max(depth);
        match value {
            Value::Array(items) => pending.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(entries) => {
                pending.extend(entries.values().map(|item| (item, depth + 1)));
            }
            _ => {}
        }
    }
    (deepest, nodes)
}

/// Lines as YAML counts them: `\r\n`, a lone `\r` and `\n` each end one.
fn yaml_line_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    let breaks = bytes
        .iter()
        .enumerate()
        .filter(|(index, byte)| match byte {
            b'\n' => true,
            b'\r' => bytes.get(index + 1) != Some(&b'\n'),
            _ => false,
        })
        .count();
    breaks + 1
}

fn check_yaml_reader(text: &str) {
    let lines = yaml_line_count(text);
    match parse_document(text) {
        Ok(document) => {
            let (depth, nodes) = depth_and_nodes(&document.value);
            // Scalars sit one level below the deepest collection.
            assert!(depth <= MAX_DEPTH + 1, "a document {depth} deep was read");
            assert!(nodes <= MAX_NODES, "a document of {nodes} nodes was read");
            for (pointer, position) in &document.positions {
                for place in [Some(position.value), position.key].into_iter().flatten() {
                    assert!(
                        (1..=lines).contains(&place.line) && place.column >= 1,
                        "{pointer:?} is recorded at {place:?}, outside the text"
                    );
                }
            }
        }
        Err(error) => {
            // At the end of a file without a final line break, the parser reports the
            // line after the last one.
            assert!(
                error.position.line <= lines + 1 && error.position.column >= 1,
                "error {:?} is outside the text",
                error
            );
        }
    }
}

fn check_diagnostic(diagnostic: &Diagnostic) {
    let headline = diagnostic.headline();
    assert!(
        !headline.chars().any(char::is_control),
        "a diagnostic forges output: {headline:?}"
    );
}

fn check_pipeline(directory: &Path) {
    let source = ConfigSource::new(directory.join("authgate.yaml"));
    let no_variables: HashMap<String, String> = HashMap::new();
    match build_pipeline(&source, &no_variables, 1) {
        Ok(pipeline) => {
            pipeline.warnings.iter().for_each(check_diagnostic);
            let _ = pipeline.summary();
        }
        Err(Diagnostics(diagnostics)) => {
            assert!(
                diagnostics.iter().any(Diagnostic::is_error),
                "a config was refused without an error: {diagnostics:?}"
            );
            diagnostics.iter().for_each(check_diagnostic);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |byte| *byte == 0);
    let config = parts.next().unwrap_or_default();
    let preset = parts.next();
    let script = parts.next();
    let directory = config_directory();
    write_or_remove(&directory.join("authgate.yaml"), Some(config));
    write_or_remove(&directory.join("providers.d/fuzz.yaml"), preset);
    write_or_remove(&directory.join("fuzz.rhai"), script);
    let text = String::from_utf8_lossy(config).into_owned();
    on_server_stack(|| {
        check_yaml_reader(&text);
        check_pipeline(directory);
    });
});
