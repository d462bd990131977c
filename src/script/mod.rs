//! Rhai scripting: the sandboxed engine, and compiling the script fields of a loaded config
//! into shared ASTs. Scripts get no file, network or module access, and run under the
//! operation, depth and size limits of `scripting:` in the config.

mod engine;

pub use engine::{CompiledScript, compile_script, sandboxed_engine};
