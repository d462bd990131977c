//! What the published schemas (`authgate schema`, `schema/*.json`) say beyond the types:
//! the rules an editor can check on its own that otherwise only the semantic layer
//! reports. Fields required by a provider's `type` when it is complete in itself (no
//! `use:`, and no `requires:` as presets have); a `database` wherever one is needed and
//! the file shows it; and the shape of `url`, `basePath` and `secret`, where a `${...}`
//! placeholder always passes. authgate's own first layer validates against the schemas
//! without these, so each problem is reported once, in the semantic layer's words.

use serde_json::{Value, json};

use super::schema::SchemaKind;

/// An absolute http(s) URL with a host (the scheme in any case, as URL parsing allows), or
/// text holding a `${...}` placeholder.
const URL_PATTERN: &str = r"^(?:[hH][tT][tT][pP][sS]?://[^/?#\s]+(?:[/?#].*)?|.*\$\{.*)$";
/// A path from the root, or text holding a placeholder.
const BASE_PATH_PATTERN: &str = r"^(?:/.*|.*\$\{.*)$";
/// 32 ASCII characters or more, or text holding a placeholder, or any text with a
/// character beyond ASCII (the rule counts bytes, which a pattern cannot: `authgate check`
/// judges those).
const SECRET_PATTERN: &str =
    r"^(?:[\x00-\x7F]{32,}|[\s\S]*\$\{[\s\S]*|[\s\S]*[^\x00-\x7F][\s\S]*)$";

/// `schema` with the editor rules for its kind added.
pub fn add(kind: SchemaKind, mut schema: Value) -> Value {
    match kind {
        SchemaKind::Provider => append_all_of(&mut schema, provider_rules()),
        SchemaKind::Config => {
            if let Some(provider) = schema.pointer_mut("/$defs/ProviderConfig") {
                append_all_of(provider, provider_rules());
            }
            append_all_of(&mut schema, config_rules());
            set(
                &mut schema,
                "/properties/url",
                "pattern",
                json!(URL_PATTERN),
            );
            set(
                &mut schema,
                "/properties/basePath",
                "pattern",
                json!(BASE_PATH_PATTERN),
            );
            if let Some(variants) = schema
                .pointer_mut("/$defs/Secret/anyOf")
                .and_then(Value::as_array_mut)
            {
                for variant in variants {
                    match variant.get("type").and_then(Value::as_str) {
                        Some("string") => variant["pattern"] = json!(SECRET_PATTERN),
                        Some("array") => {
                            variant["items"]["pattern"] = json!(SECRET_PATTERN);
                            variant["minItems"] = json!(1);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    schema
}

/// Sets `key` in the object at `parent`, when there is one.
fn set(schema: &mut Value, parent: &str, key: &str, value: Value) {
    if let Some(parent) = schema.pointer_mut(parent).and_then(Value::as_object_mut) {
        parent.insert(key.to_string(), value);
    }
}

fn append_all_of(schema: &mut Value, rules: Vec<Value>) {
    if let Some(object) = schema.as_object_mut() {
        let all_of = object.entry("allOf").or_insert_with(|| json!([]));
        if let Some(list) = all_of.as_array_mut() {
            list.extend(rules);
        }
    }
}

/// A provider of `kind` that is complete in itself: no `use:`, no `requires:`.
fn complete_provider_of(kind: &str) -> Value {
    json!({
        "required": ["type"],
        "properties": { "type": { "const": kind } },
        "not": { "anyOf": [{ "required": ["use"] }, { "required": ["requires"] }] }
    })
}

fn provider_rules() -> Vec<Value> {
    vec![
        json!({
            "if": complete_provider_of("oauth"),
            "then": {
                "required": ["clientId"],
                "anyOf": [
                    { "required": ["issuer"] },
                    { "required": ["wellKnown"] },
                    { "required": ["authorization", "token"] }
                ]
            }
        }),
        json!({
            "if": complete_provider_of("oidc"),
            "then": {
                "required": ["clientId"],
                "anyOf": [{ "required": ["issuer"] }, { "required": ["wellKnown"] }]
            }
        }),
        json!({
            "if": complete_provider_of("credentials"),
            "then": {
                "oneOf": [{ "required": ["authorize"] }, { "required": ["lookup"] }]
            }
        }),
        // An email API (`transport: http`) needs its request, and may do without `from`.
        json!({
            "if": complete_provider_of("email"),
            "then": {
                "if": {
                    "required": ["transport"],
                    "properties": { "transport": { "const": "http" } }
                },
                "then": { "required": ["http"] },
                "else": { "required": ["from"] }
            }
        }),
    ]
}

/// `database` is required when `session.strategy` is `database`, or when a provider in
/// this file is an email provider or a credentials provider with a `lookup` query.
fn config_rules() -> Vec<Value> {
    let needs_database =
        |condition: Value| json!({ "if": condition, "then": { "required": ["database"] } });
    vec![
        needs_database(json!({
            "required": ["session"],
            "properties": {
                "session": {
                    "required": ["strategy"],
                    "properties": { "strategy": { "const": "database" } }
                }
            }
        })),
        needs_database(json!({
            "required": ["providers"],
            "properties": {
                "providers": {
                    "contains": { "required": ["type"], "properties": { "type": { "const": "email" } } }
                }
            }
        })),
        needs_database(json!({
            "required": ["providers"],
            "properties": {
                "providers": {
                    "contains": {
                        "required": ["type", "lookup"],
                        "properties": { "type": { "const": "credentials" } }
                    }
                }
            }
        })),
    ]
}
