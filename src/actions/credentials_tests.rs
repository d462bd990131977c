//! Unit tests of `credentials`.

use super::*;

#[test]
fn authorize_results_become_users_with_string_ids() {
    let cases = [
        (json!({"id": 7, "name": "A"}), Some("7")),
        (json!({"id": "u1"}), Some("u1")),
        (json!(null), None),
        (json!(false), None),
        (json!("yes"), None),
    ];
    for (result, id) in cases {
        let user = authorized_user(result.clone());
        assert_eq!(
            user.as_ref()
                .map(|u| u["id"].as_str().unwrap().to_string())
                .as_deref(),
            id,
            "{result}"
        );
    }
    assert!(
        authorized_user(json!({"name": "no id"}))
            .unwrap()
            .get("id")
            .is_none()
    );
}

#[test]
fn users_without_an_id_sign_in_as_their_email_for_database_sessions() {
    let user = |value: Value| value.as_object().unwrap().clone();
    let with_email = user(json!({"email": "a@example.com"}));
    assert_eq!(
        account_id(&with_email, true).as_deref(),
        Some("a@example.com")
    );
    assert_eq!(account_id(&with_email, false).unwrap().len(), 36);
    assert_eq!(account_id(&user(json!({})), true), None);
    assert_eq!(
        account_id(&user(json!({"id": "7"})), true).as_deref(),
        Some("7")
    );
}
