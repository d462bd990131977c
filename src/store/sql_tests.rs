use super::*;

#[test]
fn statements_use_each_placeholder_once_in_order() {
    // The `?` → `$n` rewrite assumes it; a reordered bind would silently swap values.
    for sql in ALL_STATEMENTS {
        let numbered = Dialect::Postgres.placeholders(sql);
        let count = sql.matches('?').count();
        for n in 1..=count {
            assert!(numbered.contains(&format!("${n}")), "{sql}");
        }
    }
}

#[test]
fn relative_sqlite_paths_are_found_beside_the_config() {
    let dir = Path::new("/etc/authgate");
    let cases = [
        (
            "sqlite://authgate.db",
            "sqlite:///etc/authgate/authgate.db?mode=rwc",
        ),
        (
            "sqlite:data/a.db",
            "sqlite:///etc/authgate/data/a.db?mode=rwc",
        ),
        ("sqlite:///var/lib/a.db", "sqlite:///var/lib/a.db?mode=rwc"),
        (
            "sqlite://a.db?mode=ro",
            "sqlite:///etc/authgate/a.db?mode=ro",
        ),
        (
            "sqlite://a.db?cache=shared",
            "sqlite:///etc/authgate/a.db?cache=shared&mode=rwc",
        ),
        ("sqlite::memory:", "sqlite::memory:"),
    ];
    for (url, expected) in cases {
        assert_eq!(sqlite_url(url, dir), expected, "{url}");
    }
}

#[test]
fn session_tokens_are_stored_as_sha256_hex() {
    assert_eq!(
        token_digest("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
