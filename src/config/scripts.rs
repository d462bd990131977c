//! Script sources: every Rhai field of a merged configuration (callbacks, events, provider
//! `profile`/`authorize`), its text read (inline, or a `.rhai` file relative to the YAML file
//! that names it), and where its first character sits, so that compile and runtime errors
//! point at the line the user edits.

use super::codes::Code;
use std::collections::BTreeSet;
use std::path::PathBuf;

use super::diagnostics::{Diagnostic, Diagnostics, SourceLocation, display_path};
use super::files::read_text_file;
use super::load::SourceMap;
use super::model::Config;
use super::script_key::{Callback, Event, ProviderScript, ScriptKey};
use super::values::ScriptSource;

/// A Rhai script body and where its first character was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedScript {
    /// Where the script sits; its display form (`callbacks.jwt`, `providers[1].profile`)
    /// names it in messages.
    pub key: ScriptKey,
    pub code: String,
    pub origin: ScriptOrigin,
}

/// Maps a line and column inside a script back to the file the user edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOrigin {
    pub file: String,
    /// File line of the script's first line.
    pub line: usize,
    /// File column of the script's first character.
    pub first_column: usize,
    /// File column where the script's later lines start (a block scalar's indentation).
    pub column: usize,
    /// Whether lines and columns inside the script map exactly to the file (a literal `|`
    /// block or a one-line scalar). Otherwise (folded, quoted with escapes) a position is
    /// shown at the start of the scalar.
    pub exact: bool,
}

impl ScriptOrigin {
    /// The file position of a 1-based `line`/`column` inside the script.
    pub fn locate(&self, line: usize, column: usize) -> SourceLocation {
        if !self.exact {
            return SourceLocation {
                file: self.file.clone(),
                line: self.line,
                column: self.first_column,
            };
        }
        let line = line.max(1);
        let column = column.max(1);
        let file_column = if line == 1 {
            self.first_column + column - 1
        } else {
            self.column + column - 1
        };
        SourceLocation {
            file: self.file.clone(),
            line: self.line + line - 1,
            column: file_column,
        }
    }
}

/// Every script field of the merged config, with its text read and its origin known.
pub fn collect_scripts(
    config: &Config,
    source_map: &SourceMap<'_>,
    watched_files: &mut BTreeSet<PathBuf>,
    diagnostics: &mut Diagnostics,
) -> Vec<LoadedScript> {
    let mut scripts = Vec::new();
    for (key, script) in configured_scripts(config) {
        let pointer = key.pointer();
        match script {
            ScriptSource::Inline(code) => scripts.push(LoadedScript {
                key,
                code: code.clone(),
                origin: inline_origin(source_map, &pointer, code),
            }),
            ScriptSource::File(file) => {
                let file_pointer = format!("{pointer}/file");
                let location = source_map.locate(&file_pointer, false);
                let Some(base_dir) = declaring_directory(source_map, &pointer) else {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::Script,
                            display_path(&file_pointer),
                            "a built-in preset cannot reference a script file",
                        )
                        .at(location),
                    );
                    continue;
                };
                let path = base_dir.join(&file.file);
                let display = path.display().to_string();
                watched_files.insert(path.clone());
                match read_text_file(&path, &display) {
                    Ok(code) => scripts.push(LoadedScript {
                        key,
                        code,
                        origin: ScriptOrigin {
                            file: display,
                            line: 1,
                            first_column: 1,
                            column: 1,
                            exact: true,
                        },
                    }),
                    Err(error) => diagnostics.push(
                        Diagnostic::error(
                            Code::File,
                            display_path(&file_pointer),
                            format!("cannot load script `{display}`: {}", error.message),
                        )
                        .at(location),
                    ),
                }
            }
        }
    }
    scripts
}

/// The script source the configuration holds under `key`, if any.
pub fn script_source(config: &Config, key: ScriptKey) -> Option<&ScriptSource> {
    let (callbacks, events) = (&config.callbacks, &config.events);
    match key {
        ScriptKey::Callback(callback) => match callback {
            Callback::SignIn => callbacks.sign_in.as_ref(),
            Callback::Redirect => callbacks.redirect.as_ref(),
            Callback::Jwt => callbacks.jwt.as_ref(),
            Callback::Session => callbacks.session.as_ref(),
        },
        ScriptKey::Event(event) => match event {
            Event::SignIn => events.sign_in.as_ref(),
            Event::SignOut => events.sign_out.as_ref(),
            Event::CreateUser => events.create_user.as_ref(),
            Event::UpdateUser => events.update_user.as_ref(),
            Event::LinkAccount => events.link_account.as_ref(),
            Event::UnlinkAccount => events.unlink_account.as_ref(),
            Event::Session => events.session.as_ref(),
        },
        ScriptKey::AccessRule(index) => config.forward_auth.rules.get(index)?.authorize.as_ref(),
        ScriptKey::AccessTokenClaims => config.access_tokens.as_ref()?.claims.as_ref(),
        ScriptKey::Provider(index, script) => {
            let provider = config.providers.get(index)?;
            match script {
                ProviderScript::Profile => provider.profile.as_ref(),
                ProviderScript::Authorize => provider.authorize.as_ref(),
                ProviderScript::SendVerificationRequest => {
                    provider.send_verification_request.as_ref()
                }
            }
        }
    }
}

/// Every script the configuration holds, with its key.
pub fn configured_scripts(config: &Config) -> Vec<(ScriptKey, &ScriptSource)> {
    let callbacks = Callback::ALL.into_iter().map(ScriptKey::Callback);
    let events = Event::ALL.into_iter().map(ScriptKey::Event);
    let providers = (0..config.providers.len()).flat_map(|index| {
        ProviderScript::ALL
            .into_iter()
            .map(move |script| ScriptKey::Provider(index, script))
    });
    let rules = (0..config.forward_auth.rules.len()).map(ScriptKey::AccessRule);
    callbacks
        .chain(events)
        .chain(providers)
        .chain(rules)
        .chain(std::iter::once(ScriptKey::AccessTokenClaims))
        .filter_map(|key| Some((key, script_source(config, key)?)))
        .collect()
}

/// The directory a relative path in the field at `pointer` is resolved against: that of
/// the file that wrote the field (none for a built-in preset).
fn declaring_directory(source_map: &SourceMap<'_>, pointer: &str) -> Option<PathBuf> {
    source_map.written_in(pointer).0.directory()
}

/// Where the body of an inline script starts in its YAML file.
fn inline_origin(source_map: &SourceMap<'_>, pointer: &str, code: &str) -> ScriptOrigin {
    let (file, relative) = source_map.written_in(pointer);
    let node = file.document.positions.get(&relative);
    let position = file.document.position_of(&relative, false);
    if node.is_some_and(|node| node.literal_block) {
        // The parser places a block scalar at its first content line (after `|`); the
        // body's indentation is that of its first non-blank line.
        let indent = file
            .text
            .lines()
            .skip(position.line.saturating_sub(1))
            .find(|line| !line.trim().is_empty())
            .map(|line| line.len() - line.trim_start().len())
            .unwrap_or(0);
        // Leading blank lines belong to the body, but the parser places the scalar at
        // its first non-blank line.
        let leading_blank_lines = code.chars().take_while(|c| *c == '\n').count();
        ScriptOrigin {
            file: file.display.clone(),
            line: position.line.saturating_sub(leading_blank_lines).max(1),
            first_column: indent + 1,
            column: indent + 1,
            exact: true,
        }
    } else {
        let quoted = file
            .text
            .lines()
            .nth(position.line.saturating_sub(1))
            .and_then(|line| line.chars().nth(position.column.saturating_sub(1)))
            .is_some_and(|c| c == '"' || c == '\'');
        ScriptOrigin {
            file: file.display.clone(),
            line: position.line,
            first_column: position.column + usize::from(quoted),
            column: 1,
            exact: !code.contains('\n'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_positions_map_back_to_the_yaml_file() {
        let origin = ScriptOrigin {
            file: "a.yaml".into(),
            line: 10,
            first_column: 5,
            column: 5,
            exact: true,
        };
        assert_eq!(origin.locate(1, 3).line, 10);
        assert_eq!(origin.locate(3, 2).line, 12);
        assert_eq!(origin.locate(3, 2).column, 6);
    }
}
