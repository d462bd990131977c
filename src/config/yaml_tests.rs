//! Unit tests of `yaml`.

use super::*;
use serde_json::json;

fn parse(text: &str) -> Value {
    parse_document(text).expect("valid yaml").value
}

#[test]
fn plain_scalars_follow_the_yaml_1_2_core_schema() {
    let cases = [
        ("a: no", json!({"a": "no"})),
        ("a: off", json!({"a": "off"})),
        ("a: true", json!({"a": true})),
        ("a: ~", json!({"a": null})),
        ("a: 42", json!({"a": 42})),
        ("a: -7", json!({"a": -7})),
        ("a: 1.5", json!({"a": 1.5})),
        ("a: 1e3", json!({"a": 1000.0})),
        ("a: 0x1f", json!({"a": 31})),
        ("a: '42'", json!({"a": "42"})),
        ("a: 30d", json!({"a": "30d"})),
        ("a: 1.2.3", json!({"a": "1.2.3"})),
        ("a: !!str 42", json!({"a": "42"})),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text), expected, "{text}");
    }
}

#[test]
fn positions_are_recorded_for_keys_and_values() {
    let document = parse_document("url: x\nproviders:\n  - id: a\n    name: b\n").unwrap();
    let node = document.positions["/providers/0/name"];
    assert_eq!(
        node.value,
        Position {
            line: 4,
            column: 11
        }
    );
    assert_eq!(node.key, Some(Position { line: 4, column: 5 }));
    assert_eq!(
        document.position_of("/providers/0/missing", false),
        Position { line: 3, column: 5 }
    );
}

#[test]
fn duplicate_keys_point_at_the_second_key() {
    let error = parse_document("a: 1\nb: 2\na: 3\n").unwrap_err();
    assert_eq!(error.message, "duplicate key `a` (first defined on line 1)");
    assert_eq!(error.position, Position { line: 3, column: 1 });
}

#[test]
fn merge_keys_fill_in_missing_entries() {
    let value = parse("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n");
    assert_eq!(value["other"], json!({"x": 1, "y": 3}));
}

#[test]
fn alias_bombs_are_rejected() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..9 {
        let previous = level - 1;
        text.push_str(&format!(
            "a{level}: &a{level} [*a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}]\n"
        ));
    }
    let error = parse_document(&text).unwrap_err();
    assert!(error.message.contains("alias bomb"), "{}", error.message);
}

#[test]
fn aliases_of_long_strings_hit_the_text_budget() {
    let long = "x".repeat(100_000);
    let mut text = format!("a: &a \"{long}\"\nlist: [");
    for _ in 0..200 {
        text.push_str("*a, ");
    }
    text.push_str("]\n");
    let error = parse_document(&text).unwrap_err();
    assert!(error.message.contains("bytes of text"), "{}", error.message);
}

#[test]
fn very_long_keys_are_rejected() {
    // Explicit `?` keys escape the parser's own 1024-character limit on simple keys.
    let text = format!("? {}\n: 1\n", "k".repeat(2000));
    let error = parse_document(&text).unwrap_err();
    assert_eq!(error.message, "key is longer than 1024 bytes");
}

#[test]
fn anchored_keys_can_be_aliased() {
    let value = parse("&k name: 1\nother:\n  *k : 2\n");
    assert_eq!(value["other"]["name"], 2);
}

#[test]
fn deep_nesting_is_rejected_without_overflowing_the_stack() {
    let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let error = parse_document(&text).unwrap_err();
    assert_eq!(error.message, "document is nested deeper than 64 levels");
    // The parser's own guard stops far deeper input before we see it.
    let error = parse_document(&"[".repeat(100_000)).unwrap_err();
    assert_eq!(error.message, "recursion limit exceeded");
}

#[test]
fn several_documents_are_rejected() {
    let error = parse_document("a: 1\n---\nb: 2\n").unwrap_err();
    assert!(error.message.starts_with("expected one YAML document"));
}

#[test]
fn unknown_tags_are_rejected() {
    let error = parse_document("a: !Ref x\n").unwrap_err();
    assert_eq!(error.message, "unsupported tag `!Ref`");
}

#[test]
fn an_empty_node_at_the_end_of_a_text_without_a_final_line_break_is_placed_on_its_last_line() {
    // (text, pointer, where its value is recorded)
    let cases = [
        ("? ", "/null", Position { line: 1, column: 3 }),
        ("? a", "/a", Position { line: 1, column: 4 }),
        ("a: 1\n? ", "/null", Position { line: 2, column: 3 }),
        ("x:\n  ? ", "/x/null", Position { line: 2, column: 5 }),
        ("a: 1\r\r? \r\r ", "/null", Position { line: 5, column: 2 }),
        ("a: 1\r\n? ", "/null", Position { line: 2, column: 3 }),
        // With a final line break the parser's position is on a line of the text already.
        ("? \n", "/null", Position { line: 2, column: 1 }),
        ("a:", "/a", Position { line: 1, column: 2 }),
        // Columns on the last line are the parser's, whatever the characters' widths.
        ("k: é\nb: ééé", "/b", Position { line: 2, column: 4 }),
    ];
    for (text, pointer, expected) in cases {
        let document = parse_document(text).expect("valid yaml");
        let node = document.positions[pointer];
        assert_eq!(node.value, expected, "{text:?} {pointer}");
        let end = end_of(text);
        for place in document
            .positions
            .values()
            .flat_map(|node| [Some(node.value), node.key])
            .flatten()
        {
            assert!(
                place.line <= end.line,
                "{text:?}: {place:?} lies past the end, {end:?}"
            );
        }
    }
}
