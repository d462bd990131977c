//! The claims of a verified (or decrypted) session or access token, checked as JWT readers
//! check them (RFC 7519 §4.1): a JSON object whose `iss`, `sub` and `jti` are strings and
//! whose `aud` is a string or strings; `exp` present; `exp`, `nbf` and `iat` numbers of
//! seconds from 1970 to the year 9999; not expired, not before its `nbf`, and not issued
//! more than a minute in the future.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::jwt::TokenError;

/// Clock skew tolerated on `iat`.
const ALLOWED_SKEW: Duration = Duration::from_secs(60);

/// Latest time claim read: the end of year 9999, as seconds since the epoch.
const MAX_TIME_CLAIM: f64 = 253_402_300_799.0;

/// The claims in `payload`, when they pass every check at `now`.
pub fn checked(payload: &[u8], now: SystemTime) -> Result<Map<String, Value>, TokenError> {
    // serde's message could quote the payload's claims; the log gets none of them.
    let claims: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|_| TokenError::Invalid("the payload is not a JSON object".into()))?;
    check_types(&claims).map_err(TokenError::Invalid)?;
    if claims.get("jti").is_some_and(|value| !value.is_string()) {
        return Err(TokenError::Invalid("`jti` is not a string".into()));
    }
    let time = |name: &str| -> Result<Option<Duration>, TokenError> {
        claims
            .get(name)
            .map(|value| time_claim(name, value))
            .transpose()
    };
    let (expires, not_before, issued) = (time("exp")?, time("nbf")?, time("iat")?);
    let expires = expires.ok_or_else(|| TokenError::Invalid("no `exp` claim".into()))?;
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    if expires <= now {
        return Err(TokenError::Expired);
    }
    if not_before.is_some_and(|not_before| not_before > now) {
        return Err(TokenError::NotYetValid);
    }
    if issued.is_some_and(|issued| issued > now + ALLOWED_SKEW) {
        return Err(TokenError::Invalid(
            "the token was issued in the future".into(),
        ));
    }
    Ok(claims)
}

/// `iss` and `sub` are strings; `aud` is a string or an array of strings. (A token being
/// written is checked too, so that what authgate writes, it reads.)
pub(super) fn check_types(claims: &Map<String, Value>) -> Result<(), String> {
    for name in ["iss", "sub"] {
        if claims.get(name).is_some_and(|value| !value.is_string()) {
            return Err(format!("`{name}` is not a string"));
        }
    }
    let audience_is_strings = match claims.get("aud") {
        None | Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    if !audience_is_strings {
        return Err("`aud` is neither a string nor strings".into());
    }
    Ok(())
}

/// A time claim as the time since the epoch: a number of seconds from 0 to the end of
/// the year 9999 (a token signed elsewhere could say `1.8e22`, or `-5`).
fn time_claim(name: &str, value: &Value) -> Result<Duration, TokenError> {
    value
        .as_f64()
        .filter(|seconds| seconds.is_finite() && (0.0..=MAX_TIME_CLAIM).contains(seconds))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| TokenError::Invalid(format!("`{name}` is not a time between 1970 and 9999")))
}

#[cfg(test)]
#[path = "token_claims_tests.rs"]
mod tests;
