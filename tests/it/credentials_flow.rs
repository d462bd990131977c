//! Credentials sign-in through a real server and a cookie-jar client, in both Auth.js
//! conventions: csrf → wrong password → right password → session → update → sign-out.

use serde_json::{Value, json};

use crate::support::{Browser, ConfigDir, Server, base_config, free_port};

/// `base.yaml` plus `credentials.yaml` (one user, `ada` / `correct horse`), plus `extra`.
pub fn credentials_config(port: u16, extra: &str) -> String {
    base_config(
        port,
        &format!(
            "{}{extra}",
            crate::support::fixture_config("credentials.yaml", port)
        ),
    )
}

pub fn start(extra: &str) -> (ConfigDir, Server) {
    let port = free_port();
    let dir = ConfigDir::new(&credentials_config(port, extra));
    let server = Server::start(&dir.config_path(), port);
    (dir, server)
}

#[tokio::test]
async fn v4_flow_with_json_true_signs_in_updates_and_signs_out() {
    let (_dir, server) = start("");
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;

    let wrong = browser
        .sign_in(&[
            ("username", "ada"),
            ("password", "wrong"),
            ("csrfToken", &csrf),
            ("callbackUrl", "/dashboard"),
            ("json", "true"),
        ])
        .await;
    // next-auth v4 answers a failed credentials sign-in with 401, and its client reads it.
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body["url"],
        format!(
            "{}/api/auth/signin?error=CredentialsSignin&code=credentials&callbackUrl=%2Fdashboard",
            server.base
        )
    );
    assert_eq!(browser.session().await, Value::Null);

    let right = browser
        .sign_in(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("csrfToken", &csrf),
            ("callbackUrl", "/dashboard"),
            ("json", "true"),
        ])
        .await;
    let body: Value = right.json().await.unwrap();
    assert_eq!(body["url"], format!("{}/dashboard", server.base));

    let session = browser.session().await;
    assert_eq!(
        session["user"],
        json!({"name": "Ada", "email": "ada@example.com", "id": "42", "role": "admin"})
    );
    assert!(session["expires"].as_str().unwrap().ends_with('Z'));

    let updated: Value = browser.update(&csrf, json!({"name": "Ada Lovelace"})).await;
    assert_eq!(updated["user"]["name"], "Ada Lovelace");
    assert_eq!(browser.session().await["user"]["name"], "Ada Lovelace");

    let out = browser
        .http
        .post(browser.url("/signout"))
        .form(&[
            ("csrfToken", csrf.as_str()),
            ("callbackUrl", "/bye"),
            ("json", "true"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = out.json().await.unwrap();
    assert_eq!(body["url"], format!("{}/bye", server.base));
    assert_eq!(browser.session().await, Value::Null);
}

#[tokio::test]
async fn v5_flow_with_the_return_redirect_header_and_plain_redirects() {
    let (_dir, server) = start("");
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    let response = browser
        .http
        .post(browser.url("/callback/password"))
        .header("X-Auth-Return-Redirect", "1")
        .form(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("csrfToken", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["url"], server.base);
    assert_eq!(browser.session().await["user"]["email"], "ada@example.com");

    // Without either convention the answer is a real redirect.
    let out = browser
        .http
        .post(browser.url("/signout"))
        .form(&[("csrfToken", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 302);
    assert_eq!(out.headers()["location"], server.base.as_str());
    assert_eq!(browser.session().await, Value::Null);
}

#[tokio::test]
async fn reading_the_session_slides_its_expiry_and_reissues_the_cookie() {
    let (_dir, server) = start("");
    let browser = Browser::new(&server);
    browser.sign_in_as_ada().await;
    let response = browser
        .http
        .get(browser.url("/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["cache-control"],
        "private, no-cache, no-store"
    );
    let cookies = crate::support::set_cookies(&response);
    // The session cookie, and the CSRF cookie that names its browser, both slide.
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for (cookie, name) in cookies
        .iter()
        .zip(["authjs.session-token=", "authjs.csrf-token="])
    {
        assert!(cookie.starts_with(name), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
    }
}

#[tokio::test]
async fn a_large_session_is_chunked_and_read_back() {
    let (_dir, server) = start("");
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    assert_eq!(
        browser.update(&csrf, json!({})).await,
        Value::Null,
        "no session yet"
    );

    browser
        .sign_in(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("csrfToken", &csrf),
        ])
        .await;
    let big_name = "N".repeat(9000);
    let updated: Value = browser.update(&csrf, json!({"name": big_name})).await;
    assert_eq!(updated["user"]["name"].as_str().map(str::len), Some(9000));
    let cookies = browser.cookie_header();
    assert!(cookies.contains("authjs.session-token.0="), "{cookies}");
    assert!(cookies.contains("authjs.session-token.2="), "{cookies}");
    assert!(
        !cookies.contains("authjs.session-token="),
        "the whole cookie must be gone: {cookies}"
    );
    assert_eq!(
        browser.session().await["user"]["name"]
            .as_str()
            .map(str::len),
        Some(9000)
    );

    // Shrinking back expires the chunks.
    browser.update(&csrf, json!({"name": "Ada"})).await;
    let cookies = browser.cookie_header();
    assert!(!cookies.contains("authjs.session-token.0"), "{cookies}");
    assert_eq!(browser.session().await["user"]["name"], "Ada");
}

#[tokio::test]
async fn v4_apps_with_the_next_auth_prefix_read_no_session_as_an_empty_object() {
    let (_dir, server) = start("cookies:\n  prefix: next-auth.\n");
    let browser = Browser::new(&server);
    assert_eq!(browser.session().await, json!({}));
    browser.sign_in_as_ada().await;
    assert!(browser.cookie_header().contains("next-auth.session-token="));
    assert_eq!(browser.session().await["user"]["name"], "Ada");
}
