//! The email-service presets (Resend, SendGrid, Postmark, Mailgun, Loops, Forward Email)
//! deliver a sign-in link through `transport: http` to a local receiver that stands in for
//! the service's API and checks the request against the service's documentation
//! (`tests/fixtures/email_services/<id>.json`: method, path, authentication, content type,
//! body); the link in the request then signs the user in.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix_web::HttpResponse;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use authgate::config::presets::load_presets;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::http_stub;
use crate::support::{Browser, ConfigDir, Server, base_config, free_port};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    content_type: String,
    body: Vec<u8>,
}

struct Receiver {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

fn fixture(id: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/email_services/{id}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Answers each service's documented success (`response` of its fixture) to any request
/// under `/<id>/`, and records it.
fn start_receiver(answers: HashMap<String, Value>) -> Receiver {
    let (listener, base) = http_stub::bind();
    let received = Arc::new(Mutex::new(Vec::new()));
    let recorded = received.clone();
    http_stub::serve(listener, move |request, body| {
        let path = request.path().to_string();
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().unwrap_or_default().to_string();
                (name.as_str().to_string(), value)
            })
            .collect::<HashMap<_, _>>();
        recorded.lock().unwrap().push(Received {
            method: request.method().to_string(),
            path: path.clone(),
            content_type: headers.get("content-type").cloned().unwrap_or_default(),
            headers,
            body: body.to_vec(),
        });
        let id = path.trim_start_matches('/').split('/').next();
        let Some(answer) = id.and_then(|id| answers.get(id)) else {
            return HttpResponse::NotFound().finish();
        };
        let status = u16::try_from(answer["status"].as_u64().unwrap_or(200)).unwrap();
        let mut response =
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
        match &answer["body"] {
            Value::Null => response.finish(),
            body => response.json(body),
        }
    });
    Receiver { base, received }
}

/// The request body as a JSON value (a form becomes an object of strings).
fn body_value(request: &Received) -> Value {
    if request
        .content_type
        .starts_with("application/x-www-form-urlencoded")
    {
        let fields: Map<String, Value> = url::form_urlencoded::parse(&request.body)
            .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
            .collect();
        return Value::Object(fields);
    }
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

/// The sign-in link: the first string in the body that is a callback URL of `server`.
fn link_in(value: &Value, prefix: &str) -> Option<String> {
    match value {
        Value::String(text) if text.starts_with(prefix) => Some(text.clone()),
        Value::Array(items) => items.iter().find_map(|item| link_in(item, prefix)),
        Value::Object(map) => map.values().find_map(|item| link_in(item, prefix)),
        _ => None,
    }
}

/// Differences between the documented `expected` body and the one sent; the markers
/// `<url>`, `<subject>`, `<text>` and `<html>` stand for the link and the rendered message.
fn compare(expected: &Value, sent: &Value, link: &str, at: &str, problems: &mut Vec<String>) {
    match (expected, sent) {
        (Value::String(marker), Value::String(text)) if marker == "<url>" => {
            if text != link {
                problems.push(format!("{at}: {text:?} is not the sign-in link"));
            }
        }
        (Value::String(marker), Value::String(text)) if marker == "<subject>" => {
            if !text.starts_with("Sign in to ") {
                problems.push(format!("{at}: subject {text:?}"));
            }
        }
        (Value::String(marker), Value::String(text)) if marker == "<text>" => {
            if !text.contains(link) {
                problems.push(format!("{at}: the text part lacks the link"));
            }
        }
        (Value::String(marker), Value::String(text)) if marker == "<html>" => {
            let unescaped = text.replace("&#x2f;", "/").replace("&amp;", "&");
            if !unescaped.contains(&format!("href=\"{link}\"")) {
                problems.push(format!("{at}: the HTML part lacks the link"));
            }
        }
        (Value::Object(expected), Value::Object(sent)) => {
            for key in expected.keys().chain(sent.keys()) {
                match (expected.get(key), sent.get(key)) {
                    (Some(e), Some(s)) => compare(e, s, link, &format!("{at}/{key}"), problems),
                    (Some(_), None) => problems.push(format!("{at}/{key}: missing")),
                    (None, Some(_)) => problems.push(format!("{at}/{key}: not documented")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(expected), Value::Array(sent)) if expected.len() == sent.len() => {
            for (index, (e, s)) in expected.iter().zip(sent).enumerate() {
                compare(e, s, link, &format!("{at}/{index}"), problems);
            }
        }
        (expected, sent) if expected == sent => {}
        (expected, sent) => problems.push(format!("{at}: expected {expected}, sent {sent}")),
    }
}

#[tokio::test]
async fn every_email_service_preset_sends_the_documented_request_and_its_link_signs_in() {
    let (presets, _) = load_presets();
    let services: Vec<(String, Value)> = presets
        .iter()
        .filter(|(_, preset)| preset.value()["type"] == "email")
        .map(|(id, preset)| (id.clone(), preset.value().clone()))
        .collect();
    assert!(services.len() >= 6, "{services:?}");
    let answers = services
        .iter()
        .map(|(id, _)| (id.clone(), fixture(id)["response"].clone()))
        .collect();
    let receiver = start_receiver(answers);

    let db = TestDatabase::new(Backend::Sqlite).await;
    let mut providers = String::new();
    for (id, preset) in &services {
        let url = preset["http"]["url"].as_str().unwrap();
        let path = url.splitn(4, '/').nth(3).unwrap_or_default();
        let entry = json!({
            "use": id,
            "apiKey": "test-key",
            "from": "Example <auth@example.com>",
            "settings": fixture(id)["settings"],
            "http": {"url": format!("{}/{id}/{path}", receiver.base)},
        });
        providers.push_str(&format!("  - {entry}\n"));
    }
    let port = free_port();
    let config = base_config(
        port,
        &format!(
            "database:\n  url: \"{}\"\nrateLimits:\n  email: {{perAddress: \"off\", perIp: \"off\"}}\nproviders:\n{providers}",
            db.url
        ),
    );
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);

    let mut failures = Vec::new();
    for (id, _) in &services {
        let spec = &fixture(id)["request"];
        let browser = Browser::new(&server);
        let csrf = browser.csrf().await;
        let before = receiver.received.lock().unwrap().len();
        let response = browser
            .http
            .post(browser.url(&format!("/signin/{id}")))
            .form(&[("csrfToken", csrf.as_str()), ("email", "Ada@Example.com")])
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if response.status() != StatusCode::FOUND || !location.contains("/verify-request") {
            failures.push(format!(
                "{id}: sign-in answered {} to {location}",
                response.status()
            ));
            continue;
        }
        let sent: Vec<Received> = receiver.received.lock().unwrap()[before..].to_vec();
        let [request] = sent.as_slice() else {
            failures.push(format!("{id}: {} requests reached the service", sent.len()));
            continue;
        };
        let mut problems = Vec::new();
        if request.method != spec["method"] {
            problems.push(format!("method {}", request.method));
        }
        if request.path != format!("/{id}{}", spec["path"].as_str().unwrap()) {
            problems.push(format!("path {}", request.path));
        }
        for (name, value) in spec["headers"].as_object().unwrap() {
            if request.headers.get(name).map(String::as_str) != value.as_str() {
                problems.push(format!("header {name}: {:?}", request.headers.get(name)));
            }
        }
        if !request
            .content_type
            .starts_with(spec["content_type"].as_str().unwrap())
        {
            problems.push(format!("content type {}", request.content_type));
        }
        let body = body_value(request);
        let Some(link) = link_in(&body, &server.url("/api/auth/callback/")).or_else(|| {
            // The link may sit inside the text part only.
            let text = body.to_string();
            let start = text.find(&server.url("/api/auth/callback/"))?;
            let end = text[start..].find(['"', '\\', ' ', '\n'])? + start;
            Some(text[start..end].to_string())
        }) else {
            failures.push(format!("{id}: no sign-in link in {body}"));
            continue;
        };
        compare(&spec["body"], &body, &link, "body", &mut problems);
        if !problems.is_empty() {
            failures.push(format!("{id}: {}", problems.join("; ")));
            continue;
        }
        let signed_in = browser.http.get(&link).send().await.unwrap();
        let email = browser.session().await["user"]["email"].clone();
        if signed_in.status() != StatusCode::FOUND || email != "ada@example.com" {
            failures.push(format!("{id}: the link did not sign in ({email})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_service_that_refuses_is_email_signin_and_the_key_stays_out_of_the_log() {
    let mut answers = HashMap::new();
    answers.insert(
        "resend".to_string(),
        json!({"status": 401, "body": {"name": "validation_error"}}),
    );
    let receiver = start_receiver(answers);
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = free_port();
    let config = base_config(
        port,
        &format!(
            "database:\n  url: \"{}\"\nproviders:\n  - use: resend\n    apiKey: re_secret_key_123\n    from: auth@example.com\n    http: {{url: \"{}/resend/emails?key=re_secret_key_123\"}}\n",
            db.url, receiver.base
        ),
    );
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    let response = browser
        .http
        .post(browser.url("/signin/resend"))
        .form(&[("csrfToken", csrf.as_str()), ("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("error=EmailSignin"), "{location}");
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
    let log = server.log();
    assert!(log.contains("answered 401"), "{log}");
    assert!(!log.contains("re_secret_key_123"), "{log}");
}
