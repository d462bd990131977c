//! Unit tests of `checks`.

use super::*;

const SECRET: &str = "check-secret-0123456789abcdef0123456789abcdef";

#[test]
fn sealed_checks_open_only_for_their_provider_cookie_and_time() {
    let sealed = seal(SECRET, "authjs.state", "github", "s-123", 1_000).unwrap();
    let open_as = |secrets: &[&str], cookie: &str, provider: &str, now: u64| {
        open(secrets, cookie, "state", Some(&sealed), provider, now)
    };
    assert_eq!(
        open_as(&[SECRET], "authjs.state", "github", 1_000),
        Ok("s-123".into())
    );
    assert_eq!(
        open_as(
            &["other-secret-0123456789abcdef0123456789", SECRET],
            "authjs.state",
            "github",
            1_001
        ),
        Ok("s-123".into()),
        "a rotated secret still opens it"
    );
    assert_eq!(
        open_as(&[SECRET], "authjs.state", "gitlab", 1_000),
        Err(CheckError::OtherProvider("state"))
    );
    assert_eq!(
        open_as(&[SECRET], "authjs.nonce", "github", 1_000),
        Err(CheckError::Unreadable("state")),
        "a cookie moved to another name does not decrypt"
    );
    assert_eq!(
        open_as(
            &[SECRET],
            "authjs.state",
            "github",
            1_000 + CHECK_MAX_AGE_SECONDS
        ),
        Err(CheckError::Expired("state"))
    );
    assert_eq!(
        open(&[SECRET], "authjs.state", "state", None, "github", 1_000),
        Err(CheckError::Missing("state"))
    );
    let mut tampered = sealed.clone();
    tampered.insert(tampered.len() / 2, 'x');
    assert_eq!(
        open(
            &[SECRET],
            "authjs.state",
            "state",
            Some(&tampered),
            "github",
            1_000
        ),
        Err(CheckError::Unreadable("state"))
    );
}
