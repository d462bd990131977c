//! Two authgate instances behind real nginx (round robin), sharing PostgreSQL and Redis
//! (or, without Redis, the database): a session made through one reads on the other,
//! concurrent reads due for refresh refresh once at the OpenID Provider, a revocation on
//! one is seen on the other, a rate limit holds across both, a config edit reloads both
//! without a failed request, and a Redis outage degrades to per-instance state and
//! recovers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::databases::{Backend, TestDatabase};
use crate::support::idp::{CLIENT_SECRET, Idp, authorize, callback_uri, sign_in, start_sign_in};
use crate::support::proxies::Proxy;
use crate::support::redis::RedisServer;
use crate::support::{
    Browser, ConfigDir, Server, base_config, client, eventually, free_port, served_generation,
};

/// The one user of the credentials provider: `ada` / `correct horse` (argon2id).
const CREDENTIALS: &str = r#"  - id: password
    type: credentials
    credentials:
      username: { label: Username }
      password: { label: Password, type: password }
    authorize: |
      let users = #{ ada: #{ id: "42", name: "Ada", email: "ada@example.com", hash: "$argon2id$v=19$m=19456,t=2,p=1$hjVekqtJoVBIGX6qprlLvQ$TcsEL2bjd3s357g13g/z4JNkI+wwp2+IO5CmHDzQBOU" } };
      let user = users[credentials.username ?? ""];
      let hash = if user != () { user.hash } else { () };
      if verify_password(credentials.password ?? "", hash) { #{ id: user.id, name: user.name, email: user.email } } else { () }
"#;

struct Cluster {
    idp: Idp,
    instances: [Server; 2],
    proxy: Proxy,
    dir: ConfigDir,
    _db: TestDatabase,
}

/// The IdP, the database, two instances on one configuration with `state`, and nginx.
async fn cluster(backend: Backend, state: &str, staleness: &str) -> Cluster {
    let db = TestDatabase::new(backend).await;
    let ports = [free_port(), free_port()];
    let proxy = Proxy::nginx_load_balancer(&ports);
    let site_port: u16 = proxy.base.rsplit(':').next().unwrap().parse().unwrap();
    let idp = Idp::start(&[("idp-client", callback_uri(site_port, "idp"))], 2);
    let config = base_config(
        site_port,
        &format!(
            "database:\n  url: \"{db}\"\nsession:\n  strategy: jwt\n  revocationStaleness: {staleness}\njwt:\n  encryption: true\n{state}\
             rateLimits:\n  credentials: {{perUsername: 3/1h, perIp: \"off\"}}\n\
             providers:\n  - id: idp\n    type: oidc\n    issuer: {issuer}\n    clientId: idp-client\n    clientSecret: {CLIENT_SECRET}\n    refresh: auto\n    refreshMargin: 0s\n{CREDENTIALS}\
             callbacks:\n  session: |\n    session.user.id = token.sub;\n    if token.access_token != () {{ session.accessToken = token.access_token; }}\n    session\n",
            db = db.url,
            issuer = idp.issuer,
        ),
    );
    let dir = ConfigDir::new(&config);
    let instances = [
        Server::start_instance(&dir.config_path(), ports[0], &[], "one"),
        Server::start_instance(&dir.config_path(), ports[1], &[], "two"),
    ];
    Cluster {
        idp,
        instances,
        proxy,
        dir,
        _db: db,
    }
}

/// `GET /api/auth/session` on `server` with `cookie`.
async fn session_on(server: &Server, cookie: &str) -> Value {
    client()
        .get(server.url("/api/auth/session"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A wrong password for `username`, posted to `server`; the status.
async fn wrong_password(browser: &Browser, server: &Server, username: &str) -> StatusCode {
    let csrf = browser.csrf().await;
    browser
        .http
        .post(server.url("/api/auth/callback/password"))
        .form(&[
            ("csrfToken", csrf.as_str()),
            ("username", username),
            ("password", "wrong"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

/// Wrong passwords for `username`, alternating between the instances; the statuses.
async fn alternating_failures(cluster: &Cluster, username: &str, count: usize) -> Vec<u16> {
    let browser = Browser::at(&cluster.proxy.base);
    let mut statuses = Vec::new();
    for attempt in 0..count {
        let server = &cluster.instances[attempt % 2];
        statuses.push(wrong_password(&browser, server, username).await.as_u16());
    }
    statuses
}

/// `POST /sessions/revoke scope=all` from `browser`, on `server` itself.
async fn revoke_all(browser: &Browser, server: &Server) -> reqwest::Response {
    let csrf = browser.csrf().await;
    browser
        .http
        .post(server.url("/api/auth/sessions/revoke"))
        .form(&[("csrfToken", csrf.as_str()), ("scope", "all")])
        .send()
        .await
        .unwrap()
}

/// 20 concurrent session reads through nginx with `cookie`.
async fn concurrent_reads(cluster: &Cluster, cookie: &str) -> Vec<Value> {
    let url = format!("{}/api/auth/session", cluster.proxy.base);
    let reads = (0..20).map(|_| {
        let (url, cookie) = (url.clone(), cookie.to_string());
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
    });
    futures::future::join_all(reads).await
}

async fn shared_state_answers(server: &Server) -> Option<bool> {
    crate::support::get_json(server.admin_url("/readyz")).await?["sharedState"]["answers"].as_bool()
}

/// Sessions made on either instance read on both, and a refresh due on 20 concurrent
/// reads over both instances happens once at the provider.
async fn sessions_are_shared_and_refreshed_once(cluster: &Cluster) -> Browser {
    let browser = Browser::at(&cluster.proxy.base);
    sign_in(&browser, &cluster.idp, "idp", "ada").await;
    let cookie = browser.cookie_header();
    for server in &cluster.instances {
        assert_eq!(
            session_on(server, &cookie).await["user"]["email"],
            "ada@example.com",
            "{}",
            server.log()
        );
    }
    let before = browser.session().await["accessToken"].clone();
    assert!(before.is_string());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    cluster.idp.reset_stats().await;
    let sessions = concurrent_reads(cluster, &cookie).await;
    assert_eq!(
        cluster.idp.stats().await["refresh_token"],
        serde_json::json!(1),
        "one: {}\ntwo: {}",
        cluster.instances[0].log(),
        cluster.instances[1].log()
    );
    let first = sessions[0]["accessToken"].clone();
    assert_ne!(first, before);
    for session in &sessions {
        assert!(session.get("error").is_none(), "{session}");
        assert_eq!(session["accessToken"], first, "{session}");
    }
    browser
}

#[tokio::test]
async fn two_instances_behind_nginx_share_postgres_and_redis() {
    let mut redis = RedisServer::start();
    let state = format!(
        "state:\n  backend: redis\n  redis:\n    url: {}\n",
        redis.url()
    );
    let cluster = cluster(Backend::Postgres, &state, "60s").await;
    let browser = sessions_are_shared_and_refreshed_once(&cluster).await;

    // An OAuth round trip answered by one instance is refused when its cookies are
    // replayed to the other, before a second token request.
    cluster.idp.reset_stats().await;
    let mallory = Browser::at(&cluster.proxy.base);
    let authorization = start_sign_in(&mallory, "idp", "/home").await;
    let callback = authorize(&mallory, &cluster.idp, &authorization, "mallory").await;
    let path = callback.trim_start_matches(&cluster.proxy.base).to_string();
    let cookies = mallory.cookie_header();
    let mut locations = Vec::new();
    for server in &cluster.instances {
        let response = client()
            .get(server.url(&path))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        locations.push(response.headers()["location"].to_str().unwrap().to_string());
    }
    assert!(!locations[0].contains("error"), "{locations:?}");
    assert!(
        locations[1].contains("error=OAuthCallback"),
        "{locations:?}"
    );
    assert_eq!(
        cluster.idp.stats().await["authorization_code"],
        serde_json::json!(1)
    );
    assert!(
        cluster.instances[1]
            .log()
            .contains("already answered (by another instance)"),
        "{}",
        cluster.instances[1].log()
    );

    // A revocation on one instance is seen on the other at once, although each had the
    // session cached for a minute: Redis carries the announcement.
    let cookie = browser.cookie_header();
    let [one, two] = &cluster.instances;
    for server in [one, two] {
        assert!(session_on(server, &cookie).await["user"].is_object());
    }
    let revoked = revoke_all(&browser, one).await;
    assert_eq!(revoked.status(), StatusCode::OK, "{}", one.log());
    let gone = eventually(Duration::from_secs(3), || async {
        session_on(two, &cookie).await.is_null().then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "the other instance still reads the revoked session"
    );

    // A rate limit holds across both: the fourth failure is refused whichever instance
    // it reaches.
    assert_eq!(
        alternating_failures(&cluster, "ada", 4).await,
        [302, 302, 302, 429]
    );

    // A config edit reloads both, while requests through nginx all succeed.
    let stop = Arc::new(AtomicBool::new(false));
    let load = (0..4).map(|_| {
        let (stop, base) = (stop.clone(), cluster.proxy.base.clone());
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let response = client()
                    .get(format!("{base}/api/auth/providers"))
                    .send()
                    .await;
                statuses.push(response.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        })
    });
    let load: Vec<_> = load.collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let config = std::fs::read_to_string(cluster.dir.config_path()).unwrap();
    cluster.dir.replace(
        "authgate.yaml",
        &format!("{config}theme:\n  brandColor: \"#123456\"\n"),
    );
    for server in [one, two] {
        let reloaded = eventually(Duration::from_secs(10), || async {
            (served_generation(server).await == Some(2)).then_some(())
        })
        .await;
        assert!(reloaded.is_some(), "{}", server.log());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let statuses: Vec<u16> = futures::future::join_all(load)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    assert!(statuses.len() >= 8, "{}", statuses.len());
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");

    // Redis stops: sessions still read, sign-ins are still limited (per instance), the
    // operators see it, and nothing panics.
    let bob = Browser::at(&cluster.proxy.base);
    sign_in(&bob, &cluster.idp, "idp", "bob").await;
    redis.stop();
    for _ in 0..4 {
        assert_eq!(bob.session().await["user"]["email"], "bob@example.com");
    }
    assert_eq!(
        alternating_failures(&cluster, "carol", 4).await,
        [302, 302, 302, 302],
        "each instance counts on its own"
    );
    assert_eq!(
        wrong_password(&bob, one, "carol").await,
        StatusCode::FOUND,
        "the third on one instance"
    );
    assert_eq!(
        wrong_password(&bob, one, "carol").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(shared_state_answers(one).await, Some(false));
    let logged = one
        .log_when(Duration::from_secs(5), |log| {
            log.contains("shared state unavailable")
        })
        .await;
    assert!(logged.contains("shared state unavailable"), "{logged}");
    let metrics = reqwest::get(one.admin_url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("authgate_shared_state_up 0"), "{metrics}");
    assert!(
        metrics.contains("authgate_shared_state_errors_total"),
        "{metrics}"
    );

    // Redis returns: the instances share again.
    redis.restart();
    for server in [one, two] {
        let back = eventually(Duration::from_secs(15), || async {
            (shared_state_answers(server).await == Some(true)).then_some(())
        })
        .await;
        assert!(back.is_some(), "{}", server.log());
    }
    assert_eq!(
        alternating_failures(&cluster, "dave", 4).await,
        [302, 302, 302, 429]
    );
    for server in [one, two] {
        assert!(!server.log().contains("panicked"), "{}", server.log());
    }
}

#[tokio::test]
async fn without_redis_two_instances_share_state_through_mariadb() {
    let cluster = cluster(Backend::MySql, "state:\n  backend: database\n", "1s").await;
    let browser = sessions_are_shared_and_refreshed_once(&cluster).await;
    assert_eq!(
        alternating_failures(&cluster, "ada", 4).await,
        [302, 302, 302, 429]
    );
    // Without broadcast, a revocation is seen within the staleness bound.
    let cookie = browser.cookie_header();
    let [one, two] = &cluster.instances;
    assert!(session_on(two, &cookie).await["user"].is_object());
    let revoked = revoke_all(&browser, one).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let gone = eventually(Duration::from_secs(3), || async {
        session_on(two, &cookie).await.is_null().then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "the revocation was not seen within the staleness bound"
    );
}
