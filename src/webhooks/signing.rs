//! Standard Webhooks signatures: `v1,` and the base64 of HMAC-SHA256 over
//! `{id}.{timestamp}.{body}`, keyed with the bytes of a `whsec_<base64>` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The shortest and longest key accepted, in bytes.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// The key of a `whsec_...` secret; the message never quotes the secret.
pub fn parse_secret(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .strip_prefix("whsec_")
        .ok_or("must start with `whsec_` followed by base64 (value hidden)")?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| "the part after `whsec_` is not base64 (value hidden)".to_string())?;
    if !KEY_BYTES.contains(&key.len()) {
        return Err(format!(
            "the key must be {} to {} bytes, found {} (value hidden)",
            KEY_BYTES.start(),
            KEY_BYTES.end(),
            key.len()
        ));
    }
    Ok(key)
}

/// The `webhook-signature` header value for one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_reference_vector() {
        let key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_need_the_prefix_base64_and_a_sound_key_length() {
        let cases = [
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true),
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false),
            ("whsec_not base64!", false),
            ("whsec_c2hvcnQ=", false),
            (&format!("whsec_{}", STANDARD.encode([7u8; 65])), false),
        ];
        for (secret, valid) in cases {
            let parsed = parse_secret(secret);
            assert_eq!(parsed.is_ok(), valid, "{secret}");
            if let Err(message) = parsed {
                assert!(!message.contains(secret), "{message}");
            }
        }
    }
}
