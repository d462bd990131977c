//! Unit tests of `chunks`.

use super::*;

const NAME: &str = "authjs.session-token";

fn apply(jar: &mut BTreeMap<String, String>, writes: &[CookieWrite]) {
    for write in writes {
        match &write.value {
            Some(value) => jar.insert(write.name.clone(), value.clone()),
            None => jar.remove(&write.name),
        };
    }
}

fn read(jar: &BTreeMap<String, String>) -> Option<String> {
    read_value(jar.iter().map(|(k, v)| (k.as_str(), v.as_str())), NAME).and_then(Result::ok)
}

#[test]
fn small_values_stay_whole_and_large_ones_are_chunked_and_reassembled() {
    let mut jar = BTreeMap::new();
    apply(&mut jar, &plan_write(NAME, Some("small"), []));
    assert_eq!(jar.keys().collect::<Vec<_>>(), [NAME]);
    assert_eq!(read(&jar).as_deref(), Some("small"));

    let large = "x".repeat(CHUNK_SIZE * 2 + 10);
    let names: Vec<String> = jar.keys().cloned().collect();
    apply(
        &mut jar,
        &plan_write(NAME, Some(&large), names.iter().map(String::as_str)),
    );
    assert_eq!(jar.len(), 3, "{:?}", jar.keys());
    assert!(
        !jar.contains_key(NAME),
        "the whole cookie must be expired once chunked"
    );
    assert_eq!(read(&jar), Some(large));
}

#[test]
fn shrinking_expires_stale_chunks() {
    let mut jar = BTreeMap::new();
    let large = "y".repeat(CHUNK_SIZE * 3);
    apply(&mut jar, &plan_write(NAME, Some(&large), []));
    let medium = "z".repeat(CHUNK_SIZE + 1);
    let names: Vec<String> = jar.keys().cloned().collect();
    apply(
        &mut jar,
        &plan_write(NAME, Some(&medium), names.iter().map(String::as_str)),
    );
    assert_eq!(jar.len(), 2);
    assert_eq!(read(&jar), Some(medium));
    let names: Vec<String> = jar.keys().cloned().collect();
    apply(
        &mut jar,
        &plan_write(NAME, None, names.iter().map(String::as_str)),
    );
    assert!(jar.is_empty());
}

#[test]
fn gaps_and_foreign_cookies_are_not_read_as_chunks() {
    let jar = BTreeMap::from([
        (format!("{NAME}.0"), "a".to_string()),
        (format!("{NAME}.2"), "c".to_string()),
        ("authjs.session-tokenX.1".to_string(), "x".to_string()),
    ]);
    assert_eq!(
        read_value(jar.iter().map(|(k, v)| (k.as_str(), v.as_str())), NAME),
        Some(Err(MalformedChunks))
    );
}

#[test]
fn every_written_cookie_fits_the_browser_limit() {
    let large = "q".repeat(20_000);
    for write in plan_write(NAME, Some(&large), []) {
        let value = write.value.unwrap();
        assert!(
            write.name.len() + value.len() + ESTIMATED_EMPTY_COOKIE_BYTES <= MAX_COOKIE_BYTES + 32
        );
    }
}

#[test]
fn a_whole_cookie_beside_chunks_is_not_read() {
    // A planted `name.0` (a parent-domain cookie) beside our whole cookie, or the reverse.
    let jar = BTreeMap::from([
        (NAME.to_string(), "ours".to_string()),
        (format!("{NAME}.0"), "planted".to_string()),
    ]);
    assert_eq!(
        read_value(jar.iter().map(|(k, v)| (k.as_str(), v.as_str())), NAME),
        Some(Err(MalformedChunks))
    );
}
