//! Tokens for APIs and cross-origin clients: `/token` access tokens verified offline by an
//! independent JOSE library (`jose` from npm) against `/jwks`; RFC 7662 introspection of
//! access tokens and session tokens (active, expired, revoked), with client authentication;
//! an access token is never a session; and CORS for allowed origins only.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::{
    Browser, ConfigDir, Server, base_config, cli, client, fixture_config, free_port,
};

const AUDIENCE: &str = "https://api.example.com";
const CLIENT_SECRET: &str = "gateway-secret-0123456789abcdef0123";

struct Stage {
    server: Server,
    _db: TestDatabase,
    _dir: ConfigDir,
}

async fn stage() -> Stage {
    let output = cli()
        .args(["keys", "generate", "--alg", "ES256", "--kid", "api-key"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let pem = &text[text.find("-----BEGIN").unwrap()..];
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = free_port();
    let extra = format!(
        "database:
  url: \"{}\"
session:
  strategy: jwt
jwt:
  algorithm: ES256
  keys:
    - file: keys/session.pem
accessTokens:
  audience: {AUDIENCE}
  lifetime: 3s
  claims: |
    claims.role = user.role;
    claims.groups = [\"staff\"];
    claims.sub = \"forged\";
    claims
introspection:
  clients:
    - id: gateway
      secret: {CLIENT_SECRET}
      sessionTokens: true
    - id: api
      secret: {CLIENT_SECRET}
cors:
  allowedOrigins: [\"https://spa.example.com\"]
",
        db.url
    );
    let config = base_config(
        port,
        &format!("{extra}{}", fixture_config("credentials.yaml", port)),
    );
    let dir = ConfigDir::new(&config);
    dir.write("keys/session.pem", pem);
    let server = Server::start(&dir.config_path(), port);
    Stage {
        server,
        _db: db,
        _dir: dir,
    }
}

async fn signed_in(server: &Server) -> Browser {
    let browser = Browser::new(server);
    browser.sign_in_as_ada().await;
    assert_eq!(browser.session().await["user"]["name"], "Ada");
    browser
}

async fn access_token(browser: &Browser) -> String {
    let answer = browser.get_json("/token").await;
    assert_eq!(answer["token_type"], "Bearer", "{answer}");
    assert_eq!(answer["expires_in"], 3);
    answer["access_token"].as_str().unwrap().to_string()
}

async fn introspect(
    server: &Server,
    token: &str,
    credentials: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut request = client()
        .post(server.url("/api/auth/introspect"))
        .form(&[("token", token)]);
    if let Some((id, secret)) = credentials {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        request = request.header("authorization", format!("Basic {basic}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

const GATEWAY: Option<(&str, &str)> = Some(("gateway", CLIENT_SECRET));

#[tokio::test]
async fn an_access_token_verifies_offline_with_an_independent_jose_library() {
    let stage = stage().await;
    let browser = signed_in(&stage.server).await;
    let token = access_token(&browser).await;
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/jose").is_dir(),
        "jose is not installed: run `npm ci --prefix tests/browser` (.ci/run does)"
    );
    let output = Command::new("node")
        .arg("verify-token.mjs")
        .arg(stage.server.url("/api/auth/jwks"))
        .arg(stage.server.url("/api/auth"))
        .arg(AUDIENCE)
        .arg(&token)
        .current_dir(&browser_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verified: Value = serde_json::from_slice(&output.stdout).unwrap();
    let payload = &verified["payload"];
    assert_eq!(verified["header"]["typ"], "at+jwt");
    assert_eq!(verified["header"]["alg"], "ES256");
    // The script shaped the claims, but could not change the subject.
    assert_eq!(payload["sub"], "credentials:password:42", "{verified}");
    assert_eq!(payload["role"], "admin");
    assert_eq!(payload["groups"][0], "staff");
    assert_eq!(payload["aud"], AUDIENCE);
    assert!(payload["sid"].is_string() && payload["jti"].is_string());
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
        3
    );
    // An access token is never a session.
    let as_cookie: Value = client()
        .get(stage.server.url("/api/auth/session"))
        .header("cookie", format!("authjs.session-token={token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_cookie, Value::Null);
    // No session, no token.
    let response = client()
        .get(stage.server.url("/api/auth/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn introspection_tells_active_expired_and_revoked_tokens_to_known_clients_only() {
    let stage = stage().await;
    let server = &stage.server;
    let browser = signed_in(server).await;
    let token = access_token(&browser).await;
    let session_token = browser.session_token().unwrap();

    for credentials in [
        None,
        Some(("gateway", "wrong-secret")),
        Some(("other", CLIENT_SECRET)),
    ] {
        let (status, body) = introspect(server, &token, credentials).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{credentials:?}"
        );
    }
    let (status, active) = introspect(server, &token, GATEWAY).await;
    assert_eq!(status, 200);
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["token_type"], "access_token");
    // The subject is the session's recorded owner: a credentials user of a script is
    // namespaced, so its id can never name a store user.
    assert_eq!(active["sub"], "credentials:password:42");
    let (_, session) = introspect(server, &session_token, GATEWAY).await;
    assert_eq!(
        (session["active"].as_bool(), session["token_type"].as_str()),
        (Some(true), Some("session")),
        "{session}"
    );
    // A client not allowed to see session tokens does not.
    let (_, hidden) = introspect(server, &session_token, Some(("api", CLIENT_SECRET))).await;
    assert_eq!(hidden, serde_json::json!({ "active": false }));
    let (_, seen) = introspect(server, &token, Some(("api", CLIENT_SECRET))).await;
    assert_eq!(seen["active"], true);
    let (_, garbage) = introspect(server, "not.a.token", GATEWAY).await;
    assert_eq!(garbage, serde_json::json!({ "active": false }));

    // Expired: the token lived 3 s.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (_, expired) = introspect(server, &token, GATEWAY).await;
    assert_eq!(expired, serde_json::json!({ "active": false }));

    // Revoked: signing out ends the session, and the access tokens issued from it.
    let fresh = access_token(&browser).await;
    assert_eq!(introspect(server, &fresh, GATEWAY).await.1["active"], true);
    let csrf = browser.csrf().await;
    browser
        .http
        .post(browser.url("/signout"))
        .form(&[("csrfToken", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(introspect(server, &fresh, GATEWAY).await.1["active"], false);
    assert_eq!(
        introspect(server, &session_token, GATEWAY).await.1["active"],
        false
    );
}

#[tokio::test]
async fn cors_answers_allowed_origins_only() {
    let stage = stage().await;
    let url = stage.server.url("/api/auth/csrf");
    let allowed = client()
        .get(&url)
        .header("origin", "https://spa.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://spa.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    assert!(
        allowed.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Origin")
    );
    let other = client()
        .get(&url)
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = client()
        .request(
            reqwest::Method::OPTIONS,
            stage.server.url("/api/auth/session"),
        )
        .header("origin", "https://spa.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-methods"],
        "GET, POST"
    );
    let refused = client()
        .request(
            reqwest::Method::OPTIONS,
            stage.server.url("/api/auth/session"),
        )
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 405);
}

#[test]
fn check_refuses_tokens_without_asymmetric_keys_or_a_store_and_plain_http_origins() {
    let dir = ConfigDir::new(
        &base_config(
            free_port(),
            "accessTokens:
  audience: https://api.example.com
  lifetime: 2h
introspection:
  clients:
    - id: api
      secret: short
cors:
  allowedOrigins: [\"https://spa.example.com/\", \"http://spa.example.com\"]
",
        )
        .replace("url: http://", "url: https://"),
    );
    let (status, report) = crate::support::check_config(&dir.config_path());
    assert_eq!(status, Some(1), "{report}");
    for expected in [
        "accessTokens: access tokens are signed with the asymmetric `jwt.keys`",
        "accessTokens: access tokens need a `database`",
        "accessTokens.lifetime: must be between 1s and 1h",
        "introspection.clients[0].secret: must be at least 32 characters",
        "cors.allowedOrigins[0]: expected an origin",
        "cors.allowedOrigins[1]: expected an origin",
    ] {
        assert!(report.contains(expected), "{expected}:\n{report}");
    }
}
