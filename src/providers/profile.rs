//! From a provider's claims (userinfo or id_token) to the user authgate signs in: the
//! provider's `profile` script when it has one, else Auth.js's default mapping
//! (`sub`/`id`, `name`, `email`, `picture`). Whether the provider vouches for the email
//! (`emailVerified`) decides whether it may ever link to an existing user.

use serde_json::{Map, Value};

use super::OAuthError;
use crate::config::script_key::ProviderScript;
use crate::email::address::{normalize_address, normalize_email};
use crate::pipeline::{Pipeline, Provider};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// The provider's id for the account (`providerAccountId`).
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub image: Option<String>,
    /// The provider asserts that the user controls `email`: the profile script returned
    /// `emailVerified: true`, or (without one in its result) the claims carry
    /// `email_verified: true` for this very email.
    pub email_verified: bool,
}

impl UserProfile {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "image": self.image,
        })
    }
}

fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The profile's email in its one stored spelling (trimmed, lowercased).
fn email(map: &Map<String, Value>) -> Option<String> {
    map.get("email")
        .and_then(Value::as_str)
        .and_then(normalize_email)
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A profile from a mapping result (`#{id, name, email, image, emailVerified}`); without
/// `emailVerified`, the email counts as unverified.
pub fn from_map(map: &Map<String, Value>) -> Option<UserProfile> {
    Some(UserProfile {
        id: id_text(map.get("id"))?,
        name: text(map, "name"),
        email: email(map),
        image: text(map, "image"),
        email_verified: map.get("emailVerified") == Some(&Value::Bool(true))
            && email(map).is_some_and(|email| normalize_address(&email).is_ok()),
    })
}

/// OpenID Connect's `email_verified` for `email`: `true` (or the string `"true"`, which
/// some providers send) on a claim set whose `email` is that same address.
fn claims_verify_email(claims: &Map<String, Value>, email: Option<&str>) -> bool {
    let asserted = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
        || claims.get("email_verified").and_then(Value::as_str) == Some("true");
    // Only a valid address can be vouched for: the fallback spelling of an invalid one
    // may coincide with someone else's.
    asserted
        && email.is_some_and(|email| normalize_address(email).is_ok())
        && self::email(claims).as_deref() == email
}

/// Auth.js's default mapping of standard claims.
pub fn default_profile(claims: &Map<String, Value>) -> Option<UserProfile> {
    Some(UserProfile {
        id: id_text(claims.get("sub")).or_else(|| id_text(claims.get("id")))?,
        name: text(claims, "name").or_else(|| text(claims, "preferred_username")),
        email: email(claims),
        image: text(claims, "picture").or_else(|| text(claims, "image")),
        email_verified: claims_verify_email(claims, email(claims).as_deref()),
    })
}

/// What a profile script reads as `options`: `accountIds` (`stable` or `authjs`).
pub fn profile_options(provider: &Provider) -> Value {
    let account_ids = provider.config.account_ids.unwrap_or_default();
    serde_json::json!({ "accountIds": account_ids.as_str() })
}

/// Runs the provider's `profile` script (given `profile`, `tokens` and `options`), or the
/// default.
pub fn map_profile(
    pipeline: &Pipeline,
    provider: &Provider,
    claims: &Map<String, Value>,
    tokens: &Value,
) -> Result<UserProfile, OAuthError> {
    let script = pipeline
        .provider_script(provider, ProviderScript::Profile)
        .map_err(|error| OAuthError::Configuration(error.internal))?;
    let Some(script) = script else {
        return default_profile(claims)
            .ok_or_else(|| OAuthError::Callback("the profile has no `sub` or `id`".into()));
    };
    let result = pipeline
        .scripts_runtime
        .call(
            script,
            &[
                ("profile", Value::Object(claims.clone())),
                ("tokens", tokens.clone()),
                ("options", profile_options(provider)),
            ],
        )
        .map_err(|error| OAuthError::Configuration(error.to_string()))?;
    let mapped = result.as_object();
    let mut profile = mapped.and_then(from_map).ok_or_else(|| {
        OAuthError::Configuration(format!("{} must return a map with an `id`", script.name))
    })?;
    if !mapped.is_some_and(|map| map.contains_key("emailVerified")) {
        profile.email_verified = claims_verify_email(claims, profile.email.as_deref());
    }
    Ok(profile)
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
