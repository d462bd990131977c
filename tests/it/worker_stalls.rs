//! Scripts that may block (loops, password helpers) never run on an async worker, while
//! straight-line scripts run in place: with one worker busy reading sessions whose callback
//! loops, other requests are still answered first.

use std::time::{Duration, Instant};

use crate::support::{Browser, ConfigDir, Server, base_config, client, free_port};

#[tokio::test]
async fn a_looping_session_callback_never_stalls_the_worker() {
    let port = free_port();
    let config = base_config(
        port,
        r#"providers:
  - id: password
    type: credentials
    credentials:
      username: { label: Username }
    authorize: |
      #{ id: credentials.username, name: credentials.username }
callbacks:
  session: |
    let i = 0;
    while i < 200000 { i += 1; }
    session.user.id = token.sub;
    session
scripting:
  maxOperations: 100000000
  timeoutMs: 30000
"#,
    )
    .replace("workers: 2", "workers: 1");
    let dir = ConfigDir::new(&config);
    let server = Server::start(&dir.config_path(), port);
    let browser = Browser::new(&server);
    let csrf = browser.csrf().await;
    browser
        .sign_in(&[("csrfToken", csrf.as_str()), ("username", "ada")])
        .await;
    let started = Instant::now();
    assert_eq!(browser.session().await["user"]["id"], "ada");
    let one_read = started.elapsed();

    // Four slow reads at once, then a request that needs no script.
    let cookie = browser.cookie_header();
    let reads: Vec<_> = (0..4)
        .map(|_| {
            let (url, cookie) = (server.url("/api/auth/session"), cookie.clone());
            tokio::spawn(async move {
                client()
                    .get(url)
                    .header("cookie", cookie)
                    .send()
                    .await
                    .unwrap();
                Instant::now()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let providers = client()
        .get(server.url("/api/auth/providers"))
        .send()
        .await
        .unwrap();
    assert!(providers.status().is_success());
    let answered = Instant::now();
    let first_read_done = futures::future::join_all(reads)
        .await
        .into_iter()
        .map(Result::unwrap)
        .min()
        .unwrap();
    assert!(
        answered < first_read_done,
        "/providers waited for the looping callbacks (one read takes {one_read:?})"
    );
}
