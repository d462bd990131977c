//! Encoding and decoding session tokens: JWS (HS512 or asymmetric) with josekit, or JWE
//! (`dir`), read with josekit and written with `jwe_writer`. Expiry is checked against the
//! pipeline's clock. A token that is too large, malformed, signed with another algorithm
//! (`none`, HS256 with a public key), signed or encrypted with an unknown key, expired or
//! not yet valid is refused with a reason for the log; the client only ever sees "no
//! session".

use std::time::{Duration, SystemTime};

use josekit::jwe::JweContext;
use josekit::jws::JwsHeader;
use josekit::jwt::{JwtPayload, JwtPayloadValidator};
use serde_json::{Map, Value};

use super::keys::{TokenKeys, VerifyingKey};

/// Longest token accepted (a chunked cookie can hold several kilobytes; this is far above).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Clock skew tolerated on `iat`.
const ALLOWED_SKEW: Duration = Duration::from_secs(60);

/// Why a token was refused (for the log only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("token is not valid: {0}")]
    Invalid(String),
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("cannot create token: {0}")]
    Encode(String),
}

/// The `typ` header of access tokens (RFC 9068). A session read refuses a token of this
/// type, and an access token read wants it, so neither passes for the other.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Claims plus the standard times, ready to encode, as a session token.
pub fn encode(
    keys: &TokenKeys,
    claims: &Map<String, Value>,
    now: SystemTime,
    max_age: Duration,
) -> Result<String, TokenError> {
    encode_typed(keys, claims, now, max_age, "JWT")
}

/// An access token: signed only (never encrypted), `typ: at+jwt`.
pub fn encode_access_token(
    keys: &TokenKeys,
    claims: &Map<String, Value>,
    now: SystemTime,
    lifetime: Duration,
) -> Result<String, TokenError> {
    if !matches!(keys, TokenKeys::Signed { .. }) {
        return Err(TokenError::Encode("access tokens need signing keys".into()));
    }
    encode_typed(keys, claims, now, lifetime, ACCESS_TOKEN_TYPE)
}

fn encode_typed(
    keys: &TokenKeys,
    claims: &Map<String, Value>,
    now: SystemTime,
    max_age: Duration,
    typ: &str,
) -> Result<String, TokenError> {
    // Whole seconds as JSON integers, as Auth.js writes them: consumers often read `exp`
    // as an integer (josekit's setters would write floats).
    let issued = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let expires = issued
        .checked_add(max_age.as_secs())
        .filter(|expires| *expires < i64::MAX as u64)
        .ok_or_else(|| TokenError::Encode("maxAge is too large".into()))?;
    let payload = payload_json(claims, issued, expires)?;
    match keys {
        TokenKeys::Signed {
            signer, signer_kid, ..
        } => {
            let mut header = JwsHeader::new();
            header.set_token_type(typ);
            if let Some(kid) = signer_kid {
                header.set_key_id(kid.clone());
            }
            josekit::jws::serialize_compact(&payload, &header, signer.as_ref())
                .map_err(|e| TokenError::Encode(e.to_string()))
        }
        // The writer's header says `typ: JWT`: access tokens are never encrypted.
        TokenKeys::Encrypted { writer, .. } => {
            debug_assert_eq!(typ, "JWT");
            writer.encrypt(&payload).map_err(TokenError::Encode)
        }
    }
}

/// Claims a token's times and id replace.
const RESERVED_CLAIMS: [&str; 4] = ["iat", "exp", "nbf", "jti"];

/// The payload of a new token: `claims` without the reserved ones, then `iat`, `exp` and
/// a fresh random `jti`. The claims are written as they are, not copied; josekit checks
/// the types of the registered ones (`iss` and `sub` strings, `aud` a string or strings),
/// as a reader will.
fn payload_json(
    claims: &Map<String, Value>,
    issued: u64,
    expires: u64,
) -> Result<Vec<u8>, TokenError> {
    let registered: Map<String, Value> = ["iss", "sub", "aud"]
        .into_iter()
        .filter_map(|name| {
            claims
                .get(name)
                .map(|value| (name.to_string(), value.clone()))
        })
        .collect();
    JwtPayload::from_map(registered).map_err(|e| TokenError::Encode(e.to_string()))?;
    let payload = Payload {
        claims,
        issued,
        expires,
        id: uuid::Builder::from_random_bytes(rand::random()).into_uuid(),
    };
    serde_json::to_vec(&payload).map_err(|e| TokenError::Encode(e.to_string()))
}

struct Payload<'a> {
    claims: &'a Map<String, Value>,
    issued: u64,
    expires: u64,
    id: uuid::Uuid,
}

impl serde::Serialize for Payload<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.claims {
            if !RESERVED_CLAIMS.contains(&name.as_str()) {
                map.serialize_entry(name, value)?;
            }
        }
        map.serialize_entry("iat", &self.issued)?;
        map.serialize_entry("exp", &self.expires)?;
        let mut id = uuid::Uuid::encode_buffer();
        map.serialize_entry("jti", self.id.hyphenated().encode_lower(&mut id))?;
        map.end()
    }
}

/// `time` without its fraction of a second.
pub fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// What decides how a token is read, from its protected header: `alg`, `enc`, `kid` and
/// `typ`. josekit parses and checks the whole header again as it verifies or decrypts. A
/// header that is not base64url JSON, or has one of these fields twice or not as a
/// string, is refused here, and so is one with `crit` (josekit does not enforce it for a
/// JWE; neither authgate nor Auth.js writes it).
#[derive(Debug, serde::Deserialize)]
struct Header {
    alg: Option<String>,
    enc: Option<String>,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde::de::IgnoredAny>,
}

impl Header {
    fn of(token: &str) -> Result<Header, TokenError> {
        use base64::Engine as _;
        let unreadable = || TokenError::Invalid("the header is not readable".into());
        let (encoded, _) = token.split_once('.').ok_or_else(unreadable)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| unreadable())?;
        let header: Header = serde_json::from_slice(&json).map_err(|_| unreadable())?;
        if header.crit.is_some() {
            return Err(TokenError::Invalid(
                "a `crit` header is not accepted".into(),
            ));
        }
        Ok(header)
    }

    /// Whether the `typ` header names an access token.
    fn is_access_token(&self) -> bool {
        self.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
                || typ.eq_ignore_ascii_case("application/at+jwt")
        })
    }
}

fn decode_signed(
    token: &str,
    header: &Header,
    verifiers: &[VerifyingKey],
) -> Result<JwtPayload, TokenError> {
    let kid = header.kid.as_deref();
    let candidates: Vec<&VerifyingKey> = match kid {
        Some(kid) if verifiers.iter().any(|key| key.kid.is_some()) => verifiers
            .iter()
            .filter(|key| key.kid.as_deref() == Some(kid))
            .collect(),
        _ => verifiers.iter().collect(),
    };
    let mut last_error = TokenError::Invalid("no key matches the token".into());
    for key in candidates {
        match josekit::jws::deserialize_compact(token, key.verifier.as_ref()) {
            Ok((payload, _header)) => return payload_claims(&payload),
            Err(error) => last_error = TokenError::Invalid(error.to_string()),
        }
    }
    Err(last_error)
}

fn decode_encrypted(
    token: &str,
    header: &Header,
    context: &JweContext,
    decrypters: &[(&'static str, Box<dyn josekit::jwe::JweDecrypter>)],
) -> Result<JwtPayload, TokenError> {
    super::jwe_shape::check_with_header(token, header.alg.as_deref(), header.enc.as_deref())
        .map_err(TokenError::Invalid)?;
    let enc = header
        .enc
        .as_deref()
        .ok_or_else(|| TokenError::Invalid("no `enc` header".into()))?;
    let mut last_error = TokenError::Invalid(format!("content encryption `{enc}` is not accepted"));
    for (accepted, decrypter) in decrypters.iter().filter(|(accepted, _)| *accepted == enc) {
        let _ = accepted;
        match context.deserialize_compact(token, decrypter.as_ref()) {
            Ok((payload, _header)) => return payload_claims(&payload),
            Err(error) => last_error = TokenError::Invalid(error.to_string()),
        }
    }
    Err(last_error)
}

/// A verified or decrypted payload as claims, as josekit's JWT reader takes it: a JSON
/// object whose registered claims have their types.
fn payload_claims(payload: &[u8]) -> Result<JwtPayload, TokenError> {
    // serde's message could quote the payload's claims; the log gets none of them.
    let claims: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|_| TokenError::Invalid("the payload is not a JSON object".into()))?;
    JwtPayload::from_map(claims).map_err(|error| TokenError::Invalid(error.to_string()))
}

/// Latest time claim read: the end of year 9999, as seconds since the epoch.
const MAX_TIME_CLAIM: f64 = 253_402_300_799.0;

/// `iat`, `exp` and `nbf`, when present, are numbers of seconds from 0 to the year 9999.
/// josekit turns them into a `Duration` and panics on what does not fit
/// (`"iat": 1.8e22`), so a token signed elsewhere (Auth.js, another holder of the key)
/// is refused before they are read. Found by the jwt_decode fuzz target.
fn check_time_claims(claims: &Map<String, Value>) -> Result<(), TokenError> {
    for name in ["iat", "exp", "nbf"] {
        let Some(value) = claims.get(name) else {
            continue;
        };
        let in_range = value.as_f64().is_some_and(|seconds| {
            seconds.is_finite() && (0.0..=MAX_TIME_CLAIM).contains(&seconds)
        });
        if !in_range {
            return Err(TokenError::Invalid(format!(
                "`{name}` is not a time between 1970 and 9999"
            )));
        }
    }
    Ok(())
}

/// Verifies (or decrypts) a session token and checks its times; returns its claims. An
/// access token is not a session token.
pub fn decode(
    keys: &TokenKeys,
    token: &str,
    now: SystemTime,
) -> Result<Map<String, Value>, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let header = Header::of(token)?;
    if header.is_access_token() {
        return Err(TokenError::Invalid(
            "an access token is not a session".into(),
        ));
    }
    decode_any(keys, token, &header, now)
}

/// Verifies an access token (`typ: at+jwt`, signed) and checks its times.
pub fn decode_access_token(
    keys: &TokenKeys,
    token: &str,
    now: SystemTime,
) -> Result<Map<String, Value>, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let header = Header::of(token)?;
    if !header.is_access_token() || !matches!(keys, TokenKeys::Signed { .. }) {
        return Err(TokenError::Invalid("not an access token".into()));
    }
    decode_any(keys, token, &header, now)
}

fn decode_any(
    keys: &TokenKeys,
    token: &str,
    header: &Header,
    now: SystemTime,
) -> Result<Map<String, Value>, TokenError> {
    let payload = match keys {
        TokenKeys::Signed { verifiers, .. } => decode_signed(token, header, verifiers)?,
        TokenKeys::Encrypted {
            context,
            decrypters,
            ..
        } => decode_encrypted(token, header, context, decrypters)?,
    };
    check_time_claims(payload.claims_set())?;
    if payload.expires_at().is_none() {
        return Err(TokenError::Invalid("no `exp` claim".into()));
    }
    let mut validator = JwtPayloadValidator::new();
    validator.set_base_time(now);
    validator.set_max_issued_time(now + ALLOWED_SKEW);
    if let Err(error) = validator.validate(&payload) {
        let message = error.to_string();
        return Err(if payload.expires_at().is_some_and(|exp| exp <= now) {
            TokenError::Expired
        } else if payload.not_before().is_some_and(|nbf| nbf > now) {
            TokenError::NotYetValid
        } else {
            TokenError::Invalid(message)
        });
    }
    Ok(payload.into())
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
