//! What a webhook says about an event: `{"type", "timestamp", "data"}`, where `data` holds
//! the event's arguments as event scripts get them, without any token: provider tokens,
//! session tokens and passwords are removed wherever they appear.

use serde_json::{Map, Value, json};

use crate::config::script_key::Event;

/// Keys whose values never leave in a webhook.
const SECRET_KEYS: [&str; 9] = [
    "access_token",
    "refresh_token",
    "id_token",
    "sessionToken",
    "session_token",
    "password",
    "oauth_token",
    "oauth_token_secret",
    "session_state",
];

/// The body of the webhook for `event` with `arguments`, at `timestamp` (RFC 3339).
pub fn body(event: Event, arguments: &[(&'static str, Value)], timestamp: &str) -> String {
    let mut data = Map::new();
    for (name, value) in arguments {
        let mut value = value.clone();
        strip_secrets(&mut value);
        data.insert((*name).to_string(), value);
    }
    json!({ "type": event.field(), "timestamp": timestamp, "data": data }).to_string()
}

/// Removes every secret key, at any depth, without recursion.
fn strip_secrets(value: &mut Value) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                map.retain(|key, _| !SECRET_KEYS.contains(&key.as_str()));
                pending.extend(map.values_mut());
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_a_webhook_at_any_depth() {
        let arguments = [
            (
                "account",
                json!({"provider": "github", "access_token": "gho_x", "refresh_token": "r", "id_token": "e"}),
            ),
            (
                "token",
                json!({"sub": "u1", "nested": [{"access_token": "deep"}]}),
            ),
            ("session", json!({"sessionToken": "s3cret", "userId": "u1"})),
        ];
        let text = body(Event::SignOut, &arguments, "2026-12-01T00:00:00Z");
        for secret in ["gho_x", "\"r\"", "\"e\"", "deep", "s3cret"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], "signOut");
        assert_eq!(value["data"]["account"]["provider"], "github");
        assert_eq!(value["data"]["token"]["sub"], "u1");
        assert_eq!(value["data"]["session"]["userId"], "u1");
    }
}
