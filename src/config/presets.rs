//! Provider presets: the catalogue of `providers.d/` files built into the binary at compile
//! time. A preset is only a template: a provider is enabled by a `use: <id>` entry, in
//! `authgate.yaml` or in a drop-in file (`config::dropins`).

use super::codes::Code;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use include_dir::{Dir, include_dir};
use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::files::{ParsedFile, parse_yaml_file};
use super::schema::{SchemaKind, validate_against_schema};

/// The presets shipped with authgate.
static BUILTIN_PRESETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/providers.d");

/// One provider preset, validated against the provider schema.
#[derive(Debug, Clone)]
pub struct Preset {
    pub id: String,
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

/// Whether a directory entry is a provider file (a preset, or a drop-in).
pub(crate) fn is_provider_file_name(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// `github.yaml` → `github`.
pub(crate) fn file_stem(name: &str) -> &str {
    name.strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name)
}

/// The built-in preset files by id, each parsed the first time it is asked for. A load
/// parses only the presets its `use:` entries name, and a reload reuses them: they are
/// compiled into the binary, so they cannot change while it runs.
struct Catalogue {
    entries: BTreeMap<&'static str, CatalogueEntry>,
}

struct CatalogueEntry {
    file_name: &'static str,
    file: &'static include_dir::File<'static>,
    parsed: OnceLock<Result<Preset, Vec<Diagnostic>>>,
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue {
        entries: BUILTIN_PRESETS
            .files()
            .filter_map(|file| {
                let file_name = file.path().file_name()?.to_str()?;
                is_provider_file_name(file_name).then(|| {
                    let entry = CatalogueEntry {
                        file_name,
                        file,
                        parsed: OnceLock::new(),
                    };
                    (file_stem(file_name), entry)
                })
            })
            .collect(),
    })
}

/// The ids of the built-in presets, sorted.
pub fn builtin_ids() -> impl Iterator<Item = &'static str> {
    catalogue().entries.keys().copied()
}

/// The built-in preset `id`: `None` when there is none, its problems when it does not
/// load. Presets read no environment variable: what they leave open, a `use:` entry fills.
pub fn builtin(id: &str) -> Option<Result<&'static Preset, &'static [Diagnostic]>> {
    let entry = catalogue().entries.get(id)?;
    let parsed = entry.parsed.get_or_init(|| parse_builtin(entry));
    Some(parsed.as_ref().map_err(Vec::as_slice))
}

fn parse_builtin(entry: &CatalogueEntry) -> Result<Preset, Vec<Diagnostic>> {
    let display = format!("<built-in>/providers.d/{}", entry.file_name);
    let Some(text) = entry.file.contents_utf8() else {
        return Err(vec![Diagnostic::error(
            Code::Internal,
            "",
            format!("{display}: not valid UTF-8"),
        )]);
    };
    parse_preset(text.to_string(), entry.file_name, display)
}

/// Every built-in preset, by id, and the problems of those that do not load.
pub fn load_presets() -> (BTreeMap<String, &'static Preset>, Vec<Diagnostic>) {
    let mut presets = BTreeMap::new();
    let mut diagnostics = Vec::new();
    for id in builtin_ids() {
        match builtin(id) {
            Some(Ok(preset)) => {
                presets.insert(id.to_string(), preset);
            }
            Some(Err(errors)) => diagnostics.extend_from_slice(errors),
            None => {}
        }
    }
    (presets, diagnostics)
}

/// One preset file, checked against the provider schema and its own name. It is read
/// without the process environment: what a preset leaves open, a `use:` entry fills.
fn parse_preset(text: String, file_name: &str, display: String) -> Result<Preset, Vec<Diagnostic>> {
    let no_environment = HashMap::<String, String>::new();
    let (file, expansion_errors) =
        parse_yaml_file(text, &display, None, &no_environment, &is_provider_script)?;
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
                Code::Preset,
                "id",
                format!("preset id `{id}` does not match its file name `{file_name}`"),
            )
            .at(file.location("/id", false)),
        ),
        _ => {}
    }
    if value.get("use").is_some() {
        errors.push(
            Diagnostic::error(Code::Preset, "use", "a preset cannot `use` another preset")
                .at(file.location("/use", true)),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Preset {
        id: stem,
        file: Arc::new(file),
    })
}

/// Names of the built-in preset files, for tests and `authgate providers`.
pub fn builtin_preset_names() -> Vec<String> {
    let mut names: Vec<String> = catalogue()
        .entries
        .values()
        .map(|entry| entry.file_name.to_string())
        .collect();
    names.sort();
    names
}

/// A configuration that enables every built-in preset, supplying placeholder values for
/// the fields each one requires (and the database email presets need). Used to prove every
/// preset loads, and to benchmark loading a large configuration.
pub fn config_using_every_builtin_preset(url: &str, secret: &str) -> String {
    let (presets, _) = load_presets();
    let mut config = format!(
        "url: {url}\nsecret: {secret}\ndatabase:\n  url: sqlite://presets.db\nsession:\n  strategy: jwt\nproviders:\n"
    );
    for preset in presets.values() {
        config.push_str(&format!("  - use: {}\n", preset.id));
        let requires = preset.value().get("requires").and_then(Value::as_array);
        for field in requires.into_iter().flatten().filter_map(Value::as_str) {
            let placeholder = match field {
                "clientId" => "placeholder-id".to_string(),
                "clientSecret" => "placeholder-secret".to_string(),
                "apiKey" => "placeholder-key".to_string(),
                "from" => "auth@example.com".to_string(),
                "settings" => settings_placeholder(preset),
                _ => format!("https://tenant.example.com/{}", preset.id),
            };
            config.push_str(&format!("    {field}: {placeholder}\n"));
        }
    }
    config
}

/// `{name: placeholder}` for each `settings.<name>` a preset's templates read.
fn settings_placeholder(preset: &Preset) -> String {
    let text = preset.file.text.as_str();
    let mut names: Vec<&str> = text
        .match_indices("settings.")
        .map(|(at, found)| {
            let rest = &text[at + found.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    let fields: Vec<String> = names
        .iter()
        .map(|name| format!("{name}: placeholder"))
        .collect();
    format!("{{{}}}", fields.join(", "))
}
