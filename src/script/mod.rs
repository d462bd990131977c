//! Rhai scripting: the sandboxed engine, compiling the script fields of a loaded config into
//! shared ASTs, and running them. Scripts get no file, network or module access, and run
//! under the operation, depth and size limits of `scripting:` plus a wall-clock budget.

mod blocking;
pub mod convert;
mod engine;
mod helpers;
mod runtime;

pub use engine::{CompiledScript, compile_script, sandboxed_engine};
pub use runtime::{ScriptError, ScriptRuntime};

/// How a script's result is named in messages: Rhai's words for its types.
pub fn type_name(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "()",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a map",
    }
}
