//! The published schemas, read by an independent validator (Debian's python3-jsonschema,
//! draft 2020-12) as an editor would: which of the bad-config suite's mistakes the schema
//! alone catches is pinned, every one of them is also refused by `authgate check`, and
//! every example and preset still passes.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use authgate::config::yaml::parse_document;

use crate::examples_and_presets::yaml_files;
use crate::support::{ConfigDir, cli};

const GOOD_SECRET: &str = "secret: 0123456789abcdef0123456789abcdef\n";

/// (what the mistake is, the configuration, whether the schema alone catches it).
fn bad_configs() -> Vec<(&'static str, String, bool)> {
    let base = |rest: &str| format!("url: https://auth.example.com\n{GOOD_SECRET}{rest}");
    vec![
        (
            "an oauth provider without clientId",
            base(
                "providers:\n  - id: acme\n    type: oauth\n    issuer: https://idp.example.com\n",
            ),
            true,
        ),
        (
            "an oauth provider without endpoints or issuer",
            base("providers:\n  - id: acme\n    type: oauth\n    clientId: x\n"),
            true,
        ),
        (
            "an oidc provider without issuer",
            base("providers:\n  - id: acme\n    type: oidc\n    clientId: x\n"),
            true,
        ),
        (
            "a credentials provider without authorize or lookup",
            base("providers:\n  - id: pw\n    type: credentials\n"),
            true,
        ),
        (
            "an email provider without from",
            base(
                "database:\n  url: \"sqlite::memory:\"\nproviders:\n  - id: mail\n    type: email\n    transport: dev\n",
            ),
            true,
        ),
        (
            "an email API provider without its request",
            base(
                "database:\n  url: \"sqlite::memory:\"\nproviders:\n  - id: mail\n    type: email\n    transport: http\n",
            ),
            true,
        ),
        (
            "strategy database without a database",
            base("session:\n  strategy: database\n"),
            true,
        ),
        (
            "an email provider without a store",
            base(
                "providers:\n  - id: mail\n    type: email\n    from: auth@example.com\n    transport: dev\n",
            ),
            true,
        ),
        (
            "a lookup without a database",
            base(
                "providers:\n  - id: pw\n    type: credentials\n    lookup:\n      query: SELECT id, password_hash FROM users WHERE email = :username\n      passwordField: password_hash\n    credentials:\n      username: {}\n      password: { type: password }\n",
            ),
            true,
        ),
        (
            "a relative url",
            format!("url: auth.example.com\n{GOOD_SECRET}"),
            true,
        ),
        (
            "a basePath without its leading slash",
            base("basePath: api/auth\n"),
            true,
        ),
        (
            "a secret of 12 characters",
            "url: https://auth.example.com\nsecret: twelve-chars\n".to_string(),
            true,
        ),
        (
            "duplicate provider ids",
            base(
                "providers:\n  - use: github\n    clientId: a\n    clientSecret: b\n  - use: github\n    clientId: c\n    clientSecret: d\n",
            ),
            false,
        ),
        (
            "an unknown preset",
            base("providers:\n  - use: githubb\n    clientId: a\n    clientSecret: b\n"),
            false,
        ),
        (
            "a Rhai syntax error",
            base("callbacks:\n  session: |\n    session.user.id = ;\n"),
            false,
        ),
        (
            "an unset variable",
            "url: https://auth.example.com\nsecret: ${AUTHGATE_TEST_UNSET_VARIABLE}\n".to_string(),
            false,
        ),
    ]
}

/// The errors the independent validator finds in each (name, schema file, document).
fn validate(documents: &[(String, &Path, Value)]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("documents.json");
    let documents: Vec<Value> = documents
        .iter()
        .map(|(name, schema, value)| json!({"name": name, "schema": schema, "value": value}))
        .collect();
    std::fs::write(&input, Value::Array(documents).to_string()).unwrap();
    let results = python_json(
        "import json, sys, jsonschema\n\
         results = []\n\
         for document in json.load(open(sys.argv[1])):\n\
         \x20   schema = json.load(open(document['schema']))\n\
         \x20   validator = jsonschema.Draft202012Validator(schema)\n\
         \x20   results.append([e.message for e in validator.iter_errors(document['value'])])\n\
         print(json.dumps(results))",
        &[&input],
    );
    serde_json::from_value(results).expect("a list of errors per document")
}

/// What the Python `script` (Debian's python3, with jsonschema) prints as JSON, run with
/// `arguments`.
fn python_json(script: &str, arguments: &[&Path]) -> Value {
    let output = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .args(arguments)
        .output()
        .expect("python3 with jsonschema (apt-get install python3-jsonschema; .ci/run does)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the validator's results")
}

/// Given schema files, checks every `examples` entry of every property (in `$defs`, nested
/// `properties`, `items`, `anyOf`, `oneOf`, `allOf` and `additionalProperties`) against that
/// property's own subschema, with the file's `$defs` for its `$ref`s; prints how many
/// properties carry examples and the examples refused.
const CHECK_PROPERTY_EXAMPLES: &str = r##"
import json, sys, jsonschema

checked, failures = 0, []

def walk(node, path, defs, file):
    global checked
    if isinstance(node, list):
        for index, branch in enumerate(node):
            walk(branch, f"{path}/{index}", defs, file)
        return
    if not isinstance(node, dict):
        return
    for name, prop in (node.get("properties") or {}).items():
        if isinstance(prop, dict) and "examples" in prop:
            checked += 1
            validator = jsonschema.Draft202012Validator({"$defs": defs, **prop})
            for example in prop["examples"]:
                errors = [error.message for error in validator.iter_errors(example)]
                if errors:
                    failures.append({"file": file, "property": f"{path}/properties/{name}",
                                     "example": example, "errors": errors})
        walk(prop, f"{path}/properties/{name}", defs, file)
    for key in ["items", "anyOf", "oneOf", "allOf", "additionalProperties"]:
        if key in node:
            walk(node[key], f"{path}/{key}", defs, file)

for file in sys.argv[1:]:
    schema = json.load(open(file))
    defs = schema.get("$defs", {})
    walk(schema, "#", defs, file)
    for name, definition in defs.items():
        walk(definition, f"#/$defs/{name}", defs, file)
print(json.dumps({"checked": checked, "failures": failures}))
"##;

fn committed(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name)
}

/// Each (name, YAML configuration) parsed, to be validated against `schema`.
fn config_documents<'a>(
    schema: &'a Path,
    cases: impl Iterator<Item = (&'a str, &'a String)>,
) -> Vec<(String, &'a Path, Value)> {
    cases
        .map(|(name, yaml)| {
            let value = parse_document(yaml)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"))
                .value;
            (name.to_string(), schema, value)
        })
        .collect()
}

#[test]
fn the_schema_alone_catches_every_mistake_it_can_express_and_check_refuses_them_all() {
    let schema = committed("authgate.schema.json");
    let cases = bad_configs();
    let documents = config_documents(&schema, cases.iter().map(|(name, yaml, _)| (*name, yaml)));
    let results = validate(&documents);
    let mut wrong = Vec::new();
    for ((name, yaml, catches), errors) in cases.iter().zip(&results) {
        if errors.is_empty() == *catches {
            wrong.push(format!(
                "{name}: expected the schema to {}catch it; it said {errors:?}",
                if *catches { "" } else { "not " }
            ));
        }
        let dir = ConfigDir::new(yaml);
        let output = cli()
            .args(["check", "--config"])
            .arg(dir.config_path())
            .env_remove("AUTHGATE_TEST_UNSET_VARIABLE")
            .output()
            .expect("run check");
        if output.status.code() != Some(1) {
            wrong.push(format!("{name}: authgate check did not refuse it"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let caught = cases.iter().filter(|(_, _, catches)| *catches).count();
    assert!(caught >= 10, "only {caught} kinds caught by the schema");
}

#[test]
fn every_example_and_preset_passes_the_independent_validator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config_schema = committed("authgate.schema.json");
    let provider_schema = committed("provider.schema.json");
    let mut documents = Vec::new();
    for path in yaml_files(&root.join("examples"))
        .into_iter()
        .chain(yaml_files(&root.join("providers.d")))
    {
        let schema = if path.file_name().is_some_and(|name| name == "authgate.yaml") {
            config_schema.as_path()
        } else if path
            .parent()
            .is_some_and(|dir| dir.ends_with("providers.d"))
        {
            provider_schema.as_path()
        } else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let value = parse_document(&text)
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
            .value;
        documents.push((path.display().to_string(), schema, value));
    }
    assert!(documents.len() > 62, "{} documents", documents.len());
    let results = validate(&documents);
    let failures: Vec<String> = documents
        .iter()
        .zip(&results)
        .filter(|(_, errors)| !errors.is_empty())
        .map(|((name, _, _), errors)| format!("{name}: {errors:?}"))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn configurations_check_accepts_pass_the_schema_too() {
    let schema = committed("authgate.schema.json");
    let cases = [
        ("an upper-case scheme", format!("url: HTTPS://auth.example.com\n{GOOD_SECRET}")),
        ("a url with a port, a path and a default", "url: ${AUTHGATE_TEST_UNSET_URL:-http://[::1]:8080/auth}\nsecret: 0123456789abcdef0123456789abcdef\n".to_string()),
        ("a 32-byte secret of 16 characters", "url: https://auth.example.com\nsecret: \"éééééééééééééééé\"\n".to_string()),
        ("a rotation list led by a placeholder", "url: https://auth.example.com\nsecret:\n  - ${AUTHGATE_TEST_UNSET_SECRET:-0123456789abcdef0123456789abcdef}\n  - fedcba9876543210fedcba9876543210\n".to_string()),
        ("an email API provider without from", format!("url: https://auth.example.com\n{GOOD_SECRET}database:\n  url: \"sqlite::memory:\"\nproviders:\n  - id: mail\n    type: email\n    transport: http\n    http:\n      url: https://api.mail.example/send\n      json: {{to: \"{{{{ email }}}}\", link: \"{{{{ url }}}}\"}}\n")),
        ("an oidc provider found by wellKnown", format!("url: https://auth.example.com\n{GOOD_SECRET}providers:\n  - id: acme\n    type: oidc\n    clientId: x\n    wellKnown: https://idp.example.com/.well-known/openid-configuration\n")),
    ];
    let documents = config_documents(&schema, cases.iter().map(|(name, yaml)| (*name, yaml)));
    let results = validate(&documents);
    let mut wrong = Vec::new();
    for ((name, yaml), errors) in cases.iter().zip(&results) {
        if !errors.is_empty() {
            wrong.push(format!("{name}: the schema refuses it: {errors:?}"));
        }
        let dir = ConfigDir::new(yaml);
        let output = cli()
            .args(["check", "--config"])
            .arg(dir.config_path())
            .env_remove("AUTHGATE_TEST_UNSET_URL")
            .env_remove("AUTHGATE_TEST_UNSET_SECRET")
            .output()
            .expect("run check");
        if output.status.code() != Some(0) {
            wrong.push(format!(
                "{name}: check refuses it: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_example_in_the_schemas_is_valid_for_its_property() {
    let schemas = [
        committed("authgate.schema.json"),
        committed("provider.schema.json"),
    ];
    let result = python_json(
        CHECK_PROPERTY_EXAMPLES,
        &[schemas[0].as_path(), schemas[1].as_path()],
    );
    let failures = &result["failures"];
    assert!(
        failures.as_array().is_some_and(Vec::is_empty),
        "examples their own property refuses: {failures:#}"
    );
    let checked = result["checked"].as_u64().expect("the count of properties");
    assert!(
        checked >= 150,
        "only {checked} properties of the two schemas have examples"
    );
}
