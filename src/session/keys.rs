//! Session token keys, built once per pipeline.
//!
//! - Default: JWS HS512 with a key derived from each secret.
//! - `jwt.encryption: true`: JWE `dir` + A256GCM, and A256CBC-HS512 accepted on read.
//! - `jwt.algorithm` RS256/PS256/ES256/EdDSA: JWS with the key files; the first signs,
//!   all verify, chosen by `kid`.
//!
//! Keys are derived with HKDF-SHA256 from a secret, with the session cookie's name as the
//! salt, as Auth.js does:
//! - encryption: info `Auth.js Generated Encryption Key (<cookie name>)`, 32 bytes for
//!   A256GCM and 64 for A256CBC-HS512, so tokens are readable by Auth.js with the same secret;
//! - signing: info `authgate Generated Signing Key (<cookie name>)`, 64 bytes.
//!
//! The first secret (or key) creates tokens; every one is accepted when reading.

use std::sync::Arc;

use hkdf::Hkdf;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsSigner, JwsVerifier, PS256, RS256};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::content_encryption::{ContentKey, Enc};
use super::hmac_sha512::PreparedHs512;
use super::jwe_reader::JweReader;
use super::jwe_writer::{JweWriter, ProtectedHeader};
use crate::config::model::JwtAlgorithm;

/// A key file's text as loaded from disk.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFileText {
    /// The `kid` configured for it, if any.
    pub kid: Option<String>,
    pub text: String,
}

impl std::fmt::Debug for KeyFileText {
    // Hand-written: the text is a private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFileText")
            .field("kid", &self.kid)
            .field("bytes", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// JWE content encryptions accepted when reading (the first one is used for writing).
pub const JWE_ENCRYPTIONS: [Enc; 2] = [Enc::A256Gcm, Enc::A256CbcHs512];

/// A verifier and the key id it answers to.
#[derive(Debug)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub verifier: Box<dyn JwsVerifier>,
}

/// How tokens of one cookie name are written and read.
pub enum TokenKeys {
    Signed {
        signer: Box<dyn JwsSigner>,
        signer_kid: Option<String>,
        verifiers: Vec<VerifyingKey>,
    },
    Encrypted {
        /// Writes new tokens with the newest secret's A256GCM key.
        writer: Box<JweWriter>,
        /// Reads tokens with every secret's key for each accepted encryption.
        reader: JweReader,
    },
}

impl std::fmt::Debug for TokenKeys {
    // Hand-written: josekit's signers print their key bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenKeys::Signed {
                signer_kid,
                verifiers,
                ..
            } => f
                .debug_struct("Signed")
                .field("signer_kid", signer_kid)
                .field(
                    "verifier_kids",
                    &verifiers.iter().map(|key| &key.kid).collect::<Vec<_>>(),
                )
                .finish_non_exhaustive(),
            TokenKeys::Encrypted { writer, reader } => f
                .debug_struct("Encrypted")
                .field("writer", writer)
                .field("reader", reader)
                .finish(),
        }
    }
}

/// Keys for every session cookie name a pipeline can use, plus the public JWKS.
#[derive(Debug)]
pub struct SessionKeys {
    by_cookie: Vec<(String, Arc<TokenKeys>)>,
    jwks: Value,
}

fn hkdf(secret: &str, salt: &str, info: &str, length: usize) -> Result<Vec<u8>, String> {
    let mut key = vec![0u8; length];
    Hkdf::<Sha256>::new(Some(salt.as_bytes()), secret.as_bytes())
        .expand(info.as_bytes(), &mut key)
        .map_err(|error| format!("cannot derive a key: {error}"))?;
    Ok(key)
}

/// The JWE key Auth.js derives for `enc` from `secret` and the cookie name.
pub fn derive_encryption_key(
    secret: &str,
    cookie_name: &str,
    enc: &str,
) -> Result<Vec<u8>, String> {
    let length = Enc::named(enc).map_or(Enc::A256Gcm.key_len(), Enc::key_len);
    hkdf(
        secret,
        cookie_name,
        &format!("Auth.js Generated Encryption Key ({cookie_name})"),
        length,
    )
}

/// The RFC 7638 thumbprint (SHA-256, base64url) of a symmetric key as an `oct` JWK. Auth.js
/// names its JWE key by it in `kid`, and with several secrets picks the key whose
/// thumbprint matches; without a `kid` it tries only its first secret.
pub fn oct_key_thumbprint(key: &[u8]) -> String {
    use base64::Engine as _;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    // The required members in lexicographic order, without whitespace (RFC 7638 §3.2).
    let jwk = format!(r#"{{"k":"{}","kty":"oct"}}"#, encode(key));
    encode(&Sha256::digest(jwk.as_bytes()))
}

/// A key for the shared state, one per `purpose`: sealing values (`state::sealed`), or
/// keying the digests that name rate-limit buckets.
pub fn derive_shared_state_key(secret: &str, purpose: &str) -> Result<Vec<u8>, String> {
    hkdf(
        secret,
        "authgate",
        &format!("authgate Shared State Key ({purpose})"),
        32,
    )
}

/// The HS512 key authgate derives from `secret` and the cookie name.
pub fn derive_signing_key(secret: &str, cookie_name: &str) -> Result<Vec<u8>, String> {
    hkdf(
        secret,
        cookie_name,
        &format!("authgate Generated Signing Key ({cookie_name})"),
        64,
    )
}

fn algorithm_name(algorithm: JwtAlgorithm) -> &'static str {
    match algorithm {
        JwtAlgorithm::HS512 => "HS512",
        JwtAlgorithm::RS256 => "RS256",
        JwtAlgorithm::PS256 => "PS256",
        JwtAlgorithm::ES256 => "ES256",
        JwtAlgorithm::EdDSA => "EdDSA",
    }
}

/// A key file (PEM private key, or JWK private or public key) as a JWK.
fn key_file_to_jwk(algorithm: JwtAlgorithm, text: &str) -> Result<Jwk, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return Jwk::from_bytes(trimmed.as_bytes())
            .map_err(|error| format!("not a valid JWK: {error}"));
    }
    if trimmed.contains("PUBLIC KEY-----") {
        return Err("a verify-only public key must be given as a JWK file".into());
    }
    let pair: Box<dyn josekit::jwk::KeyPair> = match algorithm {
        JwtAlgorithm::RS256 => Box::new(
            RS256
                .key_pair_from_pem(trimmed)
                .map_err(|e| e.to_string())?,
        ),
        JwtAlgorithm::PS256 => Box::new(
            PS256
                .key_pair_from_pem(trimmed)
                .map_err(|e| e.to_string())?,
        ),
        JwtAlgorithm::ES256 => Box::new(
            ES256
                .key_pair_from_pem(trimmed)
                .map_err(|e| e.to_string())?,
        ),
        JwtAlgorithm::EdDSA => Box::new(
            EdDSA
                .key_pair_from_pem(trimmed)
                .map_err(|e| e.to_string())?,
        ),
        JwtAlgorithm::HS512 => return Err("HS512 uses the secret, not key files".into()),
    };
    Ok(pair.to_jwk_key_pair())
}

fn is_private(jwk: &Jwk) -> bool {
    jwk.parameter("d").is_some()
}

fn signer_for(algorithm: JwtAlgorithm, jwk: &Jwk) -> Result<Box<dyn JwsSigner>, String> {
    let signer: Box<dyn JwsSigner> = match algorithm {
        JwtAlgorithm::RS256 => Box::new(RS256.signer_from_jwk(jwk).map_err(|e| e.to_string())?),
        JwtAlgorithm::PS256 => Box::new(PS256.signer_from_jwk(jwk).map_err(|e| e.to_string())?),
        JwtAlgorithm::ES256 => Box::new(ES256.signer_from_jwk(jwk).map_err(|e| e.to_string())?),
        JwtAlgorithm::EdDSA => Box::new(EdDSA.signer_from_jwk(jwk).map_err(|e| e.to_string())?),
        JwtAlgorithm::HS512 => return Err("HS512 uses the secret, not key files".into()),
    };
    Ok(signer)
}

fn verifier_for(algorithm: JwtAlgorithm, public: &Jwk) -> Result<Box<dyn JwsVerifier>, String> {
    let verifier: Box<dyn JwsVerifier> = match algorithm {
        JwtAlgorithm::RS256 => {
            Box::new(RS256.verifier_from_jwk(public).map_err(|e| e.to_string())?)
        }
        JwtAlgorithm::PS256 => {
            Box::new(PS256.verifier_from_jwk(public).map_err(|e| e.to_string())?)
        }
        JwtAlgorithm::ES256 => {
            Box::new(ES256.verifier_from_jwk(public).map_err(|e| e.to_string())?)
        }
        JwtAlgorithm::EdDSA => {
            Box::new(EdDSA.verifier_from_jwk(public).map_err(|e| e.to_string())?)
        }
        JwtAlgorithm::HS512 => return Err("HS512 uses the secret, not key files".into()),
    };
    Ok(verifier)
}

/// A stable key id for a public key without one: its SHA-256, shortened.
fn default_kid(public: &Jwk) -> String {
    let digest = Sha256::digest(public.to_string().as_bytes());
    crate::text::lower_hex(&digest[..8])
}

/// Why one key file could not be used; `index` is its place in `jwt.keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub index: Option<usize>,
    pub message: String,
}

impl SessionKeys {
    /// Builds the keys for `cookie_names` (the session cookie's name on http and https).
    pub fn new(
        algorithm: JwtAlgorithm,
        encryption: bool,
        secrets: &[&str],
        key_files: &[KeyFileText],
        cookie_names: &[&str],
    ) -> Result<SessionKeys, KeyError> {
        if algorithm.is_asymmetric() {
            if encryption {
                return Err(key_error(
                    None,
                    "`jwt.encryption` uses the secret and cannot be combined with an asymmetric `jwt.algorithm`".into(),
                ));
            }
            return SessionKeys::from_key_files(algorithm, key_files, cookie_names);
        }
        if secrets.is_empty() {
            return Err(key_error(
                None,
                "no secret to derive session keys from".into(),
            ));
        }
        let mut by_cookie = Vec::new();
        for name in cookie_names {
            let keys = if encryption {
                encrypted_keys(secrets, name)?
            } else {
                signed_keys(secrets, name)?
            };
            by_cookie.push((name.to_string(), Arc::new(keys)));
        }
        Ok(SessionKeys {
            by_cookie,
            jwks: json!({ "keys": [] }),
        })
    }

    /// Signing keys from PEM/JWK files (the first one signs), shared by every cookie name,
    /// and their public JWKS.
    fn from_key_files(
        algorithm: JwtAlgorithm,
        key_files: &[KeyFileText],
        cookie_names: &[&str],
    ) -> Result<SessionKeys, KeyError> {
        let fail = key_error;
        let mut verifiers = Vec::new();
        let mut published = Vec::new();
        let mut signer = None;
        for (index, file) in key_files.iter().enumerate() {
            let jwk = key_file_to_jwk(algorithm, &file.text).map_err(|m| fail(Some(index), m))?;
            let mut public = jwk
                .to_public_key()
                .map_err(|e| fail(Some(index), e.to_string()))?;
            let kid = file
                .kid
                .clone()
                .or_else(|| jwk.key_id().map(str::to_string))
                .unwrap_or_else(|| default_kid(&public));
            public.set_key_id(kid.clone());
            public.set_algorithm(algorithm_name(algorithm));
            public.set_key_use("sig");
            let verifier = verifier_for(algorithm, &public).map_err(|m| fail(Some(index), m))?;
            if index == 0 {
                if !is_private(&jwk) {
                    return Err(fail(
                        Some(0),
                        "the first key signs, so it must be a private key".into(),
                    ));
                }
                signer = Some((
                    signer_for(algorithm, &jwk).map_err(|m| fail(Some(0), m))?,
                    kid.clone(),
                ));
            }
            published.push(Value::Object(public.as_ref().clone()));
            verifiers.push(VerifyingKey {
                kid: Some(kid),
                verifier,
            });
        }
        let Some((signer, signer_kid)) = signer else {
            return Err(fail(
                None,
                format!(
                    "algorithm `{}` needs at least one key file",
                    algorithm_name(algorithm)
                ),
            ));
        };
        // Key files do not depend on the cookie name: every name shares one key set.
        let shared = Arc::new(TokenKeys::Signed {
            signer,
            signer_kid: Some(signer_kid),
            verifiers,
        });
        let by_cookie = cookie_names
            .iter()
            .map(|name| (name.to_string(), shared.clone()))
            .collect();
        Ok(SessionKeys {
            by_cookie,
            jwks: json!({ "keys": published }),
        })
    }

    /// The keys for tokens stored in the cookie named `cookie_name`.
    pub fn for_cookie(&self, cookie_name: &str) -> Option<&TokenKeys> {
        self.by_cookie
            .iter()
            .find(|(name, _)| name == cookie_name)
            .map(|(_, keys)| keys.as_ref())
    }

    /// The public keys as a JWK Set (empty for symmetric keys, which are never published).
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

/// `dir` JWE keys for the cookie `name`: the newest secret encrypts; every secret, with each
/// supported content encryption, decrypts.
fn encrypted_keys(secrets: &[&str], name: &str) -> Result<TokenKeys, KeyError> {
    let fail = key_error;
    let newest = derive_encryption_key(secrets[0], name, JWE_ENCRYPTIONS[0].name())
        .map_err(|m| fail(None, m))?;
    let header = ProtectedHeader::new([
        ("kid", json!(oct_key_thumbprint(&newest))),
        ("typ", json!("JWT")),
    ]);
    let writer = JweWriter::new(&newest, header).map_err(|m| fail(None, m))?;
    let mut keys = Vec::new();
    for secret in secrets {
        for enc in JWE_ENCRYPTIONS {
            let key = derive_encryption_key(secret, name, enc.name()).map_err(|m| fail(None, m))?;
            keys.push(ContentKey::new(enc, &key).map_err(|m| fail(None, m))?);
        }
    }
    Ok(TokenKeys::Encrypted {
        writer: Box::new(writer),
        reader: JweReader::new(keys),
    })
}

/// HS512 keys for the cookie `name`: the newest secret signs; every secret verifies.
fn signed_keys(secrets: &[&str], name: &str) -> Result<TokenKeys, KeyError> {
    let fail = key_error;
    let newest = derive_signing_key(secrets[0], name).map_err(|m| fail(None, m))?;
    let signer: Box<dyn JwsSigner> =
        Box::new(PreparedHs512::new(&newest).map_err(|m| fail(None, m))?);
    let mut verifiers = Vec::new();
    for secret in secrets {
        let key = derive_signing_key(secret, name).map_err(|m| fail(None, m))?;
        let verifier = PreparedHs512::new(&key).map_err(|m| fail(None, m))?;
        verifiers.push(VerifyingKey {
            kid: None,
            verifier: Box::new(verifier),
        });
    }
    Ok(TokenKeys::Signed {
        signer,
        signer_kid: None,
        verifiers,
    })
}

fn key_error(index: Option<usize>, message: String) -> KeyError {
    KeyError { index, message }
}
