//! Sign-in attempt limits, per method, on real servers: over a limit the answer is 429
//! with `Retry-After` (the error page for a browser, `{url}` naming the error for a JSON
//! client), and the client IP comes from `X-Forwarded-For` only behind a trusted proxy.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::smtp::{SmtpOptions, SmtpServer};
use crate::support::{Browser, ConfigDir, Server, base_config, credentials_config, free_port};

struct Running {
    server: Server,
    _dir: ConfigDir,
    _db: Option<TestDatabase>,
}

async fn email_server(smtp: &SmtpServer, limits: &str) -> Running {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = free_port();
    let config = base_config(
        port,
        &format!(
            "database:\n  url: \"{}\"\n{limits}providers:\n  - id: email\n    type: email\n    from: auth@example.com\n    server: \"smtp://127.0.0.1:{}\"\n",
            db.url, smtp.port
        ),
    );
    let dir = ConfigDir::new(&config);
    Running {
        server: Server::start(&dir.config_path(), port),
        _dir: dir,
        _db: Some(db),
    }
}

fn credentials_server(extra: &str) -> Running {
    let port = free_port();
    let dir = ConfigDir::new(&credentials_config(port, extra));
    Running {
        server: Server::start(&dir.config_path(), port),
        _dir: dir,
        _db: None,
    }
}

/// Requests a link for `email`; the status, `Retry-After`, and the body.
async fn request_link(
    browser: &Browser,
    email: &str,
    json: bool,
) -> (StatusCode, Option<u64>, String) {
    let csrf = browser.csrf().await;
    let mut form = vec![("csrfToken", csrf.as_str()), ("email", email)];
    if json {
        form.push(("json", "true"));
    }
    let response = browser
        .http
        .post(browser.url("/signin/email"))
        .form(&form)
        .send()
        .await
        .unwrap();
    answer(response).await
}

async fn answer(response: reqwest::Response) -> (StatusCode, Option<u64>, String) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    (status, retry_after, response.text().await.unwrap())
}

#[tokio::test]
async fn email_links_are_limited_per_address_and_per_ip() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(
        &smtp,
        "rateLimits:\n  email: {perAddress: 2/1h, perIp: 4/1h}\n",
    )
    .await;
    let browser = Browser::new(&app.server);
    for _ in 0..2 {
        assert_eq!(
            request_link(&browser, "ada@example.com", false).await.0,
            StatusCode::FOUND
        );
    }
    // The same mailbox spelled otherwise is the same address.
    let (status, retry_after, body) = request_link(&browser, " ADA@example.com", false).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // One more attempt every 30 minutes.
    let retry_after = retry_after.expect("Retry-After");
    assert!((1_700..=1_800).contains(&retry_after), "{retry_after}");
    assert!(body.contains("Too many attempts"), "{body}");
    // A JSON client reads the error from `url`, as from any failed sign-in.
    let (status, retry_after, body) = request_link(&browser, "ada@example.com", true).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some());
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["url"], browser.url("/error?error=RateLimited"));

    // Other addresses have their own allowance, until the IP's is spent (2 links and 2
    // refusals so far count against the IP).
    assert_eq!(
        request_link(&browser, "bob@example.com", false).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(smtp.messages().len(), 2);
}

#[tokio::test]
async fn limits_are_on_by_default() {
    let smtp = SmtpServer::start(SmtpOptions::default());
    let app = email_server(&smtp, "").await;
    let browser = Browser::new(&app.server);
    for attempt in 1..=5 {
        assert_eq!(
            request_link(&browser, "ada@example.com", false).await.0,
            StatusCode::FOUND,
            "attempt {attempt}"
        );
    }
    assert_eq!(
        request_link(&browser, "ada@example.com", false).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Submits credentials from `browser` with an `X-Forwarded-For`; the status.
async fn submit(
    browser: &Browser,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, String) {
    let csrf = browser.csrf().await;
    let mut request = browser.http.post(browser.url("/callback/password")).form(&[
        ("csrfToken", csrf.as_str()),
        ("username", username),
        ("password", password),
    ]);
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    let response = request.send().await.unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status(), location)
}

#[tokio::test]
async fn failed_credentials_hold_a_username_back_and_successes_never_count() {
    let app =
        credentials_server("rateLimits:\n  credentials: {perUsername: 3/1h, perIp: \"off\"}\n");
    let browser = Browser::new(&app.server);
    // Signing in is never slowed down by one's own sign-ins.
    for attempt in 1..=5 {
        let (status, location) = submit(&browser, "ada", "correct horse", None).await;
        assert_eq!(status, StatusCode::FOUND, "sign-in {attempt}");
        assert!(!location.contains("error"), "{location}");
    }
    for username in ["ada", "ADA", " ada "] {
        let (status, location) = submit(&browser, username, "wrong", None).await;
        assert_eq!(status, StatusCode::FOUND, "{username}");
        assert!(location.contains("error=CredentialsSignin"), "{location}");
    }
    // The failure over the limit is refused, and holds the username back: even the right
    // password waits now, so guessing gains nothing.
    assert_eq!(
        submit(&browser, "ada", "wrong", None).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let fresh = Browser::new(&app.server);
    assert_eq!(
        submit(&fresh, "ada", "correct horse", None).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(fresh.session().await, Value::Null);
    // Another username is not held back.
    let (status, location) = submit(&fresh, "bob", "wrong", None).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location.contains("error=CredentialsSignin"), "{location}");
}

/// A wrong password for ada from each forwarded-for value in turn; the statuses.
async fn wrong_passwords_from(browser: &Browser, forwarded_for: [&str; 3]) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for value in forwarded_for {
        statuses.push(submit(browser, "ada", "wrong", Some(value)).await.0);
    }
    statuses
}

#[tokio::test]
async fn the_client_ip_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    let limits = "rateLimits:\n  credentials: {perUsername: \"off\", perIp: 2/1h}\n";
    // Without `trustHost` the header is the client's word: every attempt counts
    // against the connection's address.
    let direct = credentials_server(limits);
    let browser = Browser::new(&direct.server);
    assert_eq!(
        wrong_passwords_from(&browser, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]).await,
        [
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );

    // Behind one trusted proxy, the address it appended (the rightmost) is the client.
    let proxied = credentials_server(&format!("trustHost: true\n{limits}"));
    let browser = Browser::new(&proxied.server);
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        assert_eq!(
            submit(&browser, "ada", "wrong", Some(client)).await.0,
            StatusCode::FOUND,
            "{client}"
        );
    }
    // A client that writes its own values first still counts under the proxy's one.
    assert_eq!(
        wrong_passwords_from(
            &browser,
            [
                "198.51.100.1, 203.0.113.9",
                "198.51.100.2, 203.0.113.9",
                "198.51.100.3, 203.0.113.9"
            ]
        )
        .await,
        [
            StatusCode::FOUND,
            StatusCode::FOUND,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn oauth_starts_are_limited_per_ip() {
    let port = free_port();
    let config = base_config(
        port,
        "rateLimits:\n  oauth: {perIp: 2/1m}\nproviders:\n  - id: acme\n    type: oauth\n    clientId: acme-client\n    clientSecret: acme-secret-0123456789\n    authorization: https://idp.example/authorize\n    token: https://idp.example/token\n    userinfo: https://idp.example/userinfo\n",
    );
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let csrf = browser.csrf().await;
        let response = browser
            .http
            .post(browser.url("/signin/acme"))
            .form(&[("csrfToken", csrf.as_str())])
            .send()
            .await
            .unwrap();
        let (status, retry_after, _) = answer(response).await;
        statuses.push((status, retry_after.is_some()));
    }
    assert_eq!(
        statuses,
        [
            (StatusCode::FOUND, false),
            (StatusCode::FOUND, false),
            (StatusCode::TOO_MANY_REQUESTS, true)
        ]
    );
}
