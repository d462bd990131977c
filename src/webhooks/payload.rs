//! What a webhook says about an event: `{"type", "timestamp", "data"}`. `data` holds the
//! event's arguments reduced to an allow-list of fields per argument: who the user is,
//! which account, when a session ends. Anything else (provider tokens under any name, the
//! provider's raw profile, whatever a callback put into a token or session) never leaves,
//! so a webhook receiver learns no secret however the callbacks are written.

use serde_json::{Map, Value, json};

use crate::config::script_key::Event;

const USER: &[&str] = &["id", "name", "email", "image", "emailVerified"];
const ACCOUNT: &[&str] = &["provider", "type", "providerAccountId", "userId"];
const TOKEN: &[&str] = &["sub", "sid", "iat", "exp", "name", "email", "picture"];
const SESSION: &[&str] = &["userId", "expires"];

/// The fields of `value` named in `allowed` whose values are scalars (nothing when it is
/// not an object): an object a callback stored under an allowed name stays out too.
fn only(value: &Value, allowed: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, value)| {
                    allowed.contains(&key.as_str()) && !value.is_object() && !value.is_array()
                })
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// An argument as a webhook may carry it; `None` for one that never leaves.
fn allowed(name: &str, value: &Value) -> Option<Value> {
    match name {
        "user" => Some(only(value, USER)),
        "account" => Some(only(value, ACCOUNT)),
        "token" => Some(only(value, TOKEN)),
        "session" => {
            let mut session = only(value, SESSION);
            if let (Value::Object(map), Some(user)) = (&mut session, value.get("user")) {
                map.insert("user".into(), only(user, USER));
            }
            Some(session)
        }
        "isNewUser" => value.is_boolean().then(|| value.clone()),
        _ => None,
    }
}

/// The body of the webhook for `event` with `arguments`, at `timestamp` (RFC 3339).
pub fn body(event: Event, arguments: &[(&'static str, &Value)], timestamp: &str) -> String {
    let data: Map<String, Value> = arguments
        .iter()
        .filter_map(|(name, value)| Some(((*name).to_string(), allowed(name, value)?)))
        .collect();
    json!({ "type": event.field(), "timestamp": timestamp, "data": data }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_fields_reach_a_webhook_whatever_their_name() {
        let arguments = [
            (
                "account",
                json!({"provider": "github", "providerAccountId": "7", "access_token": "gho_x",
                       "refresh_token": "r_x", "id_token": "e_x"}),
            ),
            (
                "token",
                json!({"sub": "u1", "accessToken": "at_x", "nested": [{"a": "deep_x"}]}),
            ),
            (
                "session",
                json!({"sessionToken": "s_x", "userId": "u1", "accessToken": "at2_x",
                       "user": {"email": "a@b.c", "hash": "h_x"}}),
            ),
            (
                "user",
                json!({"id": "u1", "email": "a@b.c", "hash": "argon_x", "name": {"x": "n_x"}}),
            ),
            ("profile", json!({"sub": "7", "secret": "p_x"})),
            ("isNewUser", json!(true)),
        ];
        let arguments = arguments.each_ref().map(|(name, value)| (*name, value));
        let text = body(Event::SignOut, &arguments, "2026-12-01T00:00:00Z");
        assert!(!text.contains("_x"), "a secret leaked: {text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], "signOut");
        assert_eq!(
            value["data"],
            json!({
                "account": {"provider": "github", "providerAccountId": "7"},
                "token": {"sub": "u1"},
                "session": {"userId": "u1", "user": {"email": "a@b.c"}},
                "user": {"id": "u1", "email": "a@b.c"},
                "isNewUser": true
            })
        );
    }
}
