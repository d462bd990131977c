//! Scripts that may block (loops, password helpers) never run on an async worker, while
//! straight-line scripts run in place: with the one worker serving requests whose script
//! loops, other requests are still answered first. Checked for the session callback, the
//! credentials `authorize` script and the `signIn` callback; the sign-in `jwt` callback,
//! forward-auth rules and the access-token claims script take the same `off_workers` path.

use std::time::{Duration, Instant};

use crate::support::{Browser, ConfigDir, Server, base_config, client, free_port};

/// A loop of a few milliseconds, or more.
const LOOP: &str = "let i = 0;\n    while i < 200000 { i += 1; }";

/// Which request runs the looping script.
#[derive(Clone, Copy, Debug)]
enum Slow {
    SessionRead,
    SignIn,
}

#[tokio::test]
async fn a_looping_script_never_stalls_the_worker() {
    let cases = [
        (
            "session callback",
            format!(
                "callbacks:\n  session: |\n    {LOOP}\n    session.user.id = token.sub;\n    session\n"
            ),
            "#{ id: credentials.username, name: credentials.username }".to_string(),
            Slow::SessionRead,
        ),
        (
            "authorize",
            String::new(),
            format!(
                "{}\n      #{{ id: credentials.username, name: credentials.username }}",
                LOOP.replace("\n    ", "\n      ")
            ),
            Slow::SignIn,
        ),
        (
            "signIn callback",
            format!("callbacks:\n  signIn: |\n    {LOOP}\n    true\n"),
            "#{ id: credentials.username, name: credentials.username }".to_string(),
            Slow::SignIn,
        ),
    ];
    let mut stalled = Vec::new();
    for (name, callbacks, authorize, slow) in cases {
        let port = free_port();
        let config = base_config(
            port,
            &format!(
                r#"providers:
  - id: password
    type: credentials
    credentials:
      username: {{ label: Username }}
    authorize: |
      {authorize}
{callbacks}scripting:
  maxOperations: 100000000
  timeoutMs: 30000
rateLimits:
  credentials: {{ perUsername: "off", perIp: "off" }}
"#
            ),
        )
        .replace("workers: 2", "workers: 1");
        let dir = ConfigDir::new(&config);
        let server = Server::start(&dir.config_path(), port);
        let browser = Browser::new(&server);
        let csrf = browser.csrf().await;
        let started = Instant::now();
        browser
            .sign_in(&[("csrfToken", csrf.as_str()), ("username", "ada")])
            .await;
        let session = browser.session().await;
        assert_eq!(session["user"]["name"], "ada", "{name}: {session}");
        let one_round = started.elapsed();

        // Four slow requests at once, then one that needs no script.
        let cookie = browser.cookie_header();
        let requests: Vec<_> = (0..4)
            .map(|_| {
                let cookie = cookie.clone();
                let request = match slow {
                    Slow::SessionRead => client().get(server.url("/api/auth/session")),
                    Slow::SignIn => client()
                        .post(server.url("/api/auth/callback/password"))
                        .form(&[("csrfToken", csrf.as_str()), ("username", "ada")]),
                };
                tokio::spawn(async move {
                    let response = request.header("cookie", cookie).send().await.unwrap();
                    assert!(response.status().as_u16() < 400, "{:?}", response.status());
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
        let first_done = futures::future::join_all(requests)
            .await
            .into_iter()
            .map(Result::unwrap)
            .min()
            .unwrap();
        if answered >= first_done {
            stalled.push(format!(
                "{name}: /providers waited for the looping scripts ({slow:?}; a sign-in and a \
                 session read take {one_round:?})"
            ));
        }
    }
    assert!(stalled.is_empty(), "{stalled:#?}");
}
