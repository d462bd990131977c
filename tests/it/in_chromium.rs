//! The pages, the browser client and next-auth/react in a real browser: Debian's Chromium
//! driven by playwright-core (`tests/browser/`). One authgate server with a credentials, an
//! OpenID Connect (the test IdP) and an email (the test SMTP server) provider serves every
//! scenario; each scenario is a Node script that prints its steps and fails loudly.
//! Screenshots go to `<target>/tmp/browser-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::idp::{CLIENT_SECRET, Idp};
use crate::support::smtp::{SmtpOptions, SmtpServer};
use authgate::actions::pages::domain_tag;

use crate::support::{ConfigDir, SECRET, Server, fixture_config, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Where the scenarios save screenshots.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots")
}

/// Everything one scenario runs against.
struct Stage {
    server: Server,
    idp: Idp,
    smtp: SmtpServer,
    _db: TestDatabase,
    _dir: ConfigDir,
}

async fn stage() -> Stage {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").is_dir(),
        "the browser tests are not installed: run `npm ci --prefix tests/browser` (.ci/run does)"
    );
    let port = free_port();
    let idp = Idp::start_for(port, "idp");
    let smtp = SmtpServer::start(SmtpOptions::default());
    let db = TestDatabase::new(Backend::Sqlite).await;
    let providers = format!(
        "providers:
  - id: idp
    type: oidc
    name: Test IdP
    issuer: {issuer}
    clientId: idp-client
    clientSecret: {CLIENT_SECRET}
    style: {{ bg: \"#0f766e\", text: \"#ffffff\" }}
  - id: email
    type: email
    name: Email
    from: \"Authgate <auth@example.com>\"
    server: \"smtp://127.0.0.1:{smtp_port}\"
",
        issuer = idp.issuer,
        smtp_port = smtp.port
    );
    let config = format!(
        "{}database:\n  url: \"{}\"\nsession:\n  strategy: jwt\n",
        fixture_config("base.yaml", port),
        db.url
    ) + fixture_config("credentials.yaml", port)
        .replacen("providers:\n", &providers, 1)
        .as_str();
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    Stage {
        server,
        idp,
        smtp,
        _db: db,
        _dir: dir,
    }
}

/// Runs `node tests/browser/run.mjs <scenario>` against `stage` and fails with its output.
fn run_scenario(stage: &Stage, scenario: &str) {
    let settings = json!({
        "base": stage.server.base,
        "issuer": stage.idp.issuer,
        "mailbox": stage.smtp.maildir(),
        "artifacts": screenshot_dir(),
        "domainTag": domain_tag("example.com", SECRET),
    });
    run_node(scenario, &settings, &stage.server);
}

fn run_node(scenario: &str, settings: &serde_json::Value, server: &Server) {
    let output = Command::new("node")
        .arg("run.mjs")
        .arg(scenario)
        .current_dir(browser_dir())
        .env("AUTHGATE_BROWSER_TEST", settings.to_string())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser scenario {scenario} failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        server.log()
    );
}

#[tokio::test]
async fn every_page_passes_axe_in_light_and_dark_with_keyboard_focus_in_order() {
    let stage = stage().await;
    run_scenario(&stage, "pages");
}

#[tokio::test]
async fn the_branded_example_with_its_own_template_and_german_texts_passes_axe_too() {
    // A copy, so that the server's log stays out of the repository.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/branded");
    let read = |name: &str| std::fs::read_to_string(example.join(name)).unwrap();
    let dir = ConfigDir::new(&read("authgate.yaml"));
    dir.write("pages/error.html", &read("pages/error.html"));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server::start_with_env(
        &dir.config_path(),
        port,
        &[("AUTHGATE_URL", base.as_str()), ("AUTHGATE_SECRET", SECRET)],
    );
    let settings = json!({
        "base": server.base,
        "artifacts": screenshot_dir(),
        "screenshotPrefix": "branded-",
        "domainTag": domain_tag("example.com", SECRET),
    });
    run_node("pages", &settings, &server);
}

#[tokio::test]
async fn people_sign_in_with_the_form_an_oidc_button_and_an_email_link_without_javascript() {
    let stage = stage().await;
    run_scenario(&stage, "sign-in");
}

#[tokio::test]
async fn the_browser_client_syncs_tabs_polls_and_updates() {
    let stage = stage().await;
    run_scenario(&stage, "client");
}

#[tokio::test]
async fn next_auth_v4_react_signs_in_reads_the_session_and_signs_out() {
    let stage = stage().await;
    run_scenario(&stage, "next-auth-v4");
}

#[tokio::test]
async fn next_auth_v5_react_signs_in_reads_the_session_and_signs_out() {
    let stage = stage().await;
    run_scenario(&stage, "next-auth-v5");
}

#[test]
fn the_client_declarations_type_check_an_app_using_every_export() {
    let tsc = browser_dir().join("node_modules/typescript/bin/tsc");
    assert!(
        tsc.exists(),
        "typescript is not installed: run `npm ci --prefix tests/browser` (.ci/run does)"
    );
    let output = Command::new("node")
        .arg(tsc)
        .args([
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--module",
            "es2022",
            "--moduleResolution",
            "bundler",
            "client-types.ts",
        ])
        .current_dir(browser_dir())
        .output()
        .expect("run tsc");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
