//! Session keys end to end: the JWKS endpoints publish only public keys, a sign-in works
//! with ES256 tokens, `authgate keys generate` makes usable keys, and Auth.js's own code
//! reads the JWE session tokens authgate writes.

use serde_json::Value;

use crate::credentials_flow::credentials_config;
use crate::support::Browser;
use crate::support::{ConfigDir, Server, free_port};

fn generated_key(alg: &str) -> (Value, String) {
    let output = crate::support::cli()
        .args(["keys", "generate", "--alg", alg, "--kid", "test-key"])
        .output()
        .expect("run keys generate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let split = text.find("-----BEGIN").expect("a PEM block");
    let jwk: Value = serde_json::from_str(&text[..split]).expect("a JWK first");
    (jwk, text[split..].to_string())
}

#[test]
fn keys_generate_prints_a_private_jwk_and_pem_for_every_algorithm() {
    for (alg, kty) in [
        ("ES256", "EC"),
        ("EdDSA", "OKP"),
        ("RS256", "RSA"),
        ("PS256", "RSA"),
    ] {
        let (jwk, pem) = generated_key(alg);
        assert_eq!(jwk["kty"], kty, "{alg}");
        assert_eq!(jwk["kid"], "test-key");
        assert_eq!(jwk["alg"], alg);
        assert!(jwk.get("d").is_some(), "{alg}: private part missing");
        assert!(pem.contains("PRIVATE KEY-----"), "{alg}");
    }
}

#[tokio::test]
async fn es256_sessions_work_and_only_public_keys_are_published() {
    let (_jwk, pem) = generated_key("ES256");
    let port = free_port();
    let dir = ConfigDir::new(&credentials_config(
        port,
        "jwt:\n  algorithm: ES256\n  keys:\n    - file: keys/session.pem\n      kid: session-2026\n",
    ));
    dir.write("keys/session.pem", &pem);
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);

    for path in ["/api/auth/jwks", "/.well-known/jwks.json"] {
        let jwks: Value = browser
            .http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], "session-2026", "{path}");
        assert_eq!(key["alg"], "ES256");
        assert!(key.get("d").is_none(), "{path}: private key published");
    }

    browser.sign_in_as_ada().await;
    assert_eq!(browser.session().await["user"]["name"], "Ada");
    let token = browser.session_token().unwrap();
    let header = token.split('.').next().unwrap();
    use base64::Engine as _;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "session-2026");
}

#[tokio::test]
async fn symmetric_configs_publish_an_empty_key_set() {
    let (_dir, server) = crate::credentials_flow::start("jwt:\n  encryption: true\n");
    let browser = Browser::new(&server);
    let jwks = browser.get_json("/jwks").await;
    assert_eq!(jwks, serde_json::json!({"keys": []}));
    browser.sign_in_as_ada().await;
    assert_eq!(browser.session().await["user"]["email"], "ada@example.com");
    let token = browser.session_token().unwrap();
    assert_eq!(token.split('.').count(), 5, "a JWE has five parts: {token}");
}

/// The secret in `tests/fixtures/configs/base.yaml`.
const CONFIG_SECRET: &str = "integration-secret-0123456789abcdef0123456789";

/// What `@auth/core`'s `decode` reads from `token` with `secrets`, or its error.
fn read_by_auth_js(token: &str, secrets: &[&str]) -> Result<Value, String> {
    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/@auth/core").is_dir(),
        "@auth/core is not installed: run `npm ci --prefix tests/browser` (.ci/run does)"
    );
    let output = std::process::Command::new("node")
        .arg("decode-session.mjs")
        .arg("authjs.session-token")
        .arg(token)
        .args(secrets)
        .current_dir(&browser_dir)
        .output()
        .expect("run node");
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("a JSON payload"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// An app on Auth.js sharing authgate's secret reads its JWE session tokens with Auth.js's
/// own `decode`, also when the secret is not the first it tries (a rotation), because the
/// token names its key by thumbprint in `kid` as Auth.js's do. Another secret reads nothing.
#[tokio::test]
async fn auth_js_reads_authgate_jwe_sessions_with_the_shared_secret() {
    let (_dir, server) = crate::credentials_flow::start("jwt:\n  encryption: true\n");
    let browser = Browser::new(&server);
    browser.sign_in_as_ada().await;
    let token = browser.session_token().expect("a session cookie");
    let other = "another-secret-0123456789abcdef0123456789";
    let cases: [(&str, &[&str], bool); 3] = [
        ("the shared secret", &[CONFIG_SECRET], true),
        ("the shared secret second", &[other, CONFIG_SECRET], true),
        ("another secret", &[other], false),
    ];
    for (what, secrets, readable) in cases {
        match read_by_auth_js(&token, secrets) {
            Ok(payload) => {
                assert!(readable, "{what}: read {payload}");
                assert_eq!(payload["email"], "ada@example.com", "{what}: {payload}");
                assert_eq!(payload["name"], "Ada", "{what}");
                assert!(payload["exp"].as_u64() > payload["iat"].as_u64(), "{what}");
            }
            Err(error) => assert!(!readable, "{what}: {error}"),
        }
    }
}
