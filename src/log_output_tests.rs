//! Unit tests of `log_output`.

use super::*;

#[test]
fn control_characters_inside_a_line_are_escaped() {
    let cases = [
        ("plain line\n", "plain line\n"),
        (
            "error=x\r\nINFO forged line\n",
            "error=x\\u000d\\u000aINFO forged line\n",
        ),
        ("bell\u{7} esc\u{1b}[31m\n", "bell\\u0007 esc\\u001b[31m\n"),
        ("del\u{7f} c1\u{85}next\n", "del\\u007f c1\\u0085next\n"),
        ("tab\there", "tab\\u0009here"),
        ("ls\u{2028}rlo\u{202e}\n", "ls\\u2028rlo\\u202e\n"),
        ("ünïcödé stays\n", "ünïcödé stays\n"),
    ];
    for (line, expected) in cases {
        assert_eq!(escape_log_line(line), expected, "{line:?}");
    }
}

#[test]
fn an_escaped_json_line_still_parses_to_the_same_text() {
    let message = "x\u{7f}\u{85}\r\n\u{2028}\u{1b}[31m";
    let line = format!("{}\n", serde_json::json!({ "error": message }));
    let escaped = escape_log_line(&line);
    let parsed: serde_json::Value = serde_json::from_str(escaped.trim_end()).unwrap();
    assert_eq!(parsed["error"], message);
    assert!(!escaped.trim_end().chars().any(needs_escape));
}
