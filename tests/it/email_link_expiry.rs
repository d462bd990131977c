//! A sign-in link's `maxAge` on a clock the test moves: a link used within it signs in,
//! one used after it is Verification. In-process, so that the clock is the test's; the
//! message still goes through a real SMTP server.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use authgate::actions::{AuthRequest, AuthResponse, Method, csrf, email};
use authgate::clock::{Clock, ManualClock};
use authgate::config::ConfigSource;
use authgate::pipeline::Pipeline;
use authgate::reload::LiveConfig;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::smtp::{SmtpOptions, SmtpServer};
use crate::support::{ConfigDir, base_config, library_request, unbound_port};

const START: u64 = 1_800_000_000;
fn request(
    origin: &str,
    method: Method,
    fields: &[(&str, &str)],
    csrf_cookie: &str,
) -> AuthRequest {
    let fields: BTreeMap<String, String> = fields
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let (query, form) = match method {
        Method::Get => (fields, BTreeMap::new()),
        Method::Post => (BTreeMap::new(), fields),
    };
    let mut request = library_request(origin, method, &[("authjs.csrf-token", csrf_cookie)]);
    request.query = query;
    request.form = form;
    request
}

/// Requests a link for ada and returns its query, from the message the SMTP server got.
async fn mailed_link(
    pipeline: &Arc<Pipeline>,
    smtp: &SmtpServer,
    csrf_cookie: &str,
    token: &str,
    count: usize,
) -> Vec<(String, String)> {
    let provider = pipeline.provider("email").expect("the email provider");
    let post = request(
        &pipeline.base_url,
        Method::Post,
        &[("csrfToken", token), ("email", "ada@example.com")],
        csrf_cookie,
    );
    let response = email::sign_in(&post, pipeline, provider).await;
    assert_eq!(response.status, 302, "{response:?}");
    let mail = smtp
        .wait_for_messages(count, Duration::from_secs(10))
        .await
        .remove(count - 1);
    url::Url::parse(&mail.link())
        .unwrap()
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

async fn open(
    pipeline: &Arc<Pipeline>,
    query: &[(String, String)],
    csrf_cookie: &str,
) -> AuthResponse {
    let fields: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let get = request(&pipeline.base_url, Method::Get, &fields, csrf_cookie);
    email::callback(&get, pipeline, pipeline.provider("email").unwrap()).await
}

#[tokio::test]
async fn a_link_is_refused_from_its_max_age_on() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let db = TestDatabase::new(Backend::Sqlite).await;
    let dir = ConfigDir::new(&base_config(
        unbound_port(),
        &format!(
            "database:\n  url: \"{}\"\nproviders:\n  - id: email\n    type: email\n    from: auth@example.com\n    server: \"smtp://127.0.0.1:{}\"\n    maxAge: 1h\n",
            db.url, smtp.port
        ),
    ));
    let clock = Arc::new(ManualClock::at_unix_seconds(START));
    let source = ConfigSource::new(dir.config_path());
    let env: Arc<HashMap<String, String>> = Arc::new(HashMap::new());
    let live_clock: Arc<dyn Clock> = clock.clone();
    let live = tokio::task::spawn_blocking(move || LiveConfig::start(source, env, live_clock))
        .await
        .unwrap()
        .unwrap_or_else(|_| panic!("the config starts"));
    let pipeline = live.snapshot();
    let origin = pipeline.base_url.clone();
    let blank = request(&origin, Method::Get, &[], "");
    let (token, cookie) = csrf::csrf_token(&blank, &pipeline);
    let csrf_cookie = cookie
        .and_then(|cookie| cookie.value)
        .expect("a new CSRF cookie");

    // Used one second before it expires: signed in.
    let early = mailed_link(&pipeline, &smtp, &csrf_cookie, &token, 1).await;
    clock.advance(Duration::from_secs(3_599));
    let response = open(&pipeline, &early, &csrf_cookie).await;
    assert_eq!(
        response.location.as_deref(),
        Some(format!("{origin}/").as_str()),
        "{response:?}"
    );

    // Used at its expiry: Verification.
    let late = mailed_link(&pipeline, &smtp, &csrf_cookie, &token, 2).await;
    clock.advance(Duration::from_secs(3_600));
    let response = open(&pipeline, &late, &csrf_cookie).await;
    assert_eq!(
        response.location.as_deref(),
        Some(format!("{origin}/api/auth/error?error=Verification").as_str())
    );
    assert!(
        response
            .cookies
            .iter()
            .all(|cookie| cookie.spec.name != "authjs.session-token")
    );
}
