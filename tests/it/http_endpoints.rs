//! The Auth.js endpoints and operational endpoints of a real running server.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{ConfigDir, Server, base_config, client, free_port, get_json, set_cookies};

const PROVIDERS: &str = "providers:
  - use: github
    clientId: id
    clientSecret: secret
  - id: password
    type: credentials
    name: Password
    authorize: \"()\"
";

fn start(extra: &str) -> (ConfigDir, Server) {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(port, extra));
    let server = Server::start(&dir.config_path(), port);
    (dir, server)
}

#[tokio::test]
async fn providers_endpoint_answers_in_the_auth_js_shape_in_config_order() {
    let (_dir, server) = start(PROVIDERS);
    let response = client()
        .get(server.url("/api/auth/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let base = &server.base;
    assert_eq!(
        body,
        json!({
            "github": {
                "id": "github", "name": "GitHub", "type": "oauth",
                "signinUrl": format!("{base}/api/auth/signin/github"),
                "callbackUrl": format!("{base}/api/auth/callback/github"),
            },
            "password": {
                "id": "password", "name": "Password", "type": "credentials",
                "signinUrl": format!("{base}/api/auth/signin/password"),
                "callbackUrl": format!("{base}/api/auth/callback/password"),
            }
        })
    );
    let order: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(order, ["github", "password"]);
}

#[tokio::test]
async fn csrf_token_comes_with_a_double_submit_cookie_and_no_cache_headers() {
    let (_dir, server) = start("");
    let response = client()
        .get(server.url("/api/auth/csrf"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "private, no-cache, no-store"
    );
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("authjs.csrf-token="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );
    let body: Value = response.json().await.unwrap();
    let token = body["csrfToken"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64);
    let value = cookie
        .trim_start_matches("authjs.csrf-token=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // Written as Auth.js writes it: the `|` percent-encoded.
    assert!(value.starts_with(&format!("{token}%7C")), "{value}");

    // The same valid cookie keeps its token and is not set again.
    let again = client()
        .get(server.url("/api/auth/csrf"))
        .header("cookie", format!("authjs.csrf-token={value}"))
        .send()
        .await
        .unwrap();
    assert!(set_cookies(&again).is_empty());
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["csrfToken"], token.as_str());
}

#[tokio::test]
async fn forged_csrf_cookie_is_replaced_by_a_new_token() {
    let (_dir, server) = start("");
    let forged = format!("{}|{}", "a".repeat(64), "b".repeat(64));
    let response = client()
        .get(server.url("/api/auth/csrf"))
        .header("cookie", format!("authjs.csrf-token={forged}"))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1);
    let body: Value = response.json().await.unwrap();
    assert_ne!(body["csrfToken"], "a".repeat(64));
}

#[tokio::test]
async fn csrf_cookie_is_host_prefixed_and_secure_when_the_url_is_https() {
    let port = free_port();
    let config = base_config(port, "").replace(
        &format!("url: http://127.0.0.1:{port}"),
        "url: https://auth.example.com",
    );
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    let response = client()
        .get(server.url("/api/auth/csrf"))
        .send()
        .await
        .unwrap();
    let cookie = &set_cookies(&response)[0];
    assert!(cookie.starts_with("__Host-authjs.csrf-token="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn unknown_actions_answer_404_and_other_methods_405() {
    let (_dir, server) = start(PROVIDERS);
    let http = client();
    let unknown = http
        .get(server.url("/api/auth/nonsense"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.text().await.unwrap(),
        "Error: This action with HTTP GET is not supported by authgate."
    );
    let post_csrf = http
        .post(server.url("/api/auth/csrf"))
        .send()
        .await
        .unwrap();
    assert_eq!(post_csrf.status(), 404);
    let put = http.put(server.url("/api/auth/csrf")).send().await.unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET, POST");
    let delete = http
        .delete(server.url("/api/auth/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 405);
    let outside = http
        .get(server.url("/somewhere/else"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
    let outside_put = http
        .put(server.url("/somewhere/else"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside_put.status(), 404);
    let head = http
        .head(server.url("/api/auth/csrf"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 405);
    for path in [
        "/api/auth/session/extra",
        "/api/auth/signin/nobody",
        "/api/auth/callback/nobody",
    ] {
        let response = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn a_custom_base_path_moves_every_action() {
    let (_dir, server) = start(&format!("basePath: /auth/\n{PROVIDERS}"));
    let http = client();
    let moved = http
        .get(server.url("/auth/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let body: Value = moved.json().await.unwrap();
    assert_eq!(
        body["github"]["signinUrl"],
        format!("{}/auth/signin/github", server.base)
    );
    let old = http
        .get(server.url("/api/auth/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
}

#[tokio::test]
async fn public_readiness_tells_only_status_and_generation_and_the_admin_view_the_rest() {
    let (_dir, server) = start(PROVIDERS);
    let http = client();
    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let public = get_json(server.url("/readyz")).await.unwrap();
    assert_eq!(
        public,
        serde_json::json!({"status": "ready", "generation": 1})
    );
    let admin_url = server.admin_url("/readyz");
    assert!(admin_url.starts_with("http://127.0.0.1:"), "{admin_url}");
    let admin: Value = http
        .get(admin_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["status"], "ready");
    assert_eq!(admin["generation"], 1);
    assert_eq!(admin["reload"]["lastReload"], Value::Null);
    assert_eq!(
        admin["summary"],
        "2 providers (github, password), session strategy jwt, store none"
    );
    // The admin listener serves nothing of the Auth.js protocol.
    let providers = http
        .get(server.admin_url("/api/auth/providers"))
        .send()
        .await
        .unwrap();
    assert_eq!(providers.status(), 404);
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let (_dir, mut server) = start("");
    let response = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "authgate did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "exit status {status:?}; log:\n{}",
        server.log()
    );
}

#[tokio::test]
async fn request_log_names_the_path_but_never_the_query() {
    let (_dir, server) = start("");
    client()
        .get(server.url("/api/auth/csrf?token=very-secret-query-value"))
        .send()
        .await
        .unwrap();
    let log = server
        .log_when(Duration::from_secs(3), |log| {
            log.contains("path=/api/auth/csrf")
        })
        .await;
    assert!(log.contains("/api/auth/csrf"), "{log}");
    assert!(!log.contains("very-secret-query-value"), "{log}");
    assert!(
        !log.contains(crate::support::SECRET),
        "secret in log:\n{log}"
    );
}

async fn github_signin_url(server: &Server, headers: &[(&str, &str)]) -> String {
    let mut request = client().get(server.url("/api/auth/providers"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    body["github"]["signinUrl"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn forwarded_host_is_used_only_when_trusted_and_plain() {
    let (_trusting_dir, trusting) = start(&format!("trustHost: true\n{PROVIDERS}"));
    let (_strict_dir, strict) = start(PROVIDERS);
    let (_two_hops_dir, two_hops) = start(&format!("trustHost: true\nproxyHops: 2\n{PROVIDERS}"));
    let configured = |server: &Server| format!("{}/api/auth/signin/github", server.base);
    let cases = [
        (
            "a client-supplied first value is passed over for the one the proxy appended",
            &trusting,
            vec![
                ("x-forwarded-host", "evil.example, auth.example.com"),
                ("x-forwarded-proto", "http, https"),
            ],
            "https://auth.example.com/api/auth/signin/github".to_string(),
        ),
        (
            "a second header line from the proxy wins over the client's line",
            &trusting,
            vec![
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-host", "auth.example.com"),
            ],
            "http://auth.example.com/api/auth/signin/github".to_string(),
        ),
        (
            "fewer values than trusted hops means a proxy did not append: the configured url",
            &two_hops,
            vec![("x-forwarded-host", "evil.example")],
            configured(&two_hops),
        ),
        (
            "a client's Forwarded header does not set the scheme",
            &trusting,
            vec![
                ("x-forwarded-host", "auth.example.com"),
                ("forwarded", "proto=https"),
            ],
            "http://auth.example.com/api/auth/signin/github".to_string(),
        ),
        (
            "with two trusted hops the outer proxy's value is used",
            &two_hops,
            vec![
                (
                    "x-forwarded-host",
                    "evil.example, auth.example.com, internal.example",
                ),
                ("x-forwarded-proto", "http, https, http"),
            ],
            "https://auth.example.com/api/auth/signin/github".to_string(),
        ),
        (
            "trusted proxy headers build the URL",
            &trusting,
            vec![
                ("x-forwarded-host", "auth.example.com"),
                ("x-forwarded-proto", "https"),
            ],
            "https://auth.example.com/api/auth/signin/github".to_string(),
        ),
        (
            "without a forwarded proto the connection's scheme is used",
            &trusting,
            vec![("x-forwarded-host", "auth.example.com")],
            "http://auth.example.com/api/auth/signin/github".to_string(),
        ),
        (
            "a host with a path falls back to the configured url",
            &trusting,
            vec![("x-forwarded-host", "evil.example/phish?")],
            configured(&trusting),
        ),
        (
            "an unknown scheme falls back to the configured url",
            &trusting,
            vec![
                ("x-forwarded-host", "auth.example.com"),
                ("x-forwarded-proto", "javascript"),
            ],
            configured(&trusting),
        ),
        (
            "forwarded headers are ignored without trustHost",
            &strict,
            vec![
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "https"),
            ],
            configured(&strict),
        ),
    ];
    for (name, server, headers, expected) in cases {
        assert_eq!(
            github_signin_url(server, &headers).await,
            expected,
            "{name}"
        );
    }
}

#[tokio::test]
async fn csrf_cookie_follows_a_trusted_proxy_that_says_https() {
    let (_dir, server) = start("trustHost: true\n");
    let response = client()
        .get(server.url("/api/auth/csrf"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "auth.example.com")
        .send()
        .await
        .unwrap();
    let cookie = &set_cookies(&response)[0];
    assert!(cookie.starts_with("__Host-authjs.csrf-token="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    let plain = client()
        .get(server.url("/api/auth/csrf"))
        .send()
        .await
        .unwrap();
    let cookie = &set_cookies(&plain)[0];
    assert!(cookie.starts_with("authjs.csrf-token="), "{cookie}");
}

#[tokio::test]
async fn a_passed_socket_is_taken_only_when_listen_pid_names_this_process() {
    let cases = [
        (
            vec![("LISTEN_FDS", "1"), ("LISTEN_PID", "1")],
            "LISTEN_PID does not name this process",
        ),
        (
            vec![("LISTEN_FDS", "1")],
            "LISTEN_PID does not name this process",
        ),
    ];
    for (env, note) in cases {
        let port = crate::support::unbound_port();
        let dir = ConfigDir::new(&base_config(port, ""));
        // Started directly: the variables are not meant for it, and it binds server.listen.
        let server = Server::start_direct(&dir.config_path(), port, &env);
        let log = server
            .log_when(Duration::from_secs(3), |log| log.contains(note))
            .await;
        assert!(log.contains(note), "{env:?}: {log}");
        assert!(
            log.contains(&format!("listening address=127.0.0.1:{port}")),
            "{log}"
        );
    }
    // The harness passes each server its socket the way systemd does.
    let (_dir, server) = start("");
    let log = server
        .log_when(Duration::from_secs(3), |log| {
            log.contains("serving the socket passed in LISTEN_FDS")
        })
        .await;
    assert!(
        log.contains("serving the socket passed in LISTEN_FDS"),
        "{log}"
    );
}
