//! The authorization URL every preset produces, pinned in `tests/fixtures/auth_urls.txt`:
//! endpoint, scope, params, response mode, PKCE and nonce. For a preset that discovers its
//! endpoints, the authorization endpoint stands in as `<issuer>/(discovered)`.
//! `UPDATE_SNAPSHOTS=1 cargo nextest run preset_auth_urls` rewrites the file after a
//! reviewed change.

use std::collections::HashMap;
use std::path::Path;

use oauth2::{PkceCodeChallenge, PkceCodeVerifier};

use authgate::actions::oauth::checks_of;
use authgate::config::ConfigSource;
use authgate::config::presets::config_using_every_builtin_preset;
use authgate::config::provider::Check;
use authgate::pipeline::build_pipeline;
use authgate::providers::discovery::Endpoints;
use authgate::providers::oauth_client::{AuthorizationRequest, authorization_url};

use crate::support::{ConfigDir, SECRET};

const SNAPSHOT: &str = "tests/fixtures/auth_urls.txt";

#[test]
fn every_preset_builds_its_pinned_authorization_url() {
    let dir = ConfigDir::new(&config_using_every_builtin_preset(
        "https://auth.example.com",
        SECRET,
    ));
    let env: HashMap<String, String> = HashMap::new();
    let pipeline = build_pipeline(&ConfigSource::new(dir.config_path()), &env, 1)
        .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    let verifier = PkceCodeVerifier::new("v".repeat(43));
    let mut lines = Vec::new();
    for provider in pipeline
        .providers
        .iter()
        .filter(|p| p.kind.has_oauth_tokens())
    {
        let config = &provider.config;
        let authorization = config
            .authorization
            .as_ref()
            .and_then(|endpoint| endpoint.url())
            .map(str::to_string)
            .or_else(|| {
                config
                    .issuer
                    .as_ref()
                    .or(config.well_known.as_ref())
                    .map(|issuer| format!("{}/(discovered)", issuer.trim_end_matches('/')))
            })
            .unwrap_or_else(|| panic!("{}: no authorization endpoint", provider.id));
        let endpoints = Endpoints {
            issuer: config.issuer.clone(),
            authorization,
            token: "https://token.invalid/token".into(),
            userinfo: None,
            jwks_uri: None,
            iss_parameter_supported: false,
        };
        let checks = checks_of(provider);
        let url = authorization_url(
            config,
            &endpoints,
            AuthorizationRequest {
                redirect_uri: &format!(
                    "https://auth.example.com/api/auth/callback/{}",
                    provider.id
                ),
                state: "STATE",
                pkce_challenge: checks
                    .contains(&Check::Pkce)
                    .then(|| PkceCodeChallenge::from_code_verifier_sha256(&verifier)),
                nonce: checks.contains(&Check::Nonce).then_some("NONCE"),
                extra: &[],
            },
        )
        .unwrap_or_else(|error| panic!("{}: {error}", provider.id));
        lines.push(format!("{} {url}", provider.id));
    }
    let got = lines.join("\n") + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    let changed: Vec<String> = got
        .lines()
        .zip(expected.lines().chain(std::iter::repeat("(missing)")))
        .filter(|(got, expected)| got != expected)
        .map(|(got, expected)| format!("expected: {expected}\n     got: {got}"))
        .collect();
    assert!(
        changed.is_empty() && got.lines().count() == expected.lines().count(),
        "{} authorization URLs differ from {SNAPSHOT} (UPDATE_SNAPSHOTS=1 rewrites it):\n{}",
        changed.len(),
        changed.join("\n")
    );
}
