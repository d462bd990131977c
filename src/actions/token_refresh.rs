//! `refresh: auto` on session reads: an access token that expires within the provider's
//! `refreshMargin` is refreshed once (single-flight, see `providers::refresh`) and the new
//! tokens replace the old: in the JWT's claims (`access_token`, `refresh_token`,
//! `expires_at`, set at sign-in with `provider`), or in the account row for database
//! sessions. A failed refresh leaves the session usable and marks it with
//! `error: "RefreshAccessTokenError"` for the session callback.

use serde_json::{Map, Value, json};

use crate::config::provider::RefreshMode;
use crate::pipeline::{Pipeline, Provider};
use crate::providers::oauth_client::{TokenSet, refresh};
use crate::providers::refresh::{Across, REFRESH_ERROR, is_due, refresh_once};
use crate::store::{Account, Adapter};

/// Seconds before expiry at which a provider's tokens are refreshed.
fn margin(provider: &Provider) -> i64 {
    provider
        .config
        .refresh_margin
        .map(|margin| i64::try_from(margin.seconds()).unwrap_or(i64::MAX))
        .unwrap_or(60)
}

fn refreshing(pipeline: &Pipeline, id: &str) -> Option<Provider> {
    pipeline
        .provider(id)
        .filter(|provider| provider.config.refresh == Some(RefreshMode::Auto))
        .cloned()
}

async fn refresh_with(
    pipeline: &Pipeline,
    provider: &Provider,
    refresh_token: &str,
) -> Result<TokenSet, String> {
    let now = pipeline.clock.unix_seconds();
    let callback = pipeline.action_url(&format!("callback/{}", provider.id));
    let (owned, token) = (provider.clone(), refresh_token.to_string());
    let across = pipeline.shared_state.clone().map(|shared| Across {
        shared,
        secrets: pipeline.secrets.clone(),
    });
    refresh_once(&provider.id, refresh_token, across, async move {
        let endpoints = owned.runtime.endpoints(&owned.config).await?;
        refresh(&owned.config, endpoints, &callback, &token, now).await
    })
    .await
}

/// Refreshes the provider tokens a JWT carries, when due.
pub async fn refresh_token_claims(pipeline: &Pipeline, token: &mut Map<String, Value>) {
    let text = |token: &Map<String, Value>, key: &str| {
        token.get(key).and_then(Value::as_str).map(str::to_string)
    };
    let (Some(provider_id), Some(refresh_token)) =
        (text(token, "provider"), text(token, "refresh_token"))
    else {
        return;
    };
    let Some(provider) = refreshing(pipeline, &provider_id) else {
        return;
    };
    let expires_at = token.get("expires_at").and_then(Value::as_i64);
    let now = super::session::unix_now(pipeline);
    if !is_due(expires_at, now, margin(&provider)) {
        return;
    }
    match refresh_with(pipeline, &provider, &refresh_token).await {
        Ok(tokens) => {
            token.insert("access_token".into(), json!(tokens.access_token));
            token.insert("refresh_token".into(), json!(tokens.refresh_token));
            token.insert("expires_at".into(), json!(tokens.expires_at));
            token.remove("error");
        }
        Err(error) => {
            tracing::warn!(provider = %provider_id, %error, "access token refresh failed");
            token.insert("error".into(), json!(REFRESH_ERROR));
        }
    }
}

/// Refreshes the due tokens of a user's accounts; `false` when one refresh failed.
pub async fn refresh_accounts(pipeline: &Pipeline, store: &dyn Adapter, user_id: &str) -> bool {
    if !pipeline
        .providers
        .iter()
        .any(|provider| provider.config.refresh == Some(RefreshMode::Auto))
    {
        return true;
    }
    let accounts = match store.get_accounts_of_user(user_id).await {
        Ok(accounts) => accounts,
        Err(error) => {
            tracing::warn!(%error, "cannot read accounts to refresh");
            return true;
        }
    };
    let now = super::session::unix_now(pipeline);
    let mut all_fine = true;
    for account in accounts {
        let Some(provider) = refreshing(pipeline, &account.provider) else {
            continue;
        };
        let Some(refresh_token) = account.refresh_token.clone() else {
            continue;
        };
        if !is_due(account.expires_at, now, margin(&provider)) {
            continue;
        }
        match refresh_with(pipeline, &provider, &refresh_token).await {
            Ok(tokens) => {
                let updated = Account {
                    access_token: Some(tokens.access_token),
                    refresh_token: tokens.refresh_token,
                    expires_at: tokens.expires_at,
                    token_type: Some(tokens.token_type),
                    scope: tokens.scope.or(account.scope.clone()),
                    id_token: tokens.id_token.or(account.id_token.clone()),
                    ..account
                };
                if let Err(error) = store.update_account_tokens(&updated).await {
                    tracing::warn!(%error, "cannot store refreshed tokens");
                }
            }
            Err(error) => {
                tracing::warn!(provider = %provider.id, %error, "access token refresh failed");
                all_fine = false;
            }
        }
    }
    all_fine
}
