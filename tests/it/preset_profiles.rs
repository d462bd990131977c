//! Every preset's `profile` script, run on a sample of that provider's user-info response
//! (`tests/fixtures/profiles/<id>.json`, shaped as the provider documents it), produces
//! the expected `{id, name, email, image}`, with `accountIds: stable` and, where the
//! fixture has `expectedAuthjs`, Auth.js's ids with `accountIds: authjs`. A new preset
//! without a fixture fails here.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use authgate::config::ConfigSource;
use authgate::config::presets::config_using_every_builtin_preset;
use authgate::config::script_key::{ProviderScript, ScriptKey};
use authgate::pipeline::build_pipeline;

use crate::support::{ConfigDir, SECRET};

fn fixture(id: &str) -> Result<Value, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/profiles/{id}.json"));
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}

#[test]
fn every_preset_profile_maps_its_documented_sample() {
    let dir = ConfigDir::new(&config_using_every_builtin_preset(
        "https://auth.example.com",
        SECRET,
    ));
    let env: HashMap<String, String> = HashMap::new();
    let pipeline = build_pipeline(&ConfigSource::new(dir.config_path()), &env, 1)
        .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    let mut failures = Vec::new();
    for (index, provider) in pipeline.providers.iter().enumerate() {
        if !provider.kind.has_oauth_tokens() {
            continue;
        }
        let fixture = match fixture(&provider.id) {
            Ok(fixture) => fixture,
            Err(error) => {
                failures.push(format!("{}: no fixture ({error})", provider.id));
                continue;
            }
        };
        let Ok(Some(script)) = pipeline.script(ScriptKey::Provider(index, ProviderScript::Profile))
        else {
            failures.push(format!("{}: the preset has no profile script", provider.id));
            continue;
        };
        // With `accountIds: authjs`, a preset whose stable id differs from Auth.js's must
        // give Auth.js's (`expectedAuthjs`); every other preset gives the same result.
        let authjs = fixture
            .get("expectedAuthjs")
            .unwrap_or(&fixture["expected"]);
        for (account_ids, expected) in [("stable", &fixture["expected"]), ("authjs", authjs)] {
            match pipeline.scripts_runtime.call(
                script,
                &[
                    ("profile", fixture["profile"].clone()),
                    // The token response, for providers that put user data there (VK).
                    ("tokens", fixture.get("tokens").cloned().unwrap_or_default()),
                    ("options", json!({ "accountIds": account_ids })),
                ],
            ) {
                Ok(result) if &result == expected => {}
                Ok(result) => failures.push(format!(
                    "{} (accountIds: {account_ids}): expected {expected}, got {result}",
                    provider.id
                )),
                Err(error) => failures.push(format!("{}: {error}", provider.id)),
            }
        }
        if fixture["expected"]["id"].as_str().is_none_or(str::is_empty) {
            failures.push(format!(
                "{}: a profile must produce a non-empty string id",
                provider.id
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} presets failed:\n{}",
        failures.len(),
        pipeline.providers.len(),
        failures.join("\n")
    );
}
