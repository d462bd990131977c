//! A YAML reader that keeps the position of every node.
//!
//! It turns one YAML document into a `serde_json::Value` plus a map from JSON pointer to
//! line and column, so that a JSON Schema error (which names a JSON pointer) can be shown at
//! the line the user wrote. It owns the hostile-input limits: nesting depth, the number of
//! nodes after alias expansion (alias bombs), duplicate keys and unsupported tags. It never
//! recurses on the input, so a deeply nested document cannot overflow the stack.
//!
//! Plain scalars are resolved with the YAML 1.2 core schema: `no`, `off` and `y` stay
//! strings (no "Norway problem"); only `true`/`false`, `null`/`~`, and numbers are typed.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};

/// Deepest nesting of mappings and sequences a document may have.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may have once aliases are expanded.
pub const MAX_NODES: usize = 100_000;
/// Most bytes of text (scalars, keys and recorded paths) a document may hold once aliases
/// are expanded: a 1 MiB file must not be able to make gigabytes by aliasing a long string.
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;
/// Longest mapping key.
pub const MAX_KEY_BYTES: usize = 1024;

/// A 1-based line and column inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    fn from_span(span: &Span) -> Self {
        Position {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }

    /// This position, or `end` when it lies on a line after `end`'s. Only the line is
    /// compared: a column is the parser's count, which the text is not re-measured against.
    fn within(self, end: Position) -> Position {
        if self.line > end.line { end } else { self }
    }
}

/// Where a node was written: its value, and its key when it is a mapping entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePosition {
    pub value: Position,
    pub key: Option<Position>,
    /// A literal block scalar (`|`): its lines are the file's lines, so a position inside
    /// it maps back exactly.
    pub literal_block: bool,
}

/// One parsed YAML document.
#[derive(Debug, Clone, Default)]
pub struct YamlDocument {
    /// `Value::Null` for an empty document.
    pub value: Value,
    /// JSON pointer (`/providers/0/id`) → where that node was written.
    pub positions: HashMap<String, NodePosition>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub position: Position,
}

impl YamlDocument {
    /// Where the node at `pointer` was written; for a node that has no position of its
    /// own (an alias expansion) the nearest ancestor that has one.
    pub fn position_of(&self, pointer: &str, prefer_key: bool) -> Position {
        let mut current = pointer;
        loop {
            if let Some(node) = self.positions.get(current) {
                return match (prefer_key, node.key) {
                    (true, Some(key)) => key,
                    _ => node.value,
                };
            }
            match current.rfind('/') {
                Some(cut) => current = &current[..cut],
                None => return Position { line: 1, column: 1 },
            }
        }
    }
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Sequence {
        pointer: String,
        anchor: usize,
        items: Vec<Value>,
    },
    Mapping {
        pointer: String,
        anchor: usize,
        entries: Map<String, Value>,
        /// Keys set by a `<<` merge; an explicit key may replace them.
        merged_keys: Vec<String>,
        pending_key: Option<(String, Position)>,
        key_lines: HashMap<String, usize>,
    },
}

struct Builder {
    document: YamlDocument,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    text_bytes: usize,
    root: Option<Value>,
}

/// Reads `text` as exactly one YAML document.
pub fn parse_document(text: &str) -> Result<YamlDocument, YamlError> {
    let mut builder = Builder {
        document: YamlDocument::default(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        text_bytes: 0,
        root: None,
    };
    let mut documents = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| YamlError {
            message: error.info().to_string(),
            position: Position {
                line: error.marker().line(),
                column: error.marker().col() + 1,
            },
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        message:
                            "expected one YAML document, found several (remove the `---` separator)"
                                .into(),
                        position: Position::from_span(&span),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref(), &span)?;
                let block = style == ScalarStyle::Literal;
                builder.push_value(value, anchor, &span, block)?;
            }
            Event::Alias(anchor) => {
                let value = builder
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .ok_or_else(|| YamlError {
                        message: "alias refers to an unknown anchor".into(),
                        position: Position::from_span(&span),
                    })?;
                let (nodes, text_bytes) = measure(&value);
                builder.count_nodes(nodes, &span)?;
                builder.count_text(text_bytes, &span)?;
                builder.push_value(value, 0, &span, false)?;
            }
            Event::SequenceStart(anchor, tag) => {
                reject_collection_tag(tag.as_deref(), &span)?;
                let pointer = builder.open_child(&span)?;
                builder.stack.push(Frame::Sequence {
                    pointer,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, tag) => {
                reject_collection_tag(tag.as_deref(), &span)?;
                let pointer = builder.open_child(&span)?;
                builder.stack.push(Frame::Mapping {
                    pointer,
                    anchor,
                    entries: Map::new(),
                    merged_keys: Vec::new(),
                    pending_key: None,
                    key_lines: HashMap::new(),
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Sequence { anchor, items, .. }) = builder.stack.pop() {
                    builder.close_child(Value::Array(items), anchor, &span)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Mapping {
                    anchor, entries, ..
                }) = builder.stack.pop()
                {
                    builder.close_child(Value::Object(entries), anchor, &span)?;
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    builder.document.value = builder.root.unwrap_or(Value::Null);
    // An empty node at the very end of a text without a final line break (`? ` as its last
    // line) is placed by the parser at the stream's end, on the line after the last one.
    let end = end_of(text);
    for position in builder.document.positions.values_mut() {
        position.value = position.value.within(end);
        position.key = position.key.map(|key| key.within(end));
    }
    Ok(builder.document)
}

/// Where `text` ends: its last line, as YAML counts lines (`\r\n`, a lone `\r` and `\n`
/// each end one), and the column after that line's last character.
fn end_of(text: &str) -> Position {
    let mut end = Position { line: 1, column: 1 };
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\r' if characters.peek() == Some(&'\n') => {}
            '\r' | '\n' => {
                end = Position {
                    line: end.line + 1,
                    column: 1,
                }
            }
            _ => end.column += 1,
        }
    }
    end
}

impl Builder {
    fn count_nodes(&mut self, count: usize, span: &Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(count);
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                message: format!(
                    "document has more than {MAX_NODES} nodes once aliases are expanded (an alias bomb?)"
                ),
                position: Position::from_span(span),
            });
        }
        Ok(())
    }

    fn count_text(&mut self, bytes: usize, span: &Span) -> Result<(), YamlError> {
        self.text_bytes = self.text_bytes.saturating_add(bytes);
        if self.text_bytes > MAX_TEXT_BYTES {
            return Err(YamlError {
                message: format!(
                    "document holds more than {MAX_TEXT_BYTES} bytes of text once aliases are expanded (an alias bomb?)"
                ),
                position: Position::from_span(span),
            });
        }
        Ok(())
    }

    /// Records where the node at `pointer` was written.
    fn record_position(
        &mut self,
        pointer: String,
        position: NodePosition,
        span: &Span,
    ) -> Result<(), YamlError> {
        self.count_text(pointer.len(), span)?;
        self.document.positions.insert(pointer, position);
        Ok(())
    }

    /// The pointer a new child node gets, given the current parent frame.
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Sequence { pointer, items, .. }) => format!("{pointer}/{}", items.len()),
            Some(Frame::Mapping {
                pointer,
                pending_key: Some((key, _)),
                ..
            }) => format!("{pointer}/{}", escape_pointer_segment(key)),
            // A mapping waiting for a key: the node about to come is the key itself.
            Some(Frame::Mapping { pointer, .. }) => format!("{pointer}/<key>"),
        }
    }

    fn pending_key_position(&self) -> Option<Position> {
        match self.stack.last() {
            Some(Frame::Mapping {
                pending_key: Some((_, position)),
                ..
            }) => Some(*position),
            _ => None,
        }
    }

    fn open_child(&mut self, span: &Span) -> Result<String, YamlError> {
        if let Some(Frame::Mapping {
            pending_key: None, ..
        }) = self.stack.last()
        {
            return Err(YamlError {
                message: "a mapping or sequence cannot be used as a key".into(),
                position: Position::from_span(span),
            });
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                message: format!("document is nested deeper than {MAX_DEPTH} levels"),
                position: Position::from_span(span),
            });
        }
        self.count_nodes(1, span)?;
        let pointer = self.child_pointer();
        let key = self.pending_key_position();
        self.record_position(
            pointer.clone(),
            NodePosition {
                value: Position::from_span(span),
                key,
                literal_block: false,
            },
            span,
        )?;
        Ok(pointer)
    }

    fn close_child(&mut self, value: Value, anchor: usize, span: &Span) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        self.attach(value, span)
    }

    fn push_value(
        &mut self,
        value: Value,
        anchor: usize,
        span: &Span,
        literal_block: bool,
    ) -> Result<(), YamlError> {
        if let Value::String(text) = &value {
            self.count_text(text.len(), span)?;
        }
        // A scalar in key position becomes the pending key.
        if let Some(Frame::Mapping {
            pending_key: pending @ None,
            key_lines,
            ..
        }) = self.stack.last_mut()
        {
            let key = match value {
                Value::String(text) => text,
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                Value::Null => "null".to_string(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(YamlError {
                        message: "a mapping or sequence cannot be used as a key".into(),
                        position: Position::from_span(span),
                    });
                }
            };
            let position = Position::from_span(span);
            if key.len() > MAX_KEY_BYTES {
                return Err(YamlError {
                    message: format!("key is longer than {MAX_KEY_BYTES} bytes"),
                    position,
                });
            }
            if anchor != 0 {
                self.anchors.insert(anchor, Value::String(key.clone()));
            }
            if key != "<<" {
                if let Some(first_line) = key_lines.get(&key) {
                    return Err(YamlError {
                        message: format!(
                            "duplicate key `{key}` (first defined on line {first_line})"
                        ),
                        position,
                    });
                }
                key_lines.insert(key.clone(), position.line);
            }
            *pending = Some((key, position));
            return Ok(());
        }
        self.count_nodes(1, span)?;
        let pointer = self.child_pointer();
        let key = self.pending_key_position();
        self.record_position(
            pointer,
            NodePosition {
                value: Position::from_span(span),
                key,
                literal_block,
            },
            span,
        )?;
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        self.attach(value, span)
    }

    /// Puts a finished node into its parent, or makes it the root.
    fn attach(&mut self, value: Value, span: &Span) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(value);
                Ok(())
            }
            Some(Frame::Sequence { items, .. }) => {
                items.push(value);
                Ok(())
            }
            Some(Frame::Mapping {
                entries,
                pending_key,
                merged_keys,
                ..
            }) => {
                let Some((key, _)) = pending_key.take() else {
                    return Err(YamlError {
                        message: "a mapping or sequence cannot be used as a key".into(),
                        position: Position::from_span(span),
                    });
                };
                if key == "<<" {
                    return merge_into(entries, merged_keys, value, span);
                }
                merged_keys.retain(|merged| merged != &key);
                entries.insert(key, value);
                Ok(())
            }
        }
    }
}

/// Applies a YAML merge key (`<<: *defaults`): keys already present win.
fn merge_into(
    entries: &mut Map<String, Value>,
    merged_keys: &mut Vec<String>,
    value: Value,
    span: &Span,
) -> Result<(), YamlError> {
    let sources = match value {
        Value::Object(map) => vec![map],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(map) => Ok(map),
                _ => Err(()),
            })
            .collect::<Result<Vec<_>, ()>>()
            .map_err(|()| YamlError {
                message: "`<<` merges only mappings".into(),
                position: Position::from_span(span),
            })?,
        _ => {
            return Err(YamlError {
                message: "`<<` merges only mappings".into(),
                position: Position::from_span(span),
            });
        }
    };
    for source in sources {
        for (key, value) in source {
            if !entries.contains_key(&key) {
                merged_keys.push(key.clone());
                entries.insert(key, value);
            }
        }
    }
    Ok(())
}

/// Nodes and bytes of text in `value`, iteratively (a huge aliased value cannot overflow
/// the stack).
fn measure(value: &Value) -> (usize, usize) {
    let mut nodes = 0usize;
    let mut bytes = 0usize;
    let mut pending = vec![value];
    while let Some(node) = pending.pop() {
        nodes += 1;
        match node {
            Value::Array(items) => pending.extend(items.iter()),
            Value::Object(map) => {
                bytes = bytes.saturating_add(map.keys().map(String::len).sum());
                pending.extend(map.values());
            }
            Value::String(text) => bytes = bytes.saturating_add(text.len()),
            _ => {}
        }
    }
    (nodes, bytes)
}

fn reject_collection_tag(tag: Option<&Tag>, span: &Span) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(tag) if tag.is_yaml_core_schema() && matches!(tag.suffix.as_str(), "map" | "seq") => {
            Ok(())
        }
        Some(tag) => Err(YamlError {
            message: format!("unsupported tag `{tag}`"),
            position: Position::from_span(span),
        }),
    }
}

fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: &Span,
) -> Result<Value, YamlError> {
    if let Some(tag) = tag {
        if !tag.is_yaml_core_schema() {
            return Err(YamlError {
                message: format!("unsupported tag `{tag}`"),
                position: Position::from_span(span),
            });
        }
        let typed = match tag.suffix.as_str() {
            "str" => Some(Value::String(text.to_string())),
            "null" => Some(Value::Null),
            "bool" => resolve_plain(text).filter(Value::is_boolean),
            "int" | "float" => resolve_plain(text).filter(Value::is_number),
            _ => None,
        };
        return typed.ok_or_else(|| YamlError {
            message: format!("`{text}` is not a valid `{tag}`"),
            position: Position::from_span(span),
        });
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    Ok(resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string())))
}

/// The YAML 1.2 core schema for plain scalars; `None` means "a string".
fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !unsigned.is_empty() && unsigned.bytes().all(|byte| byte.is_ascii_digit()) {
        if let Ok(number) = text.parse::<i64>() {
            return Some(Value::Number(number.into()));
        }
        if let Ok(number) = text.trim_start_matches('+').parse::<u64>() {
            return Some(Value::Number(number.into()));
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16)
            .ok()
            .map(|n| Value::Number(n.into()));
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8)
            .ok()
            .map(|n| Value::Number(n.into()));
    }
    if looks_like_float(unsigned) {
        return text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number);
    }
    None
}

fn looks_like_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(cut) => (&text[..cut], Some(&text[cut + 1..])),
        None => (text, None),
    };
    let mantissa_ok = {
        let (whole, fraction) = match mantissa.find('.') {
            Some(cut) => (&mantissa[..cut], Some(&mantissa[cut + 1..])),
            None => (mantissa, None),
        };
        let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        match fraction {
            Some(fraction) => {
                digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty())
            }
            None => !whole.is_empty() && digits(whole),
        }
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
