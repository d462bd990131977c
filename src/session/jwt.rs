//! Encoding and decoding session tokens: JWS (HS512 or asymmetric) with josekit, or JWE
//! (`dir`), read with `jwe_reader` and written with `jwe_writer`. The claims are checked
//! by `token_claims`, against the pipeline's clock. A token that is too large, malformed,
//! signed with another algorithm (`none`, HS256 with a public key), signed or encrypted
//! with an unknown key, expired or not yet valid is refused with a reason for the log; the
//! client only ever sees "no session".

use std::time::{Duration, SystemTime};

use josekit::jws::JwsHeader;
use serde_json::{Map, Value};

use super::keys::{TokenKeys, VerifyingKey};

/// Longest token accepted (a chunked cookie can hold several kilobytes; this is far above).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

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
/// a fresh random `jti`. The claims are written as they are, not copied; the types of the
/// registered ones are checked as a reader checks them (`token_claims`).
fn payload_json(
    claims: &Map<String, Value>,
    issued: u64,
    expires: u64,
) -> Result<Vec<u8>, TokenError> {
    super::token_claims::check_types(claims).map_err(TokenError::Encode)?;
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

/// What decides how a JWS is read, from its protected header: `kid` and `typ`. josekit
/// parses and checks the whole header again as it verifies. A header that is not a
/// base64url JSON object, or has `alg`, `kid` or `typ` twice or not as a string, is
/// refused here (josekit's map would keep the last `alg`; another reader might take the
/// first), and so is one with `crit` (neither authgate nor Auth.js writes it).
#[derive(Debug, serde::Deserialize)]
struct JwsFields {
    #[serde(rename = "alg")]
    _alg: Option<String>,
    kid: Option<String>,
    typ: Option<String>,
    #[serde(default, deserialize_with = "super::jwe_reader::present")]
    crit: bool,
}

impl JwsFields {
    fn of(token: &str) -> Result<JwsFields, TokenError> {
        use base64::Engine as _;
        let unreadable = || TokenError::Invalid("the header is not readable".into());
        let (encoded, _) = token.split_once('.').ok_or_else(unreadable)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .filter(|json| super::jwe_reader::is_json_object(json))
            .ok_or_else(unreadable)?;
        let fields: JwsFields = serde_json::from_slice(&json).map_err(|_| unreadable())?;
        if fields.crit {
            return Err(TokenError::Invalid(
                "a `crit` header is not accepted".into(),
            ));
        }
        Ok(fields)
    }
}

/// Whether a `typ` header names an access token.
fn is_access_token(typ: Option<&str>) -> bool {
    typ.is_some_and(|typ| {
        typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
            || typ.eq_ignore_ascii_case("application/at+jwt")
    })
}

/// A token verified (or decrypted) with one of `keys`: its `typ` header and its payload.
fn open(keys: &TokenKeys, token: &str) -> Result<(Option<String>, Vec<u8>), TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    match keys {
        TokenKeys::Signed { verifiers, .. } => {
            let fields = JwsFields::of(token)?;
            let payload = verify_signed(token, fields.kid.as_deref(), verifiers)?;
            Ok((fields.typ, payload))
        }
        TokenKeys::Encrypted { reader, .. } => {
            let opened = reader.open(token).map_err(TokenError::Invalid)?;
            Ok((opened.header.typ, opened.plaintext))
        }
    }
}

fn verify_signed(
    token: &str,
    kid: Option<&str>,
    verifiers: &[VerifyingKey],
) -> Result<Vec<u8>, TokenError> {
    let candidates: Vec<&VerifyingKey> = match kid {
        Some(kid) if verifiers.iter().any(|key| key.kid.is_some()) => verifiers
            .iter()
            .filter(|key| key.kid.as_deref() == Some(kid))
            .collect(),
        _ => verifiers.iter().collect(),
    };
    // josekit's errors quote the token's header (its `alg`, its `kid`): the log gets a
    // fixed reason instead.
    candidates
        .into_iter()
        .find_map(|key| josekit::jws::deserialize_compact(token, key.verifier.as_ref()).ok())
        .map(|(payload, _header)| payload)
        .ok_or_else(|| TokenError::Invalid("no configured key verifies the token".into()))
}

/// Verifies (or decrypts) a session token and checks its claims; returns them. An access
/// token is not a session token.
pub fn decode(
    keys: &TokenKeys,
    token: &str,
    now: SystemTime,
) -> Result<Map<String, Value>, TokenError> {
    let (typ, payload) = open(keys, token)?;
    if is_access_token(typ.as_deref()) {
        return Err(TokenError::Invalid(
            "an access token is not a session".into(),
        ));
    }
    super::token_claims::checked(&payload, now)
}

/// Verifies an access token (`typ: at+jwt`, signed) and checks its claims.
pub fn decode_access_token(
    keys: &TokenKeys,
    token: &str,
    now: SystemTime,
) -> Result<Map<String, Value>, TokenError> {
    if !matches!(keys, TokenKeys::Signed { .. }) {
        return Err(TokenError::Invalid("not an access token".into()));
    }
    let (typ, payload) = open(keys, token)?;
    if !is_access_token(typ.as_deref()) {
        return Err(TokenError::Invalid("not an access token".into()));
    }
    super::token_claims::checked(&payload, now)
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
