//! Provider presets: the `providers.d/` files built into the binary at compile time, and the
//! user's `providers.d/` next to the config, whose files add presets or replace built-in
//! ones with the same id. A preset is only a template: a provider is enabled by a
//! `use: <id>` entry in `authgate.yaml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{Dir, include_dir};
use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::files::{ParsedFile, parse_yaml_file, read_text_file};
use super::interpolate::Environment;
use super::schema::{SchemaKind, validate_against_schema};

/// The presets shipped with authgate.
static BUILTIN_PRESETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/providers.d");

/// Where a preset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetOrigin {
    BuiltIn,
    User,
}

/// One provider preset, validated against the provider schema.
#[derive(Debug, Clone)]
pub struct Preset {
    pub id: String,
    pub origin: PresetOrigin,
    pub file: Arc<ParsedFile>,
}

impl Preset {
    pub fn value(&self) -> &Value {
        &self.file.document.value
    }
}

/// Pointers inside a provider object that hold Rhai script bodies.
pub fn is_provider_script(pointer_in_provider: &str) -> bool {
    matches!(pointer_in_provider, "/profile" | "/authorize")
}

/// Whether a directory entry is a preset file.
fn is_preset_file_name(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

fn file_stem(name: &str) -> &str {
    name.trim_end_matches(".yaml").trim_end_matches(".yml")
}

/// Every preset, built-in first, then the user's (which win on the same id).
pub fn load_presets(
    user_dir: Option<&Path>,
    env: &dyn Environment,
) -> (BTreeMap<String, Preset>, Vec<Diagnostic>) {
    let mut presets = BTreeMap::new();
    let mut diagnostics = Vec::new();

    let mut builtin: Vec<_> = BUILTIN_PRESETS
        .files()
        .filter_map(|file| {
            let name = file.path().file_name()?.to_str()?;
            is_preset_file_name(name).then_some((name.to_string(), file))
        })
        .collect();
    builtin.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, file) in builtin {
        let display = format!("<built-in>/providers.d/{name}");
        let Some(text) = file.contents_utf8() else {
            diagnostics.push(Diagnostic::error("", format!("{display}: not valid UTF-8")));
            continue;
        };
        add_preset(
            &mut presets,
            &mut diagnostics,
            text.to_string(),
            &name,
            display,
            None,
            PresetOrigin::BuiltIn,
            env,
        );
    }

    if let Some(dir) = user_dir {
        for (name, path) in user_preset_files(dir, &mut diagnostics) {
            let display = path.display().to_string();
            match read_text_file(&path, &display) {
                Ok(text) => add_preset(
                    &mut presets,
                    &mut diagnostics,
                    text,
                    &name,
                    display,
                    Some(path),
                    PresetOrigin::User,
                    env,
                ),
                Err(diagnostic) => diagnostics.push(diagnostic),
            }
        }
    }
    (presets, diagnostics)
}

/// The `*.yaml` files of the user's preset directory, sorted by name.
pub fn user_preset_files(dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            let message = if dir.is_file() {
                "expected a directory of provider presets, found a file".to_string()
            } else {
                format!("cannot read directory: {error}")
            };
            diagnostics.push(Diagnostic::error(
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
            is_preset_file_name(&name).then(|| (name, entry.path()))
        })
        .collect();
    files.sort();
    files
}

#[allow(clippy::too_many_arguments)]
fn add_preset(
    presets: &mut BTreeMap<String, Preset>,
    diagnostics: &mut Vec<Diagnostic>,
    text: String,
    file_name: &str,
    display: String,
    path: Option<PathBuf>,
    origin: PresetOrigin,
    env: &dyn Environment,
) {
    let (file, expansion_errors) =
        match parse_yaml_file(text, &display, path, env, &is_provider_script) {
            Ok(parsed) => parsed,
            Err(errors) => {
                diagnostics.extend(errors);
                return;
            }
        };
    let mut errors = expansion_errors;
    errors.extend(validate_against_schema(
        SchemaKind::Provider,
        &file.document,
        &display,
        &file.masked,
    ));
    let stem = file_stem(file_name).to_string();
    let value = &file.document.value;
    match value.get("id").and_then(Value::as_str) {
        Some(id) if id != stem => errors.push(
            Diagnostic::error(
                "id",
                format!("preset id `{id}` does not match its file name `{file_name}`"),
            )
            .at(file.location("/id", false)),
        ),
        _ => {}
    }
    if value.get("use").is_some() {
        errors.push(
            Diagnostic::error("use", "a preset cannot `use` another preset")
                .at(file.location("/use", true)),
        );
    }
    if !errors.is_empty() {
        diagnostics.extend(errors);
        return;
    }
    presets.insert(
        stem.clone(),
        Preset {
            id: stem,
            origin,
            file: Arc::new(file),
        },
    );
}

/// Names of the built-in preset files, for tests and `authgate providers`.
pub fn builtin_preset_names() -> Vec<String> {
    let mut names: Vec<String> = BUILTIN_PRESETS
        .files()
        .filter_map(|file| file.path().file_name()?.to_str().map(str::to_string))
        .filter(|name| is_preset_file_name(name))
        .collect();
    names.sort();
    names
}

/// A configuration that enables every built-in preset, supplying placeholder values for
/// the fields each one requires. Used to prove every preset loads, and to benchmark
/// loading a large configuration.
pub fn config_using_every_builtin_preset(url: &str, secret: &str) -> String {
    let env = std::collections::HashMap::<String, String>::new();
    let (presets, _) = load_presets(None, &env);
    let mut config = format!("url: {url}\nsecret: {secret}\nproviders:\n");
    for preset in presets.values() {
        config.push_str(&format!(
            "  - use: {}\n    clientId: placeholder-id\n    clientSecret: placeholder-secret\n",
            preset.id
        ));
        let requires = preset.value().get("requires").and_then(Value::as_array);
        for field in requires.into_iter().flatten().filter_map(Value::as_str) {
            if field != "clientId" && field != "clientSecret" {
                config.push_str(&format!(
                    "    {field}: https://tenant.example.com/{}\n",
                    preset.id
                ));
            }
        }
    }
    config
}
