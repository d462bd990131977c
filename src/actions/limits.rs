//! Counting sign-in attempts against `rateLimits`: each method names its buckets and keys
//! here, and an attempt over a limit is a RateLimited error (429, `Retry-After`).

use serde_json::{Map, Value};

use super::AuthRequest;
use crate::config::values::Rate;
use crate::error::AuthError;
use crate::pipeline::{Pipeline, Provider};
use crate::rate_limit::{Bucket, ip_key};

/// Counts one attempt in each `(bucket, key, rate)`; the first over its limit refuses.
/// Without a served limiter (`authgate check`) nothing is counted.
fn count(
    pipeline: &Pipeline,
    attempts: &[(Bucket, Option<String>, Rate)],
) -> Result<(), AuthError> {
    let Some(limiter) = &pipeline.rate_limiter else {
        return Ok(());
    };
    for (bucket, key, rate) in attempts {
        let Some(key) = key else {
            continue;
        };
        if let Err(limited) = limiter.check(*bucket, key, *rate) {
            return Err(AuthError::rate_limited(
                format!("over the {} limit ({rate})", bucket.as_str()),
                limited.retry_after.as_secs_f64().ceil() as u64,
            ));
        }
    }
    Ok(())
}

fn client_key(request: &AuthRequest) -> Option<String> {
    request.client_ip.map(ip_key)
}

/// A sign-in link requested for `address` (normalised).
pub fn email_request(
    request: &AuthRequest,
    pipeline: &Pipeline,
    address: &str,
) -> Result<(), AuthError> {
    let limits = &pipeline.config.rate_limits.email;
    count(
        pipeline,
        &[
            (Bucket::EmailIp, client_key(request), limits.per_ip),
            (
                Bucket::EmailAddress,
                Some(address.to_string()),
                limits.per_address,
            ),
        ],
    )
}

/// Credentials submitted to `provider`. The username is the first declared field that is
/// not a password, trimmed and lowercased.
pub fn credentials_attempt(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
    credentials: &Map<String, Value>,
) -> Result<(), AuthError> {
    let limits = &pipeline.config.rate_limits.credentials;
    let username = provider
        .config
        .credentials
        .as_ref()
        .and_then(|fields| {
            fields
                .iter()
                .find(|(_, field)| field.input_type.as_deref() != Some("password"))
        })
        .and_then(|(name, _)| credentials.get(name))
        .and_then(Value::as_str)
        .map(|username| format!("{}\u{0}{}", provider.id, username.trim().to_lowercase()));
    count(
        pipeline,
        &[
            (Bucket::CredentialsIp, client_key(request), limits.per_ip),
            (Bucket::CredentialsUsername, username, limits.per_username),
        ],
    )
}

/// An OAuth/OIDC sign-in started.
pub fn oauth_start(request: &AuthRequest, pipeline: &Pipeline) -> Result<(), AuthError> {
    let limits = &pipeline.config.rate_limits.oauth;
    count(
        pipeline,
        &[(Bucket::OAuthIp, client_key(request), limits.per_ip)],
    )
}
