//! A provider's token endpoint answer (`providers::token_response::normalise`), which an
//! attacker who controls or impersonates a provider fully chooses.
//!
//! Input: the first byte picks the status (200 or 400) and the content type (JSON,
//! form-encoded, `text/plain`, HTML or none); the rest is the body.
//!
//! Property: no panic; a body that is not read is passed on byte for byte with its status
//! and type; an answer that is read is JSON served as `application/json`, and one carrying
//! an `access_token` has a string `token_type`, a string `scope` if any and a whole
//! `expires_in` if any (the shape the oauth2 crate parses); a 200 becomes a 400 only when
//! it carries an `error` and no `access_token`, and a 400 never becomes a 200.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

use authgate::providers::token_response::normalise;

const TYPES: [Option<&str>; 5] = [
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain; charset=utf-8"),
    Some("text/html"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = if selector & 0x80 == 0 { 200 } else { 400 };
    let content_type = TYPES[usize::from(selector & 0x7f) % TYPES.len()];
    let mut response = http::Response::builder().status(status);
    if let Some(content_type) = content_type {
        response = response.header(http::header::CONTENT_TYPE, content_type);
    }
    let response = response.body(body.to_vec()).expect("a response");
    let answer = normalise(response);
    let served_type = answer
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let read = match serde_json::from_slice::<Value>(answer.body()) {
        Ok(Value::Object(fields)) if served_type == Some("application/json") => Some(fields),
        _ => None,
    };
    let Some(fields) = read else {
        assert_eq!(answer.body(), body, "an unread body must pass unchanged");
        assert_eq!(answer.status(), status);
        assert_eq!(served_type, content_type);
        return;
    };
    if status == 400 {
        assert_eq!(answer.status(), 400, "a refusal became a success");
    }
    if fields.contains_key("access_token") {
        assert_eq!(answer.status(), status);
        assert!(fields["token_type"].is_string(), "{fields:?}");
        assert!(fields.get("scope").is_none_or(Value::is_string), "{fields:?}");
        assert!(fields.get("expires_in").is_none_or(Value::is_u64), "{fields:?}");
    } else if answer.status() != status {
        assert!(fields.contains_key("error"), "{fields:?}");
    }
});
