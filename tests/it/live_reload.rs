//! Hot reload on a real running server: edits are picked up, a bad edit keeps the old
//! configuration serving and shows in `/readyz`, and a fix is served again.

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    ConfigDir, Server, base_config, client, eventually, free_port, provider_name, unbound_port,
};

const RELOAD_DEADLINE: Duration = Duration::from_secs(2);

/// A drop-in provider file defining `acme` in full.
fn acme_dropin(name: &str) -> String {
    format!(
        "name: {name}\ntype: oauth\nclientId: acme-client\nauthorization: https://acme.example/authorize\ntoken: https://acme.example/token\n"
    )
}

async fn readyz(server: &Server) -> Value {
    client()
        .get(server.admin_url("/readyz"))
        .send()
        .await
        .expect("readyz answers")
        .json()
        .await
        .expect("readyz json")
}

/// Waits until `/readyz` satisfies `predicate`, and returns it.
async fn wait_for_readyz(server: &Server, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
    eventually(RELOAD_DEADLINE, || async {
        let ready = readyz(server).await;
        predicate(&ready).then_some(ready)
    })
    .await
    .unwrap_or_else(|| panic!("{what} not seen within 2 s; log:\n{}", server.log()))
}

/// Waits until provider `id` is served with `name`.
async fn wait_for_provider_name(server: &Server, id: &str, name: &str) {
    let served = eventually(RELOAD_DEADLINE, || async {
        (provider_name(server, id).await.as_deref() == Some(name)).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "{id} named {name} not served within 2 s; log:\n{}",
        server.log()
    );
}

fn last_result_is(result: &'static str) -> impl Fn(&Value) -> bool {
    move |ready| ready["reload"]["lastReload"]["result"] == result
}

/// One save can raise several file events, so tests ask for "at least", not "exactly".
fn generation_at_least(generation: u64) -> impl Fn(&Value) -> bool {
    move |ready| {
        ready["generation"]
            .as_u64()
            .is_some_and(|served| served >= generation)
    }
}

fn generation(ready: &Value) -> u64 {
    ready["generation"]
        .as_u64()
        .expect("generation is a number")
}

fn start_with_acme() -> (ConfigDir, Server) {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(port, ""));
    dir.write("providers.d/acme.yaml", &acme_dropin("Acme One"));
    let server = Server::start(&dir.config_path(), port);
    (dir, server)
}

#[tokio::test]
async fn dropin_edit_is_served_bad_edit_is_refused_and_fix_is_served_again() {
    let (dir, server) = start_with_acme();
    assert_eq!(
        provider_name(&server, "acme").await.as_deref(),
        Some("Acme One")
    );

    // 1. A good edit is served within two seconds.
    dir.replace("providers.d/acme.yaml", &acme_dropin("Acme Two"));
    wait_for_provider_name(&server, "acme", "Acme Two").await;
    let ready = readyz(&server).await;
    let good = generation(&ready);
    assert!(good >= 2, "{ready}");
    assert_eq!(ready["reload"]["lastReload"]["result"], "ok");

    // 2. A bad edit is refused: the old providers keep being served, readyz says why.
    dir.replace(
        "providers.d/acme.yaml",
        &acme_dropin("Acme Broken").replace("type: oauth", "type: oauth2"),
    );
    let failed = wait_for_readyz(&server, "failed reload", last_result_is("failed")).await;
    assert_eq!(
        generation(&failed),
        good,
        "a failed reload must not be swapped in"
    );
    assert!(
        failed["reload"]["reloadsFailed"].as_u64() >= Some(1),
        "{failed}"
    );
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
    assert!(headline.contains("acme.yaml:2:7"), "{headline}");
    assert_eq!(
        provider_name(&server, "acme").await.as_deref(),
        Some("Acme Two")
    );

    // 3. The fix is served again.
    dir.replace("providers.d/acme.yaml", &acme_dropin("Acme Three"));
    wait_for_provider_name(&server, "acme", "Acme Three").await;
    let ready = readyz(&server).await;
    assert!(generation(&ready) > good, "{ready}");
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
            "providers:\n  - use: github\n    clientId: a\n    clientSecret: b\n",
        ),
    );
    wait_for_provider_name(&server, "github", "GitHub").await;
}

#[tokio::test]
async fn sighup_reloads_without_a_file_change() {
    let (_dir, server) = start_with_acme();
    server.signal("HUP");
    let ready = wait_for_readyz(&server, "reload on SIGHUP", generation_at_least(2)).await;
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
    let other = unbound_port();
    let config = base_config(port, "").replace(
        &format!("listen: 127.0.0.1:{port}"),
        &format!("listen: 127.0.0.1:{other}"),
    );
    dir.replace("authgate.yaml", &config);
    let ready = wait_for_readyz(&server, "reload", generation_at_least(2)).await;
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
    let failed = wait_for_readyz(&server, "failed script reload", last_result_is("failed")).await;
    let headline = failed["reload"]["lastReload"]["errors"][0]
        .as_str()
        .unwrap();
    assert!(
        headline.contains("callbacks.session: script does not compile"),
        "{headline}"
    );
    assert!(headline.contains("session.rhai:1:19"), "{headline}");

    // The fixed script is served again.
    dir.replace("scripts/session.rhai", "session\n");
    let fixed = wait_for_readyz(&server, "fixed script", generation_at_least(2)).await;

    // A short secret is refused without showing it, in /readyz and in the log.
    let config = std::fs::read_to_string(dir.config_path()).unwrap();
    dir.replace(
        "authgate.yaml",
        &config.replace(crate::support::SECRET, "tiny-secret-value"),
    );
    let refused = wait_for_readyz(&server, "refused short secret", |ready| {
        ready["reload"]["lastReload"]["errors"]
            .to_string()
            .contains("secret: must be at least 32 bytes")
    })
    .await;
    assert!(!refused.to_string().contains("tiny-secret-value"));
    assert!(!server.log().contains("tiny-secret-value"));
    assert_eq!(refused["reload"]["lastReload"]["result"], "failed");
    assert!(generation(&refused) >= generation(&fixed));
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
    let failed = wait_for_readyz(&server, "failed reload", last_result_is("failed")).await;
    assert!(failed.to_string().contains("file not found"), "{failed}");

    dir.write("jwt.rhai", "token\n");
    let ready = wait_for_readyz(
        &server,
        "reload with the new script",
        generation_at_least(2),
    )
    .await;
    assert_eq!(ready["reload"]["lastReload"]["result"], "ok");
}

#[tokio::test]
async fn reading_the_config_files_never_triggers_a_reload() {
    let (dir, server) = start_with_acme();
    for _ in 0..5 {
        let _ = std::fs::read_to_string(dir.config_path()).unwrap();
        let _ = std::fs::read_to_string(dir.path().join("providers.d/acme.yaml")).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Rewriting identical content is not a change either.
    let same = std::fs::read_to_string(dir.config_path()).unwrap();
    dir.replace("authgate.yaml", &same);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ready = readyz(&server).await;
    assert_eq!(ready["generation"], 1, "{ready}");
    assert_eq!(ready["reload"]["lastReload"], Value::Null, "{ready}");
}

#[tokio::test]
async fn a_kubernetes_style_symlink_swap_is_picked_up() {
    let port = free_port();
    let dir = ConfigDir::new("");
    let config = |name: &str| {
        base_config(
            port,
            &format!(
                "providers:\n  - id: pw\n    type: credentials\n    name: {name}\n    authorize: \"()\"\n"
            ),
        )
    };
    // authgate.yaml -> ..data/authgate.yaml, ..data -> ..v1
    dir.write("..v1/authgate.yaml", &config("Version One"));
    dir.write("..v2/authgate.yaml", &config("Version Two"));
    let root = dir.path();
    std::fs::remove_file(root.join("authgate.yaml")).unwrap();
    std::os::unix::fs::symlink("..v1", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/authgate.yaml", root.join("authgate.yaml")).unwrap();
    let server = Server::start(&dir.config_path(), port);
    assert_eq!(
        provider_name(&server, "pw").await.as_deref(),
        Some("Version One")
    );

    // The atomic swap: a new link, renamed over `..data`.
    std::os::unix::fs::symlink("..v2", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    wait_for_provider_name(&server, "pw", "Version Two").await;
}
