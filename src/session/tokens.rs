//! Database session tokens: 256 random bits, base64url. The cookie carries the token; the
//! store keeps only its SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// 256 random bits as 43 base64url characters (no dots, so never mistaken for a JWT):
/// session tokens, OAuth state and email sign-in tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new database session token.
pub fn new_session_token() -> String {
    random_token()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_are_43_url_safe_characters_and_unique() {
        let a = new_session_token();
        let b = new_session_token();
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
    }
}
