//! The functions scripts may call: `now()`, `sha256`, `base64`/`base64_decode`, `uuid()`,
//! `json_parse`/`json_stringify`, `log_info`/`log_warn`, and `verify_password`/`hash_password`.
//! None of them reaches a file or the network; `now()` reads the pipeline's clock.

use std::sync::Arc;

use base64::Engine as _;
use rhai::{Dynamic, Engine, EvalAltResult, INT, ImmutableString, NativeCallContext, Position};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::password;

fn script_error(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    ))
}

/// Fails when the running script is out of time: each password helper costs ~30 ms of
/// native work that the operation counter cannot see.
fn within_budget() -> Result<(), Box<EvalAltResult>> {
    if super::runtime::budget_exhausted() {
        return Err(Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from("wall-clock budget exhausted"),
            Position::NONE,
        )));
    }
    Ok(())
}

/// Registers every helper on `engine`.
pub fn register_helpers(
    engine: &mut Engine,
    clock: Arc<dyn Clock>,
    password_dummy: password::DummyHash,
) {
    engine.register_fn("now", move || clock.unix_seconds() as i64);
    engine.register_fn("sha256", |text: ImmutableString| {
        crate::text::lower_hex(&Sha256::digest(text.as_bytes()))
    });
    engine.register_fn("base64", |text: ImmutableString| {
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    });
    engine.register_fn(
        "base64_decode",
        |text: ImmutableString| -> Result<String, Box<EvalAltResult>> {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .or_else(|_| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.as_bytes())
                })
                .map_err(|error| script_error(format!("base64_decode: {error}")))?;
            String::from_utf8(bytes).map_err(|_| script_error("base64_decode: not UTF-8 text"))
        },
    );
    engine.register_fn("uuid", || uuid::Uuid::new_v4().to_string());
    engine.register_fn(
        "json_parse",
        |text: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|error| script_error(format!("json_parse: {error}")))?;
            rhai::serde::to_dynamic(value)
        },
    );
    engine.register_fn(
        "json_stringify",
        |value: Dynamic| -> Result<String, Box<EvalAltResult>> {
            let value: serde_json::Value = rhai::serde::from_dynamic(&value)?;
            Ok(value.to_string())
        },
    );
    // Rhai's own `pad(len, string)` loops forever on an empty padding string, inside one
    // native call the budget cannot interrupt (found by the rhai_script fuzz target). This
    // one, registered globally, is found first.
    engine.register_fn(
        "pad",
        |context: NativeCallContext,
         text: &mut ImmutableString,
         length: INT,
         padding: ImmutableString|
         -> Result<(), Box<EvalAltResult>> {
            if padding.is_empty() {
                return Err(script_error("pad: the padding string is empty"));
            }
            let limit = context.engine().max_string_size();
            let Ok(length) = usize::try_from(length) else {
                return Ok(());
            };
            if limit > 0 && length > limit {
                return Err(script_error(format!(
                    "pad: {length} characters is over the string limit of {limit}"
                )));
            }
            let mut padded = text.to_string();
            let missing = length.saturating_sub(padded.chars().count());
            padded.extend(padding.chars().cycle().take(missing));
            *text = padded.into();
            Ok(())
        },
    );
    engine.register_fn("log_info", |text: ImmutableString| {
        tracing::info!(target: "authgate::script", "{text}");
    });
    engine.register_fn("log_warn", |text: ImmutableString| {
        tracing::warn!(target: "authgate::script", "{text}");
    });
    let dummy = password_dummy.clone();
    engine.register_fn(
        "verify_password",
        move |plain: ImmutableString, hash: ImmutableString| -> Result<bool, Box<EvalAltResult>> {
            within_budget()?;
            Ok(password::verify_password(&plain, Some(&hash), &dummy))
        },
    );
    // A user that does not exist still costs one hash verification, of the configured cost.
    engine.register_fn(
        "verify_password",
        move |plain: ImmutableString, _hash: ()| -> Result<bool, Box<EvalAltResult>> {
            within_budget()?;
            Ok(password::verify_password(&plain, None, &password_dummy))
        },
    );
    engine.register_fn(
        "hash_password",
        |plain: ImmutableString| -> Result<String, Box<EvalAltResult>> {
            within_budget()?;
            password::hash_password(&plain).map_err(|error| script_error(error.to_string()))
        },
    );
}
