//! The shared-state backends behave alike: the same scenario against Redis (a real
//! `redis-server`) and the `shared_state` table of each database (SQLite, PostgreSQL,
//! MariaDB), including attempts racing from many tasks.

use std::sync::Arc;
use std::time::Duration;

use authgate::config::operations::RedisConfig;
use authgate::state::SharedState;
use authgate::state::database::DatabaseState;
use authgate::state::redis::RedisState;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::redis::RedisServer;

/// The scenario every backend must pass.
async fn behaves_as_shared_state(backend: Arc<dyn SharedState>, name: &str) {
    let key = |suffix: &str| format!("test:{}:{suffix}", uuid::Uuid::new_v4().simple());
    backend
        .ping()
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"));

    // GCRA: 3 per 3 s, then one per second.
    let limited = key("gcra");
    for attempt in 1..=3 {
        assert_eq!(
            backend.admit(&limited, 1_000, 3_000).await.unwrap(),
            None,
            "{name}: attempt {attempt}"
        );
    }
    let wait = backend
        .admit(&limited, 1_000, 3_000)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{name}: the fourth attempt passed"));
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(1),
        "{name}: {wait:?}"
    );

    // Attempts racing from many tasks: exactly the burst passes.
    let raced = key("race");
    let attempts = (0..20).map(|_| {
        let (backend, raced) = (backend.clone(), raced.clone());
        tokio::spawn(async move { backend.admit(&raced, 10_000, 50_000).await })
    });
    let admitted = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .filter(Option::is_none)
        .count();
    assert_eq!(admitted, 5, "{name}");

    // A lock: taken once, until its holder releases it or it expires.
    let lock = key("lock");
    assert!(
        backend
            .insert_if_absent(&lock, "a", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !backend
            .insert_if_absent(&lock, "b", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert_eq!(
        backend.get(&lock).await.unwrap().as_deref(),
        Some("a"),
        "{name}"
    );
    backend.release(&lock, "b").await.unwrap();
    assert_eq!(
        backend.get(&lock).await.unwrap().as_deref(),
        Some("a"),
        "{name}: not b's"
    );
    backend.release(&lock, "a").await.unwrap();
    assert_eq!(backend.get(&lock).await.unwrap(), None, "{name}: released");
    assert!(
        backend
            .insert_if_absent(&lock, "x", Duration::from_secs(30))
            .await
            .unwrap()
    );
    backend.delete(&lock).await.unwrap();
    assert!(
        backend
            .insert_if_absent(&lock, "c", Duration::from_millis(100))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(backend.get(&lock).await.unwrap(), None, "{name}: expired");
    assert!(
        backend
            .insert_if_absent(&lock, "d", Duration::from_secs(30))
            .await
            .unwrap()
    );

    // Values are replaced and expire.
    let value = key("value");
    assert_eq!(backend.get(&value).await.unwrap(), None);
    backend
        .put(&value, "one", Duration::from_secs(30))
        .await
        .unwrap();
    backend
        .put(&value, "two", Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(
        backend.get(&value).await.unwrap().as_deref(),
        Some("two"),
        "{name}"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(backend.get(&value).await.unwrap(), None, "{name}: expired");
    backend.announce_revocation("user-1").await.unwrap();
}

#[tokio::test]
async fn every_database_backend_behaves_as_shared_state() {
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        let db = TestDatabase::new(backend).await;
        let store = Arc::new(db.store().await);
        let state: Arc<dyn SharedState> = Arc::new(DatabaseState::new(store.clone()));
        behaves_as_shared_state(state, &format!("{backend:?}")).await;
        store.close().await;
    }
}

fn redis_config(url: String) -> RedisConfig {
    serde_json::from_value(serde_json::json!({
        "url": url,
        "keyPrefix": "authgate-test:",
        "timeout": "1s",
    }))
    .unwrap_or_else(|error| panic!("{error}"))
}

#[tokio::test]
async fn redis_behaves_as_shared_state_and_recovers_from_a_restart() {
    let mut redis = RedisServer::start();
    let state = Arc::new(RedisState::new(&redis_config(redis.url())).unwrap());
    behaves_as_shared_state(state.clone(), "redis").await;
    // Every key carries the prefix.
    let keys = redis.command(&["KEYS", "*"]);
    assert!(keys.contains("authgate-test:test:"), "{keys}");
    assert!(!keys.contains("\n$5\r\ntest:"), "{keys}");

    // Down: a clear error, no hang beyond the timeout. Back: it answers again.
    redis.stop();
    let started = std::time::Instant::now();
    assert!(state.ping().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    redis.restart();
    let answered = crate::support::eventually(Duration::from_secs(10), || async {
        state.ping().await.ok()
    })
    .await;
    assert!(answered.is_some(), "Redis did not answer after its restart");
}
