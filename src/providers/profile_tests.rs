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

#[test]
fn profile_emails_are_trimmed_and_lowercased_and_still_verified() {
    let cases = [
        (
            json!({"sub": "u1", "email": " Ada@Example.COM ", "email_verified": true}),
            Some("ada@example.com"),
            true,
        ),
        (
            json!({"sub": "u1", "email": "ADA@EXAMPLE.COM", "email_verified": "true"}),
            Some("ada@example.com"),
            true,
        ),
        (
            json!({"sub": "u1", "email": "Ada@Example.com", "email_verified": false}),
            Some("ada@example.com"),
            false,
        ),
        (json!({"sub": "u1", "email": "   "}), None, false),
        // The Kelvin sign is not `k`, and an address that is not valid is never vouched for.
        (
            json!({"sub": "u1", "email": "\u{212A}im@Example.com", "email_verified": true}),
            Some("\u{212A}im@example.com"),
            false,
        ),
        // Not a valid address: still one spelling, never refused.
        (
            json!({"sub": "u1", "email": "Not An Address"}),
            Some("not an address"),
            false,
        ),
    ];
    for (claims, email, verified) in cases {
        let profile = default_profile(claims.as_object().unwrap()).unwrap();
        assert_eq!(profile.email.as_deref(), email, "{claims}");
        assert_eq!(profile.email_verified, verified, "{claims}");
        // A profile script's result, which names the id `id`.
        let mut result = claims.as_object().unwrap().clone();
        result.insert("id".into(), json!("u1"));
        let mapped = from_map(&result);
        assert_eq!(
            mapped.and_then(|profile| profile.email).as_deref(),
            email,
            "{claims}"
        );
    }
}
