//! Attacks on the session endpoints of a real server, each test named after its attack.

use serde_json::{Value, json};

use crate::credentials_flow::start;
use crate::support::Browser;

async fn signed_in() -> (
    crate::support::ConfigDir,
    crate::support::Server,
    Browser,
    String,
) {
    let (dir, server) = start("");
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    let response = browser
        .sign_in(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("csrfToken", &csrf),
        ])
        .await;
    assert_eq!(response.status(), 302);
    (dir, server, browser, csrf)
}

fn form_with(token: Option<&str>) -> Vec<(&'static str, String)> {
    token
        .map(|token| vec![("csrfToken", token.to_string())])
        .unwrap_or_default()
}

#[tokio::test]
async fn missing_mismatched_or_forged_csrf_is_refused_on_every_post() {
    let (_dir, server, browser, csrf) = signed_in().await;
    let forged = "f".repeat(64);
    for (name, token) in [
        ("missing", None),
        ("mismatched", Some(forged.as_str())),
        ("empty", Some("")),
    ] {
        // Sign-in with credentials.
        let mut form = vec![("username", "ada"), ("password", "correct horse")];
        if let Some(token) = token {
            form.push(("csrfToken", token));
        }
        let response = browser
            .http
            .post(browser.url("/callback/password"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{name}");
        assert_eq!(
            response.headers()["location"],
            format!("{}/api/auth/error?error=MissingCSRF", server.base).as_str(),
            "{name}"
        );
        assert!(
            response.headers().get("set-cookie").is_none(),
            "{name}: a cookie was set"
        );

        // Sign-in start.
        let response = browser
            .http
            .post(browser.url("/signin/password"))
            .form(&form_with(token))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["location"],
            format!("{}/api/auth/error?error=MissingCSRF", server.base).as_str(),
            "{name}"
        );

        // Session update.
        let body = match token {
            Some(token) => json!({"csrfToken": token, "data": {"name": "Mallory"}}),
            None => json!({"data": {"name": "Mallory"}}),
        };
        let response = browser
            .http
            .post(browser.url("/session"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{name}");

        // Sign-out.
        let mut form = vec![];
        if let Some(token) = token {
            form.push(("csrfToken", token));
        }
        let response = browser
            .http
            .post(browser.url("/signout"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["location"],
            format!("{}/api/auth/error?error=MissingCSRF", server.base).as_str(),
            "{name}"
        );
    }
    // Still signed in, unchanged.
    assert_eq!(browser.session().await["user"]["name"], "Ada");
    drop(csrf);
}

#[tokio::test]
async fn a_csrf_cookie_from_another_secret_is_refused() {
    let (_dir, server, browser, _csrf) = signed_in().await;
    let token = "a".repeat(64);
    let foreign_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(format!(
            "{token}some-other-secret-0123456789abcdef0123"
        )))
    };
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/api/auth/callback/password", server.base))
        .header(
            "cookie",
            format!("authjs.csrf-token={token}|{foreign_hash}"),
        )
        .form(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("csrfToken", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        format!("{}/api/auth/error?error=MissingCSRF", server.base).as_str()
    );
    drop(browser);
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn tampered_session_cookie_reads_as_null_and_is_cleared() {
    let (_dir, server, browser, _csrf) = signed_in().await;
    let token = browser.session_token().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine as _;
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"sub": "1", "name": "Admin", "exp": 4_000_000_000u64}).to_string());
    let cases = [
        (
            "payload",
            format!("{}.{}.{}", parts[0], forged_claims, parts[2]),
        ),
        (
            "signature",
            format!("{}.{}.{}", parts[0], parts[1], "A".repeat(parts[2].len())),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
                forged_claims
            ),
        ),
        ("garbage", "garbage".to_string()),
    ];
    for (name, forged) in cases {
        let response = plain_client()
            .get(format!("{}/api/auth/session", server.base))
            .header("cookie", format!("authjs.session-token={forged}"))
            .send()
            .await
            .unwrap();
        let cleared = response.headers().get_all("set-cookie").iter().any(|v| {
            v.to_str().unwrap().starts_with("authjs.session-token=;")
                || v.to_str().unwrap().contains("Max-Age=0")
        });
        assert!(cleared, "{name}: cookie not cleared");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            Value::Null,
            "{name}"
        );
    }
}

#[tokio::test]
async fn callback_urls_to_other_origins_fall_back_to_the_base_url() {
    let (_dir, server) = start("");
    let base = server.base.clone();
    let port = base.rsplit(':').next().unwrap();
    let cases = [
        ("//evil.com", base.clone()),
        ("/\\evil.com", base.clone()),
        ("https://127.0.0.1.evil.com/x", base.clone()),
        ("javascript:alert(1)", base.clone()),
        ("\t/dashboard", base.clone()),
        ("\r\n/dashboard", base.clone()),
        (
            &format!("http://127.0.0.1:{}/x", port.parse::<u16>().unwrap() + 1),
            base.clone(),
        ),
        ("https://evil.com/phish", base.clone()),
        ("/dashboard?tab=1", format!("{base}/dashboard?tab=1")),
        (
            &format!("{base}/same-origin"),
            format!("{base}/same-origin"),
        ),
    ];
    for (candidate, expected) in cases {
        let browser = Browser::new(&server);
        let csrf = browser.csrf().await;
        assert_eq!(
            browser.sign_in_to(&csrf, candidate).await,
            expected.as_str(),
            "callbackUrl {candidate:?}"
        );
    }
}

#[tokio::test]
async fn a_redirect_callback_can_allow_a_listed_foreign_origin() {
    let (_dir, server) = start(
        "  redirect: |\n    if url.starts_with(\"https://app.example.com/\") { url } else { baseUrl }\n",
    );
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    for (candidate, expected) in [
        (
            "https://app.example.com/home",
            "https://app.example.com/home".to_string(),
        ),
        ("https://evil.example.com/home", server.base.clone()),
    ] {
        assert_eq!(
            browser.sign_in_to(&csrf, candidate).await,
            expected.as_str(),
            "{candidate}"
        );
    }
}

#[tokio::test]
async fn oversize_body_and_cookie_are_refused_and_the_server_stays_up() {
    let (_dir, server, browser, csrf) = signed_in().await;
    let huge = "x".repeat(200 * 1024);
    let response = browser
        .http
        .post(browser.url("/callback/password"))
        .form(&[
            ("username", huge.as_str()),
            ("password", "p"),
            ("csrfToken", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // Many small fields, in a form or in JSON: refused before any script sees them.
    let fields: Vec<(String, String)> = (0..201)
        .map(|index| (format!("f{index}"), "v".to_string()))
        .chain([("csrfToken".to_string(), csrf.clone())])
        .collect();
    let json: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(name, value)| (name.clone(), serde_json::Value::from(value.as_str())))
        .collect();
    for request in [
        browser
            .http
            .post(browser.url("/callback/password"))
            .form(&fields),
        browser
            .http
            .post(browser.url("/callback/password"))
            .json(&json),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.text().await.unwrap(),
            "Error: the body has more than 200 fields."
        );
    }
    let cookie = format!("authjs.session-token={}", "y".repeat(20 * 1024));
    let response = plain_client()
        .get(format!("{}/api/auth/session", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success() || response.status().is_client_error());
    let health = plain_client()
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn scripts_that_loop_or_allocate_forever_are_denied_within_budget() {
    for (name, authorize) in [
        ("infinite loop", "loop { }"),
        ("huge string", "let s = \"x\"; loop { s += s; }"),
        ("deep recursion", "fn f(n) { f(n + 1) } f(0)"),
    ] {
        let port = crate::support::free_port();
        let config = crate::credentials_flow::credentials_config(port, "").replace(
            "      let users = #{",
            &format!("      {authorize};\n      let users = #{{"),
        );
        let dir = crate::support::ConfigDir::new(&config);
        let server = crate::support::Server::start(&dir.config_path(), port);
        let browser = Browser::new(&server);
        let csrf = browser.csrf().await;
        let started = std::time::Instant::now();
        let response = browser
            .sign_in(&[
                ("username", "ada"),
                ("password", "correct horse"),
                ("csrfToken", &csrf),
                ("json", "true"),
            ])
            .await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{name}: took {:?}",
            started.elapsed()
        );
        let body: Value = response.json().await.unwrap();
        assert!(
            body["url"]
                .as_str()
                .unwrap()
                .contains("error=CredentialsSignin"),
            "{name}: {body}"
        );
        assert_eq!(browser.session().await, Value::Null, "{name}");
        let health = plain_client()
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "{name}");
    }
}

#[tokio::test]
async fn a_broken_chunk_set_reads_as_null_and_is_cleared() {
    let (_dir, server) = start("");
    let mut cookie = String::new();
    for index in [0, 2, 5] {
        cookie.push_str(&format!("authjs.session-token.{index}=x; "));
    }
    let response = plain_client()
        .get(format!("{}/api/auth/session", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let cleared: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .filter(|v| v.contains("Max-Age=0"))
        .collect();
    assert_eq!(cleared.len(), 3, "{cleared:?}");
    assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
}

#[tokio::test]
async fn a_csrf_token_in_the_query_string_is_not_accepted() {
    let (_dir, _server, browser, csrf) = signed_in().await;
    let response = browser
        .http
        .post(format!("{}?csrfToken={csrf}", browser.url("/session")))
        .json(&json!({"data": {"name": "Mallory"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(browser.session().await["user"]["name"], "Ada");
}
