//! Unit tests of `password`.

use super::*;

fn default_dummy() -> DummyHash {
    DummyHash::for_cost(DEFAULT_COST).unwrap()
}

#[test]
fn argon2_hashes_verify_only_their_password() {
    let hash = hash_password("correct horse").unwrap();
    assert!(hash.starts_with(DEFAULT_COST));
    assert!(verify_password(
        "correct horse",
        Some(&hash),
        &default_dummy()
    ));
    assert!(!verify_password(
        "wrong horse",
        Some(&hash),
        &default_dummy()
    ));
}

#[test]
fn bcrypt_hashes_verify() {
    let hash = bcrypt::hash("hunter2", 4).unwrap();
    assert!(verify_password("hunter2", Some(&hash), &default_dummy()));
    assert!(!verify_password("hunter3", Some(&hash), &default_dummy()));
}

#[test]
fn the_dummy_has_the_configured_cost_whatever_was_verified_before() {
    let dummy = DummyHash::for_cost("$2b$04").unwrap();
    assert!(dummy.phc().starts_with("$2b$04$"), "{}", dummy.phc());
    // Real hashes of other costs verified in between change nothing.
    let argon = hash_password("pw").unwrap();
    assert!(verify_password("pw", Some(&argon), &dummy));
    let bcrypt_5 = bcrypt::hash("pw", 5).unwrap();
    assert!(verify_password("pw", Some(&bcrypt_5), &dummy));
    assert!(!verify_password("pw", None, &dummy));
    let again = DummyHash::for_cost("$2b$04").unwrap();
    assert_eq!(again.phc(), dummy.phc(), "one dummy per cost, made once");
    assert!(default_dummy().phc().starts_with(DEFAULT_COST));
}

#[test]
fn costs_are_checked_before_use() {
    let cases = [
        ("$2b$12", true),
        ("$2y$04", true),
        ("$2b$15", true),
        ("$2b$16", false),
        ("$2b$31", false),
        ("$argon2id$v=19$m=262144,t=10,p=16", true),
        ("$argon2id$v=19$m=262145,t=1,p=1", false),
        ("$argon2id$v=19$m=4294967295,t=1,p=1", false),
        ("$argon2id$v=19$m=19456,t=4294967295,p=1", false),
        ("$argon2id$v=19$m=19456,t=2,p=64", false),
        ("$2b$3", false),
        ("$2b$32", false),
        ("$2b$1x", false),
        ("$argon2id$v=19$m=19456,t=2,p=1", true),
        ("$argon2i$v=19$m=8192,t=3,p=1", true),
        ("$argon2id$v=19$m=19456,t=2", true),
        ("$argon2id$v=19$x=1", false),
        ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash", false),
        ("$scrypt$ln=15", false),
        ("", false),
    ];
    for (cost, valid) in cases {
        assert_eq!(check_cost(cost).is_ok(), valid, "{cost}");
    }
}

#[test]
fn missing_or_garbage_hashes_never_verify() {
    let dummy = default_dummy();
    assert!(!verify_password("anything", None, &dummy));
    assert!(!verify_password("anything", Some("not-a-hash"), &dummy));
    assert!(!verify_password("", Some(""), &dummy));
}

#[test]
fn stored_hashes_over_the_cost_limits_are_not_run() {
    let dummy = DummyHash::for_cost("$2b$04").unwrap();
    // Either would take hours, or abort on allocation, if it were run.
    let cases = [
        "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$2b$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
        // Forms the bcrypt crate reads as cost 31.
        "$2b$031$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
        "$2b$+31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
    ];
    for hash in cases {
        assert!(!verify_password("pw", Some(hash), &dummy), "{hash}");
    }
}
