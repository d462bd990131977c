//! Running compiled scripts: a fresh `Scope` per call filled from JSON values (or values
//! already in Rhai's form), the operation/size limits of the engine plus a wall-clock
//! budget checked from `on_progress`, and the result turned back into JSON (and kept in
//! Rhai's form for a caller that asks). Any failure is a `ScriptError`;
//! callers deny on it, never allow.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, EvalAltResult, Scope};
use serde_json::Value;

use super::convert::{to_dynamic, to_json};
use super::engine::{CompiledScript, sandboxed_engine};
use super::helpers::register_helpers;
use crate::clock::Clock;
use crate::config::SourceLocation;
use crate::config::model::ScriptingConfig;
use crate::telemetry::metrics::ScriptOutcome;

thread_local! {
    /// The deadline of the script call running on this thread, if any.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How often (in operations) the wall clock is looked at.
const CLOCK_CHECK_EVERY: u64 = 64;

/// Whether the script call running on this thread is past its deadline. Slow native
/// helpers (password hashing) ask before they start, so a loop over them stops on time.
pub(crate) fn budget_exhausted() -> bool {
    DEADLINE.with(|deadline| {
        deadline
            .get()
            .is_some_and(|deadline| Instant::now() >= deadline)
    })
}

/// Why a script call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("script {script} failed{}: {message}", location.as_ref().map(|l| format!(" at {}:{}:{}", l.file, l.line, l.column)).unwrap_or_default())]
pub struct ScriptError {
    pub script: String,
    pub message: String,
    pub location: Option<SourceLocation>,
    /// It ran out of time or operations, rather than failing on its own.
    pub over_budget: bool,
}

/// The engine scripts of one pipeline run on.
pub struct ScriptRuntime {
    engine: Engine,
    budget: Duration,
}

impl std::fmt::Debug for ScriptRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptRuntime")
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl ScriptRuntime {
    /// A runtime whose `verify_password(plain, ())` verifies `password_dummy`.
    pub fn new(
        limits: &ScriptingConfig,
        clock: Arc<dyn Clock>,
        password_dummy: crate::password::DummyHash,
    ) -> Self {
        let mut engine = sandboxed_engine(limits);
        register_helpers(&mut engine, clock, password_dummy);
        engine.on_progress(|operations| {
            if operations % CLOCK_CHECK_EVERY != 0 {
                return None;
            }
            DEADLINE.with(|deadline| match deadline.get() {
                Some(deadline) if Instant::now() >= deadline => {
                    Some(Dynamic::from("wall-clock budget exhausted"))
                }
                _ => None,
            })
        });
        ScriptRuntime {
            engine,
            budget: Duration::from_millis(limits.timeout_ms),
        }
    }

    /// The engine, for compiling.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs `script` with the default budget.
    pub fn call(
        &self,
        script: &CompiledScript,
        variables: &[(&str, Value)],
    ) -> Result<Value, ScriptError> {
        self.call_with_budget(script, variables, self.budget)
    }

    /// Runs `script` with the default budget on variables it borrows.
    pub fn call_borrowed(
        &self,
        script: &CompiledScript,
        variables: &[(&str, &Value)],
    ) -> Result<Value, ScriptError> {
        self.call_json(script, variables, self.budget)
    }

    /// Runs `script` with `variables` in a fresh scope; the result as JSON (`()` → null).
    pub fn call_with_budget(
        &self,
        script: &CompiledScript,
        variables: &[(&str, Value)],
        budget: Duration,
    ) -> Result<Value, ScriptError> {
        let borrowed: Vec<(&str, &Value)> = variables
            .iter()
            .map(|(name, value)| (*name, value))
            .collect();
        self.call_json(script, &borrowed, budget)
    }

    /// Runs `script` with the default budget on variables already in Rhai's form. Its
    /// result comes as JSON and also as the script left it, for a caller that hands it on
    /// to another script without converting it back.
    pub fn call_dynamic(
        &self,
        script: &CompiledScript,
        variables: Vec<(&str, Dynamic)>,
    ) -> Result<(Value, Dynamic), ScriptError> {
        self.converted(script, variables, self.budget)
    }

    fn call_json(
        &self,
        script: &CompiledScript,
        variables: &[(&str, &Value)],
        budget: Duration,
    ) -> Result<Value, ScriptError> {
        let variables = variables
            .iter()
            .map(|(name, value)| (*name, to_dynamic(value)))
            .collect();
        self.converted(script, variables, budget)
            .map(|(json, _)| json)
    }

    /// Runs `script` and converts its result to JSON, counting the run by outcome: a
    /// result JSON cannot hold fails the run.
    fn converted(
        &self,
        script: &CompiledScript,
        variables: Vec<(&str, Dynamic)>,
        budget: Duration,
    ) -> Result<(Value, Dynamic), ScriptError> {
        let result = self.evaluate(script, variables, budget).and_then(|result| {
            let json = to_json(&result).map_err(|error| self.failure(script, &error))?;
            Ok((json, result))
        });
        count(script, &result);
        result
    }

    /// Runs `script` in a fresh scope holding `variables`, within `budget`.
    fn evaluate(
        &self,
        script: &CompiledScript,
        variables: Vec<(&str, Dynamic)>,
        budget: Duration,
    ) -> Result<Dynamic, ScriptError> {
        let mut scope = Scope::with_capacity(variables.len());
        for (name, value) in variables {
            scope.push_dynamic(name, value);
        }
        let started = Instant::now();
        DEADLINE.with(|deadline| deadline.set(Some(started + budget)));
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, &script.ast);
        DEADLINE.with(|deadline| deadline.set(None));
        let result = result.map_err(|error| self.failure(script, &error))?;
        if started.elapsed() > budget {
            // A slow native call (a password hash) gives no progress callbacks.
            return Err(ScriptError {
                script: script.name.clone(),
                message: format!(
                    "took {} ms, over its {} ms budget",
                    started.elapsed().as_millis(),
                    budget.as_millis()
                ),
                location: None,
                over_budget: true,
            });
        }
        Ok(result)
    }

    fn failure(&self, script: &CompiledScript, error: &EvalAltResult) -> ScriptError {
        let position = error.position();
        let location = position
            .line()
            .map(|line| script.origin.locate(line, position.position().unwrap_or(1)));
        let over_budget = matches!(
            error.unwrap_inner(),
            EvalAltResult::ErrorTerminated(..)
                | EvalAltResult::ErrorTooManyOperations(..)
                | EvalAltResult::ErrorDataTooLarge(..)
                | EvalAltResult::ErrorStackOverflow(..)
        );
        let message = match error.unwrap_inner() {
            EvalAltResult::ErrorTerminated(..) => "ran past its wall-clock budget".to_string(),
            other => other.to_string(),
        };
        ScriptError {
            script: script.name.clone(),
            message,
            location,
            over_budget,
        }
    }
}

/// Every run is counted by outcome.
fn count<T>(script: &CompiledScript, result: &Result<T, ScriptError>) {
    let outcome = match result {
        Ok(_) => ScriptOutcome::Ok,
        Err(error) if error.over_budget => ScriptOutcome::Budget,
        Err(_) => ScriptOutcome::Error,
    };
    script.runs.count(&script.name, outcome);
}

#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;
