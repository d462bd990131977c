//! Which configuration values must never be shown in a diagnostic, a log line or `/readyz`:
//! values that came from `${ENV}` (recorded during interpolation) and fields that hold
//! secrets whatever their origin.

/// Keys whose value is a secret wherever they appear (`server` is an SMTP URL, which may
/// carry a password).
const SECRET_KEYS: [&str; 5] = [
    "secret",
    "clientSecret",
    "password",
    "server",
    "bearerToken",
];

/// True when the value at `pointer` is a secret by its name alone (`/secret`,
/// `/secret/1`, `/providers/0/clientSecret`), or a database or Redis URL, which may embed a
/// password.
pub fn is_secret_pointer(pointer: &str) -> bool {
    let mut segments = pointer.split('/').skip(1);
    if let Some(first) = segments.next() {
        if first == "secret" {
            return true;
        }
        if (first == "database" || first == "state") && pointer.ends_with("/url") {
            return true;
        }
    }
    pointer
        .rsplit('/')
        .next()
        .is_some_and(|last| SECRET_KEYS.contains(&last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_fields_are_recognised_by_name() {
        let cases = [
            ("/secret", true),
            ("/secret/1", true),
            ("/providers/0/clientSecret", true),
            ("/state/redis/url", true),
            ("/webhooks/endpoints/0/secret", true),
            ("/database/url", true),
            ("/providers/2/server", true),
            ("/providers/0/clientId", false),
            ("/url", false),
        ];
        for (pointer, expected) in cases {
            assert_eq!(is_secret_pointer(pointer), expected, "{pointer}");
        }
    }
}
