//! Account and session management on a real server and each real store: linked accounts
//! (two ids of the test OpenID provider), unlinking and its last-way-to-sign-in refusal, a
//! user's sessions from several browsers, revocation (reaching another server process on the
//! same database within `session.revocationStaleness`), disabled users, the admin API and
//! CLI, and the attacks: no CSRF, another user's session id, a revoked JWT replayed after
//! the cache expired, a forged cookie.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::idp::{
    CLIENT_SECRET, Idp, authorize, callback_uri, sign_in, start_sign_in_with,
};
use crate::support::{Browser, ConfigDir, Server, base_config, cli, client, eventually, free_port};

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef0123456789";
/// The staleness the servers run with, and how long a test waits for it.
const STALENESS: Duration = Duration::from_secs(1);
const WAIT: Duration = Duration::from_secs(4);

/// A server on `port` with the test IdP under two provider ids and a password provider.
fn config(port: u16, db: &TestDatabase, idp: &Idp, strategy: &str) -> String {
    config_with(port, db, idp, strategy, "")
}

fn config_with(port: u16, db: &TestDatabase, idp: &Idp, strategy: &str, extra: &str) -> String {
    let oidc = |id: &str| {
        format!(
            "  - id: {id}\n    type: oidc\n    name: IdP {id}\n    issuer: {}\n    clientId: {id}-client\n    clientSecret: {CLIENT_SECRET}\n",
            idp.issuer
        )
    };
    base_config(
        port,
        &format!(
            "    bearerToken: {ADMIN_TOKEN}
database:
  url: \"{url}\"
session:
  strategy: {strategy}
  credentials: {strategy}
  revocationStaleness: 1s
rateLimits:
  credentials: {{perUsername: \"off\", perIp: \"off\"}}
  oauth: {{perIp: \"off\"}}
events:
  unlinkAccount: |
    log_info(`unlinked ${{account.provider}} of ${{user.email}}`);
{extra}providers:
{idp}{idp2}  - id: plain
    type: credentials
    credentials:
      username: {{ label: Username }}
      password: {{ label: Password, type: password }}
    authorize: |
      if credentials.password == \"pw\" {{ #{{ id: credentials.username, name: credentials.username }} }} else {{ () }}
  - id: password
    type: credentials
    credentials:
      username: {{ label: Username }}
      password: {{ label: Password, type: password }}
    authorize: |
      if credentials.password == \"pw\" {{
        #{{ id: \"cred-\" + credentials.username, name: credentials.username, email: credentials.username + \"@example.com\" }}
      }} else {{ () }}
",
            url = db.url,
            idp = oidc("idp"),
            idp2 = oidc("idp2"),
        ),
    )
}

struct Stage {
    server: Server,
    idp: Idp,
    db: TestDatabase,
    _dir: ConfigDir,
}

async fn stage(backend: Backend, strategy: &str) -> Stage {
    stage_with(backend, strategy, "").await
}

async fn stage_with(backend: Backend, strategy: &str, extra: &str) -> Stage {
    let db = TestDatabase::new(backend).await;
    let port = free_port();
    let idp = Idp::start(
        &[
            ("idp-client", callback_uri(port, "idp")),
            ("idp2-client", callback_uri(port, "idp2")),
        ],
        3600,
    );
    let dir = ConfigDir::new(&config_with(port, &db, &idp, strategy, extra));
    let server = Server::start(&dir.config_path(), port);
    Stage {
        server,
        idp,
        db,
        _dir: dir,
    }
}

/// A second server on the same database and secret.
fn second_server(stage: &Stage, strategy: &str) -> (ConfigDir, Server) {
    let port = free_port();
    let dir = ConfigDir::new(&config(port, &stage.db, &stage.idp, strategy));
    let server = Server::start(&dir.config_path(), port);
    (dir, server)
}

async fn post(browser: &Browser, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = browser
        .http
        .post(browser.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(browser: &Browser, path: &str) -> (StatusCode, Value) {
    let response = browser.http.get(browser.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signs `browser` in with the password provider as `name`.
async fn password_sign_in(browser: &Browser, name: &str) {
    let csrf = browser.csrf().await;
    let response = browser
        .sign_in(&[("username", name), ("password", "pw"), ("csrfToken", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(browser.session().await["user"]["name"], name);
}

/// Signs in with `provider` as `login`, whoever is signed in at the IdP (`prompt=login`
/// makes it ask); where authgate sends the browser.
async fn sign_in_as(browser: &Browser, idp: &Idp, provider: &str, login: &str) -> String {
    let authorization = start_sign_in_with(browser, provider, "/home", "?prompt=login").await;
    let callback = authorize(browser, idp, &authorization, login).await;
    let response = browser.http.get(&callback).send().await.unwrap();
    response.headers()["location"].to_str().unwrap().to_string()
}

/// The providers of an `/accounts` answer, sorted (accounts linked in the same second
/// have no order among them).
fn providers(accounts: &Value) -> Vec<&str> {
    let mut providers: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account["provider"].as_str().unwrap())
        .collect();
    providers.sort_unstable();
    providers
}

async fn linking_scenario(backend: Backend) {
    let stage = stage(backend, "jwt").await;
    let browser = Browser::new(&stage.server);
    sign_in(&browser, &stage.idp, "idp", "alice").await;
    let (status, accounts) = get(&browser, "/accounts").await;
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(providers(&accounts), ["idp"]);
    // Signed in, a second provider's sign-in links it.
    sign_in_as(&browser, &stage.idp, "idp2", "alice-two").await;
    let (_, accounts) = get(&browser, "/accounts").await;
    assert_eq!(providers(&accounts), ["idp", "idp2"]);
    assert!(
        accounts
            .as_array()
            .unwrap()
            .iter()
            .all(|account| account["linkedAt"].is_string() && account["type"] == "oidc"),
        "{accounts}"
    );
    assert!(!accounts.to_string().contains("token"), "{accounts}");

    // Without the CSRF token, nothing is unlinked.
    let (status, answer) = post(&browser, "/unlink/idp2", &[]).await;
    assert_eq!(
        (status.as_u16(), answer["error"].as_str()),
        (400, Some("MissingCSRF"))
    );
    let (status, answer) = post(
        &browser,
        "/unlink/idp2",
        &[("csrfToken", "0".repeat(64).as_str())],
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        providers(&get(&browser, "/accounts").await.1),
        ["idp", "idp2"]
    );

    let csrf = browser.csrf().await;
    let (status, answer) = post(&browser, "/unlink/idp2", &[("csrfToken", &csrf)]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(providers(&answer), ["idp"]);
    stage
        .server
        .log_when(WAIT, |log| {
            log.contains("unlinked idp2 of alice@example.com")
        })
        .await;
    let (status, answer) = post(&browser, "/unlink/idp", &[("csrfToken", &csrf)]).await;
    assert_eq!(
        (status.as_u16(), answer["error"].as_str()),
        (409, Some("LastSignInMethod"))
    );
    let (status, answer) = post(&browser, "/unlink/idp2", &[("csrfToken", &csrf)]).await;
    assert_eq!(
        (status.as_u16(), answer["error"].as_str()),
        (404, Some("NotLinked"))
    );
    assert_eq!(providers(&get(&browser, "/accounts").await.1), ["idp"]);
}

/// Two browsers of one user (and one of another user); `others` from the first ends the
/// second on another server process within the staleness bound; the third is untouched.
async fn revoking_other_sessions_reaches_every_process(backend: Backend, strategy: &str) {
    let stage = stage(backend, strategy).await;
    let (_second_dir, second) = second_server(&stage, strategy);
    let (first, other, stranger) = (
        Browser::new(&stage.server),
        Browser::new(&stage.server),
        Browser::new(&stage.server),
    );
    password_sign_in(&first, "carol").await;
    password_sign_in(&other, "carol").await;
    password_sign_in(&stranger, "dave").await;
    let other_cookie = other.cookie_header();
    // The other browser reads its session on the second server too.
    let on_second = |cookie: String| {
        let url = second.url("/api/auth/session");
        async move {
            client()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        on_second(other_cookie.clone()).await["user"]["name"],
        "carol"
    );

    let (status, sessions) = get(&first, "/sessions").await;
    assert_eq!(status, 200, "{sessions}");
    let sessions = sessions.as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        sessions
            .iter()
            .all(|s| s["createdAt"].is_string() && s["kind"] == strategy)
    );
    let (_, stranger_sessions) = get(&stranger, "/sessions").await;
    let stranger_id = stranger_sessions[0]["id"].as_str().unwrap().to_string();

    // Attacks: no CSRF token; another user's session id.
    let (status, _) = post(&first, "/sessions/revoke", &[("scope", "others")]).await;
    assert_eq!(status, 400);
    let csrf = first.csrf().await;
    let (status, answer) = post(
        &first,
        "/sessions/revoke",
        &[("csrfToken", &csrf), ("id", &stranger_id)],
    )
    .await;
    assert_eq!(
        (status.as_u16(), answer["revoked"].as_u64()),
        (200, Some(0))
    );
    assert_eq!(stranger.session().await["user"]["name"], "dave");

    let (status, answer) = post(
        &first,
        "/sessions/revoke",
        &[("csrfToken", &csrf), ("scope", "others")],
    )
    .await;
    assert_eq!(
        (status.as_u16(), answer["revoked"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    // This process knows at once; the second one within the staleness bound.
    assert_eq!(other.session().await, Value::Null);
    let ended = eventually(WAIT, || {
        let cookie = other_cookie.clone();
        let on_second = &on_second;
        async move { on_second(cookie).await.is_null().then_some(()) }
    })
    .await;
    assert!(
        ended.is_some(),
        "the second server still reads the revoked session"
    );
    // A revoked session replayed after every cache expired is still none.
    tokio::time::sleep(STALENESS + Duration::from_millis(200)).await;
    assert!(on_second(other_cookie.clone()).await.is_null());
    assert_eq!(first.session().await["user"]["name"], "carol");
    assert_eq!(stranger.session().await["user"]["name"], "dave");

    // `all` ends this one too and clears its cookie.
    let (status, answer) = post(
        &first,
        "/sessions/revoke",
        &[("csrfToken", &csrf), ("scope", "all")],
    )
    .await;
    assert_eq!(
        (status.as_u16(), answer["revoked"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    assert!(first.session_token().is_none(), "{}", first.cookie_header());
    assert_eq!(first.session().await, Value::Null);
}

/// A disabled user: sign-in refused by every method, sessions read as none (on another
/// process within the bound), through the admin API; enabled again, they sign in.
async fn a_disabled_user_cannot_sign_in_or_use_a_session(backend: Backend, strategy: &str) {
    let stage = stage(backend, strategy).await;
    let (_second_dir, second) = second_server(&stage, strategy);
    let browser = Browser::new(&stage.server);
    sign_in(&browser, &stage.idp, "idp", "erin").await;
    let cookie = browser.cookie_header();
    let admin = |path: &str| stage.server.admin_url(path);
    let call = |method: reqwest::Method, path: String, token: Option<&str>| {
        let request = client().request(method, admin(&path));
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    // The admin API wants its token.
    let response = call(reqwest::Method::GET, "/admin/users".into(), None).await;
    assert_eq!(response.status(), 401);
    let response = call(
        reqwest::Method::GET,
        "/admin/users".into(),
        Some("wrong-token"),
    )
    .await;
    assert_eq!(response.status(), 401);
    let users: Value = call(
        reqwest::Method::GET,
        "/admin/users".into(),
        Some(ADMIN_TOKEN),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(users[0]["email"], "erin@example.com", "{users}");
    let shown: Value = call(
        reqwest::Method::GET,
        "/admin/users/erin@example.com".into(),
        Some(ADMIN_TOKEN),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(shown["accounts"][0]["provider"], "idp", "{shown}");
    assert_eq!(
        shown["sessions"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );

    let response = call(
        reqwest::Method::POST,
        "/admin/users/erin@example.com/disable".into(),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(browser.session().await, Value::Null);
    let read_on_second = || {
        let request = client()
            .get(second.url("/api/auth/session"))
            .header("cookie", cookie.clone());
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let ended = eventually(WAIT, || async {
        read_on_second().await.is_null().then_some(())
    })
    .await;
    assert!(
        ended.is_some(),
        "the second server still reads the disabled user's session"
    );
    // Signing in again is refused.
    let fresh = Browser::new(&stage.server);
    let landed = sign_in(&fresh, &stage.idp, "idp", "erin").await;
    assert!(landed.contains("error=AccessDenied"), "{landed}");
    assert_eq!(fresh.session().await, Value::Null);

    let response = call(
        reqwest::Method::POST,
        "/admin/users/erin@example.com/enable".into(),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(response.status(), 200);
    let again = Browser::new(&stage.server);
    sign_in(&again, &stage.idp, "idp", "erin").await;
    assert_eq!(again.session().await["user"]["email"], "erin@example.com");
}

macro_rules! on_every_store {
    ($($name:ident => $scenario:expr;)*) => {
        mod sqlite {
            use super::*;
            $(#[tokio::test] async fn $name() { let f = $scenario; f(Backend::Sqlite).await; })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test] async fn $name() { let f = $scenario; f(Backend::Postgres).await; })*
        }
        mod mysql {
            use super::*;
            $(#[tokio::test] async fn $name() { let f = $scenario; f(Backend::MySql).await; })*
        }
    };
}

on_every_store! {
    accounts_are_linked_listed_and_unlinked_but_never_the_last => linking_scenario;
    revoking_other_jwt_sessions_reaches_every_process =>
        |backend| revoking_other_sessions_reaches_every_process(backend, "jwt");
    revoking_other_database_sessions_reaches_every_process =>
        |backend| revoking_other_sessions_reaches_every_process(backend, "database");
    a_disabled_user_with_a_jwt_session_is_refused =>
        |backend| a_disabled_user_cannot_sign_in_or_use_a_session(backend, "jwt");
    a_disabled_user_with_a_database_session_is_refused =>
        |backend| a_disabled_user_cannot_sign_in_or_use_a_session(backend, "database");
}

#[tokio::test]
async fn with_linking_max_age_an_old_session_signs_in_again_before_linking() {
    let stage = stage_with(Backend::Sqlite, "jwt", "linking:\n  maxAge: 1s\n").await;
    let browser = Browser::new(&stage.server);
    sign_in(&browser, &stage.idp, "idp", "gina").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refused = sign_in_as(&browser, &stage.idp, "idp2", "gina-two").await;
    assert!(refused.contains("error=SessionRequired"), "{refused}");
    assert_eq!(providers(&get(&browser, "/accounts").await.1), ["idp"]);
    // Signing in again with the account the user has is not linking; then it links.
    sign_in_as(&browser, &stage.idp, "idp", "gina").await;
    let linked = sign_in_as(&browser, &stage.idp, "idp2", "gina-two").await;
    assert!(!linked.contains("error="), "{linked}");
    assert_eq!(
        providers(&get(&browser, "/accounts").await.1),
        ["idp", "idp2"]
    );
}

/// A credentials user whose `authorize` id equals a store user's id manages only their own
/// sessions: the store records them under `credentials:<provider>:<id>`.
async fn an_authorize_id_equal_to_a_store_users_id_reaches_nothing_of_theirs(strategy: &str) {
    let stage = stage(Backend::Sqlite, strategy).await;
    let victim = Browser::new(&stage.server);
    sign_in(&victim, &stage.idp, "idp", "ivy").await;
    let users: Value = client()
        .get(stage.server.admin_url("/admin/users"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let victim_id = users[0]["id"].as_str().unwrap().to_string();
    let attacker = Browser::new(&stage.server);
    let csrf = attacker.csrf().await;
    let response = attacker
        .http
        .post(attacker.url("/callback/plain"))
        .form(&[
            ("username", victim_id.as_str()),
            ("password", "pw"),
            ("csrfToken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let (status, accounts) = get(&attacker, "/accounts").await;
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(accounts, Value::Array(Vec::new()));
    let (_, sessions) = get(&attacker, "/sessions").await;
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{sessions}");
    let csrf = attacker.csrf().await;
    let (_, revoked) = post(
        &attacker,
        "/sessions/revoke",
        &[("csrfToken", &csrf), ("scope", "others")],
    )
    .await;
    assert_eq!(revoked["revoked"], 0);
    let (status, answer) = post(&attacker, "/unlink/idp", &[("csrfToken", &csrf)]).await;
    assert_eq!(
        (status.as_u16(), answer["error"].as_str()),
        (404, Some("NotLinked"))
    );
    assert_eq!(victim.session().await["user"]["email"], "ivy@example.com");
    assert_eq!(providers(&get(&victim, "/accounts").await.1), ["idp"]);
}

#[tokio::test]
async fn an_authorize_id_equal_to_a_store_users_id_reaches_nothing_of_theirs_with_jwts() {
    an_authorize_id_equal_to_a_store_users_id_reaches_nothing_of_theirs("jwt").await;
}

#[tokio::test]
async fn signing_out_ends_a_jwt_session_for_every_copy_of_its_cookie() {
    let stage = stage(Backend::Sqlite, "jwt").await;
    let browser = Browser::new(&stage.server);
    password_sign_in(&browser, "hana").await;
    let copy = browser.cookie_header();
    assert_eq!(browser.sign_out().await.status(), StatusCode::FOUND);
    let replayed: Value = client()
        .get(stage.server.url("/api/auth/session"))
        .header("cookie", copy)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replayed, Value::Null);
    let other = Browser::new(&stage.server);
    password_sign_in(&other, "hana").await;
    let (_, sessions) = get(&other, "/sessions").await;
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{sessions}");
}

#[tokio::test]
async fn forged_cookies_and_storeless_servers_get_clear_refusals() {
    let stage = stage(Backend::Sqlite, "jwt").await;
    let browser = Browser::new(&stage.server);
    let forged = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ4In0.AAAA";
    for path in ["/sessions", "/accounts"] {
        let response = browser
            .http
            .get(browser.url(path))
            .header("cookie", format!("authjs.session-token={forged}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    // A JWT the store never recorded (signed with the right key, but from before tracking
    // or another server) is no session either: sign in, then delete its record.
    password_sign_in(&browser, "frank").await;
    let (_, sessions) = get(&browser, "/sessions").await;
    let id = sessions[0]["id"].as_str().unwrap().to_string();
    let output = cli()
        .args([
            "sessions",
            "revoke",
            "--user",
            // A credentials user of an `authorize` script is named by provider and id.
            "credentials:password:cred-frank",
            "--id",
            &id,
            "--config",
        ])
        .arg(stage._dir.config_path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let revoked: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(revoked["revoked"], 1);
    let ended = eventually(WAIT, || async {
        browser.session().await.is_null().then_some(())
    })
    .await;
    assert!(ended.is_some(), "a session revoked by the CLI still reads");

    // Without a store, the endpoints say why.
    let port = free_port();
    let dir = ConfigDir::new(&base_config(port, ""));
    let bare = Server::start(&dir.config_path(), port);
    let response = client()
        .get(bare.url("/api/auth/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 501);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "NoStore");
}

/// Rows written before authgate normalised emails: `users normalize-emails` lists them
/// without changing anything, `--apply` rewrites the ones it can, and two users whose
/// addresses are one mailbox are reported and left as they are.
#[tokio::test]
async fn the_cli_rewrites_old_email_spellings_and_reports_collisions() {
    use authgate::store::Adapter;
    let db = TestDatabase::new(Backend::Sqlite).await;
    db.store().await;
    {
        let mut connection = db.connection().await;
        for (id, email) in [
            ("u-ada", "Ada@Example.com"),
            ("u-bob", "bob@example.com"),
            ("u-cy-1", "Cy@Example.com"),
            ("u-cy-2", "cy@example.com"),
        ] {
            sqlx::query("INSERT INTO users (id, email) VALUES (?, ?)")
                .bind(id)
                .bind(email)
                .execute(&mut connection)
                .await
                .unwrap();
        }
    }
    let dir = ConfigDir::new(&base_config(
        free_port(),
        &format!("database:\n  url: \"{}\"\n", db.url),
    ));
    let run = |apply: bool| {
        let mut command = cli();
        command.args(["users", "normalize-emails", "--config"]);
        command.arg(dir.config_path());
        if apply {
            command.arg("--apply");
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let store = db.store().await;
    for apply in [false, true] {
        let answer = run(apply);
        assert_eq!(answer["applied"], apply);
        assert_eq!(
            answer["rewritten"],
            serde_json::json!([{"id": "u-ada", "from": "Ada@Example.com", "to": "ada@example.com"}])
        );
        assert_eq!(answer["collisions"][0]["email"], "cy@example.com");
        assert_eq!(
            answer["collisions"][0]["users"].as_array().unwrap().len(),
            2
        );
        let ada = store.get_user_by_email("ADA@example.com").await.unwrap();
        assert_eq!(ada.is_some(), apply, "apply: {apply}");
    }
    let cy = store.get_user("u-cy-1").await.unwrap().unwrap();
    assert_eq!(cy.email.as_deref(), Some("Cy@Example.com"));
    assert_eq!(run(true)["rewritten"], serde_json::json!([]));
}

/// A disabled user is refused before anything of theirs changes: a returning account's
/// tokens are not replaced, and no account joins them by a verified email.
#[tokio::test]
async fn a_disabled_users_sign_in_changes_nothing_before_it_is_refused() {
    use authgate::actions::accounts::{LinkError, resolve_user};
    use authgate::providers::profile::UserProfile;
    use authgate::store::{Account, Adapter, NewUser};

    let db = TestDatabase::new(Backend::Sqlite).await;
    let store = db.store().await;
    let user = store
        .create_user(NewUser {
            email: Some("dora@example.com".into()),
            email_verified: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let account = |provider: &str, token: &str| Account {
        user_id: user.id.clone(),
        kind: "oauth".into(),
        provider: provider.into(),
        provider_account_id: "dora-1".into(),
        access_token: Some(token.into()),
        ..Account::default()
    };
    store
        .link_account(account("idp", "old-token"))
        .await
        .unwrap();
    store.set_user_disabled(&user.id, Some(2)).await.unwrap();
    let profile = UserProfile {
        id: "dora-1".into(),
        name: None,
        email: Some("dora@example.com".into()),
        image: None,
        email_verified: true,
    };
    for (case, provider, signed_in) in [
        ("a returning account", "idp", None),
        ("a new account with her verified email", "other", None),
        (
            "a new account while signed in as her",
            "other",
            Some(user.id.as_str()),
        ),
    ] {
        let outcome = resolve_user(
            &store,
            &account(provider, "new-token"),
            &profile,
            true,
            signed_in,
            3,
        )
        .await;
        assert!(
            matches!(outcome, Err(LinkError::Disabled(ref id)) if id == &user.id),
            "{case}: {outcome:?}"
        );
    }
    let stored = store.get_account("idp", "dora-1").await.unwrap().unwrap();
    assert_eq!(stored.access_token.as_deref(), Some("old-token"));
    assert_eq!(store.get_account("other", "dora-1").await.unwrap(), None);
}
