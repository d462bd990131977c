//! Configuration diagnostics in the compiler's form:
//!
//! ```text
//! error: providers[2].clientId: required property is missing
//!   --> providers.d/acme.yaml:4:3
//! ```
//!
//! A diagnostic never carries a secret: the code that builds one decides what value it may
//! show (see `masking`), and this module only formats.

use std::fmt;

use super::codes::Code;
use super::yaml::Position;

/// Where a diagnostic points: a file and a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl SourceLocation {
    pub fn new(file: impl Into<String>, position: Position) -> Self {
        SourceLocation {
            file: file.into(),
            line: position.line,
            column: position.column,
        }
    }

    /// `file:line:column`.
    pub fn short(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The kind of problem, stable across releases.
    pub code: Code,
    /// The config path in display form (`providers[2].clientId`); empty for a whole file.
    pub path: String,
    pub message: String,
    pub location: Option<SourceLocation>,
}

impl Diagnostic {
    /// An error. Path and message are escaped here, once for every diagnostic: whatever
    /// they quote (a preset id, a script compile error) cannot forge a line of output.
    pub fn error(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            path: escape_controls(&path.into()),
            message: escape_controls(&message.into()),
            location: None,
        }
    }

    pub fn warning(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, message)
        }
    }

    pub fn at(mut self, location: SourceLocation) -> Self {
        self.location = Some(location);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `error` or `warning`.
    pub fn kind(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The wording without the severity or the place: `path: message`.
    pub fn text(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }

    /// The first line only, for summaries (`/readyz`, logs).
    pub fn headline(&self) -> String {
        let kind = self.kind();
        let place = self
            .location
            .as_ref()
            .map(|location| {
                let file = escape_controls(&location.file);
                format!(" ({file}:{}:{})", location.line, location.column)
            })
            .unwrap_or_default();
        format!("{kind}: {}{place}", self.text())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.text())?;
        if let Some(location) = &self.location {
            write!(
                f,
                "\n  --> {}:{}:{}",
                escape_controls(&location.file),
                location.line,
                location.column
            )?;
        }
        Ok(())
    }
}

/// Every problem found in one load, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.0 {
            writeln!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics(vec![diagnostic])
    }
}

/// Longest value shown in a message, in characters.
const MAX_SHOWN_CHARS: usize = 60;

/// Whether `c` could forge or hide part of a one-line message: a control character
/// (newline, escape), or a bidirectional override.
fn is_unsafe_in_a_line(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character that could forge or hide a line escaped, whole: for
/// messages that quote what another component said (a script compile error).
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_in_a_line(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Makes user text safe to put in a one-line message: control characters (newlines,
/// escape sequences) are escaped, so a value cannot forge a diagnostic or a log line, and
/// long text is cut.
pub fn sanitize(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_SHOWN_CHARS {
            out.push('…');
            break;
        }
        out.push_str(&escape_controls(c.encode_utf8(&mut [0; 4])));
    }
    out
}

/// A value as messages show it: `` `value` ``, sanitized.
pub fn quoted(text: &str) -> String {
    format!("`{}`", sanitize(text))
}

/// Turns a JSON pointer (`/providers/2/clientId`) into the display path
/// (`providers[2].clientId`).
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = sanitize(&segment.replace("~1", "/").replace("~0", "~"));
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_display_as_dotted_paths_with_indices() {
        assert_eq!(
            display_path("/providers/2/clientId"),
            "providers[2].clientId"
        );
        assert_eq!(display_path("/secret/1"), "secret[1]");
        assert_eq!(display_path("/a~1b/c~0d"), "a/b.c~d");
        assert_eq!(display_path(""), "");
        assert_eq!(display_path("/a\nb"), "a\\nb");
    }

    #[test]
    fn every_diagnostic_escapes_what_it_quotes() {
        // Found by the yaml_config fuzz target: a preset id and a script compile error
        // quoting raw control characters.
        let diagnostic = Diagnostic::error(
            Code::Schema,
            "providers[0]\u{1b}[2J",
            "preset id `fuzo\u{1}` does not match; Unexpected '\0'\nerror: forged",
        )
        .at(SourceLocation {
            file: "providers.d/a\nb.yaml".into(),
            line: 1,
            column: 5,
        });
        for text in [diagnostic.to_string(), diagnostic.headline()] {
            let forged = text
                .chars()
                .filter(|c| c.is_control() && *c != '\n')
                .count();
            assert_eq!(forged, 0, "{text:?}");
            assert_eq!(
                text.lines().count(),
                if text.contains("-->") { 2 } else { 1 },
                "{text:?}"
            );
        }
    }

    #[test]
    fn shown_values_cannot_forge_lines_or_flood_the_screen() {
        assert_eq!(sanitize("a\nerror: fake"), "a\\nerror: fake");
        assert_eq!(sanitize("x\u{1b}[2J"), "x\\u{1b}[2J");
        assert_eq!(sanitize(&"y".repeat(100)).chars().count(), 61);
    }

    #[test]
    fn diagnostics_render_in_compiler_form() {
        let diagnostic = Diagnostic::error(
            Code::Schema,
            "providers[2].clientId",
            "required property is missing",
        )
        .at(SourceLocation {
            file: "providers.d/acme.yaml".into(),
            line: 4,
            column: 3,
        });
        assert_eq!(
            diagnostic.to_string(),
            "error: providers[2].clientId: required property is missing\n  --> providers.d/acme.yaml:4:3"
        );
    }
}
