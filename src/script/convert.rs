//! JSON values into Rhai's `Dynamic` and back. Every argument and result of every script
//! call goes through here, so the JSON types convert directly instead of through serde;
//! what JSON has no direct counterpart for (characters, blobs, timestamps, function
//! pointers, custom types) takes rhai's serde path, converting exactly as it did before.

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString};
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
        Value::Object(fields) => Dynamic::from_map(
            fields
                .iter()
                .map(|(name, field)| (name.as_str().into(), to_dynamic(field)))
                .collect(),
        ),
    }
}

/// A script's value as JSON: `()` → `null`, a float JSON cannot hold (NaN, infinities) →
/// `null`, maps with their keys in order.
pub fn to_json(value: Dynamic) -> Result<Value, Box<EvalAltResult>> {
    let value = value.flatten();
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
    if value.is_string() {
        return Ok(value
            .into_immutable_string()
            .map_or(Value::Null, |text| Value::String(text.into())));
    }
    // Collected with their final sizes up front: collecting `Result`s would grow them
    // step by step.
    if value.is_array() {
        let items: Array = value.cast();
        let mut array = Vec::with_capacity(items.len());
        for item in items {
            array.push(to_json(item)?);
        }
        return Ok(Value::Array(array));
    }
    if value.is_map() {
        let fields: rhai::Map = value.cast();
        let mut map = Map::with_capacity(fields.len());
        for (name, field) in fields {
            map.insert(name.into(), to_json(field)?);
        }
        return Ok(Value::Object(map));
    }
    rhai::serde::from_dynamic(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Both directions agree with rhai's serde conversion for every JSON shape.
    #[test]
    fn conversions_match_rhai_serde() {
        let cases = [
            json!(null),
            json!(true),
            json!(-7),
            json!(9_223_372_036_854_775_807_i64),
            json!(18_446_744_073_709_551_615_u64),
            json!(1.5),
            json!("héllo"),
            json!([1, "two", null, [3.5], {"k": false}]),
            json!({"z": 1, "a": {"nested": ["x", {"y": null}]}, "m": []}),
        ];
        for case in cases {
            let direct = to_dynamic(&case);
            let via_serde: Dynamic = rhai::serde::to_dynamic(&case).unwrap();
            assert_eq!(format!("{direct:?}"), format!("{via_serde:?}"), "{case}");
            let back = to_json(direct).unwrap();
            let back_via_serde: Value = rhai::serde::from_dynamic(&via_serde).unwrap();
            assert_eq!(back, back_via_serde, "{case}");
        }
    }

    #[test]
    fn values_json_has_no_type_for_convert_as_before() {
        let cases = [
            (Dynamic::from_char('x'), Some(json!("x"))),
            (Dynamic::from_float(f64::NAN), Some(json!(null))),
            (Dynamic::from_float(f64::INFINITY), Some(json!(null))),
            (Dynamic::from_blob(vec![1, 2]), None),
        ];
        for (value, expected) in cases {
            let by_serde = rhai::serde::from_dynamic::<Value>(&value).ok();
            let direct = to_json(value).ok();
            assert_eq!(direct, by_serde);
            assert_eq!(direct, expected);
        }
    }
}
