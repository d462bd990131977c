//! Every example and every preset loads, validates against its schema, and declares the
//! schema for editors; `authgate check` and `authgate providers` work on them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use authgate::config::ConfigSource;
use authgate::config::presets::config_using_every_builtin_preset;
use authgate::config::schema::{config_schema, provider_schema};
use authgate::config::yaml::parse_document;
use authgate::pipeline::build_pipeline;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.yaml` under `dir`, recursively.
pub(crate) fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn assert_valid(path: &Path, schema: &serde_json::Value) {
    let text = std::fs::read_to_string(path).expect("read file");
    let first_line = text.lines().next().unwrap_or_default();
    assert!(
        first_line.starts_with("# yaml-language-server: $schema="),
        "{} must start with a yaml-language-server $schema line",
        path.display()
    );
    let schema_path = first_line.trim_start_matches("# yaml-language-server: $schema=");
    assert!(
        path.parent().unwrap().join(schema_path).is_file(),
        "{}: $schema path {schema_path} does not exist",
        path.display()
    );
    let document = parse_document(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document.value)
        .map(|error| format!("{}: {error}", error.instance_path().as_str()))
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
}

#[test]
fn every_example_validates_against_the_config_schema_and_loads() {
    let examples = root().join("examples");
    let configs: Vec<PathBuf> = yaml_files(&examples)
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|name| name == "authgate.yaml"))
        .collect();
    assert!(!configs.is_empty());
    for config in configs {
        assert_valid(&config, &config_schema());
        let env: HashMap<String, String> = HashMap::new();
        if let Err(diagnostics) = build_pipeline(&ConfigSource::new(&config), &env, 1) {
            panic!("{}:\n{diagnostics}", config.display());
        }
    }
}

#[test]
fn every_preset_file_validates_against_the_provider_schema() {
    let mut presets = yaml_files(&root().join("providers.d"));
    for example in yaml_files(&root().join("examples")) {
        if example
            .parent()
            .is_some_and(|dir| dir.ends_with("providers.d"))
        {
            presets.push(example);
        }
    }
    assert!(!presets.is_empty());
    for preset in presets {
        assert_valid(&preset, &provider_schema());
    }
}

#[test]
fn every_builtin_preset_loads_with_placeholder_secrets() {
    let dir = crate::support::ConfigDir::new(&config_using_every_builtin_preset(
        "https://auth.example.com",
        crate::support::SECRET,
    ));
    let env: HashMap<String, String> = HashMap::new();
    let pipeline = build_pipeline(&ConfigSource::new(dir.config_path()), &env, 1)
        .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    let files = authgate::config::presets::builtin_preset_names();
    assert_eq!(pipeline.providers.len(), files.len());
}

#[test]
fn check_command_exits_zero_with_a_summary_for_a_good_config() {
    let config = root().join("examples/quickstart/authgate.yaml");
    let output = crate::support::cli()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .env_remove("GITHUB_ID")
        .output()
        .expect("run check");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .contains("2 providers (github, credentials), session strategy database, store sqlite"),
        "{stdout}"
    );
}

#[test]
fn check_command_exits_one_and_reports_every_problem() {
    let dir =
        crate::support::ConfigDir::new("url: nope\nsecret: short\nsession:\n  maxAge: forever\n");
    let output = crate::support::cli()
        .arg("check")
        .arg("--config")
        .arg(dir.config_path())
        .output()
        .expect("run check");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: session.maxAge: expected a duration"),
        "{stderr}"
    );
    assert!(stderr.contains("authgate.yaml:4:11"), "{stderr}");
    assert!(stderr.trim_end().ends_with("has 1 problem"), "{stderr}");
}

#[test]
fn providers_command_lists_presets_with_what_they_need() {
    let output = crate::support::cli()
        .arg("providers")
        .arg("--config")
        .arg(root().join("examples/multi-provider/authgate.yaml"))
        .output()
        .expect("run providers");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let github = stdout
        .lines()
        .find(|line| line.starts_with("github "))
        .expect("github listed");
    assert!(
        github.contains("GitHub") && github.contains("clientId, clientSecret"),
        "{github}"
    );
    // Drop-in files are providers, not templates: they are not listed.
    assert!(
        !stdout.lines().any(|line| line.starts_with("acme ")),
        "{stdout}"
    );
}

#[test]
fn readme_preset_table_lists_every_preset_with_its_required_fields() {
    use authgate::config::ProviderConfig;
    use authgate::config::presets::load_presets;
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let (presets, _) = load_presets();
    let mut missing = Vec::new();
    for preset in presets.values() {
        let provider: ProviderConfig = serde_json::from_value(preset.value().clone()).unwrap();
        let requires: Vec<&str> = provider.requires.iter().map(|field| field.key()).collect();
        let row = format!(
            "| `{}` | {} | {} | {} |",
            preset.id,
            provider.name.as_deref().unwrap_or_default(),
            provider.kind.map(|kind| kind.as_str()).unwrap_or_default(),
            if requires.is_empty() {
                "-".to_string()
            } else {
                requires.join(", ")
            }
        );
        if !readme.lines().any(|line| line == row) {
            missing.push(row);
        }
    }
    assert!(
        missing.is_empty(),
        "README.md preset table is out of date; expected rows:\n{}",
        missing.join("\n")
    );
}
