//! The JWE content encryptions authgate registers in josekit to read JWEs (through
//! `JweContext::add_content_encryption`, so josekit still parses and checks the header and
//! the compact form; authgate writes its JWEs with `jwe_writer`):
//!
//! - `A256GCM` with each key's AES schedule and GHASH key computed once, when the keys are
//!   built. josekit's own asks OpenSSL for the cipher and sets the key up again on every
//!   token, which was a tenth of a session read.
//! - `A256CBC-HS512` (Auth.js v5 tokens, read only) checking the tag first and in constant
//!   time. josekit's own decrypts first and compares the tag with `!=`: a padding error
//!   and a tag mismatch take different paths and times, a padding oracle.
//!   Decryption is then josekit's.
//!
//! Every JWE authgate reads or writes goes through a context from `context_with`: only the
//! content encryptions given, and no compression (neither authgate nor Auth.js compresses,
//! and an inflated payload could be far larger than the cookie).

use std::sync::LazyLock;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use hmac::{Hmac, Mac};
use josekit::JoseError;
use josekit::jwe::enc::A256CBC_HS512;
use josekit::jwe::{JweContentEncryption, JweContext};
use sha2::Sha512;
use subtle::ConstantTimeEq;

/// Every content encryption josekit registers by default.
const JOSEKIT_ENCRYPTIONS: [&str; 6] = [
    "A128GCM",
    "A192GCM",
    "A256GCM",
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
];

/// A josekit context that knows only `encryptions` and no compression.
pub fn context_with(encryptions: Vec<Box<dyn JweContentEncryption>>) -> JweContext {
    let mut context = JweContext::new();
    context.remove_compression("DEF");
    for name in JOSEKIT_ENCRYPTIONS {
        context.remove_content_encryption(name);
    }
    for encryption in encryptions {
        context.add_content_encryption(encryption);
    }
    context
}

/// The context of the JWEs whose key is derived per call (OAuth check cookies, sealed
/// shared state): A256GCM only, the key set up on each call.
pub fn a256gcm_context() -> &'static JweContext {
    static CONTEXT: LazyLock<JweContext> =
        LazyLock::new(|| context_with(vec![Box::new(PreparedAesGcm::new([]))]));
    &CONTEXT
}

/// `A256GCM` whose prepared ciphers are those of the session keys; another key (none is
/// expected) is prepared for its one call.
#[derive(Clone)]
pub struct PreparedAesGcm {
    prepared: Vec<([u8; KEY_BYTES], Aes256Gcm)>,
}

/// A256GCM's key, IV and tag sizes in bytes (also `jwe_writer`'s).
pub(super) const KEY_BYTES: usize = 32;
pub(super) const IV_BYTES: usize = 12;
pub(super) const TAG_BYTES: usize = 16;

impl std::fmt::Debug for PreparedAesGcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedAesGcm")
            .field("keys", &self.prepared.len())
            .finish()
    }
}

fn invalid(message: &str) -> JoseError {
    JoseError::InvalidJweFormat(anyhow::anyhow!("{message}"))
}

impl PreparedAesGcm {
    /// Ciphers prepared for `keys`; keys that are not 32 bytes are left out.
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let prepared = keys
            .into_iter()
            .filter_map(|key| {
                let bytes: [u8; KEY_BYTES] = key.try_into().ok()?;
                Some((bytes, Aes256Gcm::new(&bytes.into())))
            })
            .collect();
        PreparedAesGcm { prepared }
    }

    /// The cipher for `key`: a prepared one when the key is one of ours (compared in
    /// constant time), else one prepared now.
    fn cipher(&self, key: &[u8]) -> Result<std::borrow::Cow<'_, Aes256Gcm>, JoseError> {
        let key: &[u8; KEY_BYTES] = key
            .try_into()
            .map_err(|_| invalid("an A256GCM key is 32 bytes"))?;
        match self
            .prepared
            .iter()
            .find(|(bytes, _)| bool::from(bytes.ct_eq(key)))
        {
            Some((_, cipher)) => Ok(std::borrow::Cow::Borrowed(cipher)),
            None => Ok(std::borrow::Cow::Owned(Aes256Gcm::new(key.into()))),
        }
    }
}

fn nonce(iv: Option<&[u8]>) -> Result<&Nonce<aes_gcm::aead::consts::U12>, JoseError> {
    match iv {
        Some(iv) if iv.len() == IV_BYTES => Ok(Nonce::from_slice(iv)),
        _ => Err(invalid("an A256GCM IV is 12 bytes")),
    }
}

impl JweContentEncryption for PreparedAesGcm {
    fn name(&self) -> &str {
        "A256GCM"
    }

    fn key_len(&self) -> usize {
        KEY_BYTES
    }

    fn iv_len(&self) -> usize {
        IV_BYTES
    }

    fn encrypt(
        &self,
        key: &[u8],
        iv: Option<&[u8]>,
        message: &[u8],
        aad: &[u8],
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), JoseError> {
        let cipher = self.cipher(key)?;
        let mut buffer = message.to_vec();
        let tag = cipher
            .encrypt_in_place_detached(nonce(iv)?, aad, &mut buffer)
            .map_err(|_| invalid("A256GCM cannot encrypt this message"))?;
        Ok((buffer, Some(tag.to_vec())))
    }

    fn decrypt(
        &self,
        key: &[u8],
        iv: Option<&[u8]>,
        encrypted_message: &[u8],
        aad: &[u8],
        tag: Option<&[u8]>,
    ) -> Result<Vec<u8>, JoseError> {
        let cipher = self.cipher(key)?;
        let tag = match tag {
            Some(tag) if tag.len() == TAG_BYTES => Tag::from_slice(tag),
            _ => return Err(invalid("an A256GCM tag is 16 bytes")),
        };
        let mut buffer = encrypted_message.to_vec();
        cipher
            .decrypt_in_place_detached(nonce(iv)?, aad, &mut buffer, tag)
            .map_err(|_| invalid("the A256GCM tag does not match"))?;
        Ok(buffer)
    }

    fn box_clone(&self) -> Box<dyn JweContentEncryption> {
        Box::new(self.clone())
    }
}

/// `A256CBC-HS512` whose tag (RFC 7518 §5.2.2.2: HMAC-SHA-512 over the AAD, the IV, the
/// ciphertext and the AAD's length in bits, its first 32 bytes) is checked in constant
/// time before josekit decrypts.
#[derive(Debug, Clone, Copy)]
pub struct TagFirstCbcHmac;

const CBC_KEY_BYTES: usize = 64;
const CBC_IV_BYTES: usize = 16;
const CBC_TAG_BYTES: usize = 32;

impl JweContentEncryption for TagFirstCbcHmac {
    fn name(&self) -> &str {
        A256CBC_HS512.name()
    }

    fn key_len(&self) -> usize {
        CBC_KEY_BYTES
    }

    fn iv_len(&self) -> usize {
        CBC_IV_BYTES
    }

    fn encrypt(
        &self,
        key: &[u8],
        iv: Option<&[u8]>,
        message: &[u8],
        aad: &[u8],
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), JoseError> {
        A256CBC_HS512.encrypt(key, iv, message, aad)
    }

    fn decrypt(
        &self,
        key: &[u8],
        iv: Option<&[u8]>,
        encrypted_message: &[u8],
        aad: &[u8],
        tag: Option<&[u8]>,
    ) -> Result<Vec<u8>, JoseError> {
        let (Some(iv), Some(tag)) = (iv, tag) else {
            return Err(invalid("A256CBC-HS512 needs an IV and a tag"));
        };
        if key.len() != CBC_KEY_BYTES || iv.len() != CBC_IV_BYTES || tag.len() != CBC_TAG_BYTES {
            return Err(invalid("A256CBC-HS512 key, IV or tag of the wrong length"));
        }
        let (mac_key, _) = key.split_at(CBC_KEY_BYTES / 2);
        let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(mac_key)
            .map_err(|_| invalid("A256CBC-HS512 MAC key of the wrong length"))?;
        mac.update(aad);
        mac.update(iv);
        mac.update(encrypted_message);
        mac.update(&(aad.len() as u64 * 8).to_be_bytes());
        mac.verify_truncated_left(tag)
            .map_err(|_| invalid("the A256CBC-HS512 tag does not match"))?;
        A256CBC_HS512.decrypt(key, Some(iv), encrypted_message, aad, Some(tag))
    }

    fn box_clone(&self) -> Box<dyn JweContentEncryption> {
        Box::new(*self)
    }
}

#[cfg(test)]
#[path = "content_encryption_tests.rs"]
mod tests;
