//! Unit tests of `convert`.

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
