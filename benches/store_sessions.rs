//! `getSessionAndUser` latency with 1k and 1M sessions, on a SQLite file and on
//! PostgreSQL (`AUTHGATE_TEST_POSTGRES_URL`, as `.ci/services start-all` prints it; the
//! PostgreSQL half is skipped without it). Each lookup is a random existing session.
//! Run with `cargo bench --bench store_sessions`.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::json;
use sqlx::{Connection, Executor};

use authgate::config::model::DatabaseConfig;
use authgate::store::{Adapter, SqlStore, StoreSettings, token_digest};

const USERS: usize = 1_000;
const BATCH: usize = 1_000;

fn token(i: usize) -> String {
    format!("bench-session-token-{i:08}")
}

async fn open(url: &str) -> SqlStore {
    let config: DatabaseConfig =
        serde_json::from_value(json!({ "url": url })).expect("database config");
    let settings = StoreSettings::new(&config, Path::new("/")).expect("settings");
    SqlStore::open(settings).await.expect("store opens")
}

/// A fresh database holding `USERS` users and `sessions` sessions, bulk-inserted.
async fn populate(url: &str, sessions: usize) -> SqlStore {
    let store = open(url).await;
    let raw_url = if url.starts_with("sqlite") {
        format!("{url}?mode=rw")
    } else {
        url.to_string()
    };
    let mut connection = sqlx::AnyConnection::connect(&raw_url)
        .await
        .expect("connect");
    let mut transaction = connection.begin().await.expect("begin");
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(BATCH) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| format!("('user-{i}', 'User {i}', 'user{i}@example.com', NULL, NULL)"))
            .collect();
        transaction
            .execute(sqlx::AssertSqlSafe(format!(
                "INSERT INTO users (id, name, email, email_verified, image) VALUES {}",
                values.join(", ")
            )))
            .await
            .expect("insert users");
    }
    let expires = 4_000_000_000i64;
    for start in (0..sessions).step_by(BATCH) {
        let values: Vec<String> = (start..(start + BATCH).min(sessions))
            .map(|i| {
                format!(
                    "('{}', 'user-{}', {expires})",
                    token_digest(&token(i)),
                    i % USERS
                )
            })
            .collect();
        transaction
            .execute(sqlx::AssertSqlSafe(format!(
                "INSERT INTO sessions (session_token, user_id, expires) VALUES {}",
                values.join(", ")
            )))
            .await
            .expect("insert sessions");
    }
    transaction.commit().await.expect("commit");
    if url.starts_with("postgres") {
        // As autovacuum leaves a live table: statistics gathered, and every row's
        // visibility settled, so the first read of a row does not rewrite its page.
        connection.execute("VACUUM ANALYZE").await.expect("vacuum");
    }
    store
}

/// A new empty PostgreSQL database on the server at `admin`.
async fn postgres_database(admin: &str, name: &str) -> String {
    let mut connection = sqlx::AnyConnection::connect(admin).await.expect("postgres");
    connection
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .await
        .expect("drop");
    connection
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create");
    let mut url = url::Url::parse(admin).expect("url");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn store_sessions(c: &mut Criterion) {
    sqlx::any::install_default_drivers();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = std::env::var("AUTHGATE_TEST_POSTGRES_URL").ok();
    if postgres.is_none() {
        eprintln!("AUTHGATE_TEST_POSTGRES_URL is not set: PostgreSQL is skipped");
    }
    let mut group = c.benchmark_group("getSessionAndUser");
    group.measurement_time(Duration::from_secs(5));
    for sessions in [1_000usize, 1_000_000] {
        let mut backends = vec![(
            "sqlite",
            format!(
                "sqlite://{}",
                dir.path().join(format!("s{sessions}.db")).display()
            ),
        )];
        if let Some(admin) = &postgres {
            let name = format!("authgate_bench_{sessions}");
            backends.push((
                "postgres",
                runtime.block_on(postgres_database(admin, &name)),
            ));
        }
        for (backend, url) in backends {
            let started = std::time::Instant::now();
            let store = runtime.block_on(populate(&url, sessions));
            eprintln!(
                "{backend}: {sessions} sessions inserted in {:.1?}",
                started.elapsed()
            );
            let mut next = 0usize;
            group.bench_with_input(BenchmarkId::new(backend, sessions), &sessions, |b, &n| {
                b.iter(|| {
                    // A stride through the table: every lookup hits a different row.
                    next = (next + 7_919) % n;
                    let found = runtime
                        .block_on(store.get_session_and_user(&token(next)))
                        .expect("lookup");
                    assert!(found.is_some());
                })
            });
            runtime.block_on(store.close());
        }
    }
    group.finish();
}

criterion_group!(benches, store_sessions);
criterion_main!(benches);
