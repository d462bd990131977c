//! Loading: `authgate.yaml` plus the presets, through every check, into a typed `Config`.
//!
//! The order is fixed: read and parse every file (positions kept) → expand `${ENV}` →
//! validate each file against its JSON Schema → append the drop-in provider files to
//! `providers` → merge `use:` entries with their presets →
//! deserialize → semantic checks → read script sources. Every problem of a layer is
//! reported together; a later layer runs only on input the earlier ones accepted.

use super::codes::Code;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::diagnostics::{Diagnostic, Diagnostics, SourceLocation, display_path, quoted};
use super::dropins::{DropIn, dropin_entry, dropin_files, load_dropins};
use super::files::{ParsedFile, parse_yaml_file, read_text_file};
use super::interpolate::Environment;
use super::masking::is_secret_pointer;
use super::model::Config;
use super::presets::{self, is_provider_script};
use super::schema::{SchemaKind, validate_against_schema};
use super::scripts::{LoadedScript, collect_scripts};
use super::semantic::check_semantics;
use super::yaml::escape_pointer_segment;
use crate::session::keys::KeyFileText;
use crate::text::did_you_mean;

/// Which files make up one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    /// `authgate.yaml`.
    pub config_path: PathBuf,
    /// The drop-in provider directory: `providers.d/` beside the config file.
    pub providers_dir: PathBuf,
}

impl ConfigSource {
    /// The directory of `authgate.yaml`, which relative paths in it start from.
    pub fn config_dir(&self) -> PathBuf {
        self.config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    pub fn new(config_path: impl Into<PathBuf>) -> Self {
        let config_path = config_path.into();
        let providers_dir = config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
            .join("providers.d");
        ConfigSource {
            config_path,
            providers_dir,
        }
    }
}

/// One provider entry after its preset was merged in.
#[derive(Debug, Clone)]
pub struct ProviderSource {
    /// The preset it came from, if any.
    pub preset: Option<Arc<ParsedFile>>,
    /// The drop-in file that holds the entry; `None` for an entry of `authgate.yaml`.
    pub dropin: Option<Arc<ParsedFile>>,
    /// The entry as the user wrote it.
    pub entry: Value,
}

/// A configuration read into its typed form, with what the semantic rules found.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub source: ConfigSource,
    pub config: Config,
    pub scripts: Vec<LoadedScript>,
    /// The `jwt.keys` files, read.
    pub key_files: Vec<KeyFileText>,
    /// Each email provider's `serverCaFile`, read, by the provider's position.
    pub email_ca_files: BTreeMap<usize, String>,
    /// The files of `pages.templates`, read.
    pub page_templates: Vec<crate::pages::TemplateFile>,
    /// Files whose change should trigger a reload: the config, user presets, scripts.
    pub watched_files: BTreeSet<PathBuf>,
    /// Problems found by the semantic rules: warnings, and errors that make the
    /// configuration unusable (`Pipeline::compile` refuses it then).
    pub diagnostics: Diagnostics,
}

/// Maps a pointer in the merged configuration back to the file that defined it.
pub struct SourceMap<'a> {
    pub config: &'a ParsedFile,
    pub providers: &'a [ProviderSource],
}

impl SourceMap<'_> {
    /// The file that wrote the value at `pointer` of the merged configuration, and the
    /// pointer inside that file: the config, a drop-in file, or the preset an entry uses
    /// (for a field the user did not write).
    pub fn written_in(&self, pointer: &str) -> (&ParsedFile, String) {
        if let Some((index, rest)) = split_provider_pointer(pointer)
            && let Some(provider) = self.providers.get(index)
        {
            let written_by_user = rest.is_empty() || provider.entry.pointer(rest).is_some();
            if let (false, Some(preset)) = (written_by_user, &provider.preset)
                && preset.document.value.pointer(rest).is_some()
            {
                return (preset, rest.to_string());
            }
            if let Some(dropin) = &provider.dropin {
                return (dropin, rest.to_string());
            }
        }
        (self.config, pointer.to_string())
    }

    /// The place `pointer` was written.
    pub fn locate(&self, pointer: &str, prefer_key: bool) -> SourceLocation {
        let (file, pointer) = self.written_in(pointer);
        file.location(&pointer, prefer_key)
    }

    /// Whether the value at `pointer` must be hidden in messages.
    pub fn is_masked(&self, pointer: &str) -> bool {
        if is_secret_pointer(pointer) || self.config.masked.contains(pointer) {
            return true;
        }
        let Some((index, rest)) = split_provider_pointer(pointer) else {
            return false;
        };
        let Some(provider) = self.providers.get(index) else {
            return false;
        };
        [&provider.preset, &provider.dropin]
            .into_iter()
            .flatten()
            .any(|file| file.masked.contains(rest))
    }
}

/// `/providers/3/clientId` → `(3, "/clientId")`.
pub(crate) fn split_provider_pointer(pointer: &str) -> Option<(usize, &str)> {
    let rest = pointer.strip_prefix("/providers/")?;
    let (index, rest) = match rest.find('/') {
        Some(cut) => (&rest[..cut], &rest[cut..]),
        None => (rest, ""),
    };
    Some((index.parse().ok()?, rest))
}

/// Pointers of `authgate.yaml` that hold Rhai script bodies (not interpolated).
fn is_config_script(pointer: &str) -> bool {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    match segments.as_slice() {
        ["callbacks" | "events", _] => true,
        ["providers", index, field] => {
            index.parse::<usize>().is_ok() && is_provider_script(&format!("/{field}"))
        }
        _ => false,
    }
}

/// Reads, checks and merges one configuration.
pub fn load_config(
    source: &ConfigSource,
    env: &dyn Environment,
) -> Result<LoadedConfig, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let config_display = source.config_path.display().to_string();

    let config_file = read_text_file(&source.config_path, &config_display)
        .map_err(Diagnostics::from)
        .and_then(|text| {
            parse_yaml_file(
                text,
                &config_display,
                Some(source.config_path.clone()),
                env,
                &is_config_script,
            )
            .map_err(Diagnostics)
        });
    let (dropins, dropin_errors) = load_dropins(&source.providers_dir, env);

    let config_file = match config_file {
        Ok((file, expansion_errors)) => {
            diagnostics.extend(expansion_errors);
            diagnostics.extend(validate_against_schema(
                SchemaKind::Config,
                &file.document,
                &config_display,
                &file.masked,
            ));
            Some(file)
        }
        Err(errors) => {
            diagnostics.extend(errors.0);
            None
        }
    };
    diagnostics.extend(dropin_errors);
    let config_file = match config_file {
        Some(file) if !diagnostics.has_errors() => file,
        _ => return Err(diagnostics),
    };

    // An unknown preset is reported here; the semantic rules skip that entry.
    let (merged, providers) = merge_presets(&config_file, &dropins, &mut diagnostics);
    let source_map = SourceMap {
        config: &config_file,
        providers: &providers,
    };
    let config: Config = match serde_path_to_error::deserialize(&merged) {
        Ok(config) => config,
        Err(error) => {
            let pointer = path_to_pointer(error.path());
            let message = if source_map.is_masked(&pointer) {
                "invalid value (value hidden)".to_string()
            } else {
                error.inner().to_string()
            };
            diagnostics.push(
                Diagnostic::error(Code::Schema, display_path(&pointer), message)
                    .at(source_map.locate(&pointer, false)),
            );
            return Err(diagnostics);
        }
    };

    diagnostics.extend(check_semantics(&config, &source_map));
    let mut watched_files = BTreeSet::from([source.config_path.clone()]);
    watched_files.extend(dropins.iter().filter_map(|dropin| dropin.file.path.clone()));
    let scripts = collect_scripts(&config, &source_map, &mut watched_files, &mut diagnostics);
    let key_files = read_key_files(&config, &source_map, &mut watched_files, &mut diagnostics);
    let email_ca_files =
        read_email_ca_files(&config, &source_map, &mut watched_files, &mut diagnostics);
    let page_templates = super::page_templates::read_page_templates(
        &config,
        &source_map,
        &mut watched_files,
        &mut diagnostics,
    );
    // Semantic errors travel with the config, so that compiling can add the script
    // errors and `check` reports them all together.
    Ok(LoadedConfig {
        source: source.clone(),
        config,
        scripts,
        key_files,
        email_ca_files,
        page_templates,
        watched_files,
        diagnostics,
    })
}

/// Reads each email provider's `serverCaFile`, relative to the file that names it.
fn read_email_ca_files(
    config: &Config,
    source_map: &SourceMap<'_>,
    watched_files: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<usize, String> {
    let mut files = BTreeMap::new();
    for (index, provider) in config.providers.iter().enumerate() {
        let Some(file) = &provider.server_ca_file else {
            continue;
        };
        let pointer = format!("/providers/{index}/serverCaFile");
        let directory = source_map
            .written_in(&pointer)
            .0
            .directory()
            .or_else(|| source_map.config.directory())
            .unwrap_or_default();
        let path = directory.join(file);
        let display = path.display().to_string();
        watched_files.insert(path.clone());
        match read_text_file(&path, &display) {
            Ok(text) => {
                files.insert(index, text);
            }
            Err(error) => diagnostics.push(
                Diagnostic::error(
                    Code::File,
                    display_path(&pointer),
                    format!("cannot load the CA file `{display}`: {}", error.message),
                )
                .at(source_map.locate(&pointer, false)),
            ),
        }
    }
    files
}

/// Reads the `jwt.keys` files, relative to the config file.
fn read_key_files(
    config: &Config,
    source_map: &SourceMap<'_>,
    watched_files: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Diagnostics,
) -> Vec<KeyFileText> {
    let directory = source_map.config.directory().unwrap_or_default();
    let mut keys = Vec::new();
    for (index, key) in config.jwt.keys.iter().enumerate() {
        let path = directory.join(&key.file);
        let display = path.display().to_string();
        watched_files.insert(path.clone());
        match read_text_file(&path, &display) {
            Ok(text) => keys.push(KeyFileText {
                kid: key.kid.clone(),
                text,
            }),
            Err(error) => {
                let pointer = format!("/jwt/keys/{index}/file");
                diagnostics.push(
                    Diagnostic::error(
                        Code::File,
                        display_path(&pointer),
                        format!("cannot load key `{display}`: {}", error.message),
                    )
                    .at(source_map.locate(&pointer, false)),
                );
            }
        }
    }
    keys
}

/// Every file the configuration on disk refers to, read best-effort (no validation): the
/// config, the drop-in provider files, and each `{file: ...}` they name (scripts, keys), resolved
/// against the file that names it. The watcher uses it, so that a file a failed reload
/// could not find is noticed when it appears.
pub fn referenced_files(source: &ConfigSource) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::from([source.config_path.clone()]);
    let mut documents = vec![source.config_path.clone()];
    documents.extend(
        dropin_files(&source.providers_dir, &mut Vec::new())
            .into_iter()
            .map(|(_, path)| path),
    );
    for document in documents {
        let Ok(text) = read_text_file(&document, "") else {
            continue;
        };
        let Ok(parsed) = super::yaml::parse_document(&text) else {
            continue;
        };
        let directory = document.parent().map(Path::to_path_buf).unwrap_or_default();
        files.insert(document);
        let mut pending = vec![&parsed.value];
        while let Some(value) = pending.pop() {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(file)) = map.get("file") {
                        files.insert(directory.join(file));
                    }
                    pending.extend(map.values());
                }
                Value::Array(items) => pending.extend(items.iter()),
                _ => {}
            }
        }
    }
    files
}

/// Appends the drop-in files to `providers`, then replaces every `use:` entry by its
/// preset with the entry's fields laid over it.
fn merge_presets(
    config_file: &ParsedFile,
    dropins: &[DropIn],
    diagnostics: &mut Diagnostics,
) -> (Value, Vec<ProviderSource>) {
    let mut merged = config_file.document.value.clone();
    let mut sources = Vec::new();
    let Value::Object(root) = &mut merged else {
        return (merged, sources);
    };
    let entries = root
        .entry("providers")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(entries) = entries else {
        return (merged, sources);
    };
    let written_in_config = entries.len();
    entries.extend(dropins.iter().map(dropin_entry));
    let mut reported = BTreeSet::new();
    for (index, entry) in entries.iter_mut().enumerate() {
        let dropin = index
            .checked_sub(written_in_config)
            .and_then(|position| dropins.get(position))
            .map(|dropin| dropin.file.clone());
        let written = match &dropin {
            Some(file) => file.document.value.clone(),
            None => entry.clone(),
        };
        let preset_name = entry.get("use").and_then(Value::as_str).map(str::to_string);
        let mut preset_file = None;
        if let Some(name) = preset_name {
            match presets::builtin(&name) {
                Some(Ok(preset)) => {
                    let mut base = preset.value().clone();
                    if let (Value::Object(base_map), Value::Object(_)) = (&mut base, &*entry) {
                        base_map
                            .entry("id")
                            .or_insert_with(|| Value::String(preset.id.clone()));
                    }
                    deep_merge(&mut base, entry.clone());
                    *entry = base;
                    preset_file = Some(preset.file.clone());
                }
                Some(Err(errors)) => {
                    // A built-in preset that does not load (a broken build): its own
                    // problems once, an error at each entry naming it, and the entry left
                    // as written.
                    if reported.insert(name.clone()) {
                        diagnostics.extend(errors.iter().cloned());
                    }
                    let message = format!(
                        "the built-in preset {} does not load (its problems are listed with it)",
                        quoted(&name)
                    );
                    use_error(
                        config_file,
                        dropin.as_deref(),
                        index,
                        |_| message,
                        diagnostics,
                    );
                }
                None => {
                    let message = |masked: bool| {
                        if masked {
                            return "unknown preset (value hidden) (see `authgate providers` for the list)".to_string();
                        }
                        let mut message = format!("unknown preset {}", quoted(&name));
                        match did_you_mean(&name, presets::builtin_ids()) {
                            Some(suggestion) => {
                                message.push_str(&format!(", did you mean `{suggestion}`?"))
                            }
                            None => message.push_str(" (see `authgate providers` for the list)"),
                        }
                        message
                    };
                    use_error(config_file, dropin.as_deref(), index, message, diagnostics);
                }
            }
        }
        sources.push(ProviderSource {
            preset: preset_file,
            dropin,
            entry: written,
        });
    }
    (merged, sources)
}

/// An error at the `use:` of entry `index` of the merged providers (in the drop-in file
/// `dropin` when it came from one); `message` is told whether the value there is masked.
fn use_error(
    config_file: &ParsedFile,
    dropin: Option<&ParsedFile>,
    index: usize,
    message: impl FnOnce(bool) -> String,
    diagnostics: &mut Diagnostics,
) {
    let pointer = format!("/providers/{index}/use");
    let (file, in_file) = match dropin {
        Some(file) => (file, "/use".to_string()),
        None => (config_file, pointer.clone()),
    };
    let message = message(file.masked.contains(&in_file));
    diagnostics.push(
        Diagnostic::error(Code::Preset, display_path(&pointer), message)
            .at(file.location(&in_file, false)),
    );
}

/// Lays `overlay` over `base`: mappings merge key by key, anything else replaces.
pub fn deep_merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base_map), Value::Object(overlay_map)) => {
            for (key, value) in overlay_map {
                match base_map.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base_map.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer_segment(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overlays_merge_mappings_and_replace_everything_else() {
        let mut base = json!({"id": "github", "authorization": {"url": "a", "params": {"scope": "x"}}, "checks": ["pkce"]});
        deep_merge(
            &mut base,
            json!({"authorization": {"params": {"scope": "y"}}, "checks": ["state"]}),
        );
        assert_eq!(
            base,
            json!({"id": "github", "authorization": {"url": "a", "params": {"scope": "y"}}, "checks": ["state"]})
        );
    }

    #[test]
    fn provider_pointers_split_into_index_and_rest() {
        assert_eq!(
            split_provider_pointer("/providers/3/clientId"),
            Some((3, "/clientId"))
        );
        assert_eq!(split_provider_pointer("/providers/0"), Some((0, "")));
        assert_eq!(split_provider_pointer("/secret"), None);
    }
}
