//! Unit tests of `password`.

use super::*;

#[test]
fn argon2_hashes_verify_only_their_password() {
    let hash = hash_password("correct horse").unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(verify_password("correct horse", Some(&hash)));
    assert!(!verify_password("wrong horse", Some(&hash)));
}

#[test]
fn bcrypt_hashes_verify() {
    let hash = bcrypt::hash("hunter2", 4).unwrap();
    assert!(verify_password("hunter2", Some(&hash)));
    assert!(!verify_password("hunter3", Some(&hash)));
}

#[test]
fn the_dummy_hash_follows_the_cost_of_real_hashes() {
    let bcrypt_hash = bcrypt::hash("pw", 5).unwrap();
    assert_eq!(cost_prefix(&bcrypt_hash).as_deref(), Some("$2b$05"));
    let argon = hash_password("pw").unwrap();
    assert_eq!(
        cost_prefix(&argon).as_deref(),
        Some("$argon2id$v=19$m=19456,t=2,p=1")
    );
    assert!(verify_password("pw", Some(&bcrypt_hash)));
    let dummy = MATCHING_DUMMY.lock().unwrap().clone().unwrap();
    assert_eq!(dummy.0, "$2b$05");
    assert!(dummy.1.starts_with("$2b$05$"));
    assert!(!verify_password("pw", None));
}

#[test]
fn missing_or_garbage_hashes_never_verify() {
    assert!(!verify_password("anything", None));
    assert!(!verify_password("anything", Some("not-a-hash")));
    assert!(!verify_password("", Some("")));
}
