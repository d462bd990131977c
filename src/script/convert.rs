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
            let back = to_json(&direct).unwrap();
            let back_via_serde: Value = rhai::serde::from_dynamic(&via_serde).unwrap();
            assert_eq!(back, back_via_serde, "{case}");
        }
    }

    #[test]
    fn only_values_that_survive_the_round_trip_are_plain_json() {
        let tagged = |mut value: Dynamic| {
            value.set_tag(7);
            value
        };
        let map_of = |value: Dynamic| {
            let mut map = rhai::Map::new();
            map.insert("claim".into(), value);
            Dynamic::from_map(map)
        };
        let cases = [
            (Dynamic::UNIT, true),
            (Dynamic::from_bool(false), true),
            (Dynamic::from_int(-3), true),
            (Dynamic::from_float(1.5), true),
            (Dynamic::from("text"), true),
            (to_dynamic(&json!({"a": [1, {"b": null}], "c": "d"})), true),
            (Dynamic::from_float(f64::NAN), false),
            (Dynamic::from_float(f64::INFINITY), false),
            (Dynamic::from_char('x'), false),
            (Dynamic::from_blob(vec![1]), false),
            (map_of(Dynamic::from_char('x')), false),
            (
                Dynamic::from_array(vec![Dynamic::from_float(f64::NAN)]),
                false,
            ),
            (to_dynamic(&json!({"a": 1})).into_shared(), false),
            (tagged(Dynamic::from_int(1)), false),
            (map_of(tagged(Dynamic::from("text"))), false),
        ];
        for (value, plain) in cases {
            assert_eq!(is_plain_json(&value), plain, "{value:?}");
            if plain {
                let back = to_dynamic(&to_json(&value).unwrap());
                assert_eq!(format!("{back:?}"), format!("{value:?}"));
            }
        }
    }

    #[test]
    fn a_shared_value_converts_as_its_contents() {
        let value = json!({"a": [1, "two"], "b": {"c": null}});
        let shared = to_dynamic(&value).into_shared();
        assert_eq!(to_json(&shared).unwrap(), value);
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
            let direct = to_json(&value).ok();
            assert_eq!(direct, by_serde);
            assert_eq!(direct, expected);
        }
    }
}
