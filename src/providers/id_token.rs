//! OpenID Connect id_token validation (Core 1.0, 3.1.3.7): the signature by the issuer's
//! key (josekit; `none` and HMAC are refused unless the client registered an HS
//! algorithm, which then uses the client secret and never a public key), then `iss`,
//! `aud`, `azp`, `exp`, `iat` and `nonce`.

use josekit::jwk::Jwk;
use josekit::jws::{
    ES256, ES384, ES512, EdDSA, HS256, HS384, HS512, JwsVerifier, PS256, PS384, PS512, RS256,
    RS384, RS512,
};
use serde_json::{Map, Value};

use super::OAuthError;
use super::discovery::{Endpoints, ProviderRuntime};

/// The placeholder of multi-tenant issuers (Microsoft publishes
/// `https://login.microsoftonline.com/{tenantid}/v2.0` for its common endpoints).
pub const TENANT: &str = "{tenantid}";

/// Whether `actual` is the issuer `template` names: equal, or, for a multi-tenant
/// template, equal with one path segment in place of `{tenantid}`.
pub fn issuer_matches(template: &str, actual: &str) -> bool {
    match template.split_once(TENANT) {
        None => template == actual,
        Some((prefix, suffix)) => actual
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|tenant| !tenant.is_empty() && !tenant.contains('/')),
    }
}

/// Clock skew tolerated on `exp` and `iat`.
pub const LEEWAY_SECONDS: u64 = 60;

/// What the id_token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// For HS algorithms only, and only when the client registered one.
    pub client_secret: Option<&'a str>,
    /// The algorithm the client registered (`client.idTokenSignedResponseAlg`), if any.
    pub algorithm: Option<&'a str>,
    /// The nonce sent in the authorization request.
    pub nonce: Option<&'a str>,
    pub now: u64,
}

const ASYMMETRIC: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];

fn refuse(reason: impl Into<String>) -> OAuthError {
    OAuthError::Callback(format!("id_token refused: {}", reason.into()))
}

fn asymmetric_verifier(alg: &str, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, OAuthError> {
    if let Some(key_alg) = jwk.algorithm()
        && key_alg != alg
    {
        return Err(refuse(format!("key {key_alg} used for {alg}")));
    }
    let verifier: Result<Box<dyn JwsVerifier>, _> = match alg {
        "RS256" => RS256.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "RS384" => RS384.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "RS512" => RS512.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "PS256" => PS256.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "PS384" => PS384.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "PS512" => PS512.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "ES256" => ES256.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "ES384" => ES384.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "ES512" => ES512.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "EdDSA" => EdDSA.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        other => return Err(refuse(format!("algorithm {other} is not accepted"))),
    };
    verifier.map_err(|error| refuse(format!("unusable key: {error}")))
}

fn hmac_verifier(alg: &str, secret: &str) -> Result<Box<dyn JwsVerifier>, OAuthError> {
    let bytes = secret.as_bytes();
    let verifier: Result<Box<dyn JwsVerifier>, _> = match alg {
        "HS256" => HS256.verifier_from_bytes(bytes).map(|v| Box::new(v) as _),
        "HS384" => HS384.verifier_from_bytes(bytes).map(|v| Box::new(v) as _),
        "HS512" => HS512.verifier_from_bytes(bytes).map(|v| Box::new(v) as _),
        other => return Err(refuse(format!("algorithm {other} is not accepted"))),
    };
    verifier.map_err(|error| refuse(format!("unusable client secret: {error}")))
}

/// The claims of a valid id_token.
pub async fn validate(
    raw: &str,
    runtime: &ProviderRuntime,
    endpoints: &Endpoints,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, OAuthError> {
    let header = josekit::jwt::decode_header(raw).map_err(|_| refuse("malformed"))?;
    let alg = header
        .claim("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| refuse("no alg"))?
        .to_string();
    let kid = header
        .claim("kid")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(registered) = expected.algorithm
        && registered != alg
    {
        return Err(refuse(format!(
            "signed with {alg}, registered {registered}"
        )));
    }
    let verifier = if alg.starts_with("HS") {
        // HMAC only when the client registered it, keyed by the client secret: never a
        // public key (the key-confusion attack).
        match (expected.algorithm, expected.client_secret) {
            (Some(registered), Some(secret)) if registered == alg => hmac_verifier(&alg, secret)?,
            _ => return Err(refuse(format!("{alg} is not registered for this client"))),
        }
    } else if ASYMMETRIC.contains(&alg.as_str()) {
        let keys = runtime.jwks(endpoints, kid.as_deref()).await?;
        let candidates: Vec<&Jwk> = match &kid {
            Some(kid) => keys.get(kid),
            None => keys.keys(),
        };
        let usable: Vec<&Jwk> = candidates
            .into_iter()
            .filter(|jwk| jwk.key_use().is_none_or(|u| u == "sig"))
            .filter(|jwk| jwk.algorithm().is_none_or(|a| a == alg))
            .collect();
        let [jwk] = usable.as_slice() else {
            return Err(refuse(format!(
                "{} keys match kid {kid:?} for {alg}",
                usable.len()
            )));
        };
        asymmetric_verifier(&alg, jwk)?
    } else {
        return Err(refuse(format!("algorithm {alg} is not accepted")));
    };
    let (payload, _) = josekit::jwt::decode_with_verifier(raw, verifier.as_ref())
        .map_err(|_| refuse("bad signature"))?;
    let claims: Map<String, Value> = payload.into();
    check_claims(&claims, expected)?;
    Ok(claims)
}

/// The claim checks, separate from the signature so they can be tested as a table.
pub fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<(), OAuthError> {
    let text = |key: &str| claims.get(key).and_then(Value::as_str);
    // A multi-tenant issuer names each tenant's issuer; the token says its tenant.
    let issuer = match text("tid") {
        Some(tenant) if !tenant.contains('/') => expected.issuer.replace(TENANT, tenant),
        _ => expected.issuer.to_string(),
    };
    if text("iss") != Some(issuer.as_str()) || issuer.contains(TENANT) {
        return Err(refuse(format!(
            "iss {:?}, expected {}",
            text("iss"),
            expected.issuer
        )));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(refuse("aud does not name this client"));
    }
    match text("azp") {
        Some(azp) if azp != expected.client_id => return Err(refuse("azp is another client")),
        None if audiences.len() > 1 => return Err(refuse("several audiences and no azp")),
        _ => {}
    }
    let number = |key: &str| claims.get(key).and_then(Value::as_u64);
    let exp = number("exp").ok_or_else(|| refuse("no exp"))?;
    if exp.saturating_add(LEEWAY_SECONDS) <= expected.now {
        return Err(refuse("expired"));
    }
    let iat = number("iat").ok_or_else(|| refuse("no iat"))?;
    if iat > expected.now.saturating_add(LEEWAY_SECONDS) {
        return Err(refuse("issued in the future"));
    }
    if let Some(nonce) = expected.nonce {
        let sent = text("nonce").ok_or_else(|| refuse("no nonce"))?;
        if !crate::text::constant_time_eq(sent, nonce) {
            return Err(refuse("nonce mismatch"));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "id_token_tests.rs"]
mod tests;
