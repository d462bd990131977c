//! `GET /accounts` (the signed-in user's linked provider accounts: provider, type, when
//! linked; never tokens) and `POST /unlink/<provider>` (CSRF), which refuses to remove the
//! user's last way to sign in (an account of a configured provider, or email sign-in with a
//! verified address), atomically in the store, and runs the `unlinkAccount` event.

use serde_json::{Value, json};

use super::management::{refusal, refuse_without_csrf, signed_in};
use super::session::iso_time_of_unix;
use super::{AuthRequest, AuthResponse, PendingEvent, failure};
use crate::config::ProviderKind;
use crate::config::script_key::Event;
use crate::pipeline::Pipeline;
use crate::store::{Account, Adapter, UnlinkOutcome, User};
use crate::telemetry::audit::{AuditEvent, AuditRecord};

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

/// The providers a user can sign in with, and whether the user needs to keep an account
/// of one of them: not when an email provider is configured and the user's email was
/// verified (they can always sign in by email).
fn sign_in_ways(pipeline: &Pipeline, user: &User) -> (Vec<String>, bool) {
    let usable = pipeline
        .providers
        .iter()
        .map(|provider| provider.id.clone())
        .collect();
    let by_email = user.email_verified.is_some()
        && pipeline
            .providers
            .iter()
            .any(|provider| provider.kind == ProviderKind::Email);
    (usable, !by_email)
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
    let not_linked = || refusal(404, "NotLinked", "no such account is linked to this user");
    // A credentials user of an `authorize` script has no row, and so no accounts.
    let Some(user) = store.get_user(user_id).await? else {
        return Ok(not_linked());
    };
    let accounts = store.linked_accounts(user_id).await?;
    let wanted = request.field("providerAccountId");
    let matching: Vec<&Account> = accounts
        .iter()
        .filter(|account| account.provider == provider)
        .filter(|account| wanted.is_none_or(|id| account.provider_account_id == id))
        .collect();
    let account = match matching.as_slice() {
        [] => return Ok(not_linked()),
        [account] => (*account).clone(),
        _ => {
            return Ok(refusal(
                409,
                "Ambiguous",
                "several accounts of this provider are linked; say which with providerAccountId",
            ));
        }
    };
    let (usable, keep_one) = sign_in_ways(pipeline, &user);
    let outcome = store
        .unlink_account_of_user(
            user_id,
            &account.provider,
            &account.provider_account_id,
            &usable,
            keep_one,
        )
        .await?;
    let account = match outcome {
        UnlinkOutcome::Unlinked(account) => account,
        UnlinkOutcome::NotLinked => return Ok(not_linked()),
        UnlinkOutcome::LastSignInMethod => {
            return Ok(refusal(
                409,
                "LastSignInMethod",
                "this is the user's last way to sign in; link another account first",
            ));
        }
    };
    let remaining = store.linked_accounts(user_id).await?;
    let mut answer = AuthResponse::json(200, accounts_json(pipeline, &remaining));
    answer.audit.push(
        AuditRecord::user(AuditEvent::AccountUnlinked, Some(user_id.to_string()))
            .with_provider(&account.provider),
    );
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
