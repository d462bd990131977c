//! Password hashes: verifying argon2 (any variant, parameters taken from the PHC string) and
//! bcrypt (`$2a$`, `$2b$`, `$2y$`) hashes, and hashing new passwords with argon2id.
//! A missing or unparsable hash is verified against a fixed dummy hash, so a failed sign-in
//! costs the same time whether the user exists or not.

use std::sync::{Mutex, OnceLock};

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

fn default_dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // A hash of random bytes nobody knows, made once with the default parameters.
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        hash_password(&hex::encode(secret)).unwrap_or_default()
    })
}

/// The dummy hash for unknown users takes the scheme and cost of the last real hash seen,
/// so "no such user" costs what "wrong password" costs even for bcrypt or a stronger
/// argon2 setting: `(cost prefix, dummy hash)`.
static MATCHING_DUMMY: Mutex<Option<(String, String)>> = Mutex::new(None);

/// The part of a PHC string that decides its cost: `$argon2id$v=19$m=..,t=..,p=..` or `$2b$12`.
fn cost_prefix(phc: &str) -> Option<String> {
    let parts: Vec<&str> = phc.split('$').collect();
    if is_bcrypt(phc) {
        return (parts.len() >= 3).then(|| parts[..3].join("$"));
    }
    (parts.len() >= 5 && parts[1].starts_with("argon2")).then(|| parts[..4].join("$"))
}

fn dummy_like(phc: &str) -> Option<String> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let plain = hex::encode(secret);
    if is_bcrypt(phc) {
        let cost: u32 = phc.get(4..6)?.parse().ok()?;
        return bcrypt::hash(&plain, cost).ok();
    }
    let parsed = PasswordHash::new(phc).ok()?;
    let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .and_then(|v| argon2::Version::try_from(v).ok())
        .unwrap_or_default();
    let params = argon2::Params::try_from(&parsed).ok()?;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).ok()?;
    Argon2::new(algorithm, version, params)
        .hash_password(plain.as_bytes(), &salt)
        .ok()
        .map(|hash| hash.to_string())
}

/// Remembers the cost of a real hash, making a matching dummy when it changed.
fn remember_cost(phc: &str) {
    let Some(prefix) = cost_prefix(phc) else {
        return;
    };
    let known = MATCHING_DUMMY
        .lock()
        .map(|dummy| dummy.as_ref().is_some_and(|(known, _)| *known == prefix))
        .unwrap_or(true);
    if known {
        return;
    }
    if let Some(dummy) = dummy_like(phc)
        && let Ok(mut slot) = MATCHING_DUMMY.lock()
    {
        *slot = Some((prefix, dummy));
    }
}

fn dummy_verify(plain: &str) {
    let matching = MATCHING_DUMMY
        .lock()
        .ok()
        .and_then(|dummy| dummy.as_ref().map(|(_, hash)| hash.clone()));
    let dummy = matching.unwrap_or_else(|| default_dummy_hash().to_string());
    if is_bcrypt(&dummy) {
        let _ = bcrypt::verify(plain, &dummy);
    } else {
        let _ = verify_argon2(plain, &dummy);
    }
}

/// Makes the default dummy hash now, so the first unknown user costs no more than the rest.
pub fn warm_up() {
    let _ = default_dummy_hash();
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

/// True when `plain` matches `phc`. With no usable hash, a dummy verification of the same
/// cost as the last real one runs and the answer is false.
pub fn verify_password(plain: &str, phc: Option<&str>) -> bool {
    let result = match phc {
        Some(phc) if is_bcrypt(phc) => bcrypt::verify(plain, phc).ok(),
        Some(phc) => verify_argon2(plain, phc),
        None => None,
    };
    match (result, phc) {
        (Some(matches), Some(phc)) => {
            remember_cost(phc);
            matches
        }
        _ => {
            dummy_verify(plain);
            false
        }
    }
}

#[cfg(test)]
#[path = "password_tests.rs"]
mod tests;
