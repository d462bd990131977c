//! Unit tests of `profile`.

use super::*;
use serde_json::json;

#[test]
fn default_mapping_follows_auth_js() {
    let cases = [
        (
            json!({"sub": "u1", "name": "Ada", "email": "a@x", "picture": "p"}),
            Some(("u1", Some("Ada"), Some("a@x"), Some("p"))),
        ),
        (
            json!({"id": 42, "preferred_username": "ada"}),
            Some(("42", Some("ada"), None, None)),
        ),
        (json!({"name": "no id"}), None),
        (json!({"sub": ""}), None),
    ];
    for (claims, expected) in cases {
        let profile = default_profile(claims.as_object().unwrap());
        let got = profile.as_ref().map(|p| {
            (
                p.id.as_str(),
                p.name.as_deref(),
                p.email.as_deref(),
                p.image.as_deref(),
            )
        });
        assert_eq!(got, expected, "{claims}");
    }
}
