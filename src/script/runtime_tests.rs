//! Unit tests of `runtime`.

use super::*;
use crate::clock::ManualClock;
use crate::config::script_key::{Callback, ScriptKey};
use crate::config::{LoadedScript, ScriptOrigin};
use crate::script::compile_script;
use serde_json::json;

fn dummy() -> crate::password::DummyHash {
    crate::password::DummyHash::for_cost("$2b$04").unwrap()
}

fn runtime() -> ScriptRuntime {
    ScriptRuntime::new(
        &ScriptingConfig::default(),
        Arc::new(ManualClock::at_unix_seconds(1_700_000_000)),
        dummy(),
    )
}

fn compiled(runtime: &ScriptRuntime, code: &str) -> CompiledScript {
    let script = LoadedScript {
        key: ScriptKey::Callback(Callback::Jwt),
        code: code.into(),
        origin: ScriptOrigin {
            file: "authgate.yaml".into(),
            line: 10,
            first_column: 5,
            column: 5,
            exact: true,
        },
    };
    compile_script(runtime.engine(), &script).unwrap()
}

#[test]
fn scripts_read_and_return_json_values() {
    let runtime = runtime();
    let script = compiled(
        &runtime,
        "token.role = if user.email.ends_with(\"@example.com\") { \"staff\" } else { \"guest\" };\ntoken",
    );
    let result = runtime
        .call(
            &script,
            &[
                ("token", json!({"sub": "1"})),
                ("user", json!({"email": "a@example.com"})),
            ],
        )
        .unwrap();
    assert_eq!(result, json!({"sub": "1", "role": "staff"}));
}

#[test]
fn unit_becomes_null() {
    let runtime = runtime();
    let script = compiled(&runtime, "()");
    assert_eq!(runtime.call(&script, &[]).unwrap(), Value::Null);
}

#[test]
fn helpers_are_available() {
    let runtime = runtime();
    let script = compiled(
        &runtime,
        "#{ now: now(), hash: sha256(\"abc\"), b64: base64(\"hi\"), back: base64_decode(\"aGk=\"), parsed: json_parse(\"{\\\"a\\\":1}\").a, text: json_stringify(#{b: 2}), id_len: uuid().len() }",
    );
    let result = runtime.call(&script, &[]).unwrap();
    assert_eq!(result["now"], 1_700_000_000);
    assert_eq!(
        result["hash"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(result["b64"], "aGk=");
    assert_eq!(result["back"], "hi");
    assert_eq!(result["parsed"], 1);
    assert_eq!(result["text"], "{\"b\":2}");
    assert_eq!(result["id_len"], 36);
}

#[test]
fn runaway_scripts_are_stopped_and_located() {
    let runtime = runtime();
    let cases = [
        ("loop {}", true),
        ("let s = \"x\"; loop { s += s; }", true),
        ("fn f(n) { f(n + 1) } f(0)", true),
        ("let a = 1;\nthrow \"boom\";", false),
    ];
    for (code, over_budget) in cases {
        let script = compiled(&runtime, code);
        let started = Instant::now();
        let error = runtime.call(&script, &[]).unwrap_err();
        assert_eq!(error.over_budget, over_budget, "{code}: {error}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{code} ran too long"
        );
    }
    let script = compiled(&runtime, "let a = 1;\nthrow \"boom\";");
    let error = runtime.call(&script, &[]).unwrap_err();
    let location = error.location.unwrap();
    assert_eq!((location.line, location.column), (11, 5));
}

#[test]
fn a_loop_over_password_hashing_stops_near_its_budget() {
    let limits = ScriptingConfig {
        timeout_ms: 50,
        ..ScriptingConfig::default()
    };
    let runtime = ScriptRuntime::new(&limits, Arc::new(ManualClock::at_unix_seconds(0)), dummy());
    let script = compiled(&runtime, "loop { verify_password(\"x\", ()); }");
    let started = Instant::now();
    let error = runtime.call(&script, &[]).unwrap_err();
    assert!(error.over_budget, "{error}");
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn wall_clock_budget_stops_slow_scripts() {
    let limits = ScriptingConfig {
        max_operations: 0,
        timeout_ms: 20,
        ..ScriptingConfig::default()
    };
    let runtime = ScriptRuntime::new(&limits, Arc::new(ManualClock::at_unix_seconds(0)), dummy());
    let script = compiled(&runtime, "let i = 0; loop { i += 1; }");
    let started = Instant::now();
    let error = runtime.call(&script, &[]).unwrap_err();
    assert!(error.over_budget);
    assert!(error.message.contains("wall-clock"), "{}", error.message);
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn padding_with_an_empty_string_fails_instead_of_looping_forever() {
    // Found by the rhai_script fuzz target: Rhai's own `pad` never ends on "".
    let runtime = runtime();
    let cases = [
        ("let s = \"\"; s.pad(3, \"\"); s", None),
        ("let s = \"ab\"; s.pad(5, \"xy\"); s", Some("abxyx")),
        ("let s = \"abc\"; s.pad(2, \"x\"); s", Some("abc")),
        ("let s = \"a\"; s.pad(-1, \"x\"); s", Some("a")),
    ];
    for (code, expected) in cases {
        let script = compiled(&runtime, code);
        let result = runtime.call(&script, &[]);
        match expected {
            Some(expected) => assert_eq!(result.unwrap(), serde_json::json!(expected), "{code}"),
            None => assert!(result.is_err(), "{code}"),
        }
    }
}
