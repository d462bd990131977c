//! The check cookies of an authorization round trip (state, PKCE verifier, nonce). Each is
//! a JWE (`dir`, A256GCM, the key derived from the secret and the cookie's name, as Auth.js
//! derives it) holding the value, the provider it belongs to, the browser that started the
//! round trip and a 15-minute expiry, so a cookie is useless for another provider, in
//! another browser, after its time, or when tampered with.
//!
//! The browser is named by the SHA-256 of its CSRF token. On https that token lives in the
//! host-only `__Host-` cookie, which a sibling subdomain cannot set: a flow an attacker
//! started and planted through a parent-domain cookie carries the attacker's binding and
//! fails in the victim's browser.

use serde::{Deserialize, Serialize};

pub use crate::session::csrf::browser_binding;

use crate::session::content_encryption::{ContentKey, Enc};
use crate::session::jwe_reader::JweReader;
use crate::session::jwe_writer::{JweWriter, ProtectedHeader};
use crate::session::keys::derive_encryption_key;

/// How long a sign-in round trip may take.
pub const CHECK_MAX_AGE_SECONDS: u64 = 15 * 60;

#[derive(Serialize, Deserialize)]
struct Sealed {
    value: String,
    provider: String,
    /// `browser_binding` of the CSRF token of the browser that started the round trip.
    browser: String,
    exp: u64,
}

/// What a check cookie is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The cookie's name; it also derives the key.
    pub cookie_name: &'a str,
    pub provider: &'a str,
    /// `browser_binding` of the browser's CSRF token.
    pub browser: &'a str,
}

/// Why a check cookie was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("the {0} cookie is missing")]
    Missing(&'static str),
    #[error("the {0} cookie cannot be decrypted")]
    Unreadable(&'static str),
    #[error("the {0} cookie belongs to another provider")]
    OtherProvider(&'static str),
    #[error("the {0} cookie was started in another browser")]
    OtherBrowser(&'static str),
    #[error("the {0} cookie has expired")]
    Expired(&'static str),
}

fn key(secret: &str, cookie_name: &str) -> Result<Vec<u8>, String> {
    derive_encryption_key(secret, cookie_name, "A256GCM")
}

/// Seals `value` for `binding` with the newest secret.
pub fn seal(secret: &str, binding: &Binding, value: &str, now: u64) -> Result<String, String> {
    let payload = serde_json::to_vec(&Sealed {
        value: value.to_string(),
        provider: binding.provider.to_string(),
        browser: binding.browser.to_string(),
        exp: now + CHECK_MAX_AGE_SECONDS,
    })
    .map_err(|error| error.to_string())?;
    JweWriter::new(&key(secret, binding.cookie_name)?, ProtectedHeader::new([]))?.encrypt(&payload)
}

/// Opens a check cookie with any of the secrets; the value when it matches `binding`
/// (provider and browser) and has not expired.
pub fn open(
    secrets: &[&str],
    binding: &Binding,
    label: &'static str,
    sealed: Option<&str>,
    now: u64,
) -> Result<String, CheckError> {
    let sealed = sealed
        .filter(|s| !s.is_empty())
        .ok_or(CheckError::Missing(label))?;
    let keys = secrets
        .iter()
        .filter_map(|secret| {
            let key = key(secret, binding.cookie_name).ok()?;
            ContentKey::new(Enc::A256Gcm, &key).ok()
        })
        .collect();
    let opened = JweReader::new(keys)
        .open(sealed)
        .map_err(|_| CheckError::Unreadable(label))?;
    let sealed: Sealed =
        serde_json::from_slice(&opened.plaintext).map_err(|_| CheckError::Unreadable(label))?;
    if sealed.provider != binding.provider {
        return Err(CheckError::OtherProvider(label));
    }
    if !crate::text::constant_time_eq(&sealed.browser, binding.browser) {
        return Err(CheckError::OtherBrowser(label));
    }
    if sealed.exp <= now {
        return Err(CheckError::Expired(label));
    }
    Ok(sealed.value)
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
