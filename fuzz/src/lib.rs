//! What the fuzz targets share: the fixed clock and secrets their seed tokens and cookies
//! were made with, fixed test keys, and a thread with the stack size authgate's own worker
//! threads have, so a recursion that would overflow a server thread overflows here too.
//! Nothing here is used by authgate itself.

use std::time::{Duration, SystemTime};

/// The time every target runs at: seed tokens were issued just before it, so they stay
/// valid forever (2027-01-15T08:00:00Z).
pub const FIXED_NOW_UNIX_SECONDS: u64 = 1_800_000_000;

/// [`FIXED_NOW_UNIX_SECONDS`] as a `SystemTime`.
pub fn fixed_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_NOW_UNIX_SECONDS)
}

/// The secrets (newest first) of the seed tokens and CSRF cookies.
pub const SECRETS: [&str; 2] = [
    "fuzz-secret-newest-0123456789abcdef0123456789",
    "fuzz-secret-oldest-0123456789abcdef0123456789",
];

/// The session cookie name the JWT keys are derived for (Auth.js v5 on http).
pub const SESSION_COOKIE: &str = "authjs.session-token";

/// A P-256 private key used only by the fuzz targets (it signs the ES256 seed tokens).
pub const ES256_SIGNING_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfN/HlJlQ71xiG7Zf
pI+QpS5of5C91No+klIEl3OMpbGhRANCAAQyG3Gq1taKF1T9UXIDVgk/txxFeNu5
KdCZ+iJCJoZR7R484uMdBGeJVqje4rtzVTSgzB+66vrcx86W4NVzPvdR
-----END PRIVATE KEY-----
";

/// A second P-256 key, listed after the first: it only verifies (a rotated-out key).
pub const ES256_RETIRED_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghHrRDfE3p82Qsv/y
RsE3VTr9d2oJOMaRXffDId6g5nihRANCAAS1NJl/NnCNkJOg7nmqUhbMEvF7CHyk
6Fp2FgVfzF9z/zJBdLYZh6sHvb4zl5FCpSY3ePR81HxszEVTsULa4pUv
-----END PRIVATE KEY-----
";

/// Stack of the threads authgate runs scripts and reloads on: tokio's blocking pool (which
/// actix-web's `web::block` uses) gives its threads 2 MiB. libFuzzer's main thread has 8 MiB,
/// which would hide a recursion that only fits there.
pub const SERVER_THREAD_STACK_BYTES: usize = 2 * 1024 * 1024;

/// Runs `work` on a fresh thread with a server thread's stack and waits for it. A panic
/// there aborts the process (libfuzzer-sys's panic hook), so libFuzzer still sees it.
pub fn on_server_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("fuzz-server-stack".into())
            .stack_size(SERVER_THREAD_STACK_BYTES)
            .spawn_scoped(scope, work)
            .expect("cannot spawn the fuzz worker thread");
        match worker.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
