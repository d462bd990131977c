//! Values that must not sit in the shared backend in clear (a refreshed provider token set,
//! shared with the other instances): JWE `dir` + A256GCM under a key derived from the
//! newest `secret`, so that only instances with the same secret can read them, and a
//! changed value fails to open rather than being believed.

use josekit::jwe::{self, Dir, JweHeader};

use crate::session::keys::derive_shared_state_key;

/// `plaintext` sealed under `secret`.
pub fn seal(secret: &str, plaintext: &[u8]) -> Result<String, String> {
    let key = derive_shared_state_key(secret)?;
    let encrypter = Dir
        .encrypter_from_bytes(&key)
        .map_err(|error| error.to_string())?;
    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    jwe::serialize_compact(plaintext, &header, &encrypter).map_err(|error| error.to_string())
}

/// What `seal` sealed under `secret`; `None` for anything else.
pub fn open(secret: &str, sealed: &str) -> Option<Vec<u8>> {
    let key = derive_shared_state_key(secret).ok()?;
    let decrypter = Dir.decrypter_from_bytes(&key).ok()?;
    let (plaintext, header) = jwe::deserialize_compact(sealed, &decrypter).ok()?;
    (header.content_encryption() == Some("A256GCM")).then_some(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_the_same_secret() {
        let secret = "a-secret-of-at-least-thirty-two-bytes!!";
        let sealed = seal(secret, b"tokens").unwrap();
        assert!(!sealed.contains("tokens"));
        assert_eq!(open(secret, &sealed).as_deref(), Some(&b"tokens"[..]));
        assert_eq!(
            open("another-secret-of-thirty-two-bytes!!!!", &sealed),
            None
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(open(secret, &tampered), None);
        assert_eq!(open(secret, "not.a.jwe"), None);
    }
}
