//! Reading compact JWEs with `alg: dir` (RFC 7516 §5.2, RFC 7518 §4.5): session tokens,
//! OAuth check cookies and sealed shared state. The one reader of every JWE authgate
//! accepts, in one pass: the protected header is decoded and parsed once, and the content
//! is decrypted with keys set up when the reader was built.
//!
//! A token is refused, before any decryption, when:
//! - it is not five base64url parts (unpadded, canonical), or its encrypted key is not
//!   empty (`dir`);
//! - its header is not a JSON object (serde would read an array's items as the fields), or
//!   names `alg`, `enc`, `kid`, `typ`, `cty`, `zip` or
//!   `crit` twice, or one of the first five as something other than a string;
//! - `alg` is not `dir`, or `enc` is not one this reader has keys for;
//! - it has `zip` (neither authgate nor Auth.js compresses, and an inflated payload could
//!   be far larger than the cookie) or `crit` (neither writes one);
//! - its IV or tag does not have its encryption's length.
//!
//! Otherwise every key of its `enc` is tried; the tag decides.

use super::content_encryption::{ContentKey, Enc};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decrypts JWEs with any of its keys.
#[derive(Debug)]
pub struct JweReader {
    keys: Vec<ContentKey>,
}

/// A JWE whose tag matched: the header fields authgate reads, the header's JSON (for the
/// fields only its caller knows), and the plaintext.
pub struct Opened {
    pub header: ProtectedFields,
    pub header_json: Vec<u8>,
    pub plaintext: Vec<u8>,
}

impl std::fmt::Debug for Opened {
    // Hand-written: the plaintext is the token's claims.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("header", &self.header)
            .field("plaintext_bytes", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// The protected header's registered fields that decide how a JWE is read. Any of them
/// named twice fails to parse (serde refuses a duplicate field), so two readers can never
/// disagree on which `alg` or `enc` a header says; each is a string when present (`null`
/// reads as absent: the header is authenticated, and absent is what it then means).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ProtectedFields {
    pub alg: Option<String>,
    pub enc: Option<String>,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub cty: Option<String>,
    /// Whether `zip` or `crit` is there at all, whatever its value (even `null`).
    #[serde(default, deserialize_with = "present")]
    zip: bool,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// A header field that counts by being there, whatever its value (even `null`).
pub(super) fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    <serde::de::IgnoredAny as serde::Deserialize>::deserialize(deserializer).map(|_| true)
}

impl JweReader {
    pub fn new(keys: Vec<ContentKey>) -> JweReader {
        JweReader { keys }
    }

    /// The header and plaintext of `compact`, or why it is refused (for the log: the
    /// reason never quotes the token).
    pub fn open(&self, compact: &str) -> Result<Opened, String> {
        let mut parts = compact.split('.');
        let (Some(header_part), Some(encrypted_key), Some(iv), Some(ciphertext), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err("a JWE has five parts".into());
        };
        let unreadable = || "the JWE header is not base64url JSON".to_string();
        let header_json = decoded(header_part)
            .filter(|json| is_json_object(json))
            .ok_or_else(unreadable)?;
        let header: ProtectedFields =
            serde_json::from_slice(&header_json).map_err(|_| unreadable())?;
        if header.alg.as_deref() != Some("dir") || !encrypted_key.is_empty() {
            return Err("only `dir` JWEs are read".into());
        }
        if header.zip || header.crit {
            return Err("a `zip` or `crit` header is not accepted".into());
        }
        let enc = header
            .enc
            .as_deref()
            .and_then(Enc::named)
            .filter(|enc| self.keys.iter().any(|key| key.enc() == *enc))
            .ok_or("the content encryption is not accepted")?;
        let (iv_len, tag_len) = enc.iv_and_tag_len();
        let iv = decoded(iv).filter(|iv| iv.len() == iv_len);
        let tag = decoded(tag).filter(|tag| tag.len() == tag_len);
        let (Some(iv), Some(tag)) = (iv, tag) else {
            return Err(format!("the IV or tag does not fit `{}`", enc.name()));
        };
        let ciphertext = decoded(ciphertext).ok_or("the ciphertext is not base64url")?;
        // The additional authenticated data is the header as it came, still encoded.
        let aad = header_part.as_bytes();
        let mut last_error = String::from("no key opens the token");
        for key in self.keys.iter().filter(|key| key.enc() == enc) {
            match key.decrypt(&iv, &ciphertext, aad, &tag) {
                Ok(plaintext) => {
                    return Ok(Opened {
                        header,
                        header_json,
                        plaintext,
                    });
                }
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }
}

/// Whether `json` starts as a JSON object. serde reads a struct from an array too, its
/// fields by position (`["dir","A256GCM",null,null,null]`); a JOSE header is an object.
pub(super) fn is_json_object(json: &[u8]) -> bool {
    json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// `part` decoded as unpadded base64url; `None` when it is not exactly that.
fn decoded(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part).ok()
}

#[cfg(test)]
#[path = "jwe_reader_tests.rs"]
mod tests;
