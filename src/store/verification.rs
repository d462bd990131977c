//! Email verification tokens at rest. As in Auth.js, the store keeps
//! `sha256hex(token + secret)`, never the token mailed to the user: a leaked
//! `verification_tokens` table signs nobody in. `HashedVerificationToken` can only be made
//! by hashing, and it is the only form the `Adapter` accepts, so a clear token cannot be
//! stored or looked up by mistake.

use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of `token` followed by `secret`, with no separator: what
/// Auth.js hashes (`${token}${secret}`), so a table written by either works for the other.
pub fn verification_token_hash(token: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(secret.as_bytes());
    crate::text::lower_hex(&hasher.finalize())
}

/// A verification token as the store sees it: its hash with the secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashedVerificationToken(String);

impl HashedVerificationToken {
    /// Hashes the clear `token` (the one in the emailed link) with the `secret`.
    pub fn new(token: &str, secret: &str) -> HashedVerificationToken {
        HashedVerificationToken(verification_token_hash(token, secret))
    }

    /// The 64 hex characters the `verification_tokens.token` column holds.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_hex_of_the_token_then_the_secret() {
        let cases = [
            // SHA-256("abc"), the FIPS 180-2 example: token and secret are concatenated.
            (
                "ab",
                "c",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                "abc",
                "",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            // SHA-256(""): the empty token with the empty secret.
            (
                "",
                "",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
        ];
        for (token, secret, expected) in cases {
            assert_eq!(verification_token_hash(token, secret), expected, "{token}");
            assert_eq!(
                HashedVerificationToken::new(token, secret).as_str(),
                expected
            );
        }
    }

    #[test]
    fn another_secret_gives_another_hash() {
        assert_ne!(
            HashedVerificationToken::new("token", "secret-1"),
            HashedVerificationToken::new("token", "secret-2")
        );
    }
}
