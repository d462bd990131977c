//! Writing compact JWEs with `alg: dir` and `enc: A256GCM` (RFC 7516 §7.1, RFC 7518
//! §5.3): the base64url protected header, an empty encrypted key, a random 96-bit IV, the
//! ciphertext and the 128-bit tag, each base64url without padding, with the encoded header
//! as the additional authenticated data. The encryption is the `aes-gcm` crate's.
//!
//! authgate writes these itself because josekit draws every IV from OpenSSL's DRBG, whose
//! fork check makes a `getpid` system call each time: with it, a session read cost 33.6 µs
//! of server CPU on the project machine, and 25.8 µs without. The IV here comes from
//! `rand`'s thread-local CSPRNG (ChaCha12, seeded and reseeded from the OS). `jwe_reader`
//! reads them; the tests also open every JWE written here with josekit's reader, an
//! independent one.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::content_encryption::{IV_BYTES, KEY_BYTES};

/// Header names `ProtectedHeader::new` does not take from its claims: the two it sets, and
/// the two that would change how a reader opens the JWE.
const RESERVED: [&str; 4] = ["alg", "enc", "zip", "crit"];

/// A protected header `{"alg":"dir","enc":"A256GCM", ...}`, encoded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedHeader {
    encoded: String,
}

impl ProtectedHeader {
    /// `alg: dir` and `enc: A256GCM`, then `claims` other than the `RESERVED` ones.
    pub fn new(claims: impl IntoIterator<Item = (&'static str, Value)>) -> ProtectedHeader {
        let mut header = Map::new();
        header.insert("alg".into(), Value::from("dir"));
        header.insert("enc".into(), Value::from("A256GCM"));
        for (name, value) in claims {
            if !RESERVED.contains(&name) {
                header.insert(name.into(), value);
            }
        }
        let json = Value::Object(header).to_string();
        ProtectedHeader {
            encoded: URL_SAFE_NO_PAD.encode(json),
        }
    }
}

/// A key and a protected header to write JWEs with. Not `Clone`: the key schedule stays in
/// one place.
pub struct JweWriter {
    cipher: Aes256Gcm,
    header: ProtectedHeader,
}

impl std::fmt::Debug for JweWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JweWriter")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl JweWriter {
    /// A writer for the 32-byte `key`.
    pub fn new(key: &[u8], header: ProtectedHeader) -> Result<JweWriter, String> {
        let key: &[u8; KEY_BYTES] = key
            .try_into()
            .map_err(|_| format!("an A256GCM key is {KEY_BYTES} bytes"))?;
        Ok(JweWriter {
            cipher: Aes256Gcm::new(key.into()),
            header,
        })
    }

    /// `payload` as a compact JWE, with a fresh IV.
    pub fn encrypt(&self, payload: &[u8]) -> Result<String, String> {
        let header = self.header.encoded.as_str();
        // `rand`'s thread generator does not reseed itself in a forked child: authgate never
        // forks, and code that ever does must reseed it there (`rand::rng().reseed()`).
        let iv: [u8; IV_BYTES] = rand::random();
        let mut content = payload.to_vec();
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&iv), header.as_bytes(), &mut content)
            .map_err(|_| "A256GCM cannot encrypt a payload this large".to_string())?;
        let encoded_len = |bytes: usize| bytes.div_ceil(3) * 4;
        let mut compact = String::with_capacity(
            header.len()
                + 4
                + encoded_len(IV_BYTES)
                + encoded_len(content.len())
                + encoded_len(tag.len()),
        );
        compact.push_str(header);
        compact.push_str("..");
        URL_SAFE_NO_PAD.encode_string(iv, &mut compact);
        compact.push('.');
        URL_SAFE_NO_PAD.encode_string(&content, &mut compact);
        compact.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut compact);
        Ok(compact)
    }
}

#[cfg(test)]
#[path = "jwe_writer_tests.rs"]
mod tests;
