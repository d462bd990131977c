//! Password hashes: verifying argon2 (any variant, parameters taken from the PHC string) and
//! bcrypt (`$2a$`, `$2b$`, `$2y$`) hashes, and hashing new passwords with argon2id.
//! A missing or unparsable hash is verified against a fixed dummy hash, so a failed sign-in
//! costs the same time whether the user exists or not.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash password: {0}")]
pub struct HashError(String);

/// Hashes `plain` with argon2id and the default (OWASP-recommended) parameters.
pub fn hash_password(plain: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|error| HashError(error.to_string()))?;
    Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // A hash of random bytes nobody knows, made once with the default parameters.
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        hash_password(&hex::encode(secret)).unwrap_or_default()
    })
}

fn verify_argon2(plain: &str, phc: &str) -> Option<bool> {
    let parsed = PasswordHash::new(phc).ok()?;
    Some(
        Argon2::default()
            .verify_password(plain.as_bytes(), &parsed)
            .is_ok(),
    )
}

fn is_bcrypt(phc: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| phc.starts_with(prefix))
}

/// True when `plain` matches `phc`. With no usable hash, a dummy verification runs and the
/// answer is false.
pub fn verify_password(plain: &str, phc: Option<&str>) -> bool {
    match phc {
        Some(phc) if is_bcrypt(phc) => bcrypt::verify(plain, phc).unwrap_or(false),
        Some(phc) => match verify_argon2(plain, phc) {
            Some(matches) => matches,
            None => {
                let _ = verify_argon2(plain, dummy_hash());
                false
            }
        },
        None => {
            let _ = verify_argon2(plain, dummy_hash());
            false
        }
    }
}

#[cfg(test)]
mod tests {
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
    fn missing_or_garbage_hashes_never_verify() {
        assert!(!verify_password("anything", None));
        assert!(!verify_password("anything", Some("not-a-hash")));
        assert!(!verify_password("", Some("")));
    }
}
