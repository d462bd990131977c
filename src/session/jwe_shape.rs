//! The shape of a compact JWE, checked before josekit sees it. josekit hands the IV to
//! OpenSSL, whose Rust binding asserts (panics) when the IV is shorter than the cipher's,
//! so a session or check cookie with a one-byte IV would crash the request. Found by the
//! jwt_decode fuzz target. authgate reads only `dir` JWEs, with AES-GCM or AES-CBC-HMAC.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// IV and tag lengths in bytes of a content encryption.
fn lengths(enc: &str) -> Option<(usize, usize)> {
    match enc {
        "A128GCM" | "A192GCM" | "A256GCM" => Some((12, 16)),
        "A128CBC-HS256" => Some((16, 16)),
        "A192CBC-HS384" => Some((16, 24)),
        "A256CBC-HS512" => Some((16, 32)),
        _ => None,
    }
}

fn decoded_len(part: &str) -> Option<usize> {
    URL_SAFE_NO_PAD.decode(part).ok().map(|bytes| bytes.len())
}

/// Whether `part` can be unpadded base64url, without decoding it (josekit decodes the
/// ciphertext and refuses what is not).
fn may_be_base64url(part: &str) -> bool {
    part.len() % 4 != 1
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Ok when `token` is a compact `dir` JWE whose IV and tag have its `enc`'s lengths.
pub fn check(token: &str) -> Result<(), String> {
    let header: Value = token
        .split('.')
        .next()
        .and_then(|header| URL_SAFE_NO_PAD.decode(header).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or("the JWE header is not base64url JSON")?;
    let field = |name: &str| header.get(name).and_then(Value::as_str);
    check_with_header(token, field("alg"), field("enc"))
}

/// `check`, for a token whose header's `alg` and `enc` the caller has already read.
pub fn check_with_header(token: &str, alg: Option<&str>, enc: Option<&str>) -> Result<(), String> {
    let mut parts = token.split('.');
    let (Some(_), Some(encrypted_key), Some(iv), Some(ciphertext), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err("a JWE has five parts".into());
    };
    if alg != Some("dir") || !encrypted_key.is_empty() {
        return Err("only `dir` JWEs are read".into());
    }
    let enc = enc.unwrap_or_default();
    let (iv_len, tag_len) = lengths(enc).ok_or("an unknown content encryption")?;
    if decoded_len(iv) != Some(iv_len) || decoded_len(tag) != Some(tag_len) {
        return Err(format!("the IV or tag does not fit `{enc}`"));
    }
    if !may_be_base64url(ciphertext) {
        return Err("the ciphertext is not base64url".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwe(header: &str, key: &str, iv: &[u8], tag: &[u8]) -> String {
        format!(
            "{}.{key}.{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(iv),
            URL_SAFE_NO_PAD.encode(b"ciphertext"),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    #[test]
    fn only_dir_jwes_whose_iv_and_tag_fit_their_cipher_pass() {
        let gcm = r#"{"alg":"dir","enc":"A256GCM"}"#;
        let cbc = r#"{"alg":"dir","enc":"A256CBC-HS512"}"#;
        let cases = [
            (jwe(gcm, "", &[0; 12], &[0; 16]), true),
            (jwe(cbc, "", &[0; 16], &[0; 32]), true),
            // The panic: an IV shorter than the cipher's.
            (jwe(gcm, "", &[0; 1], &[0; 16]), false),
            (jwe(cbc, "", &[0; 12], &[0; 32]), false),
            (jwe(gcm, "", &[0; 12], &[0; 4]), false),
            (jwe(gcm, "a2V5", &[0; 12], &[0; 16]), false),
            (
                jwe(
                    r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
                    "",
                    &[0; 12],
                    &[0; 16],
                ),
                false,
            ),
            (
                jwe(r#"{"alg":"dir","enc":"A1GCM"}"#, "", &[0; 12], &[0; 16]),
                false,
            ),
            ("a.b.c.d".to_string(), false),
            ("!!.x.y.z.w".to_string(), false),
            // A ciphertext that cannot be base64url: by its characters, or by its length.
            (
                jwe(gcm, "", &[0; 12], &[0; 16]).replace(".Y2lwaGVydGV4dA.", ".Y2l*aGVydGV4dA."),
                false,
            ),
            (
                jwe(gcm, "", &[0; 12], &[0; 16]).replace(".Y2lwaGVydGV4dA.", ".Y2lwa."),
                false,
            ),
        ];
        for (token, fits) in cases {
            assert_eq!(check(&token).is_ok(), fits, "{token}");
        }
    }
}
