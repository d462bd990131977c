//! Rhai scripting: the sandboxed engine, compiling the script fields of a loaded config into
//! shared ASTs, and running them. Scripts get no file, network or module access, and run
//! under the operation, depth and size limits of `scripting:` plus a wall-clock budget.

mod engine;
mod helpers;
mod runtime;

pub use engine::{CompiledScript, compile_script, sandboxed_engine};
pub use runtime::{ScriptError, ScriptRuntime};
