//! Unit tests of `engine`.

use super::*;
use crate::config::ScriptOrigin;
use crate::config::script_key::{Callback, ScriptKey};

fn script(code: &str) -> LoadedScript {
    LoadedScript {
        key: ScriptKey::Callback(Callback::Jwt),
        code: code.into(),
        origin: ScriptOrigin {
            file: "authgate.yaml".into(),
            line: 20,
            first_column: 5,
            column: 5,
            exact: true,
        },
    }
}

#[test]
fn a_valid_script_compiles() {
    let engine = sandboxed_engine(&ScriptingConfig::default());
    assert!(compile_script(&engine, &script("token.role = \"admin\";\ntoken")).is_ok());
}

#[test]
fn a_syntax_error_points_at_the_yaml_line() {
    let engine = sandboxed_engine(&ScriptingConfig::default());
    let error = compile_script(&engine, &script("let a = 1;\nlet = 2;\n")).unwrap_err();
    let location = error.location.unwrap();
    assert_eq!(
        (location.file.as_str(), location.line),
        ("authgate.yaml", 21)
    );
    assert!(
        error.message.starts_with("script does not compile:"),
        "{}",
        error.message
    );
}

#[test]
fn eval_is_not_available_to_scripts() {
    let engine = sandboxed_engine(&ScriptingConfig::default());
    assert!(compile_script(&engine, &script("eval(\"1\")")).is_err());
}

#[test]
fn a_compile_error_quoting_a_control_character_stays_on_one_line() {
    // Found by the yaml_config fuzz target (fuzz/regressions/yaml_config).
    let engine = sandboxed_engine(&ScriptingConfig::default());
    for code in ["n\0 ", "let x = \u{1b}[31m;", "a\nerror: forged"] {
        let error = compile_script(&engine, &script(code)).unwrap_err();
        assert!(
            !error.message.chars().any(char::is_control),
            "{code:?}: {:?}",
            error.message
        );
    }
}
