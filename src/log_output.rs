//! Where log lines go: standard error, one line per event, with every control character
//! inside the line escaped. Log fields carry request data (a provider's `error`
//! parameter, a script's `print` of a submitted name); escaping at the writer covers every
//! field, present and future, so no request can forge a log line or send a terminal
//! escape sequence.

use std::fmt::Write as _;
use std::io::{self, Write};

/// `line` with each control character (CR, LF, ESC, C1, …) written as `\u{XX}`; a final
/// newline, the formatter's own, is kept.
pub fn escape_log_line(line: &str) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (line, ""),
    };
    let mut escaped = String::with_capacity(line.len());
    for character in body.chars() {
        if character.is_control() {
            let _ = write!(escaped, "\\u{{{:x}}}", u32::from(character));
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
mod tests {
    use super::*;

    #[test]
    fn control_characters_inside_a_line_are_escaped() {
        let cases = [
            ("plain line\n", "plain line\n"),
            (
                "error=x\r\nINFO forged line\n",
                "error=x\\u{d}\\u{a}INFO forged line\n",
            ),
            ("bell\u{7} esc\u{1b}[31m\n", "bell\\u{7} esc\\u{1b}[31m\n"),
            ("c1\u{85}next\n", "c1\\u{85}next\n"),
            ("tab\there", "tab\\u{9}here"),
            ("ünïcödé stays\n", "ünïcödé stays\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(escape_log_line(line), expected, "{line:?}");
        }
    }
}
