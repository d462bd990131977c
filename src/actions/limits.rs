//! Counting sign-in attempts against `rateLimits`: each method names its buckets and keys
//! here, and an attempt over a limit is a RateLimited error (429, `Retry-After`).

use serde_json::{Map, Value};

use super::AuthRequest;
use crate::config::values::Rate;
use crate::error::AuthError;
use crate::pipeline::{Pipeline, Provider};
use crate::rate_limit::{Bucket, Limited, ip_key};

/// Counts one attempt in each `(bucket, key, rate)`; the first over its limit refuses.
/// Without a served limiter (`authgate check`) nothing is counted.
async fn count(
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
        limiter
            .check(*bucket, key, *rate)
            .await
            .map_err(|limited| refused(*bucket, *rate, limited))?;
    }
    Ok(())
}

fn refused(bucket: Bucket, rate: Rate, limited: Limited) -> AuthError {
    crate::telemetry::metrics::rate_limited(bucket);
    AuthError::rate_limited(
        format!("over the {} limit ({rate})", bucket.as_str()),
        limited.retry_after.as_secs_f64().ceil() as u64,
    )
}

fn client_key(request: &AuthRequest) -> Option<String> {
    request.client_ip.map(ip_key)
}

/// A sign-in link requested for `address` (normalised).
pub async fn email_request(
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
    .await
}

/// The per-username key of a credentials sign-in: the first declared field that is not a
/// password, trimmed and lowercased, under the provider's id.
fn username_key(provider: &Provider, credentials: &Map<String, Value>) -> Option<String> {
    provider
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
        .map(|username| format!("{}\u{0}{}", provider.id, username.trim().to_lowercase()))
}

/// Credentials submitted to `provider`: counted per IP, and refused while failures hold
/// the username back.
pub async fn credentials_attempt(
    request: &AuthRequest,
    pipeline: &Pipeline,
    provider: &Provider,
    credentials: &Map<String, Value>,
) -> Result<(), AuthError> {
    let limits = &pipeline.config.rate_limits.credentials;
    count(
        pipeline,
        &[(Bucket::CredentialsIp, client_key(request), limits.per_ip)],
    )
    .await?;
    let (Some(limiter), Some(username), Some(_)) = (
        &pipeline.rate_limiter,
        username_key(provider, credentials),
        limits.per_username.limit(),
    ) else {
        return Ok(());
    };
    limiter
        .held_back(Bucket::CredentialsUsername, &username)
        .await
        .map_err(|limited| refused(Bucket::CredentialsUsername, limits.per_username, limited))
}

/// A failed credentials check, counted per username: only failures count, so signing in
/// is never slowed by one's own sign-ins. The failure over the limit is refused too.
pub async fn credentials_failure(
    pipeline: &Pipeline,
    provider: &Provider,
    credentials: &Map<String, Value>,
) -> Result<(), AuthError> {
    let rate = pipeline.config.rate_limits.credentials.per_username;
    let (Some(limiter), Some(username)) =
        (&pipeline.rate_limiter, username_key(provider, credentials))
    else {
        return Ok(());
    };
    limiter
        .count_failure(Bucket::CredentialsUsername, &username, rate)
        .await
        .map_err(|limited| refused(Bucket::CredentialsUsername, rate, limited))
}

/// An OAuth/OIDC sign-in started.
pub async fn oauth_start(request: &AuthRequest, pipeline: &Pipeline) -> Result<(), AuthError> {
    let limits = &pipeline.config.rate_limits.oauth;
    count(
        pipeline,
        &[(Bucket::OAuthIp, client_key(request), limits.per_ip)],
    )
    .await
}
