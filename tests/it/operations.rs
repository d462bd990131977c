//! Operating one authgate: the Prometheus metrics on the admin listener (checked by
//! `promtool`), the audit log and its request ids, and the event webhooks against a real
//! receiver that checks their Standard Webhooks signatures itself.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::promtool::check_metrics;
use crate::support::webhooks::{Delivery, WebhookReceiver};
use crate::support::{
    Browser, ConfigDir, Server, credentials_config, eventually, fixture_config, free_port,
};

/// A `whsec_` secret (base64 of 32 bytes), as the receiver is given it.
const WEBHOOK_SECRET: &str = "whsec_dGVzdC13ZWJob29rLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

/// The credentials fixture (`ada` / `correct horse`) with `extra`, started with the
/// webhook secret in the environment.
struct App {
    server: Server,
    dir: ConfigDir,
}

fn app(extra: &str) -> App {
    let port = free_port();
    let dir = ConfigDir::new(&credentials_config(port, extra));
    let server = Server::start_with_env(
        &dir.config_path(),
        port,
        &[("WEBHOOK_SECRET", WEBHOOK_SECRET)],
    );
    App { server, dir }
}

fn webhooks(receiver: &WebhookReceiver, settings: &str) -> String {
    format!(
        "webhooks:\n  endpoints:\n    - url: {}\n      secret: ${{WEBHOOK_SECRET}}\n{settings}",
        receiver.url("/hooks")
    )
}

/// Submits credentials; the status and the `Location`.
async fn submit(browser: &Browser, username: &str, password: &str) -> (StatusCode, String) {
    let csrf = browser.csrf().await;
    let response = browser
        .sign_in(&[
            ("csrfToken", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .await;
    let location = response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status(), location)
}

async fn metrics_text(server: &Server) -> String {
    let response = reqwest::get(server.admin_url("/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

/// The value of the sample of `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// A metric, some of its labels, and the value expected.
type Expected<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);

fn audit_lines(dir: &ConfigDir) -> Vec<Value> {
    std::fs::read_to_string(dir.path().join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every audit line is JSON"))
        .collect()
}

async fn served_generation_is(server: &Server, generation: u64) -> bool {
    eventually(Duration::from_secs(10), || async {
        (crate::support::served_generation(server).await == Some(generation)).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test]
async fn metrics_move_with_sign_ins_failures_and_reloads_and_pass_promtool() {
    let receiver = WebhookReceiver::start(WEBHOOK_SECRET);
    let extra = format!(
        "logging:\n  audit: audit.jsonl\n{}",
        webhooks(&receiver, "")
    );
    let app = app(&extra);
    let browser = Browser::new(&app.server);
    let (status, location) = submit(&browser, "ada", "correct horse").await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(!location.contains("error"), "{location}");
    assert_eq!(browser.session().await["user"]["email"], "ada@example.com");
    let (_, location) = submit(&Browser::new(&app.server), "ada", "wrong").await;
    assert!(location.contains("error=CredentialsSignin"), "{location}");
    assert_eq!(browser.sign_out().await.status(), StatusCode::FOUND);

    // One good reload, then one that fails and keeps generation 2.
    let config = std::fs::read_to_string(app.dir.config_path()).unwrap();
    app.dir.replace(
        "authgate.yaml",
        &format!("{config}theme:\n  brandColor: \"#123456\"\n"),
    );
    assert!(
        served_generation_is(&app.server, 2).await,
        "{}",
        app.server.log()
    );
    // The reloaded authorize script is a new compiled script; its runs add to the same
    // series.
    let (_, location) = submit(&Browser::new(&app.server), "ada", "wrong").await;
    assert!(location.contains("error=CredentialsSignin"), "{location}");
    app.dir.replace("authgate.yaml", "url: [unclosed\n");
    let failed = app
        .server
        .log_when(Duration::from_secs(10), |log| {
            log.contains("configuration reload failed")
        })
        .await;
    assert!(failed.contains("configuration reload failed"), "{failed}");

    let text = metrics_text(&app.server).await;
    let credentials = [("provider", "password"), ("method", "credentials")];
    let signed_in = [credentials.as_slice(), &[("outcome", "success")]].concat();
    let refused = [credentials.as_slice(), &[("outcome", "CredentialsSignin")]].concat();
    let cases: [Expected; 7] = [
        ("authgate_sign_ins_total", &signed_in, 1.0),
        ("authgate_sign_ins_total", &refused, 2.0),
        ("authgate_config_reloads_total", &[("result", "ok")], 1.0),
        (
            "authgate_config_reloads_total",
            &[("result", "failed")],
            1.0,
        ),
        ("authgate_config_generation", &[], 2.0),
        (
            "authgate_script_runs_total",
            &[("outcome", "ok"), ("script", "providers[0].authorize")],
            3.0,
        ),
        (
            "authgate_session_reads_total",
            &[("strategy", "jwt"), ("outcome", "active")],
            1.0,
        ),
    ];
    for (name, labels, expected) in cases {
        assert_eq!(
            sample(&text, name, labels),
            Some(expected),
            "{name} {labels:?}\n{text}"
        );
    }
    assert!(
        sample(
            &text,
            "authgate_http_requests_total",
            &[("action", "callback"), ("status", "302")]
        )
        .is_some_and(|count| count >= 2.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "authgate_http_request_duration_seconds_bucket",
            &[("action", "session"), ("le", "+Inf")]
        )
        .is_some_and(|count| count >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "authgate_config_last_success_timestamp_seconds", &[])
            .is_some_and(|at| at > 1.7e9),
        "{text}"
    );
    // No label carries user data.
    for private in ["ada", "example.com", "42", "127.0.0.1"] {
        let labelled = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                line.split_once('{')
                    .and_then(|(_, rest)| rest.split_once('}'))
            })
            .any(|(labels, _)| labels.contains(&format!("\"{private}")));
        assert!(!labelled, "{private} in a label:\n{text}");
    }
    check_metrics(&text).unwrap_or_else(|problems| panic!("promtool: {problems}\n{text}"));

    // The audit log: one line per security event, each with the request's id, which the
    // request log names too.
    let lines = audit_lines(&app.dir);
    let events: Vec<(String, String, Value)> = lines
        .iter()
        .map(|line| {
            (
                line["event"].as_str().unwrap().to_string(),
                line["outcome"].as_str().unwrap().to_string(),
                line["code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            ("sign_in".into(), "success".into(), Value::Null),
            (
                "sign_in".into(),
                "failure".into(),
                "CredentialsSignin".into()
            ),
            ("sign_out".into(), "success".into(), Value::Null),
            (
                "sign_in".into(),
                "failure".into(),
                "CredentialsSignin".into()
            ),
        ],
        "{lines:?}"
    );
    let log = app.server.log();
    for line in &lines {
        assert_eq!(line["schema"], "authgate.audit/1");
        assert_eq!(line["clientIp"], "127.0.0.1");
        let request_id = line["requestId"].as_str().expect("a request id");
        assert!(
            log.contains(&format!("request_id={request_id}")),
            "{request_id}"
        );
    }
    assert_eq!(lines[0]["userId"], "credentials:password:42");
    assert_eq!(lines[0]["provider"], "password");
    assert_eq!(lines[0]["method"], "credentials");
    assert_eq!(lines[1]["userId"], Value::Null);

    // The webhooks: signed, verified by the receiver's own code, without tokens.
    let deliveries = receiver
        .wait_for(
            "signIn and signOut",
            Duration::from_secs(10),
            |deliveries| deliveries.len() >= 2,
        )
        .await;
    // Deliveries run concurrently: their order is not the events' order.
    let mut deliveries = deliveries;
    deliveries.sort_by_key(|delivery| delivery.body.as_ref().unwrap()["type"].to_string());
    let types: Vec<&str> = deliveries
        .iter()
        .map(|delivery| delivery.body.as_ref().unwrap()["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["signIn", "signOut"], "{deliveries:?}");
    for delivery in &deliveries {
        assert!(delivery.verified, "{delivery:?}");
        assert_eq!(delivery.status, 204);
        let body = delivery.body.as_ref().unwrap().to_string();
        assert!(!body.contains("hash"), "{body}");
    }
    assert_eq!(
        deliveries[0].body.as_ref().unwrap()["data"]["user"]["email"],
        "ada@example.com"
    );
    assert_ne!(deliveries[0].id, deliveries[1].id);
}

fn ids_of(deliveries: &[Delivery]) -> Vec<String> {
    deliveries.iter().filter_map(|d| d.id.clone()).collect()
}

#[tokio::test]
async fn a_webhook_survives_a_receiver_outage_and_a_full_queue_drops_without_blocking() {
    let receiver = WebhookReceiver::start(WEBHOOK_SECRET);
    receiver.set_status(503).await;
    let app = app(&webhooks(
        &receiver,
        "  attempts: 10\n  backoff: 1s\n  maxBackoff: 1s\n",
    ));
    let (status, _) = submit(&Browser::new(&app.server), "ada", "correct horse").await;
    assert_eq!(status, StatusCode::FOUND);
    // The receiver is down: the delivery is attempted again, under the same id.
    let failing = receiver
        .wait_for(
            "two failed attempts",
            Duration::from_secs(10),
            |deliveries| deliveries.iter().filter(|d| d.status == 503).count() >= 2,
        )
        .await;
    let id = failing[0].id.clone().unwrap();
    assert!(
        failing
            .iter()
            .all(|d| d.verified && d.id.as_deref() == Some(&id))
    );
    // It comes back, and the same message is delivered.
    receiver.set_status(204).await;
    let delivered = receiver
        .wait_for(
            "the delivery after recovery",
            Duration::from_secs(10),
            |deliveries| deliveries.iter().any(|d| d.status == 204),
        )
        .await;
    assert!(ids_of(&delivered).iter().all(|delivered| *delivered == id));
    let text = metrics_text(&app.server).await;
    assert_eq!(
        sample(
            &text,
            "authgate_webhook_deliveries_total",
            &[("outcome", "delivered")]
        ),
        Some(1.0)
    );
    assert!(
        sample(
            &text,
            "authgate_webhook_deliveries_total",
            &[("outcome", "retried")]
        )
        .is_some_and(|retried| retried >= 2.0),
        "{text}"
    );

    // A queue of one, held by a delivery waiting a minute for its retry: the next event is
    // dropped and counted, and the sign-ins answer as ever.
    receiver.set_status(503).await;
    let full = app_with_queue(&receiver);
    for _ in 0..2 {
        let (status, location) = submit(&Browser::new(&full.server), "ada", "correct horse").await;
        assert_eq!(status, StatusCode::FOUND);
        assert!(!location.contains("error"), "{location}");
    }
    let dropped = eventually(Duration::from_secs(5), || async {
        let text = metrics_text(&full.server).await;
        sample(
            &text,
            "authgate_webhook_deliveries_total",
            &[("outcome", "dropped_full")],
        )
        .filter(|dropped| *dropped >= 1.0)
    })
    .await;
    assert_eq!(dropped, Some(1.0));
}

fn app_with_queue(receiver: &WebhookReceiver) -> App {
    app(&webhooks(
        receiver,
        "  queue: 1\n  attempts: 2\n  backoff: 60s\n  maxBackoff: 60s\n",
    ))
}

#[tokio::test]
async fn webhook_and_shared_state_settings_are_checked() {
    let port = free_port();
    let cases = [
        (
            "webhooks:\n  endpoints:\n    - url: http://hooks.example.com/x\n      secret: whsec_dGVzdC13ZWJob29rLWtleS0wMTIzNDU2Nzg5YWJjZGVm\n",
            "expected an https URL",
        ),
        (
            "webhooks:\n  endpoints:\n    - url: https://hooks.example.com/x\n      secret: not-a-whsec-secret-at-all-0123456789\n",
            "must start with `whsec_`",
        ),
        (
            "state:\n  backend: redis\n",
            "`backend: redis` needs `redis.url`",
        ),
        (
            "state:\n  backend: redis\n  redis:\n    url: http://127.0.0.1:6379\n",
            "expected `redis://host:port/db`",
        ),
        (
            "state:\n  backend: database\n",
            "`backend: database` needs a `database`",
        ),
    ];
    for (extra, expected) in cases {
        let dir = ConfigDir::new(&format!("{}{extra}", fixture_config("base.yaml", port)));
        let (code, report) = crate::support::check_config(&dir.config_path());
        assert_ne!(code, Some(0), "{extra}");
        assert!(report.contains(expected), "{extra}: {report}");
        assert!(
            !report.contains("not-a-whsec"),
            "a secret was shown: {report}"
        );
    }
}

#[tokio::test]
async fn refusals_outside_the_error_path_are_audited_too() {
    let port = free_port();
    let config = format!(
        "{}{}",
        fixture_config("base.yaml", port),
        r#"  admin:
    listen: 127.0.0.1:0
    bearerToken: admin-token-0123456789abcdef0123456789
logging:
  audit: audit.jsonl
providers:
  - id: password
    type: credentials
    credentials:
      username: { label: Username }
    authorize: |
      #{ id: credentials.username, name: credentials.username }
callbacks:
  signIn: |
    if user.id == "away" { "/elsewhere" } else { true }
"#
    );
    // The base config ends inside `server:`; the admin block above replaces its own.
    let config = config.replacen("  admin:\n    listen: 127.0.0.1:0\n", "", 1);
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    let response = browser
        .sign_in(&[("csrfToken", csrf.as_str()), ("username", "away")])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/elsewhere")
    );
    let refused = reqwest::Client::new()
        .get(server.admin_url("/admin/users"))
        .bearer_auth("a-wrong-token-0123456789abcdef0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let lines = eventually(Duration::from_secs(5), || async {
        let lines = audit_lines(&dir);
        (lines.len() >= 2).then_some(lines)
    })
    .await
    .unwrap_or_else(|| audit_lines(&dir));
    let summary: Vec<(&str, &str, &str, &str)> = lines
        .iter()
        .map(|line| {
            (
                line["event"].as_str().unwrap_or_default(),
                line["outcome"].as_str().unwrap_or_default(),
                line["code"].as_str().unwrap_or_default(),
                line["actor"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("sign_in", "failure", "AccessDenied", "user"),
            ("admin_request", "failure", "AccessDenied", "admin"),
        ],
        "{lines:?}\n{}\n{config}",
        server.log()
    );
}
