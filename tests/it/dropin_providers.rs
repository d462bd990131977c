//! Drop-in provider files on a running server: a file dropped into `providers.d/` is a live
//! provider (served by `/providers`, usable for sign-in), an edit is served, a deleted file
//! takes its provider away, and a duplicate id is refused while the old pipeline serves.

use std::time::Duration;

use crate::support::{
    Browser, ConfigDir, Server, base_config, client, eventually, free_port, get_json,
};

const RELOAD_DEADLINE: Duration = Duration::from_secs(3);

const ACME: &str = "# yaml-language-server: $schema=../schema/provider.schema.json
name: Acme Corp
type: oauth
clientId: acme-client
clientSecret: acme-secret
authorization:
  url: https://sso.acme.example/oauth/authorize
  params: { scope: openid email }
token: https://sso.acme.example/oauth/token
userinfo: https://sso.acme.example/oauth/userinfo
";

const GITHUB: &str = "use: github\nclientId: gh-client\nclientSecret: gh-secret\n";

/// The ids `/providers` serves, in its order.
async fn served_ids(server: &Server) -> Vec<String> {
    let providers = get_json(server.url("/api/auth/providers"))
        .await
        .unwrap_or_default();
    providers
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default()
}

async fn wait_for_ids(server: &Server, expected: &[&str]) {
    let seen = eventually(RELOAD_DEADLINE, || async {
        let ids = served_ids(server).await;
        (ids == expected).then_some(())
    })
    .await;
    assert!(
        seen.is_some(),
        "expected providers {expected:?}, served {:?}; log:\n{}",
        served_ids(server).await,
        server.log()
    );
}

/// `POST /signin/<id>` with a CSRF token: where the provider's sign-in redirects.
async fn sign_in_location(server: &Server, id: &str) -> String {
    let browser = Browser::new(server);
    let csrf = browser.csrf().await;
    let response = browser
        .http
        .post(browser.url(&format!("/signin/{id}")))
        .form(&[("csrfToken", csrf.as_str())])
        .send()
        .await
        .expect("signin answers");
    assert_eq!(response.status(), 302, "{}", server.log());
    response.headers()["location"]
        .to_str()
        .expect("location")
        .to_string()
}

#[tokio::test]
async fn dropped_in_files_are_live_providers_until_deleted() {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(
        port,
        "providers:\n  - id: staff\n    type: credentials\n    authorize: \"()\"\n",
    ));
    let server = Server::start(&dir.config_path(), port);
    assert_eq!(served_ids(&server).await, ["staff"]);

    // A full definition, dropped into a directory that did not exist at start.
    dir.write("providers.d/acme.yaml", ACME);
    wait_for_ids(&server, &["staff", "acme"]).await;
    let location = sign_in_location(&server, "acme").await;
    assert!(
        location.starts_with("https://sso.acme.example/oauth/authorize?"),
        "{location}"
    );
    assert!(location.contains("client_id=acme-client"), "{location}");

    // A built-in preset enabled by a file; config order first, then file names.
    dir.write("providers.d/github.yaml", GITHUB);
    wait_for_ids(&server, &["staff", "acme", "github"]).await;
    let providers = get_json(server.url("/api/auth/providers")).await.unwrap();
    assert_eq!(providers["github"]["name"], "GitHub");
    assert_eq!(providers["github"]["type"], "oauth");
    let location = sign_in_location(&server, "github").await;
    assert!(
        location.starts_with("https://github.com/login/oauth/authorize?"),
        "{location}"
    );

    // An edit is served.
    dir.replace(
        "providers.d/acme.yaml",
        &ACME.replace("Acme Corp", "Acme SSO"),
    );
    let renamed = eventually(RELOAD_DEADLINE, || async {
        let providers = get_json(server.url("/api/auth/providers")).await?;
        (providers["acme"]["name"] == "Acme SSO").then_some(())
    })
    .await;
    assert!(renamed.is_some(), "{}", server.log());

    // Deleting the file removes the provider, and its sign-in with it.
    std::fs::remove_file(dir.path().join("providers.d/acme.yaml")).unwrap();
    wait_for_ids(&server, &["staff", "github"]).await;
    let gone = client()
        .post(server.url("/api/auth/signin/acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn a_dropin_reusing_a_config_id_is_refused_and_names_both_places() {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(
        port,
        "providers:\n  - use: github\n    clientId: a\n    clientSecret: b\n",
    ));
    let server = Server::start(&dir.config_path(), port);
    let before = crate::support::served_generation(&server).await.unwrap();
    let use_line = std::fs::read_to_string(dir.config_path())
        .unwrap()
        .lines()
        .position(|line| line.contains("- use: github"))
        .unwrap()
        + 1;

    dir.write("providers.d/github.yaml", GITHUB);
    let ready = eventually(RELOAD_DEADLINE, || async {
        let ready = get_json(server.admin_url("/readyz")).await?;
        (ready["reload"]["lastReload"]["result"] == "failed").then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("no failed reload; log:\n{}", server.log()));
    let error = ready["reload"]["lastReload"]["errors"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("duplicate provider id `github`")
            && error.contains("already used by providers[0] at ")
            && error.contains(&format!("authgate.yaml:{use_line}:5"))
            && error.contains("providers.d/github.yaml:1:1"),
        "{error}"
    );
    assert_eq!(
        crate::support::served_generation(&server).await,
        Some(before),
        "the old pipeline keeps serving"
    );
    assert_eq!(served_ids(&server).await, ["github"]);

    // Removing the duplicate serves again.
    std::fs::remove_file(dir.path().join("providers.d/github.yaml")).unwrap();
    let ok = eventually(RELOAD_DEADLINE, || async {
        let ready = get_json(server.admin_url("/readyz")).await?;
        (ready["reload"]["lastReload"]["result"] == "ok").then_some(())
    })
    .await;
    assert!(ok.is_some(), "{}", server.log());
}
