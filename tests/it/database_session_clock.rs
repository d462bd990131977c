//! Database session expiry on a clock the test moves: reads within `updateAge` do not
//! write, a read after it extends the session, and an expired session reads as null and
//! its row is deleted. In-process, so that the clock is the test's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use authgate::actions::{AuthRequest, Method, session};
use authgate::clock::{Clock, ManualClock};
use authgate::config::ConfigSource;
use authgate::reload::LiveConfig;
use authgate::store::{NewUser, Session};

use crate::support::databases::{Backend, TestDatabase};
use crate::support::{ConfigDir, base_config, library_request, unbound_port};

const START: u64 = 1_800_000_000;
const DAY: u64 = 86_400;

fn request(token: &str) -> AuthRequest {
    library_request(
        "http://127.0.0.1",
        Method::Get,
        &[("authjs.session-token", token)],
    )
}

#[tokio::test]
async fn database_sessions_extend_once_per_update_age_and_expire() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let port = unbound_port();
    let dir = ConfigDir::new(&base_config(
        port,
        &format!(
            "database:\n  url: \"{}\"\nsession:\n  strategy: database\n  maxAge: 30d\n  updateAge: 1d\n",
            db.url
        ),
    ));
    let clock = Arc::new(ManualClock::at_unix_seconds(START));
    let source = ConfigSource::new(dir.config_path());
    let env: Arc<HashMap<String, String>> = Arc::new(HashMap::new());
    let live_clock: Arc<dyn Clock> = clock.clone();
    // Starting connects the store, which blocks: off the test's runtime.
    let live = tokio::task::spawn_blocking(move || LiveConfig::start(source, env, live_clock))
        .await
        .unwrap()
        .unwrap_or_else(|_| panic!("the config starts"));
    let pipeline = live.snapshot();
    let store = pipeline.store.clone().expect("a store");
    let user = store
        .create_user(NewUser {
            name: Some("Ada".into()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let token = "k".repeat(43);
    let start = START as i64;
    store
        .create_session(Session {
            session_token: token.clone(),
            user_id: user.id.clone(),
            expires: start + 30 * DAY as i64,
            browser_binding: None,
            created_at: Some(start),
            last_seen: Some(start),
            user_agent: None,
        })
        .await
        .unwrap();

    // (advance by, session expected, cookie written, stored expiry afterwards)
    let steps: [(u64, bool, bool, Option<i64>); 4] = [
        (3600, true, false, Some(start + 30 * DAY as i64)),
        (
            DAY - 3600 + 1,
            true,
            true,
            Some(start + 31 * DAY as i64 + 1),
        ),
        (3600, true, false, Some(start + 31 * DAY as i64 + 1)),
        (31 * DAY, false, true, None),
    ];
    for (advance, has_session, writes_cookie, stored) in steps {
        clock.advance(Duration::from_secs(advance));
        let response = session::handle(&request(&token), &live.snapshot(), None).await;
        let body = match &response.body {
            authgate::actions::Body::Json(body) => body.clone(),
            other => panic!("not JSON: {other:?}"),
        };
        assert_eq!(response.status, 200);
        assert_eq!(
            body != Value::Null,
            has_session,
            "after +{advance}s: {body}"
        );
        assert_eq!(
            !response.cookies.is_empty(),
            writes_cookie,
            "after +{advance}s"
        );
        let row = store.get_session_and_user(&token).await.unwrap();
        assert_eq!(
            row.map(|(session, _)| session.expires),
            stored,
            "after +{advance}s"
        );
    }
}
