//! Unit tests of `id_token`.

use super::*;
use serde_json::json;

fn expected(nonce: Option<&str>) -> Expected<'_> {
    Expected {
        issuer: "https://idp.example",
        client_id: "app",
        client_secret: None,
        algorithm: None,
        nonce,
        now: 10_000,
    }
}

#[test]
fn id_token_claims_are_checked_one_by_one() {
    let good = json!({"iss": "https://idp.example", "aud": "app", "exp": 10_100, "iat": 9_990, "nonce": "n1", "sub": "u"});
    let with = |patch: Value| {
        let mut claims = good.as_object().unwrap().clone();
        for (key, value) in patch.as_object().unwrap() {
            if value.is_null() {
                claims.remove(key);
            } else {
                claims.insert(key.clone(), value.clone());
            }
        }
        claims
    };
    let cases = [
        (json!({}), true),
        (json!({"iss": "https://evil.example"}), false),
        (json!({"iss": null}), false),
        (json!({"aud": "other"}), false),
        (json!({"aud": ["app"]}), true),
        (json!({"aud": ["app", "other"]}), false),
        (json!({"aud": ["app", "other"], "azp": "app"}), true),
        (json!({"azp": "other"}), false),
        (json!({"exp": 9_000}), false),
        (json!({"exp": 9_950}), true),
        (json!({"exp": null}), false),
        (json!({"iat": 20_000}), false),
        (json!({"iat": null}), false),
        (json!({"nonce": "n2"}), false),
        (json!({"nonce": null}), false),
    ];
    for (patch, accepted) in cases {
        let result = check_claims(&with(patch.clone()), &expected(Some("n1")));
        assert_eq!(result.is_ok(), accepted, "{patch}: {result:?}");
    }
    assert!(check_claims(&with(json!({"nonce": null})), &expected(None)).is_ok());
}

#[test]
fn multi_tenant_issuers_take_the_tokens_tenant() {
    let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    let expected = Expected {
        issuer: template,
        ..expected(None)
    };
    let claims = |iss: &str, tid: Option<&str>| {
        let mut claims = json!({"iss": iss, "aud": "app", "exp": 10_100, "iat": 9_990});
        if let Some(tid) = tid {
            claims["tid"] = json!(tid);
        }
        claims.as_object().unwrap().clone()
    };
    let t1 = "https://login.microsoftonline.com/t1/v2.0";
    assert!(check_claims(&claims(t1, Some("t1")), &expected).is_ok());
    assert!(check_claims(&claims(t1, Some("t2")), &expected).is_err());
    assert!(check_claims(&claims(t1, None), &expected).is_err());
    assert!(check_claims(&claims(template, None), &expected).is_err());
    assert!(issuer_matches(template, t1));
    assert!(!issuer_matches(
        template,
        "https://login.microsoftonline.com/a/b/v2.0"
    ));
    assert!(!issuer_matches(template, "https://evil.example/t1/v2.0"));
    assert!(issuer_matches("https://idp.example", "https://idp.example"));
}
