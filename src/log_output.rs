//! Where log lines go: standard error, one line per event, with every control character
//! inside the line escaped. Log fields carry request data (a provider's `error`
//! parameter, a script's `print` of a submitted name); escaping at the writer covers every
//! field, present and future, so no request can forge a log line or send a terminal
//! escape sequence.

use std::fmt::Write as _;
use std::io::{self, Write};

/// Characters that could forge or hide a line: controls (CR, LF, ESC, DEL, C1), the
/// Unicode line and paragraph separators, and the bidirectional overrides.
fn needs_escape(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `line` with each such character written as `\uXXXX`, which is also a valid escape inside
/// a JSON string (the `json` format stays parseable); a final newline, the formatter's own,
/// is kept.
pub fn escape_log_line(line: &str) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (line, ""),
    };
    let mut escaped = String::with_capacity(line.len());
    for character in body.chars() {
        if needs_escape(character) {
            let _ = write!(escaped, "\\u{:04x}", u32::from(character));
        } else {
            escaped.push(character);
        }
    }
    escaped.push_str(newline);
    escaped
}

/// A writer for `tracing_subscriber::fmt` that escapes each formatted event (the
/// formatter writes one whole event per `write`).
pub struct EscapingStderr;

impl Write for EscapingStderr {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(buffer);
        io::stderr()
            .lock()
            .write_all(escape_log_line(&line).as_bytes())?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
#[path = "log_output_tests.rs"]
mod tests;
