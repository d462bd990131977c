//! Building the sandboxed Rhai engine and compiling scripts with it. Compile errors become
//! diagnostics that point at the line inside the YAML (or `.rhai`) file.

use crate::config::codes::Code;
use std::sync::Arc;

use rhai::{AST, Engine, module_resolvers::DummyModuleResolver};

use crate::config::model::ScriptingConfig;
use crate::config::{Diagnostic, LoadedScript, ScriptOrigin};
use crate::telemetry::metrics::ScriptRuns;

/// Deepest expression nesting a script may have (parse-time guard against stack exhaustion).
const MAX_EXPRESSION_DEPTH: usize = 64;
/// Deepest expression nesting inside a function body.
const MAX_FUNCTION_EXPRESSION_DEPTH: usize = 32;

/// A script compiled once per pipeline and shared by every request.
#[derive(Debug, Clone)]
pub struct CompiledScript {
    /// The config path it came from (`callbacks.jwt`), for logs.
    pub name: String,
    pub ast: Arc<AST>,
    /// Where its text lives, to turn a runtime error's line into a file position.
    pub origin: ScriptOrigin,
    /// It may run long enough to stall an async worker (`blocking::compiled_may_block`).
    pub may_block: bool,
    /// Its runs, counted by outcome.
    pub runs: Arc<ScriptRuns>,
}

/// An engine with the sandbox applied: limits from `scripting`, no modules, no `eval`,
/// and `print`/`debug` sent to tracing instead of stdout.
pub fn sandboxed_engine(limits: &ScriptingConfig) -> Engine {
    let mut engine = Engine::new();
    engine.set_module_resolver(DummyModuleResolver::new());
    engine.disable_symbol("eval");
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_depth);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.set_max_expr_depths(MAX_EXPRESSION_DEPTH, MAX_FUNCTION_EXPRESSION_DEPTH);
    // One engine serves every worker; its string interner would be a shared lock.
    engine.set_max_strings_interned(0);
    engine.on_print(|text| tracing::info!(target: "authgate::script", "{text}"));
    engine.on_debug(|text, source, position| {
        tracing::debug!(target: "authgate::script", source = source.unwrap_or(""), %position, "{text}");
    });
    engine
}

/// Compiles one script; a syntax error points at its line in the file the user edits.
pub fn compile_script(
    engine: &Engine,
    script: &LoadedScript,
) -> Result<CompiledScript, Diagnostic> {
    match engine.compile(&script.code) {
        Ok(ast) => Ok(CompiledScript {
            name: script.key.to_string(),
            may_block: super::blocking::compiled_may_block(&script.code, &ast),
            ast: Arc::new(ast),
            origin: script.origin.clone(),
            runs: Arc::default(),
        }),
        Err(error) => {
            let position = error.position();
            let location = script.origin.locate(
                position.line().unwrap_or(1),
                position.position().unwrap_or(1),
            );
            Err(Diagnostic::error(
                Code::Script,
                script.key.to_string(),
                // Rhai quotes the offending source; `Diagnostic` escapes what it quotes.
                format!("script does not compile: {}", error.err_type()),
            )
            .at(location))
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
