//! Unit tests of `issue`.

use super::*;
use crate::script::convert::to_dynamic;

#[test]
fn a_script_result_holds_the_own_claims_only_when_apply_would_leave_it_unchanged() {
    let own = |browser: Option<&str>, session_id: Option<&str>| OwnClaims {
        browser: browser.map(str::to_string),
        session_id: session_id.map(str::to_string),
    };
    let cases = [
        (
            "both as they were",
            own(Some("b"), Some("s")),
            json!({"bnd": "b", "sid": "s", "sub": "1"}),
            true,
        ),
        (
            "neither set, neither held",
            own(None, None),
            json!({"sub": "1"}),
            true,
        ),
        (
            "the browser changed",
            own(Some("b"), Some("s")),
            json!({"bnd": "x", "sid": "s"}),
            false,
        ),
        (
            "the session id changed",
            own(Some("b"), Some("s")),
            json!({"bnd": "b", "sid": "x"}),
            false,
        ),
        (
            "the browser dropped",
            own(Some("b"), None),
            json!({}),
            false,
        ),
        (
            "the browser made ()",
            own(Some("b"), None),
            json!({"bnd": null}),
            false,
        ),
        (
            "the session id made a number",
            own(None, Some("5")),
            json!({"sid": 5}),
            false,
        ),
        (
            "a browser added",
            own(None, None),
            json!({"bnd": "b"}),
            false,
        ),
        (
            "a session id added as ()",
            own(None, None),
            json!({"sid": null}),
            false,
        ),
        ("not a map", own(None, None), json!("token"), false),
    ];
    for (case, own, token, held) in cases {
        assert_eq!(own.held_by(&to_dynamic(&token)), held, "{case}");
        if let Value::Object(claims) = token.clone()
            && held
        {
            assert_eq!(
                own.apply(claims),
                token.as_object().cloned().unwrap_or_default(),
                "{case}"
            );
        }
    }
}
