//! Hot reload on a real running server: edits are picked up, a bad edit keeps the old
//! configuration serving and shows in `/readyz`, and a fix is served again.

use std::time::Duration;

use serde_json::Value;

use crate::support::{ConfigDir, Server, base_config, client, eventually, free_port};

const RELOAD_DEADLINE: Duration = Duration::from_secs(2);

fn acme_preset(name: &str) -> String {
    format!(
        "id: acme\nname: {name}\ntype: oauth\nrequires: [clientId]\nauthorization: https://acme.example/authorize\ntoken: https://acme.example/token\n"
    )
}

async fn provider_name(server: &Server, id: &str) -> Option<String> {
    let body: Value = client()
        .get(server.url("/api/auth/providers"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    body[id]["name"].as_str().map(str::to_string)
}

async fn readyz(server: &Server) -> Value {
    client()
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz answers")
        .json()
        .await
        .expect("readyz json")
}

fn start_with_acme() -> (ConfigDir, Server) {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(
        port,
        "providers:\n  - use: acme\n    clientId: acme-client\n",
    ));
    dir.write("providers.d/acme.yaml", &acme_preset("Acme One"));
    let server = Server::start(&dir.config_path(), port);
    (dir, server)
}

#[tokio::test]
async fn preset_edit_is_served_bad_edit_is_refused_and_fix_is_served_again() {
    let (dir, server) = start_with_acme();
    assert_eq!(
        provider_name(&server, "acme").await.as_deref(),
        Some("Acme One")
    );

    // 1. A good edit is served within two seconds.
    dir.replace("providers.d/acme.yaml", &acme_preset("Acme Two"));
    let served = eventually(RELOAD_DEADLINE, || async {
        (provider_name(&server, "acme").await.as_deref() == Some("Acme Two")).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "edit not served within 2 s; log:\n{}",
        server.log()
    );
    let ready = readyz(&server).await;
    assert_eq!(ready["generation"], 2);
    assert_eq!(ready["reload"]["lastReload"]["result"], "ok");

    // 2. A bad edit is refused: the old providers keep being served, readyz says why.
    dir.replace(
        "providers.d/acme.yaml",
        &acme_preset("Acme Broken").replace("type: oauth", "type: oauth2"),
    );
    let failed = eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(&server).await;
        (ready["reload"]["lastReload"]["result"] == "failed").then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("failed reload not reported; log:\n{}", server.log()));
    assert_eq!(failed["generation"], 2);
    assert_eq!(failed["reload"]["reloadsFailed"], 1);
    assert_eq!(failed["reload"]["lastReload"]["errorCount"], 1);
    let headline = failed["reload"]["lastReload"]["errors"][0]
        .as_str()
        .unwrap();
    assert!(
        headline.starts_with(
            "error: type: expected one of `oauth`, `oidc`, `email`, `credentials`, found `oauth2`"
        ),
        "{headline}"
    );
    assert!(headline.contains("acme.yaml:3:7"), "{headline}");
    assert_eq!(
        provider_name(&server, "acme").await.as_deref(),
        Some("Acme Two")
    );

    // 3. The fix is served again.
    dir.replace("providers.d/acme.yaml", &acme_preset("Acme Three"));
    let fixed = eventually(RELOAD_DEADLINE, || async {
        (provider_name(&server, "acme").await.as_deref() == Some("Acme Three")).then_some(())
    })
    .await;
    assert!(fixed.is_some(), "fix not served; log:\n{}", server.log());
    let ready = readyz(&server).await;
    assert_eq!(ready["generation"], 3);
    assert_eq!(ready["reload"]["lastReload"]["result"], "ok");
    assert!(server.log().contains("configuration reload failed"));
}

#[tokio::test]
async fn editing_the_config_file_in_place_adds_a_provider() {
    let (dir, server) = start_with_acme();
    let port = server
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    dir.write(
        "authgate.yaml",
        &base_config(
            port,
            "providers:\n  - use: acme\n    clientId: acme-client\n  - use: github\n    clientId: a\n    clientSecret: b\n",
        ),
    );
    let added = eventually(RELOAD_DEADLINE, || async {
        provider_name(&server, "github").await
    })
    .await;
    assert_eq!(added.as_deref(), Some("GitHub"));
}

#[tokio::test]
async fn sighup_reloads_without_a_file_change() {
    let (_dir, server) = start_with_acme();
    server.signal("HUP");
    let ready = eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(&server).await;
        (ready["generation"] == 2).then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("SIGHUP did not reload; log:\n{}", server.log()));
    assert_eq!(ready["reload"]["lastReload"]["trigger"], "SIGHUP");
}

#[tokio::test]
async fn changed_listen_address_is_reported_as_needing_a_restart() {
    let (dir, server) = start_with_acme();
    let port = server
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let other = free_port();
    let config = base_config(
        port,
        "providers:\n  - use: acme\n    clientId: acme-client\n",
    )
    .replace(
        &format!("listen: 127.0.0.1:{port}"),
        &format!("listen: 127.0.0.1:{other}"),
    );
    dir.replace("authgate.yaml", &config);
    let ready = eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(&server).await;
        (ready["generation"] == 2).then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("no reload; log:\n{}", server.log()));
    assert_eq!(
        ready["reload"]["needsRestart"],
        serde_json::json!(["server.listen"])
    );
    // Still served on the old address.
    assert_eq!(
        provider_name(&server, "acme").await.as_deref(),
        Some("Acme One")
    );
}

#[tokio::test]
async fn broken_script_file_keeps_the_old_pipeline_and_hides_secrets() {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(
        port,
        "callbacks:\n  session:\n    file: scripts/session.rhai\n",
    ));
    dir.write("scripts/session.rhai", "session\n");
    let server = Server::start(&dir.config_path(), port);

    dir.replace("scripts/session.rhai", "session.user.id = ;\nsession\n");
    let failed = eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(&server).await;
        (ready["reload"]["lastReload"]["result"] == "failed").then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("script change not seen; log:\n{}", server.log()));
    let headline = failed["reload"]["lastReload"]["errors"][0]
        .as_str()
        .unwrap();
    assert!(
        headline.contains("callbacks.session: script does not compile"),
        "{headline}"
    );
    assert!(headline.contains("session.rhai:1:19"), "{headline}");

    // A short secret is refused without showing it, in /readyz and in the log.
    dir.replace("scripts/session.rhai", "session\n");
    let config = std::fs::read_to_string(dir.config_path()).unwrap();
    dir.replace(
        "authgate.yaml",
        &config.replace(crate::support::SECRET, "tiny-secret-value"),
    );
    let refused = eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(&server).await;
        let errors = ready["reload"]["lastReload"]["errors"].to_string();
        errors
            .contains("secret: must be at least 32 bytes")
            .then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("short secret not refused; log:\n{}", server.log()));
    assert!(!refused.to_string().contains("tiny-secret-value"));
    assert!(!server.log().contains("tiny-secret-value"));
    assert_eq!(refused["generation"], 1);
}

#[tokio::test]
async fn creating_a_missing_script_file_after_a_failed_reload_is_picked_up() {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(port, ""));
    let server = Server::start(&dir.config_path(), port);
    let config = std::fs::read_to_string(dir.config_path()).unwrap();
    dir.replace(
        "authgate.yaml",
        &format!("{config}callbacks:\n  jwt:\n    file: jwt.rhai\n"),
    );
    let failed = eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(&server).await;
        (ready["reload"]["lastReload"]["result"] == "failed").then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("config edit not seen; log:\n{}", server.log()));
    assert!(failed.to_string().contains("file not found"), "{failed}");

    dir.write("jwt.rhai", "token\n");
    let ready = eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(&server).await;
        (ready["generation"] == 2).then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("new script file not picked up; log:\n{}", server.log()));
    assert_eq!(ready["reload"]["lastReload"]["result"], "ok");
}
