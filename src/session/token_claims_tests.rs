use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::*;

const NOW: u64 = 1_800_000_000;

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

fn check(claims: &Value) -> Result<Map<String, Value>, TokenError> {
    checked(&serde_json::to_vec(claims).unwrap(), at(NOW))
}

#[test]
fn claims_with_the_registered_types_and_current_times_are_returned_whole() {
    let claims = json!({
        "sub": "1", "iss": "https://a.example", "aud": ["x", "y"], "jti": "j",
        "iat": NOW, "nbf": NOW - 5, "exp": NOW + 60, "custom": {"k": [1]},
    });
    assert_eq!(Value::Object(check(&claims).unwrap()), claims);
    // `aud` as one string; fractional seconds; `iat` within the minute of skew.
    assert!(check(&json!({"aud": "x", "exp": NOW as f64 + 0.5, "iat": NOW + 60})).is_ok());
}

#[test]
fn times_decide_expired_not_yet_valid_and_issued_in_the_future() {
    let cases = [
        (json!({"exp": NOW}), Err(TokenError::Expired)),
        (json!({"exp": NOW - 1}), Err(TokenError::Expired)),
        (
            json!({"exp": NOW - 1, "nbf": NOW + 10}),
            Err(TokenError::Expired),
        ),
        (
            json!({"exp": NOW + 60, "nbf": NOW + 10}),
            Err(TokenError::NotYetValid),
        ),
        (json!({"exp": NOW + 60, "nbf": NOW}), Ok(())),
    ];
    for (claims, expected) in cases {
        assert_eq!(check(&claims).map(|_| ()), expected, "{claims}");
    }
    assert!(matches!(
        check(&json!({"exp": NOW + 600, "iat": NOW + 61})),
        Err(TokenError::Invalid(_))
    ));
}

#[test]
fn malformed_claims_are_invalid_without_panicking() {
    let cases = [
        json!({"sub": "1"}),
        json!({"exp": "1900000000"}),
        json!({"exp": -5}),
        json!({"exp": 1e300}),
        json!({"exp": 253_402_300_800u64}),
        json!({"exp": NOW + 60, "iat": 1.799_999_922_222_222e22}),
        json!({"exp": NOW + 60, "nbf": -1}),
        json!({"exp": NOW + 60, "sub": 1}),
        json!({"exp": NOW + 60, "iss": null}),
        json!({"exp": NOW + 60, "jti": 7}),
        json!({"exp": NOW + 60, "aud": 7}),
        json!({"exp": NOW + 60, "aud": ["x", 7]}),
        json!([{"exp": NOW + 60}]),
        json!("exp"),
    ];
    for claims in cases {
        assert!(
            matches!(check(&claims), Err(TokenError::Invalid(_))),
            "{claims}"
        );
    }
    assert!(matches!(
        checked(b"{\"exp\":", at(NOW)),
        Err(TokenError::Invalid(_))
    ));
}
