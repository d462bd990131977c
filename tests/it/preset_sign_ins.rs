//! Every OAuth and OpenID Connect preset signs a user in, from the authorization request
//! to a session, against a local stand-in of its provider (`support::provider_standin`)
//! that answers as the provider's documentation says: Twitch's scope array, Naver's string
//! `expires_in`, VK's and WeChat's missing `token_type`, HubSpot's token in the path,
//! Salesforce's userinfo, GitHub's `/user/emails`. The session must hold the user the
//! preset's fixture expects, with its email in its one stored spelling, and the account's
//! tokens as the answer said (scope, expiry, type).

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use authgate::config::presets::load_presets;

use crate::support::provider_standin::{ProviderStandIn, Scenario};
use crate::support::{Browser, ConfigDir, Server, base_config, free_port};

/// Makes every client secret long enough to be an HS256 key (LINE signs id_tokens with it).
const SECRET_PADDING: &str = "0123456789abcdef0123456789abcdef";

fn fixture(id: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/profiles/{id}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// An endpoint (a URL, or `{url, ...}`) pointed at the stand-in; `None` without a URL.
fn rewritten_endpoint(
    standin: &ProviderStandIn,
    id: &str,
    role: &str,
    endpoint: &Value,
) -> Option<Value> {
    match endpoint {
        Value::String(url) => Some(json!(standin.rewrite(id, role, url))),
        Value::Object(details) => {
            let mut overlay = Map::new();
            if let Some(url) = details.get("url").and_then(Value::as_str) {
                overlay.insert("url".into(), json!(standin.rewrite(id, role, url)));
            }
            if let Some(Value::Object(include)) = details.get("include") {
                let rewritten: Map<String, Value> = include
                    .iter()
                    .filter_map(|(name, value)| {
                        let role = format!("include/{name}");
                        Some((name.clone(), rewritten_endpoint(standin, id, &role, value)?))
                    })
                    .collect();
                overlay.insert("include".into(), Value::Object(rewritten));
            }
            (!overlay.is_empty()).then_some(Value::Object(overlay))
        }
        _ => None,
    }
}

/// The `providers:` entry that uses preset `id` with every endpoint on the stand-in, and
/// the stand-in's scenario for it.
fn entry_and_scenario(standin: &ProviderStandIn, id: &str, preset: &Value) -> (Value, Scenario) {
    let fixture = fixture(id);
    let mut entry = json!({
        "use": id,
        "clientId": format!("client-{id}"),
        "clientSecret": format!("secret-{id}-{SECRET_PADDING}"),
    });
    let requires: Vec<&str> = preset["requires"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if requires.contains(&"apiKey") {
        entry["apiKey"] = json!(format!("api-key-{id}"));
    }
    let issuer = preset["issuer"]
        .as_str()
        .map(|issuer| standin.rewrite(id, "issuer", issuer))
        .or_else(|| {
            requires
                .contains(&"issuer")
                .then(|| standin.rewrite(id, "issuer", &format!("tenant.example.com/{id}")))
        });
    if let Some(issuer) = &issuer {
        entry["issuer"] = json!(issuer);
    }
    // A preset's `{issuer}/...` template already lands on the stand-in's issuer.
    let templated = preset["wellKnown"]
        .as_str()
        .is_some_and(|url| url.contains("{issuer}"));
    if !templated && (preset.get("wellKnown").is_some() || requires.contains(&"wellKnown")) {
        let issuer = issuer.as_deref().unwrap_or_default().trim_end_matches('/');
        entry["wellKnown"] = json!(format!("{issuer}/.well-known/openid-configuration"));
    }
    for role in ["authorization", "token", "userinfo"] {
        let has_url = preset[role].is_string() || preset[role]["url"].is_string();
        let endpoint = match preset.get(role) {
            // The user supplies the URL (a preset may still give the endpoint's options).
            _ if requires.contains(&role) && !has_url => {
                json!(format!("https://tenant.example.com/{role}"))
            }
            Some(endpoint) => endpoint.clone(),
            None => continue,
        };
        let path_role = if role == "authorization" {
            "authorize"
        } else {
            role
        };
        if let Some(overlay) = rewritten_endpoint(standin, id, path_role, &endpoint) {
            entry[role] = overlay;
        }
    }
    let includes = preset["userinfo"]["include"]
        .as_object()
        .map(|include| include.keys().cloned().collect())
        .unwrap_or_default();
    let mut tokens = fixture["tokens"].as_object().cloned().unwrap_or_default();
    tokens
        .entry("access_token")
        .or_insert_with(|| json!(format!("access-token-{id}")));
    let scenario = Scenario {
        client_id: format!("client-{id}"),
        client_secret: format!("secret-{id}-{SECRET_PADDING}"),
        issuer,
        algorithm: preset["client"]["idTokenSignedResponseAlg"]
            .as_str()
            .unwrap_or("RS256")
            .to_string(),
        tokens,
        profile: fixture["profile"].as_object().cloned().unwrap_or_default(),
        includes,
        oidc: preset["type"] == "oidc",
        profile_from_userinfo: preset["profileFrom"] == "userinfo",
        id_token_subject: None,
    };
    (entry, scenario)
}

/// `entry_and_scenario` for one built-in preset.
fn preset_entry_and_scenario(standin: &ProviderStandIn, id: &str) -> (Value, Scenario) {
    let (presets, _) = load_presets();
    entry_and_scenario(standin, id, presets[id].value())
}

/// authgate with `entries` as its providers, JWT sessions, no OAuth rate limit, and
/// callbacks that put the provider account id and the stored tokens in the session.
fn start_server(entries: &[Value]) -> (ConfigDir, Server) {
    let providers: String = entries
        .iter()
        .map(|entry| format!("  - {entry}\n"))
        .collect();
    let port = free_port();
    let config = base_config(
        port,
        &format!(
            "session: {{strategy: jwt}}\nrateLimits:\n  oauth: {{perIp: \"off\"}}\ncallbacks:\n  jwt: |\n    if account != () {{\n      token.providerAccountId = account.providerAccountId;\n      token.parsed = #{{ scope: account.scope, expires_at: account.expires_at, token_type: account.token_type, access_token: account.access_token }};\n    }}\n    token\n  session: |\n    session.user.id = token.providerAccountId;\n    session.parsed = token.parsed;\n    session\nproviders:\n{providers}"
        ),
    );
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    (dir, server)
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// One sign-in with preset `id`, start to session; the session's user.
async fn sign_in(server: &Server, id: &str, form_post: bool) -> Result<Value, String> {
    let browser = Browser::new(server);
    let csrf = browser.csrf().await;
    let started = browser
        .http
        .post(browser.url(&format!("/signin/{id}")))
        .form(&[("csrfToken", csrf.as_str()), ("callbackUrl", "/after")])
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let authorization = location(&started);
    if started.status() != StatusCode::FOUND
        || !authorization.contains(&format!("/{id}/authorize/"))
    {
        return Err(format!(
            "sign-in start answered {} to {authorization}",
            started.status()
        ));
    }
    let consented = browser
        .http
        .get(&authorization)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let callback = location(&consented);
    if consented.status() != StatusCode::FOUND {
        return Err(format!("authorize answered {}", consented.status()));
    }
    let finished = if form_post {
        let url = url::Url::parse(&callback).map_err(|error| error.to_string())?;
        let form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let target = callback.split('?').next().unwrap_or_default().to_string();
        browser.http.post(target).form(&form).send().await
    } else {
        browser.http.get(&callback).send().await
    }
    .map_err(|error| error.to_string())?;
    let landed = location(&finished);
    if landed != server.url("/after") {
        return Err(format!(
            "the callback answered {} to {landed}",
            finished.status()
        ));
    }
    Ok(browser.session().await)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// The account authgate stored from a token answer says what the provider sent: the scope
/// as one space-separated string (a JSON array joined), the expiry from a number or a
/// numeric string, and `bearer` for a missing `token_type`.
fn check_parsed_tokens(tokens: &Value, parsed: &Value, signed_in_at: i64) -> Result<(), String> {
    if parsed["access_token"] != tokens["access_token"] && tokens.get("access_token").is_some() {
        return Err("another access token".into());
    }
    let scope = match &tokens["scope"] {
        Value::Array(scopes) => json!(
            scopes
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::String(scope) => json!(scope.split_whitespace().collect::<Vec<_>>().join(" ")),
        _ => Value::Null,
    };
    if parsed["scope"] != scope {
        return Err(format!("scope {} instead of {scope}", parsed["scope"]));
    }
    let lifetime = match &tokens["expires_in"] {
        Value::Number(seconds) => seconds.as_i64(),
        Value::String(seconds) => seconds.trim().parse::<i64>().ok(),
        _ => None,
    };
    match (lifetime, parsed["expires_at"].as_i64()) {
        (Some(lifetime), Some(at))
            if (signed_in_at + lifetime..=now() + lifetime).contains(&at) => {}
        (None, None) => {}
        (lifetime, at) => return Err(format!("expires_at {at:?} for expires_in {lifetime:?}")),
    }
    let token_type = tokens["token_type"]
        .as_str()
        .map_or("bearer".to_string(), str::to_ascii_lowercase);
    if parsed["token_type"] != json!(token_type) {
        return Err(format!(
            "token_type {} instead of {token_type}",
            parsed["token_type"]
        ));
    }
    Ok(())
}

/// The quirks the issue names must stay in the fixtures, or this test would stop proving
/// that they are read.
fn assert_quirks_are_exercised() {
    type Holds = fn(&Value) -> bool;
    let quirks: [(&str, Holds, &str); 4] = [
        ("twitch", |t| t["scope"].is_array(), "a JSON array scope"),
        (
            "naver",
            |t| t["expires_in"].is_string(),
            "a string expires_in",
        ),
        ("vk", |t| t.get("token_type").is_none(), "no token_type"),
        ("wechat", |t| t.get("token_type").is_none(), "no token_type"),
    ];
    for (id, holds, what) in quirks {
        assert!(holds(&fixture(id)["tokens"]), "{id}'s fixture lost {what}");
    }
    let hubspot = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("providers.d/hubspot.yaml"),
    )
    .expect("hubspot preset");
    assert!(
        hubspot.contains("/{accessToken}"),
        "HubSpot's token left the path"
    );
}

#[tokio::test]
async fn every_oauth_and_oidc_preset_signs_a_user_in_against_its_documented_provider() {
    assert_quirks_are_exercised();
    let standin = ProviderStandIn::start();
    let (presets, diagnostics) = load_presets();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let mut entries = Vec::new();
    let mut cases = Vec::new();
    for (id, preset) in &presets {
        let preset = preset.value();
        if !matches!(preset["type"].as_str(), Some("oauth" | "oidc")) {
            continue;
        }
        let (entry, scenario) = entry_and_scenario(&standin, id, preset);
        standin.add(id, scenario);
        entries.push(entry);
        cases.push((id.clone(), preset["responseMode"] == "form_post"));
    }
    let (_dir, server) = start_server(&entries);

    let mut failures = Vec::new();
    for (id, form_post) in &cases {
        let expected = &fixture(id)["expected"];
        let wanted = json!({
            "id": expected["id"],
            "name": expected["name"],
            "email": expected["email"].as_str().map(|email| email.trim().to_lowercase()),
            "image": expected["image"],
        });
        let signed_in_at = now();
        match sign_in(&server, id, *form_post).await {
            Ok(session) => {
                let user = &session["user"];
                let got = json!({
                    "id": user["id"],
                    "name": user["name"],
                    "email": user["email"],
                    "image": user["image"],
                });
                if got != wanted {
                    failures.push(format!("{id}: expected {wanted}, got {got}"));
                }
                let token_method = match presets[id.as_str()].value()["token"]["method"].as_str() {
                    Some("GET") => "GET",
                    _ => "POST",
                };
                if !standin.hits(id).contains(&format!("token {token_method}")) {
                    failures.push(format!(
                        "{id}: the token request was not a {token_method}: {:?}",
                        standin.hits(id)
                    ));
                }
                let tokens = fixture(id)["tokens"].clone();
                if let Err(problem) = check_parsed_tokens(&tokens, &session["parsed"], signed_in_at)
                {
                    failures.push(format!(
                        "{id}: the token answer {tokens} was read as {}: {problem}",
                        session["parsed"]
                    ));
                }
            }
            Err(error) => failures.push(format!(
                "{id}: {error}; the stand-in refused: {:?}",
                standin.complaints(id)
            )),
        }
    }
    let log = server.log();
    assert!(
        failures.is_empty(),
        "{} of {} presets failed:\n{}\n--- server log (tail) ---\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n"),
        log.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        cases.len() >= 92,
        "Auth.js v5 lists 92 OAuth/OIDC providers; the catalogue has {}",
        cases.len()
    );
}

/// GitHub's `/user/emails` is read only when the public address is private (null), and a
/// token that may not read it (a GitHub App without the email permission) still signs in,
/// without an email. The list decides the address only through a primary, verified entry.
#[tokio::test]
async fn github_reads_emails_only_for_a_private_address_and_signs_in_without_them() {
    let standin = ProviderStandIn::start();
    let (entry, scenario) = preset_entry_and_scenario(&standin, "github");
    let (_dir, server) = start_server(&[entry]);
    let emails = json!([
        {"email": "old@example.com", "primary": false, "verified": true},
        {"email": "Primary@Example.com", "primary": true, "verified": true},
    ]);
    let cases = [
        (
            "a public address",
            json!("Public@Example.com"),
            Some(emails.clone()),
            json!("public@example.com"),
            false,
        ),
        (
            "a private address",
            Value::Null,
            Some(emails),
            json!("primary@example.com"),
            true,
        ),
        (
            "a private address, the list refused",
            Value::Null,
            None,
            Value::Null,
            true,
        ),
    ];
    for (case, email, list, expected, reads_list) in cases {
        let mut scenario = scenario.clone();
        scenario.profile.insert("email".into(), email);
        scenario.profile.remove("emails");
        if let Some(list) = list {
            scenario.profile.insert("emails".into(), list);
        }
        standin.add("github", scenario);
        let before = standin.hits("github").len();
        let session = sign_in(&server, "github", false)
            .await
            .unwrap_or_else(|error| panic!("{case}: {error}"));
        assert_eq!(session["user"]["email"], expected, "{case}");
        let hits = standin.hits("github")[before..].to_vec();
        assert_eq!(
            hits.iter().any(|hit| hit.starts_with("include/emails ")),
            reads_list,
            "{case}: {hits:?}"
        );
    }
}

/// With `profileFrom: userinfo` (Salesforce), a userinfo document about another subject
/// than the id_token's is refused (OpenID Connect Core 5.3.2), not signed in.
#[tokio::test]
async fn a_userinfo_document_of_another_subject_is_refused() {
    let standin = ProviderStandIn::start();
    let (entry, mut scenario) = preset_entry_and_scenario(&standin, "salesforce");
    scenario.id_token_subject =
        Some("https://login.salesforce.com/id/00D000000000001/005000000000002".into());
    standin.add("salesforce", scenario);
    let (_dir, server) = start_server(&[entry]);
    let error = sign_in(&server, "salesforce", false)
        .await
        .expect_err("signed in with another user's userinfo");
    assert!(error.contains("error=OAuthCallback"), "{error}");
    let log = server.log();
    assert!(
        log.contains("the userinfo `sub` is not the id_token's"),
        "{log}"
    );
}
