//! `callbacks.signIn` through both sign-in methods on one server: `true` signs the user in,
//! `false` and a failing script deny (AccessDenied, no session), and a URL sends the user
//! there without a session. The same script decides for credentials and for OIDC (a real
//! OpenID Provider), since both run the one sign-in pipeline.

use serde_json::Value;

use crate::support::idp::{CLIENT_SECRET, Idp, sign_in};
use crate::support::{Browser, ConfigDir, Server, base_config, free_port};

/// The user's name (credentials username, or OIDC `sub`, which is the IdP login) decides.
const SIGN_IN: &str = r#"
    let who = if credentials != () { credentials.username } else { profile.sub };
    if who == "allowed" { true }
    else if who == "denied" { false }
    else if who == "redirected" { "/welcome" }
    else { throw "no rule for " + who }
"#;

struct Setup {
    server: Server,
    idp: Idp,
    _dir: ConfigDir,
}

fn setup() -> Setup {
    let port = free_port();
    let idp = Idp::start_for(port, "idp");
    let indented: String = SIGN_IN
        .lines()
        .map(|line| format!("    {}\n", line.trim()))
        .collect();
    let dir = ConfigDir::new(&base_config(
        port,
        &format!(
            "providers:\n  - id: password\n    type: credentials\n    authorize: '#{{ id: credentials.username, name: credentials.username }}'\n  - id: idp\n    type: oidc\n    issuer: {}\n    clientId: idp-client\n    clientSecret: {CLIENT_SECRET}\ncallbacks:\n  signIn: |\n{indented}",
            idp.issuer
        ),
    ));
    let server = Server::start(&dir.config_path(), port);
    Setup {
        server,
        idp,
        _dir: dir,
    }
}

/// Where a credentials sign-in as `username` (asking for `/home`) is sent.
async fn credentials_sign_in(browser: &Browser, username: &str) -> String {
    let csrf = browser.csrf().await;
    let response = browser
        .http
        .post(browser.url("/callback/password"))
        .form(&[
            ("csrfToken", csrf.as_str()),
            ("username", username),
            ("callbackUrl", "/home"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "credentials sign-in as {username}");
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn sign_in_callback_allows_denies_and_redirects_for_credentials_and_oidc() {
    let setup = setup();
    let base = setup.server.base.clone();
    let cases = [
        ("allowed", format!("{base}/home"), true),
        (
            "denied",
            format!("{base}/api/auth/error?error=AccessDenied"),
            false,
        ),
        ("redirected", format!("{base}/welcome"), false),
        (
            "thrown",
            format!("{base}/api/auth/error?error=AccessDenied"),
            false,
        ),
    ];
    for method in ["credentials", "oidc"] {
        for (who, expected, signed_in) in &cases {
            let browser = Browser::new(&setup.server);
            let landed = match method {
                "credentials" => credentials_sign_in(&browser, who).await,
                _ => sign_in(&browser, &setup.idp, "idp", who).await,
            };
            assert_eq!(&landed, expected, "{method} as {who}");
            let session = browser.session().await;
            if *signed_in {
                assert!(session["user"]["name"].is_string(), "{method}: {session}");
            } else {
                assert_eq!(session, Value::Null, "{method} as {who} must not sign in");
                assert!(
                    browser.session_token().is_none(),
                    "{method} as {who} got a session cookie"
                );
            }
        }
    }
    // The failing script was logged with its position, and denied.
    assert!(
        setup.server.log().contains("no rule for thrown"),
        "{}",
        setup.server.log()
    );
}
