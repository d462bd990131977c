//! JSON values into Rhai's `Dynamic` and back. Every argument and result of every script
//! call goes through here, so the JSON types convert directly instead of through serde;
//! what JSON has no direct counterpart for (characters, blobs, timestamps, function
//! pointers, custom types) takes rhai's serde path, converting exactly as it did before.

use rhai::{Dynamic, EvalAltResult, ImmutableString};
use serde_json::{Map, Number, Value};

/// `value` as Rhai sees it: `null` → `()`, integers that fit an `i64` → `INT`, other
/// numbers → `FLOAT`, arrays → `Array`, objects → `Map`.
pub fn to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(flag) => Dynamic::from_bool(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => Dynamic::from_int(integer),
            None => Dynamic::from_float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => Dynamic::from(ImmutableString::from(text.as_str())),
        Value::Array(items) => Dynamic::from_array(items.iter().map(to_dynamic).collect()),
        Value::Object(fields) => to_dynamic_map(fields),
    }
}

/// A JSON object as a Rhai map.
pub fn to_dynamic_map(fields: &Map<String, Value>) -> Dynamic {
    Dynamic::from_map(
        fields
            .iter()
            .map(|(name, field)| (name.as_str().into(), to_dynamic(field)))
            .collect(),
    )
}

/// Whether `value` converts to JSON and back unchanged: only `()`, booleans, integers,
/// finite floats, strings, and arrays and maps of them, none shared with a closure,
/// tagged or read-only (what JSON does not keep).
pub fn is_plain_json(value: &Dynamic) -> bool {
    if value.is_shared() || value.tag() != 0 || value.is_read_only() {
        return false;
    }
    if value.is_unit() || value.is_bool() || value.is_int() || value.is_string() {
        return true;
    }
    if let Ok(float) = value.as_float() {
        return float.is_finite();
    }
    if let Ok(items) = value.as_array_ref() {
        return items.iter().all(is_plain_json);
    }
    if let Ok(fields) = value.as_map_ref() {
        return fields.values().all(is_plain_json);
    }
    false
}

/// A script's value as JSON: `()` → `null`, a float JSON cannot hold (NaN, infinities) →
/// `null`, maps with their keys in order. It reads the value in place, so a value the
/// caller keeps in Rhai's form (the token handed from the jwt to the session callback) is
/// not copied first.
pub fn to_json(value: &Dynamic) -> Result<Value, Box<EvalAltResult>> {
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Ok(integer) = value.as_int() {
        return Ok(Value::from(integer));
    }
    if let Ok(float) = value.as_float() {
        return Ok(Number::from_f64(float).map_or(Value::Null, Value::Number));
    }
    if let Ok(text) = value.as_immutable_string_ref() {
        return Ok(Value::String(text.as_str().to_owned()));
    }
    // Collected with their final sizes up front: collecting `Result`s would grow them
    // step by step.
    if let Ok(items) = value.as_array_ref() {
        let mut array = Vec::with_capacity(items.len());
        for item in items.iter() {
            array.push(to_json(item)?);
        }
        return Ok(Value::Array(array));
    }
    if let Ok(fields) = value.as_map_ref() {
        let mut map = Map::with_capacity(fields.len());
        for (name, field) in fields.iter() {
            map.insert(name.as_str().to_owned(), to_json(field)?);
        }
        return Ok(Value::Object(map));
    }
    rhai::serde::from_dynamic(&value.flatten_clone())
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
