//! Rhai scripts a config author (or an attacker who can edit the config) writes: compiled
//! with the sandboxed engine (`script::compile_script` on the `ScriptRuntime`'s engine) and
//! run by `ScriptRuntime::call_with_budget` with the variables the callbacks get.
//!
//! Input: the script source (bytes read as UTF-8, lossily).
//!
//! The limits are small so each run stays short: 20 000 operations, 5 ms of wall clock,
//! and the deepest call nesting a config may allow (64). Scripts run on a thread with the
//! stack of a server worker (2 MiB), where callbacks really run.
//!
//! Properties: compiling and running never panic, abort or overflow the stack; a run ends
//! well within a second (infinite loops, deep recursion and huge strings end with an
//! error). What a compile error shows the user is `yaml_config`'s concern (diagnostics).

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use authgate::clock::ManualClock;
use authgate::config::model::ScriptingConfig;
use authgate::config::script_key::{Callback, ScriptKey};
use authgate::config::{LoadedScript, ScriptOrigin};
use authgate::password::{DEFAULT_COST, DummyHash};
use authgate::script::{ScriptRuntime, compile_script};
use authgate_fuzz::{FIXED_NOW_UNIX_SECONDS, on_server_stack};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const BUDGET: Duration = Duration::from_millis(5);
/// Far above the budget, so a loaded machine does not report a false hang. One native
/// password hash can run past the budget (the operation counter cannot interrupt it);
/// under coverage instrumentation, with other fuzzers on the same cores, one argon2 check
/// was seen to take 3.4 s.
const MOST_TIME_A_RUN_MAY_TAKE: Duration = Duration::from_secs(10);

fn runtime() -> &'static ScriptRuntime {
    static RUNTIME: OnceLock<ScriptRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let limits = ScriptingConfig {
            max_operations: 20_000,
            max_call_depth: 64,
            timeout_ms: 5,
            ..ScriptingConfig::default()
        };
        // The dummy `verify_password(plain, ())` checks, at the default cost.
        let password_dummy = DummyHash::for_cost(DEFAULT_COST).expect("no dummy hash");
        ScriptRuntime::new(
            &limits,
            Arc::new(ManualClock::at_unix_seconds(FIXED_NOW_UNIX_SECONDS)),
            password_dummy,
        )
    })
}

/// Every variable some callback gets, with the shapes authgate passes.
fn variables() -> &'static [(&'static str, Value)] {
    static VARIABLES: OnceLock<Vec<(&'static str, Value)>> = OnceLock::new();
    VARIABLES.get_or_init(|| {
        vec![
            (
                "token",
                json!({"sub": "1", "name": "Ada", "email": "ada@example.com", "picture": null}),
            ),
            (
                "user",
                json!({"id": "1", "name": "Ada", "email": "ada@example.com", "image": null, "role": "admin"}),
            ),
            (
                "account",
                json!({"provider": "github", "type": "oauth", "providerAccountId": "42",
                       "access_token": "gho_token", "expires_at": 1_800_003_600u64, "scope": "read:user"}),
            ),
            (
                "profile",
                json!({"sub": "42", "login": "ada", "name": "Ada", "email": "ada@example.com",
                       "picture": "https://avatars.example.com/42", "email_verified": true}),
            ),
            (
                "session",
                json!({"user": {"name": "Ada", "email": "ada@example.com", "image": null},
                       "expires": "2027-02-14T08:00:00.000Z"}),
            ),
            (
                "credentials",
                json!({"username": "alice", "password": "alice-password", "csrfToken": "x"}),
            ),
            ("email", Value::Null),
            ("url", json!("https://app.example.com/dashboard")),
            ("baseUrl", json!("https://app.example.com")),
            ("trigger", json!("signIn")),
            ("isNewUser", json!(false)),
        ]
    })
}

fn compile_and_run(source: String) {
    let runtime = runtime();
    let script = LoadedScript {
        key: ScriptKey::Callback(Callback::Jwt),
        code: source,
        origin: ScriptOrigin {
            file: "authgate.yaml".into(),
            line: 10,
            first_column: 5,
            column: 5,
            exact: true,
        },
    };
    let Ok(compiled) = compile_script(runtime.engine(), &script) else {
        return;
    };
    let started = Instant::now();
    let result = runtime.call_with_budget(&compiled, variables(), BUDGET);
    let took = started.elapsed();
    assert!(
        took < MOST_TIME_A_RUN_MAY_TAKE,
        "a run took {took:?} on a {BUDGET:?} budget: {result:?}"
    );
    if let Ok(value) = result {
        // The answer goes back into tokens and sessions as JSON.
        let _ = serde_json::to_string(&value);
    }
}

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data).into_owned();
    on_server_stack(move || compile_and_run(source));
});
