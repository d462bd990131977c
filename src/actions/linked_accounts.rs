//! `GET /accounts` (the signed-in user's linked provider accounts: provider, type, when
//! linked; never tokens) and `POST /unlink/<provider>` (CSRF), which refuses to remove the
//! user's last way to sign in and runs the `unlinkAccount` event.

use serde_json::{Value, json};

use super::management::{refusal, refuse_without_csrf, signed_in};
use super::session::iso_time_of_unix;
use super::{AuthRequest, AuthResponse, PendingEvent, failure};
use crate::config::ProviderKind;
use crate::config::script_key::Event;
use crate::pipeline::Pipeline;
use crate::store::{Account, Adapter, User};

fn account_json(pipeline: &Pipeline, account: &Account) -> Value {
    json!({
        "provider": account.provider,
        "name": pipeline
            .provider(&account.provider)
            .map_or(account.provider.as_str(), |provider| provider.name.as_str()),
        "type": account.kind,
        "linkedAt": account.linked_at.map(iso_time_of_unix),
    })
}

fn accounts_json(pipeline: &Pipeline, accounts: &[Account]) -> Value {
    Value::Array(
        accounts
            .iter()
            .map(|account| account_json(pipeline, account))
            .collect(),
    )
}

/// `GET /accounts`.
pub async fn list(request: &AuthRequest, pipeline: &Pipeline) -> AuthResponse {
    let (store, current) = match signed_in(request, pipeline).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    match store.linked_accounts(&current.user_id).await {
        Ok(accounts) => AuthResponse::json(200, accounts_json(pipeline, &accounts)),
        Err(error) => failure::json(error.into()),
    }
}

/// Whether `user` can still sign in with `remaining` accounts: an account of any kind, or
/// a verified email address with an email provider configured.
fn can_still_sign_in(pipeline: &Pipeline, user: &User, remaining: &[&Account]) -> bool {
    let by_email = user.email_verified.is_some()
        && pipeline
            .providers
            .iter()
            .any(|provider| provider.kind == ProviderKind::Email);
    by_email || !remaining.is_empty()
}

/// `POST /unlink/<provider>`, with `providerAccountId` when the user linked several
/// accounts of that provider.
pub async fn unlink(request: &AuthRequest, pipeline: &Pipeline, provider: &str) -> AuthResponse {
    if let Some(answer) = refuse_without_csrf(request, pipeline, "unlink") {
        return answer;
    }
    let (store, current) = match signed_in(request, pipeline).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    match unlink_for(
        request,
        pipeline,
        store.as_ref(),
        &current.user_id,
        provider,
    )
    .await
    {
        Ok(answer) => answer,
        Err(error) => failure::json(error.into()),
    }
}

async fn unlink_for(
    request: &AuthRequest,
    pipeline: &Pipeline,
    store: &dyn Adapter,
    user_id: &str,
    provider: &str,
) -> Result<AuthResponse, crate::store::StoreError> {
    let Some(user) = store.get_user(user_id).await? else {
        return Ok(refusal(401, "SessionRequired", "sign in first"));
    };
    let accounts = store.linked_accounts(user_id).await?;
    let wanted = request.field("providerAccountId");
    let matching: Vec<&Account> = accounts
        .iter()
        .filter(|account| account.provider == provider)
        .filter(|account| wanted.is_none_or(|id| account.provider_account_id == id))
        .collect();
    let account = match matching.as_slice() {
        [] => {
            return Ok(refusal(
                404,
                "NotLinked",
                "no such account is linked to this user",
            ));
        }
        [account] => (*account).clone(),
        _ => {
            return Ok(refusal(
                409,
                "Ambiguous",
                "several accounts of this provider are linked; say which with providerAccountId",
            ));
        }
    };
    let remaining: Vec<&Account> = accounts
        .iter()
        .filter(|other| {
            (other.provider.as_str(), other.provider_account_id.as_str())
                != (
                    account.provider.as_str(),
                    account.provider_account_id.as_str(),
                )
        })
        .collect();
    if !can_still_sign_in(pipeline, &user, &remaining) {
        return Ok(refusal(
            409,
            "LastSignInMethod",
            "this is the user's last way to sign in; link another account first",
        ));
    }
    store
        .unlink_account(&account.provider, &account.provider_account_id)
        .await?;
    let remaining: Vec<Account> = remaining.into_iter().cloned().collect();
    let mut answer = AuthResponse::json(200, accounts_json(pipeline, &remaining));
    answer.events.extend(PendingEvent::if_configured(
        pipeline,
        Event::UnlinkAccount,
        vec![
            ("user", serde_json::to_value(&user).unwrap_or(Value::Null)),
            (
                "account",
                json!({
                    "provider": account.provider,
                    "type": account.kind,
                    "providerAccountId": account.provider_account_id,
                    "userId": user.id,
                }),
            ),
        ],
    ));
    Ok(answer)
}
