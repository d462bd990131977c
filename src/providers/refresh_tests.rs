//! Unit tests of `refresh`.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

#[tokio::test]
async fn concurrent_refreshes_of_one_token_call_the_provider_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let attempts = (0..20).map(|_| {
        let calls = calls.clone();
        refresh_once("p", "rt-1", None, async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(TokenSet {
                access_token: "new".into(),
                ..TokenSet::default()
            })
        })
    });
    let results = futures::future::join_all(attempts).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap().access_token == "new")
    );
}

#[test]
fn refresh_is_due_within_the_margin() {
    assert!(is_due(Some(100), 100, 0));
    assert!(is_due(Some(150), 100, 60));
    assert!(!is_due(Some(200), 100, 60));
    assert!(!is_due(None, 100, 60));
}
