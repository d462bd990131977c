//! Completion of preset ids after `use:`, and hover text for a key from the published
//! schema's description, default and examples.

use std::path::Path;

use serde_json::{Value, json};

use crate::config::presets::load_presets;
use crate::config::schema::{config_schema, provider_schema};

/// The text of `line` before the UTF-16 `character`.
fn before_cursor(text: &str, (line, character): (usize, usize)) -> String {
    let line_text = text.lines().nth(line).unwrap_or_default();
    let mut units = 0;
    line_text
        .chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= character
        })
        .collect()
}

/// Whether the text before the cursor is a `use:` key awaiting its value.
fn after_use(before: &str) -> bool {
    let rest = before.trim_start();
    let rest = rest.strip_prefix('-').map_or(rest, str::trim_start);
    rest.strip_prefix("use:").is_some_and(|value| {
        value
            .trim_start()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// Preset ids after `use:`; nothing elsewhere.
pub fn completion(text: &str, position: (usize, usize)) -> Value {
    if !after_use(&before_cursor(text, position)) {
        return json!([]);
    }
    let (presets, _) = load_presets();
    Value::Array(
        presets
            .values()
            .map(|preset| {
                let value = preset.value();
                let detail = [value.get("name"), value.get("type")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" · ");
                json!({ "label": preset.id, "kind": 12, "detail": detail })
            })
            .collect(),
    )
}

/// The key path of the `key:` on `line` (0-based): the keys of the lines above it with
/// less indentation, `*` for a list item.
fn key_path(text: &str, line: usize) -> Option<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let key_of = |line_text: &str| -> Option<(usize, bool, String)> {
        let indent = line_text.len() - line_text.trim_start().len();
        let content = line_text.trim_start();
        let (item, content) = match content.strip_prefix("- ") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, content),
        };
        let key = content.split_once(':')?.0.trim();
        (!key.is_empty() && !key.starts_with('#') && !key.contains(' '))
            .then(|| (indent, item, key.trim_matches('"').to_string()))
    };
    let (mut indent, item, key) = key_of(lines.get(line)?)?;
    let mut path = vec![key];
    // Whether the outermost element so far is a list item whose `-` is at `indent`: its
    // list's key may then sit at the same indentation (`providers:` then `- id: x`).
    let mut in_item = item;
    if item {
        path.insert(0, "*".to_string());
    }
    for above in lines[..line].iter().rev() {
        if above.trim().is_empty() || above.trim_start().starts_with('#') {
            continue;
        }
        let Some((above_indent, above_item, above_key)) = key_of(above) else {
            continue;
        };
        let parent = above_indent < indent || (in_item && !above_item && above_indent == indent);
        if parent {
            in_item = above_item;
            if above_item {
                // `- key: ...` opens an item whose keys sit two columns in: a line there
                // is the key's sibling; one further in is under the key.
                if indent > above_indent + 2 {
                    path.insert(0, above_key);
                }
                path.insert(0, "*".to_string());
            } else {
                path.insert(0, above_key);
            }
            indent = above_indent;
        }
    }
    Some(path)
}

/// The schema node at `path` from `schema`'s root, following `$ref`s within it.
fn node<'a>(schema: &'a Value, path: &[String]) -> Option<&'a Value> {
    let resolve = |mut node: &'a Value| {
        for _ in 0..8 {
            let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
                break;
            };
            node = schema.pointer(reference.trim_start_matches('#'))?;
        }
        Some(node)
    };
    let mut current = resolve(schema)?;
    for (index, segment) in path.iter().enumerate() {
        let next = if segment == "*" {
            current.get("items")
        } else {
            current
                .get("properties")
                .and_then(|properties| properties.get(segment))
                .or_else(|| {
                    current
                        .get("anyOf")?
                        .as_array()?
                        .iter()
                        .find_map(|variant| resolve(variant)?.get("properties")?.get(segment))
                })
        }?;
        if index + 1 == path.len() {
            // The property's own description, which may sit beside its `$ref`, else its
            // type's.
            return if next.get("description").is_some() {
                Some(next)
            } else {
                resolve(next)
            };
        }
        current = resolve(next)?;
    }
    Some(current)
}

/// Markdown for the key under the cursor: its description, default and examples.
pub fn hover(path: &Path, text: &str, (line, _): (usize, usize)) -> Option<Value> {
    let in_providers_dir = path
        .parent()
        .is_some_and(|dir| dir.file_name().is_some_and(|name| name == "providers.d"));
    let schema = if in_providers_dir {
        provider_schema()
    } else {
        config_schema()
    };
    let keys = key_path(text, line)?;
    let found = node(&schema, &keys)?;
    let description = found.get("description").and_then(Value::as_str)?;
    let mut markdown = format!("**{}**\n\n{description}", keys.last()?);
    if let Some(default) = found.get("default") {
        markdown.push_str(&format!("\n\nDefault: `{default}`"));
    }
    if let Some(examples) = found.get("examples").and_then(Value::as_array) {
        let shown: Vec<String> = examples
            .iter()
            .map(|example| format!("`{example}`"))
            .collect();
        markdown.push_str(&format!("\n\nExamples: {}", shown.join(", ")));
    }
    Some(json!({ "contents": { "kind": "markdown", "value": markdown } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_is_recognised_before_its_value() {
        let cases = [
            ("  - use: ", true),
            ("  - use: git", true),
            ("use:", true),
            ("    use: google-", true),
            ("  - use: github # comment", false),
            ("  - id: use", false),
            ("  user: x", false),
        ];
        for (before, expected) in cases {
            assert_eq!(after_use(before), expected, "{before:?}");
        }
    }

    #[test]
    fn keys_are_found_with_their_parents() {
        let text = "url: https://a.example\nsession:\n  strategy: jwt\n  maxAge: 30d\nproviders:\n  - use: github\n    clientId: x\n";
        let cases: [(usize, &[&str]); 5] = [
            (0, &["url"]),
            (2, &["session", "strategy"]),
            (3, &["session", "maxAge"]),
            (5, &["providers", "*", "use"]),
            (6, &["providers", "*", "clientId"]),
        ];
        for (line, expected) in cases {
            assert_eq!(key_path(text, line).unwrap(), expected, "line {line}");
        }
        // Items written flush with their list's key, and a list nested in a map.
        let flush =
            "providers:\n- type: email\n  server: smtp://x\njwt:\n  keys:\n  - file: a.pem\n";
        let cases: [(usize, &[&str]); 3] = [
            (1, &["providers", "*", "type"]),
            (2, &["providers", "*", "server"]),
            (5, &["jwt", "keys", "*", "file"]),
        ];
        for (line, expected) in cases {
            assert_eq!(
                key_path(flush, line).unwrap(),
                expected,
                "flush line {line}"
            );
        }
    }

    #[test]
    fn hover_shows_the_schema_description() {
        let text = "url: https://a.example\nsession:\n  maxAge: 30d\nproviders:\n  - use: github\n    clientId: x\n";
        for (line, word) in [(0, "url"), (2, "maxAge"), (5, "clientId")] {
            let hover = hover(Path::new("/x/authgate.yaml"), text, (line, 2)).expect(word);
            let markdown = hover["contents"]["value"].as_str().unwrap();
            assert!(
                markdown.starts_with(&format!("**{word}**\n\n")),
                "{markdown}"
            );
            assert!(markdown.len() > word.len() + 20, "{markdown}");
        }
    }
}
