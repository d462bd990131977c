//! The committed schemas match the types, and `authgate schema` prints them.

use authgate::config::schema::{SchemaKind, schema_text};
use serde_json::Value;

fn committed(name: &str) -> String {
    let path = format!("{}/schema/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn committed_schemas_match_the_config_types() {
    for (kind, file) in [
        (SchemaKind::Config, "authgate.schema.json"),
        (SchemaKind::Provider, "provider.schema.json"),
    ] {
        assert!(
            committed(file) == schema_text(kind),
            "schema/{file} is out of date: run `cargo run -- schema {} > schema/{file}`",
            if kind == SchemaKind::Config {
                "config"
            } else {
                "provider"
            }
        );
    }
}

#[test]
fn schema_command_prints_the_committed_schemas() {
    for (argument, file) in [
        ("config", "authgate.schema.json"),
        ("provider", "provider.schema.json"),
    ] {
        let output = crate::support::cli()
            .args(["schema", argument])
            .output()
            .expect("run authgate schema");
        assert!(output.status.success());
        assert_eq!(String::from_utf8_lossy(&output.stdout), committed(file));
    }
}

/// The JSON pointers of the properties under `node` that carry no `description`, found
/// through `$defs`, nested `properties`, `items`, `anyOf`, `oneOf`, `allOf` and
/// `additionalProperties`, as an editor meets them.
fn undocumented_properties(node: &Value, path: &str, found: &mut Vec<String>) {
    let Value::Object(object) = node else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get("properties") {
        for (name, property) in properties {
            if property.is_object() && property.get("description").is_none() {
                found.push(format!("{path}/{name}"));
            }
            undocumented_properties(property, &format!("{path}/properties/{name}"), found);
        }
    }
    if let Some(Value::Object(definitions)) = object.get("$defs") {
        for (name, definition) in definitions {
            undocumented_properties(definition, &format!("#/$defs/{name}"), found);
        }
    }
    for key in ["items", "anyOf", "oneOf", "allOf", "additionalProperties"] {
        match object.get(key) {
            Some(Value::Array(branches)) => {
                for (index, branch) in branches.iter().enumerate() {
                    undocumented_properties(branch, &format!("{path}/{key}/{index}"), found);
                }
            }
            Some(branch) => undocumented_properties(branch, &format!("{path}/{key}"), found),
            None => {}
        }
    }
}

#[test]
fn every_property_of_both_schemas_has_a_description() {
    for file in ["authgate.schema.json", "provider.schema.json"] {
        let schema: Value = serde_json::from_str(&committed(file))
            .unwrap_or_else(|error| panic!("schema/{file}: {error}"));
        let mut undocumented = Vec::new();
        undocumented_properties(&schema, "#", &mut undocumented);
        assert!(
            undocumented.is_empty(),
            "schema/{file}: properties without a description (add a `///` doc comment to the \
             field): {undocumented:#?}"
        );
    }
}
