//! `${VAR}` and `${VAR:-default}` expansion in string values, before validation.
//!
//! Every value that took text from the environment is recorded, so that diagnostics can mask
//! it. `$${` writes a literal `${`. Rhai script bodies are left alone: Rhai has its own
//! `${...}` string interpolation, and scripts have no business reading the environment.

use super::codes::Code;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::diagnostics::{Diagnostic, SourceLocation, display_path};
use super::yaml::{YamlDocument, escape_pointer_segment};

/// Where variables come from: the process environment, or a map in tests.
pub trait Environment: Send + Sync {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Environment for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// What expanding one string found.
#[derive(Debug, PartialEq, Eq)]
struct Expansion {
    text: String,
    from_environment: bool,
}

/// Expands one string; the error names the problem.
fn expand(text: &str, env: &dyn Environment) -> Result<Expansion, String> {
    let mut out = String::with_capacity(text.len());
    let mut from_environment = false;
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
            continue;
        }
        let Some(body_and_tail) = after.strip_prefix("${") else {
            out.push('$');
            rest = &after[1..];
            continue;
        };
        let Some(end) = body_and_tail.find('}') else {
            return Err("unterminated `${` (write `$${` for a literal `${`)".to_string());
        };
        let body = &body_and_tail[..end];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if default.is_some_and(|default| default.contains("${")) {
            return Err(format!(
                "`${{{name}:-...}}`: a default cannot contain another `${{...}}`"
            ));
        }
        if !is_variable_name(name) {
            return Err(format!(
                "`${{{body}}}` is not a valid variable reference (expected `${{NAME}}` or `${{NAME:-default}}`)"
            ));
        }
        match (env.var(name), default) {
            (Some(value), _) => {
                from_environment = true;
                out.push_str(&value);
            }
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                return Err(format!(
                    "environment variable `{name}` is not set (use `${{{name}:-default}}` to give a default)"
                ));
            }
        }
        rest = &body_and_tail[end + 1..];
    }
    out.push_str(rest);
    Ok(Expansion {
        text: out,
        from_environment,
    })
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expands every string in `document` except those `is_script` names; returns the pointers
/// whose value came from the environment, and a diagnostic per failed expansion.
pub fn interpolate_document(
    document: &mut YamlDocument,
    env: &dyn Environment,
    file: &str,
    is_script: &dyn Fn(&str) -> bool,
) -> (HashSet<String>, Vec<Diagnostic>) {
    let mut masked = HashSet::new();
    let mut diagnostics = Vec::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut pending: Vec<(String, &mut Value)> = vec![(String::new(), &mut document.value)];
    while let Some((pointer, value)) = pending.pop() {
        match value {
            Value::String(text) if text.contains('$') && !is_script(&pointer) => {
                match expand(text, env) {
                    Ok(expansion) => {
                        if expansion.from_environment {
                            masked.insert(pointer.clone());
                        }
                        *text = expansion.text;
                    }
                    Err(message) => failures.push((pointer, message)),
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    pending.push((format!("{pointer}/{index}"), item));
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    pending.push((format!("{pointer}/{}", escape_pointer_segment(key)), item));
                }
            }
            _ => {}
        }
    }
    failures.sort();
    for (pointer, message) in failures {
        let position = document.position_of(&pointer, false);
        diagnostics.push(
            Diagnostic::error(Code::Variable, display_path(&pointer), message)
                .at(SourceLocation::new(file, position)),
        );
    }
    (masked, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        HashMap::from([
            ("ID".to_string(), "abc".to_string()),
            ("EMPTY".to_string(), String::new()),
        ])
    }

    #[test]
    fn variables_expand_with_and_without_defaults() {
        let cases = [
            ("${ID}", Ok(("abc", true))),
            ("x-${ID}-y", Ok(("x-abc-y", true))),
            ("${MISSING:-fallback}", Ok(("fallback", false))),
            ("${ID:-fallback}", Ok(("abc", true))),
            ("${EMPTY:-fallback}", Ok(("", true))),
            ("$${ID}", Ok(("${ID}", false))),
            ("cost: $5", Ok(("cost: $5", false))),
            (
                "${MISSING}",
                Err(
                    "environment variable `MISSING` is not set (use `${MISSING:-default}` to give a default)",
                ),
            ),
            (
                "${ID",
                Err("unterminated `${` (write `$${` for a literal `${`)"),
            ),
            (
                "${A:-${B}}",
                Err("`${A:-...}`: a default cannot contain another `${...}`"),
            ),
            (
                "${1X}",
                Err(
                    "`${1X}` is not a valid variable reference (expected `${NAME}` or `${NAME:-default}`)",
                ),
            ),
        ];
        for (input, expected) in cases {
            let got = expand(input, &env());
            let got = got
                .as_ref()
                .map(|e| (e.text.as_str(), e.from_environment))
                .map_err(String::as_str);
            assert_eq!(got, expected, "{input}");
        }
    }
}
