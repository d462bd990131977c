//! Real databases for the store tests: a SQLite file, and a fresh database on the
//! PostgreSQL and MariaDB servers that `.ci/services start-all` runs (their URLs come from
//! `AUTHGATE_TEST_POSTGRES_URL` and `AUTHGATE_TEST_MYSQL_URL`).

use std::path::Path;
use std::process::Command;

use serde_json::json;
use sqlx::{AnyConnection, Connection, Executor};

use authgate::config::model::DatabaseConfig;
use authgate::store::{SqlStore, StoreSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// An empty database of one backend, dropped with the test's temp dir (SQLite) or left
/// to the throwaway server (the others).
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    _dir: tempfile::TempDir,
}

fn server_url(backend: Backend) -> String {
    let variable = match backend {
        Backend::Postgres => "AUTHGATE_TEST_POSTGRES_URL",
        Backend::MySql => "AUTHGATE_TEST_MYSQL_URL",
        Backend::Sqlite => unreachable!("SQLite needs no server"),
    };
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set: start the test databases with \
             `eval \"$(.ci/services start-all /tmp/authgate-services)\"` (.ci/run does this)"
        )
    })
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("database URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("store.db").display()),
            Backend::Postgres | Backend::MySql => {
                let admin = server_url(backend);
                let name = format!("authgate_{}", uuid::Uuid::new_v4().simple());
                let mut connection = AnyConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|error| panic!("cannot reach {backend:?}: {error}"));
                connection
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create database");
                connection.close().await.ok();
                with_database(&admin, &name)
            }
        };
        TestDatabase {
            backend,
            url,
            _dir: dir,
        }
    }

    pub fn config(&self) -> DatabaseConfig {
        serde_json::from_value(json!({ "url": self.url, "acquireTimeout": "3s" }))
            .expect("database config")
    }

    /// The store over this database, migrated.
    pub async fn store(&self) -> SqlStore {
        let settings = StoreSettings::new(&self.config(), Path::new("/")).expect("settings");
        SqlStore::open(settings).await.expect("store opens")
    }

    /// A plain connection for checking what the store wrote.
    pub async fn connection(&self) -> AnyConnection {
        let url = match self.backend {
            Backend::Sqlite => format!("{}?mode=rw", self.url),
            _ => self.url.clone(),
        };
        AnyConnection::connect(&url).await.expect("raw connection")
    }
}

/// A PostgreSQL server of the test's own, which it may stop and start (the fault tests).
pub struct OwnPostgres {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

fn services(arguments: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/services");
    let status = Command::new(&script)
        .args(arguments)
        .status()
        .expect("run .ci/services");
    assert!(status.success(), ".ci/services {arguments:?} failed");
}

impl OwnPostgres {
    pub fn start() -> OwnPostgres {
        let dir = tempfile::tempdir().expect("temp dir");
        // The server runs as the `postgres` user, which must reach its directory.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let port = super::unbound_port();
        let server = OwnPostgres { dir, port };
        server.resume();
        server
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> String {
        self.dir.path().join("pg").display().to_string()
    }

    /// Stops the server, cutting every connection (`pg_ctl -m fast`).
    pub fn kill(&self) {
        services(&["postgres-stop", &self.data()]);
    }

    pub fn resume(&self) {
        services(&["postgres-start", &self.data(), &self.port.to_string()]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        services(&["postgres-stop", &self.data()]);
    }
}
