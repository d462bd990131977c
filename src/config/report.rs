//! `authgate check --format json|sarif`: the diagnostics as data for editors and CI. Each
//! has its file, its 1-based start, its end (just past the word it points at: a key or a
//! plain scalar, on the same line), its severity, its stable code and its message, worded
//! as the human format words it without the severity. Columns count Unicode code points.

use serde_json::{Value, json};

use super::codes::Code;
use super::diagnostics::{Diagnostic, Diagnostics};

/// Where a diagnostic points: its file, and its start and end as 1-based (line, column)
/// in code points, the end just past the word pointed at.
pub struct Span {
    pub file: String,
    pub start: (usize, usize),
    pub end: (usize, usize),
}

/// Where `diagnostic` points, when it points somewhere. `read` gives a file's text by the
/// name the diagnostic uses, when it can be read.
pub fn span(diagnostic: &Diagnostic, read: &dyn Fn(&str) -> Option<String>) -> Option<Span> {
    let location = diagnostic.location.as_ref()?;
    let end = read(&location.file)
        .map(|text| end_of_word(&text, location.line, location.column))
        .unwrap_or((location.line, location.column + 1));
    Some(Span {
        file: location.file.clone(),
        start: (location.line, location.column),
        end,
    })
}

/// Just past the word at `line`:`column` (1-based, in code points): up to the next space,
/// `,`, bracket, or `:` that ends a key (followed by a space or the end of the line; the
/// `:` of `https://` is part of the word); one character when none is there.
pub fn end_of_word(text: &str, line: usize, column: usize) -> (usize, usize) {
    let length = text
        .lines()
        .nth(line.saturating_sub(1))
        .map(|line_text| {
            let rest: Vec<char> = line_text.chars().skip(column.saturating_sub(1)).collect();
            rest.iter()
                .enumerate()
                .take_while(|(at, c)| {
                    let ends_key =
                        **c == ':' && rest.get(at + 1).is_none_or(|next| next.is_whitespace());
                    !c.is_whitespace() && !ends_key && !matches!(c, ',' | '[' | ']' | '{' | '}')
                })
                .count()
        })
        .unwrap_or(0);
    (line, column + length.max(1))
}

/// The JSON array of `authgate check --format json`.
pub fn json(diagnostics: &Diagnostics, read: &dyn Fn(&str) -> Option<String>) -> Value {
    Value::Array(
        diagnostics
            .iter()
            .map(|diagnostic| {
                let (file, start, end) = match span(diagnostic, read) {
                    Some(Span { file, start, end }) => (
                        json!(file),
                        json!(start),
                        json!({ "line": end.0, "column": end.1 }),
                    ),
                    None => (Value::Null, json!((Value::Null, Value::Null)), Value::Null),
                };
                json!({
                    "file": file,
                    "line": start[0],
                    "column": start[1],
                    "end": end,
                    "severity": diagnostic.kind(),
                    "code": diagnostic.code.id(),
                    "path": diagnostic.path,
                    "message": diagnostic.text(),
                })
            })
            .collect(),
    )
}

/// A SARIF 2.1.0 log of one run of `authgate check`, every code as a rule.
pub fn sarif(
    diagnostics: &Diagnostics,
    read: &dyn Fn(&str) -> Option<String>,
    version: &str,
) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.id(),
                "name": code.name(),
                "shortDescription": { "text": code.description() },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let rule_index = Code::ALL
                .iter()
                .position(|code| *code == diagnostic.code)
                .unwrap_or_default();
            let mut result = json!({
                "ruleId": diagnostic.code.id(),
                "ruleIndex": rule_index,
                "level": diagnostic.kind(),
                "message": { "text": diagnostic.text() },
            });
            if let Some(Span { file, start, end }) = span(diagnostic, read) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file_uri(&file) },
                        "region": {
                            "startLine": start.0,
                            "startColumn": start.1,
                            "endLine": end.0,
                            "endColumn": end.1,
                        },
                    },
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "authgate",
                    "version": version,
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A file name as a URI: an absolute path as a `file://` URI, a relative one as a relative
/// reference (to the directory `check` ran in); characters a URI cannot hold are
/// percent-encoded.
fn file_uri(file: &str) -> String {
    let mut out = String::with_capacity(file.len() + 7);
    if file.starts_with('/') {
        out.push_str("file://");
    }
    for byte in file.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'.' | b'-' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::diagnostics::SourceLocation;

    #[test]
    fn the_end_is_just_past_the_word_pointed_at() {
        let text = "url: example.com\nproviders:\n  - use: githubb # typo\n    scopes: [a, b]\nurl: http://x:8080/a b\n";
        let cases = [
            ((1, 1), (1, 4)),
            ((5, 6), (5, 21)),
            ((1, 6), (1, 17)),
            ((3, 10), (3, 17)),
            ((4, 14), (4, 15)),
            // Past the end of the line, or of the file: one character.
            ((1, 40), (1, 41)),
            ((9, 1), (9, 2)),
        ];
        for ((line, column), end) in cases {
            assert_eq!(end_of_word(text, line, column), end, "{line}:{column}");
        }
    }

    #[test]
    fn json_reports_carry_place_code_and_the_human_wording() {
        let diagnostics = Diagnostics(vec![
            Diagnostic::error(Code::Url, "url", "expected an absolute http(s) URL").at(
                SourceLocation {
                    file: "authgate.yaml".into(),
                    line: 1,
                    column: 6,
                },
            ),
            Diagnostic::warning(Code::Store, "", "no location"),
        ]);
        let read = |_: &str| Some("url: example.com\n".to_string());
        let value = json(&diagnostics, &read);
        assert_eq!(
            value,
            json!([
                {"file": "authgate.yaml", "line": 1, "column": 6, "end": {"line": 1, "column": 17},
                 "severity": "error", "code": "AG0008", "path": "url",
                 "message": "url: expected an absolute http(s) URL"},
                {"file": null, "line": null, "column": null, "end": null,
                 "severity": "warning", "code": "AG0022", "path": "", "message": "no location"},
            ])
        );
    }

    #[test]
    fn file_names_become_uri_references() {
        let cases = [
            ("authgate.yaml", "authgate.yaml"),
            (
                "/etc/authgate/providers.d/acme.yaml",
                "file:///etc/authgate/providers.d/acme.yaml",
            ),
            ("my config/a b.yaml", "my%20config/a%20b.yaml"),
            ("é.yaml", "%C3%A9.yaml"),
        ];
        for (file, uri) in cases {
            assert_eq!(file_uri(file), uri);
        }
    }
}
