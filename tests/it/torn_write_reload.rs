//! A file written in place is loaded only once its writer closed it: a non-atomic writer
//! that pauses longer than the debounce never gets its half-written file served.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::support::Browser;
use crate::support::{
    ConfigDir, Server, base_config, eventually, free_port, provider_name, served_generation,
};

/// Longer than the debounce (200 ms, 600 ms at most): a pause this long used to get the
/// half-written file loaded.
const WRITER_PAUSE: Duration = Duration::from_millis(1500);
/// How long the completed file may take to be served.
const RELOAD_DEADLINE: Duration = Duration::from_secs(10);

/// A credentials provider that signs in any username, and `sign_in_script` as
/// `callbacks.signIn`, last in the file, so that the file cut at a line boundary inside
/// the script is still a valid config.
fn sign_in_script_config(port: u16, sign_in_script: &str) -> String {
    base_config(
        port,
        &format!(
            "providers:\n  - id: password\n    type: credentials\n    name: Password\n    authorize: '#{{ id: credentials.username }}'\ncallbacks:\n  signIn: |\n{sign_in_script}"
        ),
    )
}

/// The status of a credentials sign-in as `username` (next-auth v4's JSON convention):
/// 200 when signed in, 403 when `callbacks.signIn` refused.
async fn sign_in_status(server: &Server, username: &str) -> u16 {
    let browser = Browser::new(server);
    let csrf = browser.csrf().await;
    browser
        .sign_in(&[
            ("username", username),
            ("csrfToken", &csrf),
            ("json", "true"),
        ])
        .await
        .status()
        .as_u16()
}

/// Polls the server for as long as the writer pauses. Returns every moment it served
/// another generation than the first, or `refused_user` (if any) signed in.
async fn changes_seen_while_the_writer_pauses(
    server: &Server,
    refused_user: Option<&str>,
) -> Vec<String> {
    let mut seen = Vec::new();
    let pause_started = Instant::now();
    while pause_started.elapsed() < WRITER_PAUSE {
        let generation = served_generation(server).await;
        if generation != Some(1) {
            seen.push(format!("/readyz served generation {generation:?}"));
        }
        if let Some(user) = refused_user {
            let status = sign_in_status(server, user).await;
            if status != 403 {
                seen.push(format!("{user} signed in with status {status}"));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

#[tokio::test]
async fn half_written_config_is_never_served_while_its_writer_pauses() {
    let port = free_port();
    let dir = ConfigDir::new(&sign_in_script_config(
        port,
        "    user.id != \"eve\"\n      && user.id != \"trent\"\n",
    ));
    let server = Server::start(&dir.config_path(), port);
    assert_eq!(sign_in_status(&server, "eve").await, 403);
    assert_eq!(sign_in_status(&server, "trent").await, 403);

    // The new config refuses mallory and eve. Cut after the script's first line, it
    // refuses only mallory: a valid config that would let eve in.
    let new_config = sign_in_script_config(
        port,
        "    user.id != \"mallory\"\n      && user.id != \"eve\"\n",
    );
    let cut = new_config
        .find("      && user.id != \"eve\"")
        .expect("the script's second line");
    let (first_part, rest) = new_config.split_at(cut);

    // A non-atomic writer: truncate, write the first part, pause, write the rest, close.
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(dir.config_path())
        .expect("open authgate.yaml for writing");
    writer.write_all(first_part.as_bytes()).unwrap();
    writer.flush().unwrap();
    let seen = changes_seen_while_the_writer_pauses(&server, Some("eve")).await;
    writer.write_all(rest.as_bytes()).unwrap();
    drop(writer);
    assert!(
        seen.is_empty(),
        "the half-written config was served:\n{}\nlog:\n{}",
        seen.join("\n"),
        server.log()
    );

    // The complete config is served: trent is let in, mallory and eve are refused.
    let served = eventually(RELOAD_DEADLINE, || async {
        (sign_in_status(&server, "trent").await == 200).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "the complete config was not served; log:\n{}",
        server.log()
    );
    assert_eq!(sign_in_status(&server, "mallory").await, 403);
    assert_eq!(sign_in_status(&server, "eve").await, 403);
}

#[tokio::test]
async fn dropin_created_by_a_pausing_writer_is_loaded_only_once_closed() {
    let port = free_port();
    let dir = ConfigDir::new(&base_config(port, ""));
    std::fs::create_dir(dir.path().join("providers.d")).unwrap();
    let server = Server::start(&dir.config_path(), port);
    assert_eq!(provider_name(&server, "ghe").await, None);

    // `cat > providers.d/ghe.yaml`, typed slowly: the file is created and its first lines
    // written (already a valid provider); its name comes after a pause.
    let mut writer =
        std::fs::File::create(dir.path().join("providers.d/ghe.yaml")).expect("create the drop-in");
    writer
        .write_all(
            b"type: oauth\nclientId: a\nauthorization: https://github.example/authorize\ntoken: https://github.example/token\n",
        )
        .unwrap();
    let seen = changes_seen_while_the_writer_pauses(&server, None).await;
    writer.write_all(b"name: GitHub Enterprise\n").unwrap();
    drop(writer);
    assert!(
        seen.is_empty(),
        "the half-written drop-in was loaded:\n{}\nlog:\n{}",
        seen.join("\n"),
        server.log()
    );

    let served = eventually(RELOAD_DEADLINE, || async {
        (provider_name(&server, "ghe").await.as_deref() == Some("GitHub Enterprise")).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "the complete drop-in was not served; log:\n{}",
        server.log()
    );
}
