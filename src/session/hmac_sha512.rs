//! HS512 for josekit's JWS with the key's HMAC state computed once, when the keys are
//! built: each token clones the keyed state instead of setting an OpenSSL key up again.
//! josekit still builds, parses and checks the compact form; this only signs and verifies,
//! and verifying compares in constant time.

use hmac::{Hmac, Mac};
use josekit::JoseError;
use josekit::jws::{HS512, JwsAlgorithm, JwsSigner, JwsVerifier};
use sha2::Sha512;

/// An HS512 key, keyed once.
#[derive(Clone)]
pub struct PreparedHs512 {
    keyed: Hmac<Sha512>,
}

impl std::fmt::Debug for PreparedHs512 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedHs512").finish_non_exhaustive()
    }
}

/// Shortest HS512 key josekit accepts, kept so that a key it would refuse is refused here
/// too.
const MIN_KEY_BYTES: usize = 64;

impl PreparedHs512 {
    pub fn new(key: &[u8]) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!("an HS512 key is at least {MIN_KEY_BYTES} bytes"));
        }
        let keyed = Hmac::<Sha512>::new_from_slice(key).map_err(|error| error.to_string())?;
        Ok(PreparedHs512 { keyed })
    }
}

impl JwsSigner for PreparedHs512 {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &HS512
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        64
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let mut mac = self.keyed.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

impl JwsVerifier for PreparedHs512 {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &HS512
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac.verify_slice(signature).map_err(|_| {
            JoseError::InvalidSignature(anyhow::anyhow!("the HS512 signature does not match"))
        })
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
#[path = "hmac_sha512_tests.rs"]
mod tests;
