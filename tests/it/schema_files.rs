//! The committed schemas match the types, and `authgate schema` prints them.

use authgate::config::schema::{SchemaKind, schema_text};

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
