//! Values that must not sit in the shared backend in clear or be believed unchecked (a
//! refreshed provider token set, a provider's discovery document): JWE `dir` + A256GCM
//! under a key derived from the newest `secret`, with the key the value is kept under in
//! the protected (authenticated) header. Only instances with the same secret can read a
//! value, a value changed or copied to another key fails to open, and any configured
//! secret opens one, so a secret rotation rolled out instance by instance keeps working.
//! A value carries its expiry in the same header: one put back after it does not open.

use serde_json::Value;

use crate::session::content_encryption::{ContentKey, Enc};
use crate::session::jwe_reader::JweReader;
use crate::session::jwe_writer::{JweWriter, ProtectedHeader};
use crate::session::keys::derive_shared_state_key;

/// The purpose of the key that seals values.
const SEALING: &str = "sealing";

/// The protected header field naming the key a value was sealed for.
const KEPT_UNDER: &str = "kept_under";
/// The protected header field with the Unix second after which a value does not open.
const EXPIRES: &str = "exp";

/// The protected header fields `seal` adds (a field named twice fails to parse).
#[derive(serde::Deserialize)]
struct SealedHeader {
    kept_under: String,
    exp: u64,
}

/// Unix seconds now (the system clock, which instances must agree on).
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// `plaintext` sealed under `secret`, for the shared-state key `kept_under`, good for
/// `ttl` (a copy put back later does not open).
pub fn seal(
    secret: &str,
    kept_under: &str,
    ttl: std::time::Duration,
    plaintext: &[u8],
) -> Result<String, String> {
    let key = derive_shared_state_key(secret, SEALING)?;
    let expires = unix_now().saturating_add(ttl.as_secs().max(1));
    let header = ProtectedHeader::new([
        (KEPT_UNDER, Value::String(kept_under.to_string())),
        (EXPIRES, Value::from(expires)),
    ]);
    JweWriter::new(&key, header)?.encrypt(plaintext)
}

/// What `seal` sealed for `kept_under` under one of `secrets`; `None` for anything else.
pub fn open(secrets: &[String], kept_under: &str, sealed: &str) -> Option<Vec<u8>> {
    let keys = secrets
        .iter()
        .filter_map(|secret| {
            let key = derive_shared_state_key(secret, SEALING).ok()?;
            ContentKey::new(Enc::A256Gcm, &key).ok()
        })
        .collect();
    let opened = JweReader::new(keys).open(sealed).ok()?;
    let header: SealedHeader = serde_json::from_slice(&opened.header_json).ok()?;
    (header.kept_under == kept_under && header.exp >= unix_now()).then_some(opened.plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwe::{Dir, JweHeader};

    #[test]
    fn sealed_values_open_only_under_a_configured_secret_and_their_own_key() {
        let secret = "a-secret-of-at-least-thirty-two-bytes!!".to_string();
        let other = "another-secret-of-thirty-two-bytes!!!!".to_string();
        let sealed = seal(
            &secret,
            "refresh:answer:1",
            std::time::Duration::from_secs(60),
            b"tokens",
        )
        .unwrap();
        assert!(!sealed.contains("tokens"));
        let opened = |secrets: &[String], key: &str, sealed: &str| open(secrets, key, sealed);
        let only = std::slice::from_ref(&secret);
        assert_eq!(
            opened(only, "refresh:answer:1", &sealed).as_deref(),
            Some(&b"tokens"[..])
        );
        // Rotation: the old secret second still opens it.
        assert!(
            opened(
                &[other.clone(), secret.clone()],
                "refresh:answer:1",
                &sealed
            )
            .is_some()
        );
        assert_eq!(opened(&[other], "refresh:answer:1", &sealed), None);
        // Copied under another key, it does not open.
        assert_eq!(opened(only, "refresh:answer:2", &sealed), None);
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(opened(only, "refresh:answer:1", &tampered), None);
        assert_eq!(opened(only, "refresh:answer:1", "not.a.jwe"), None);
        // Past its time, it does not open: a copy put back later is not believed.
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        header
            .set_claim(KEPT_UNDER, Some(Value::from("refresh:answer:1")))
            .unwrap();
        header
            .set_claim(EXPIRES, Some(Value::from(unix_now() - 1)))
            .unwrap();
        let key = derive_shared_state_key(&secret, SEALING).unwrap();
        let encrypter = Dir.encrypter_from_bytes(&key).unwrap();
        let stale = josekit::jwe::serialize_compact(b"tokens", &header, &encrypter).unwrap();
        assert_eq!(opened(only, "refresh:answer:1", &stale), None);
    }

    /// A sealed value is a standard `dir` + A256GCM JWE: josekit's own reader opens it and
    /// finds the key it is kept under and its expiry in the protected header.
    #[test]
    fn sealed_values_open_with_a_stock_jwe_reader() {
        let secret = "a-secret-of-at-least-thirty-two-bytes!!";
        let sealed = seal(secret, "k", std::time::Duration::from_secs(60), b"v").unwrap();
        let key = derive_shared_state_key(secret, SEALING).unwrap();
        let decrypter = Dir.decrypter_from_bytes(&key).unwrap();
        let (plaintext, header) = josekit::jwe::deserialize_compact(&sealed, &decrypter).unwrap();
        assert_eq!(plaintext, b"v");
        assert_eq!(header.algorithm(), Some("dir"));
        assert_eq!(header.content_encryption(), Some("A256GCM"));
        assert_eq!(header.claim(KEPT_UNDER), Some(&Value::from("k")));
        let expires = header.claim(EXPIRES).and_then(Value::as_u64).unwrap();
        assert!((unix_now() + 59..=unix_now() + 61).contains(&expires));
    }

    /// What the shared backend hands back is read without trust: a value with its IV or
    /// tag emptied (which made OpenSSL's binding panic), or sealed under the same key
    /// compressed, or under another content encryption, does not open, and nothing
    /// panics.
    #[test]
    fn malformed_or_foreign_sealed_values_do_not_open_or_panic() {
        let secret = "a-secret-of-at-least-thirty-two-bytes!!".to_string();
        let sealed = seal(&secret, "k", std::time::Duration::from_secs(60), b"v").unwrap();
        let parts: Vec<&str> = sealed.split('.').collect();
        let without = |index: usize| {
            let mut parts = parts.clone();
            parts[index] = "";
            parts.join(".")
        };
        let key = derive_shared_state_key(&secret, SEALING).unwrap();
        let encrypter = Dir.encrypter_from_bytes(&key).unwrap();
        let foreign = |name: &str, value: &str| {
            let mut header = JweHeader::new();
            header.set_content_encryption(if name == "enc" { value } else { "A256GCM" });
            header
                .set_claim(KEPT_UNDER, Some(Value::from("k")))
                .unwrap();
            header
                .set_claim(EXPIRES, Some(Value::from(unix_now() + 60)))
                .unwrap();
            if name == "zip" {
                header.set_compression(value);
            }
            josekit::jwe::serialize_compact(b"v", &header, &encrypter).unwrap()
        };
        let secrets = [secret.clone()];
        assert_eq!(open(&secrets, "k", &sealed).as_deref(), Some(&b"v"[..]));
        for (what, value) in [
            ("no IV", without(2)),
            ("no tag", without(4)),
            ("A128CBC-HS256", foreign("enc", "A128CBC-HS256")),
            ("compressed", foreign("zip", "DEF")),
        ] {
            assert_eq!(open(&secrets, "k", &value), None, "{what}");
        }
    }
}
