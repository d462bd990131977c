//! Drop-in provider files: every `*.yaml` in the `providers.d/` beside `authgate.yaml` is a
//! live provider, written like one entry of its `providers:` list (a full definition, or
//! `use: <preset>` plus overrides). Its id is its `id:`, else its file name without the
//! extension. They come after the config's own providers, in file-name order.

use super::codes::Code;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::diagnostics::{Diagnostic, SourceLocation, quoted};
use super::files::{ParsedFile, parse_yaml_file, read_text_file};
use super::interpolate::Environment;
use super::presets::{file_stem, is_provider_file_name, is_provider_script};
use super::schema::{SchemaKind, validate_against_schema};

/// One provider file from the drop-in directory, parsed and schema-checked.
#[derive(Debug, Clone)]
pub struct DropIn {
    /// The provider id when the file sets none: its name without `.yaml`/`.yml`.
    pub default_id: String,
    pub file: Arc<ParsedFile>,
}

/// Every drop-in file of `dir`, in file-name order. A missing directory has none.
pub fn load_dropins(dir: &Path, env: &dyn Environment) -> (Vec<DropIn>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut dropins = Vec::new();
    for (name, path) in dropin_files(dir, &mut diagnostics) {
        let display = path.display().to_string();
        let text = match read_text_file(&path, &display) {
            Ok(text) => text,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        let (file, mut errors) =
            match parse_yaml_file(text, &display, Some(path), env, &is_provider_script) {
                Ok(parsed) => parsed,
                Err(errors) => {
                    diagnostics.extend(errors);
                    continue;
                }
            };
        errors.extend(validate_against_schema(
            SchemaKind::Provider,
            &file.document,
            &display,
            &file.masked,
        ));
        let default_id = file_stem(&name).to_string();
        if file.document.value.get("id").is_none() && !is_valid_id(&default_id) {
            errors.push(
                Diagnostic::error(Code::ProviderId,
                    "id",
                    format!(
                        "the file name {} is not a provider id (letters, digits, `-` and `_`); set `id:`",
                        quoted(&name)
                    ),
                )
                .at(SourceLocation {
                    file: display.clone(),
                    line: 1,
                    column: 1,
                }),
            );
        }
        if errors.is_empty() {
            dropins.push(DropIn {
                default_id,
                file: Arc::new(file),
            });
        } else {
            diagnostics.extend(errors);
        }
    }
    (dropins, diagnostics)
}

/// The schema's id pattern, `^[A-Za-z0-9][A-Za-z0-9_-]*$`.
fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The provider files of `dir`, sorted by name (byte order).
pub fn dropin_files(dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            let message = if dir.is_file() {
                "expected a directory of provider files, found a file".to_string()
            } else {
                format!("cannot read directory: {error}")
            };
            diagnostics.push(Diagnostic::error(
                Code::File,
                "",
                format!("{}: {message}", dir.display()),
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            is_provider_file_name(&name).then(|| (name, entry.path()))
        })
        .collect();
    files.sort();
    files
}

/// The entry a drop-in adds to `providers`: its file's mapping, with its default id when
/// it sets none.
pub fn dropin_entry(dropin: &DropIn) -> Value {
    let mut entry = dropin.file.document.value.clone();
    if let Value::Object(map) = &mut entry {
        map.entry("id")
            .or_insert_with(|| Value::String(dropin.default_id.clone()));
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_that_are_ids_are_accepted_and_others_are_not() {
        for (id, valid) in [
            ("github", true),
            ("acme-sso_2", true),
            ("9lives", true),
            ("-lead", false),
            ("with space", false),
            ("dot.ted", false),
            ("", false),
        ] {
            assert_eq!(is_valid_id(id), valid, "{id:?}");
        }
    }
}
