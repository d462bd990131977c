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
    let generated = authorized_user(json!({"name": "no id"})).unwrap();
    assert_eq!(generated["id"].as_str().unwrap().len(), 36);
}
