//! The two JWE content encryptions authgate reads (RFC 7518 §5), each key set up once,
//! when the keys are built:
//!
//! - `A256GCM` (what authgate writes): `aes-gcm`, with the AES schedule and GHASH key
//!   computed once per key.
//! - `A256CBC-HS512` (Auth.js v5 tokens, read only): the tag (HMAC-SHA-512 over the AAD,
//!   the IV, the ciphertext and the AAD's length in bits, its first 32 bytes) is checked
//!   first and in constant time, so a padding error and a tag mismatch cannot be told
//!   apart. The CBC decryption after it is josekit's primitive (OpenSSL).

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use hmac::{Hmac, Mac};
use josekit::jwe::JweContentEncryption as _;
use josekit::jwe::enc::A256CBC_HS512;
use sha2::Sha512;
use zeroize::Zeroizing;

/// A256GCM's key, IV and tag sizes in bytes (also `jwe_writer`'s).
pub(super) const KEY_BYTES: usize = 32;
pub(super) const IV_BYTES: usize = 12;
pub(super) const TAG_BYTES: usize = 16;

const CBC_KEY_BYTES: usize = 64;
const CBC_IV_BYTES: usize = 16;
const CBC_TAG_BYTES: usize = 32;

/// A content encryption authgate reads, by its `enc` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    A256Gcm,
    A256CbcHs512,
}

impl Enc {
    /// The encryption an `enc` header names, when authgate reads it.
    pub fn named(name: &str) -> Option<Enc> {
        match name {
            "A256GCM" => Some(Enc::A256Gcm),
            "A256CBC-HS512" => Some(Enc::A256CbcHs512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Enc::A256Gcm => "A256GCM",
            Enc::A256CbcHs512 => "A256CBC-HS512",
        }
    }

    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Enc::A256Gcm => KEY_BYTES,
            Enc::A256CbcHs512 => CBC_KEY_BYTES,
        }
    }

    /// The IV and tag lengths in bytes.
    pub fn iv_and_tag_len(self) -> (usize, usize) {
        match self {
            Enc::A256Gcm => (IV_BYTES, TAG_BYTES),
            Enc::A256CbcHs512 => (CBC_IV_BYTES, CBC_TAG_BYTES),
        }
    }
}

/// One key of one content encryption, ready to decrypt.
pub enum ContentKey {
    A256Gcm(Box<Aes256Gcm>),
    /// The MAC key (first half) and the AES key (second half), wiped when dropped.
    A256CbcHs512(Zeroizing<[u8; CBC_KEY_BYTES]>),
}

impl std::fmt::Debug for ContentKey {
    // Hand-written: no key material in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ContentKey")
            .field(&self.enc().name())
            .finish()
    }
}

impl ContentKey {
    /// The key for `enc`, when `key` has its length.
    pub fn new(enc: Enc, key: &[u8]) -> Result<ContentKey, String> {
        let wrong_length = || format!("an {} key is {} bytes", enc.name(), enc.key_len());
        match enc {
            Enc::A256Gcm => {
                let key: &[u8; KEY_BYTES] = key.try_into().map_err(|_| wrong_length())?;
                Ok(ContentKey::A256Gcm(Box::new(Aes256Gcm::new(key.into()))))
            }
            Enc::A256CbcHs512 => {
                let key: [u8; CBC_KEY_BYTES] = key.try_into().map_err(|_| wrong_length())?;
                Ok(ContentKey::A256CbcHs512(Zeroizing::new(key)))
            }
        }
    }

    pub fn enc(&self) -> Enc {
        match self {
            ContentKey::A256Gcm(_) => Enc::A256Gcm,
            ContentKey::A256CbcHs512(_) => Enc::A256CbcHs512,
        }
    }

    /// The plaintext, when the tag proves `ciphertext` and `aad` were sealed with this key
    /// and `iv`. The IV and tag must have this encryption's lengths.
    pub fn decrypt(
        &self,
        iv: &[u8],
        ciphertext: &[u8],
        aad: &[u8],
        tag: &[u8],
    ) -> Result<Vec<u8>, String> {
        let (iv_len, tag_len) = self.enc().iv_and_tag_len();
        if iv.len() != iv_len || tag.len() != tag_len {
            return Err(format!(
                "the IV or tag does not fit `{}`",
                self.enc().name()
            ));
        }
        match self {
            ContentKey::A256Gcm(cipher) => {
                let mut buffer = ciphertext.to_vec();
                cipher
                    .decrypt_in_place_detached(
                        Nonce::from_slice(iv),
                        aad,
                        &mut buffer,
                        Tag::from_slice(tag),
                    )
                    .map_err(|_| "the A256GCM tag does not match".to_string())?;
                Ok(buffer)
            }
            ContentKey::A256CbcHs512(key) => {
                let (mac_key, _) = key.split_at(CBC_KEY_BYTES / 2);
                let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(mac_key)
                    .map_err(|_| "A256CBC-HS512 MAC key of the wrong length".to_string())?;
                mac.update(aad);
                mac.update(iv);
                mac.update(ciphertext);
                mac.update(&(aad.len() as u64 * 8).to_be_bytes());
                mac.verify_truncated_left(tag)
                    .map_err(|_| "the A256CBC-HS512 tag does not match".to_string())?;
                A256CBC_HS512
                    .decrypt(key.as_slice(), Some(iv), ciphertext, aad, Some(tag))
                    .map_err(|_| "the A256CBC-HS512 content is not readable".to_string())
            }
        }
    }
}

#[cfg(test)]
#[path = "content_encryption_tests.rs"]
mod tests;
