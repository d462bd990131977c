//! Database sessions through a real server: credentials sign-in with a database session,
//! the `lookup` query against an existing user table, sign-out removing the row, the
//! outage answer (503) and recovery, and start-up without a database.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, Row};

use crate::support::Browser;
use crate::support::databases::{Backend, OwnPostgres, TestDatabase};
use crate::support::{ConfigDir, Server, base_config, eventually, free_port, unbound_port};

/// Database sessions for a credentials provider with one user, `ada` / `correct horse`.
fn database_config(port: u16, url: &str, extra: &str) -> String {
    let hash = authgate::password::hash_password("correct horse").unwrap();
    base_config(
        port,
        &format!(
            r#"database:
  url: "{url}"
  acquireTimeout: 1s
session:
  strategy: database
  credentials: database
providers:
  - id: password
    type: credentials
    credentials:
      username: {{ label: Username }}
      password: {{ label: Password, type: password }}
    authorize: |
      let ok = credentials.username == "ada" && verify_password(credentials.password ?? "", "{hash}");
      if ok {{ #{{ id: "ada-1", name: "Ada", email: "ada@example.com" }} }} else {{ () }}
callbacks:
  session: |
    session.user.id = user.id;
    if trigger == "update" {{ session.user.note = newSession.note; }}
    session
{extra}"#
        ),
    )
}

async fn sign_in(browser: &Browser, csrf: &str, password: &str) -> reqwest::Response {
    browser
        .sign_in(&[
            ("username", "ada"),
            ("password", password),
            ("csrfToken", csrf),
            ("callbackUrl", "/home"),
        ])
        .await
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn stored_session_tokens(db: &TestDatabase) -> Vec<String> {
    let mut connection = db.connection().await;
    let rows = sqlx::query("SELECT session_token FROM sessions")
        .fetch_all(&mut connection)
        .await
        .unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

async fn credentials_sign_in_round_trip(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let port = free_port();
    let dir = ConfigDir::new(&database_config(port, &db.url, ""));
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;

    let wrong = sign_in(&browser, &csrf, "wrong").await;
    assert_eq!(wrong.status(), StatusCode::FOUND);
    assert!(
        wrong.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=CredentialsSignin")
    );
    assert!(stored_session_tokens(&db).await.is_empty());

    let right = sign_in(&browser, &csrf, "correct horse").await;
    assert_eq!(right.headers()["location"], format!("{}/home", server.base));
    let cookie = browser.session_token().expect("a session cookie");
    assert_eq!(cookie.len(), 43, "a random token, not a JWT: {cookie}");
    assert!(!cookie.contains('.'));
    // Only the hash is stored.
    assert_eq!(stored_session_tokens(&db).await, vec![sha256_hex(&cookie)]);

    let session = browser.session().await;
    assert_eq!(session["user"]["name"], "Ada");
    assert_eq!(session["user"]["email"], "ada@example.com");
    let user_id = session["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(user_id.len(), 36, "the store's user id");

    let updated = browser.update(&csrf, json!({"note": "hello"})).await;
    assert_eq!(updated["user"]["note"], "hello");

    // A second sign-in finds the same user through the credentials account.
    let other = Browser::new(&server);
    let other_csrf = other.csrf().await;
    sign_in(&other, &other_csrf, "correct horse").await;
    assert_eq!(other.session().await["user"]["id"], user_id.as_str());
    assert_eq!(stored_session_tokens(&db).await.len(), 2);

    assert_eq!(browser.sign_out().await.status(), StatusCode::FOUND);
    assert_eq!(browser.session().await, Value::Null);
    assert_eq!(
        stored_session_tokens(&db).await,
        vec![sha256_hex(&other.session_token().unwrap())],
        "sign-out deleted its row only"
    );

    // The old cookie, replayed, is dead.
    let replay = crate::support::client()
        .get(browser.url("/session"))
        .header("cookie", format!("authjs.session-token={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.json::<Value>().await.unwrap(), Value::Null);
}

#[tokio::test]
async fn credentials_sign_in_with_database_sessions_on_sqlite() {
    credentials_sign_in_round_trip(Backend::Sqlite).await;
}

#[tokio::test]
async fn credentials_sign_in_with_database_sessions_on_postgres() {
    credentials_sign_in_round_trip(Backend::Postgres).await;
}

#[tokio::test]
async fn credentials_sign_in_with_database_sessions_on_mariadb() {
    credentials_sign_in_round_trip(Backend::MySql).await;
}

#[tokio::test]
async fn forged_database_session_tokens_read_as_null_and_are_cleared() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = free_port();
    let dir = ConfigDir::new(&database_config(port, &db.url, ""));
    let server = Server::start(&dir.config_path(), port);
    let forged = [
        "A".repeat(43),
        // A JWT where sessions live in the database.
        "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiIxIn0.sig".to_string(),
        String::new(),
    ];
    for token in forged {
        let response = crate::support::client()
            .get(server.url("/api/auth/session"))
            .header("cookie", format!("authjs.session-token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cleared = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("authjs.session-token=;"));
        assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
        assert!(cleared || token.is_empty(), "cookie {token:?} is cleared");
    }
}

/// An existing user table, as an application might have it, with integer ids.
async fn create_app_users(db: &TestDatabase) {
    let ada = authgate::password::hash_password("correct horse").unwrap();
    let bob = bcrypt::hash("bob-password", 4).unwrap();
    let mut connection = sqlx::AnyConnection::connect(&format!("{}?mode=rwc", db.url))
        .await
        .unwrap();
    connection
        .execute(
            "CREATE TABLE app_users (id INTEGER PRIMARY KEY, login TEXT UNIQUE, \
             display_name TEXT, mail TEXT, pw TEXT)",
        )
        .await
        .unwrap();
    for (id, login, name, hash) in [(7, "ada", "Ada", ada), (8, "bob", "Bob", bob)] {
        sqlx::query("INSERT INTO app_users VALUES (?, ?, ?, ?, ?)")
            .bind(id)
            .bind(login)
            .bind(name)
            .bind(format!("{login}@example.com"))
            .bind(hash)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    connection.close().await.unwrap();
}

#[tokio::test]
async fn lookup_signs_in_users_of_an_existing_table_without_a_script() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    create_app_users(&db).await;
    let port = free_port();
    let config = base_config(
        port,
        &format!(
            r#"database:
  url: "{}"
session:
  strategy: jwt
providers:
  - id: password
    type: credentials
    credentials:
      username: {{ label: Username }}
      password: {{ label: Password, type: password }}
    lookup:
      query: >-
        SELECT id, display_name AS name, mail AS email, pw AS password_hash
        FROM app_users WHERE login = :username
callbacks:
  session: |
    session.user.id = token.sub;
    session
"#,
            db.url
        ),
    );
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    let cases = [
        ("ada", "correct horse", Some(("7", "Ada"))),
        ("bob", "bob-password", Some(("8", "Bob"))),
        ("ada", "bob-password", None),
        ("nobody", "correct horse", None),
        ("' OR '1'='1", "x", None),
    ];
    for (username, password, expected) in cases {
        let browser = Browser::new(&server);
        let csrf = browser.csrf().await;
        let response = browser
            .sign_in(&[
                ("username", username),
                ("password", password),
                ("csrfToken", &csrf),
            ])
            .await;
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let session = browser.session().await;
        match expected {
            Some((id, name)) => {
                assert_eq!(session["user"]["id"], id, "{username}");
                assert_eq!(session["user"]["name"], name, "{username}");
                assert_eq!(session["user"]["email"], format!("{username}@example.com"));
            }
            None => {
                assert!(location.contains("error=CredentialsSignin"), "{username}");
                assert_eq!(session, Value::Null, "{username}");
            }
        }
    }
}

#[tokio::test]
async fn database_outage_answers_503_and_recovers_by_itself() {
    let postgres = OwnPostgres::start();
    let port = free_port();
    let dir = ConfigDir::new(&database_config(port, &postgres.url(), ""));
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    sign_in(&browser, &csrf, "correct horse").await;
    assert_eq!(browser.session().await["user"]["name"], "Ada");

    postgres.kill();
    let response = browser
        .http
        .get(browser.url("/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "Configuration"})
    );
    // The cookie survived the outage.
    assert!(browser.session_token().is_some());
    // A credentials sign-in can be sent again as it is: the outage answers 503, not the
    // error page.
    let other = Browser::new(&server);
    let other_csrf = other.csrf().await;
    let refused = sign_in(&other, &other_csrf, "correct horse").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"error": "Configuration"})
    );

    postgres.resume();
    let recovered = eventually(Duration::from_secs(20), || async {
        let session = browser.session().await;
        (session["user"]["name"] == "Ada").then_some(session)
    })
    .await;
    assert!(recovered.is_some(), "log:\n{}", server.log());
    assert!(!server.log().contains("panicked"));
}

#[tokio::test]
async fn an_unreachable_database_at_start_exits_with_code_3() {
    let port = unbound_port();
    let closed = unbound_port();
    let url = format!("postgres://postgres@127.0.0.1:{closed}/postgres");
    let dir = ConfigDir::new(&database_config(port, &url, ""));
    let output = crate::support::cli()
        .arg("--config")
        .arg(dir.config_path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot connect to the postgres database"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_reload_to_an_unreachable_database_keeps_the_running_one() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = free_port();
    let dir = ConfigDir::new(&database_config(port, &db.url, ""));
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    sign_in(&browser, &csrf, "correct horse").await;

    let closed = unbound_port();
    dir.replace(
        "authgate.yaml",
        &database_config(
            port,
            &format!("postgres://postgres@127.0.0.1:{closed}/postgres"),
            "",
        ),
    );
    let failed = eventually(Duration::from_secs(20), || async {
        let status: Value = crate::support::client()
            .get(server.admin_url("/readyz"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (status["reload"]["lastReload"]["result"] == "failed").then_some(status)
    })
    .await
    .expect("the reload fails");
    let errors = failed["reload"]["lastReload"]["errors"].to_string();
    assert!(errors.contains("cannot connect"), "{errors}");
    assert_eq!(browser.session().await["user"]["name"], "Ada");
}

#[tokio::test]
async fn expired_rows_are_purged_periodically() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = free_port();
    let config = database_config(port, &db.url, "").replace(
        "  acquireTimeout: 1s\n",
        "  acquireTimeout: 1s\n  purgeInterval: 1s\n",
    );
    let dir = ConfigDir::new(&config);
    let _server = Server::start(&dir.config_path(), port);
    let mut connection = db.connection().await;
    connection
        .execute(
            "INSERT INTO users (id, name) VALUES ('u1', 'Ada'); \
             INSERT INTO sessions (session_token, user_id, expires) VALUES ('old', 'u1', 1), ('live', 'u1', 4000000000); \
             INSERT INTO verification_tokens (identifier, token, expires) VALUES ('a@example.com', 'old', 1)",
        )
        .await
        .unwrap();
    let remaining = eventually(Duration::from_secs(10), || async {
        let mut connection = db.connection().await;
        let sessions: Vec<String> = sqlx::query("SELECT session_token FROM sessions")
            .fetch_all(&mut connection)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let tokens: i64 = sqlx::query("SELECT COUNT(*) FROM verification_tokens")
            .fetch_one(&mut connection)
            .await
            .unwrap()
            .get(0);
        (sessions.len() == 1 && tokens == 0).then_some(sessions)
    })
    .await;
    assert_eq!(remaining, Some(vec!["live".to_string()]));
}

#[tokio::test]
async fn migrate_command_creates_the_tables() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let dir = ConfigDir::new(&database_config(unbound_port(), &db.url, ""));
    let run = || {
        crate::support::cli()
            .arg("--config")
            .arg(dir.config_path())
            .arg("migrate")
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let output = run();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            "ok: the postgres database is migrated"
        );
    }
    let mut connection = db.connection().await;
    let tables: i64 = sqlx::query(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN \
         ('users', 'accounts', 'sessions', 'verification_tokens')",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap()
    .get(0);
    assert_eq!(tables, 4);
}
