//! The administrators' operations on users and their sessions, in one place for the CLI
//! (`authgate users ...`, `authgate sessions ...`) and the admin listener's JSON API. A user
//! is named by id or by email. Answers are JSON, with times as Unix seconds.

use serde_json::{Value, json};

use crate::email::address::normalize_email;
use crate::store::{Adapter, Revoke, StoreError, User};

/// A user as administrators see it.
pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "emailVerified": user.email_verified,
        "image": user.image,
        "disabled": user.disabled_at.is_some(),
        "disabledAt": user.disabled_at,
    })
}

/// The user `who` names: an id, else an email address.
pub async fn find_user(store: &dyn Adapter, who: &str) -> Result<Option<User>, StoreError> {
    if let Some(user) = store.get_user(who).await? {
        return Ok(Some(user));
    }
    if who.contains('@') {
        return store.get_user_by_email(who).await;
    }
    Ok(None)
}

/// The owner of sessions `who` names: a user (by id or email), else the id a session was
/// issued to (a credentials user from an `authorize` script has sessions but no row).
pub async fn find_session_owner(
    store: &dyn Adapter,
    who: &str,
    now: i64,
) -> Result<Option<User>, StoreError> {
    if let Some(user) = find_user(store, who).await? {
        return Ok(Some(user));
    }
    let has_sessions = !store.sessions_of_user(who, now).await?.is_empty();
    Ok(has_sessions.then(|| User {
        id: who.to_string(),
        name: None,
        email: None,
        email_verified: None,
        image: None,
        disabled_at: None,
    }))
}

/// Every stored email not in `normalize_email`'s spelling (rows written before authgate
/// normalised emails: trimmed, lowercased, the domain in its ASCII form), rewritten when
/// `apply`. Emails that are one mailbox once normalised (two users) are reported and left
/// for an administrator to merge, as is a row another writer changed meanwhile. Each
/// rewrite touches only that row's email, and only while it still has the spelling seen.
pub async fn normalize_emails(store: &dyn Adapter, apply: bool) -> Result<Value, StoreError> {
    use std::collections::BTreeMap;

    const PAGE: u32 = 500;
    // By id: a row inserted meanwhile shifts the pages, and must not be counted twice.
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    let mut offset = 0;
    loop {
        let page = store.list_users(PAGE, offset).await?;
        let done = page.len() < PAGE as usize;
        users.extend(page.into_iter().map(|user| (user.id.clone(), user)));
        if done {
            break;
        }
        offset = offset.saturating_add(PAGE);
    }
    let mut by_mailbox: BTreeMap<String, Vec<User>> = BTreeMap::new();
    for user in users.into_values() {
        if let Some(normalized) = user.email.as_deref().and_then(normalize_email) {
            by_mailbox.entry(normalized).or_default().push(user);
        }
    }
    let (mut rewritten, mut collisions, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for (mailbox, users) in by_mailbox {
        let [user] = users.as_slice() else {
            let spellings: Vec<Value> = users
                .iter()
                .map(|user| json!({"id": user.id, "email": user.email}))
                .collect();
            collisions.push(json!({"email": mailbox, "users": spellings}));
            continue;
        };
        let Some(seen) = user.email.as_deref().filter(|seen| *seen != mailbox) else {
            continue;
        };
        let change = json!({"id": user.id, "from": seen, "to": mailbox});
        if !apply {
            rewritten.push(change);
            continue;
        }
        match store.respell_email(&user.id, seen, &mailbox).await {
            Ok(true) => rewritten.push(change),
            Ok(false) => {
                skipped.push(json!({"id": user.id, "from": seen, "reason": "changed meanwhile"}))
            }
            Err(StoreError::Conflict(_)) => collisions.push(json!({
                "email": mailbox,
                "users": [{"id": user.id, "email": seen}],
                "reason": "another user took this address meanwhile",
            })),
            Err(error) => {
                skipped.push(json!({"id": user.id, "from": seen, "reason": error.to_string()}))
            }
        }
    }
    Ok(json!({
        "applied": apply,
        "rewritten": rewritten,
        "collisions": collisions,
        "skipped": skipped,
    }))
}

/// A page of users.
pub async fn list_users(store: &dyn Adapter, limit: u32, offset: u32) -> Result<Value, StoreError> {
    let users = store.list_users(limit, offset).await?;
    Ok(Value::Array(users.iter().map(user_json).collect()))
}

/// A user with their linked accounts (no tokens) and active sessions.
pub async fn show_user(store: &dyn Adapter, user: &User, now: i64) -> Result<Value, StoreError> {
    let accounts: Vec<Value> = store
        .linked_accounts(&user.id)
        .await?
        .iter()
        .map(|account| {
            json!({
                "provider": account.provider,
                "type": account.kind,
                "providerAccountId": account.provider_account_id,
                "linkedAt": account.linked_at,
            })
        })
        .collect();
    let sessions = store.sessions_of_user(&user.id, now).await?;
    let mut shown = user_json(user);
    shown["accounts"] = Value::Array(accounts);
    shown["sessions"] = serde_json::to_value(sessions).unwrap_or(Value::Null);
    Ok(shown)
}

/// Disables a user, ending every session they have (so enabling them later brings none
/// back), or enables them again.
pub async fn set_disabled(
    store: &dyn Adapter,
    user: &User,
    disabled: bool,
    now: i64,
) -> Result<Value, StoreError> {
    let changed = store
        .set_user_disabled(&user.id, disabled.then_some(now))
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {}", user.id)))?;
    if disabled {
        store.revoke_sessions(&user.id, Revoke::All, now).await?;
    }
    Ok(user_json(&changed))
}

/// A user's active sessions.
pub async fn list_sessions(
    store: &dyn Adapter,
    user: &User,
    now: i64,
) -> Result<Value, StoreError> {
    let sessions = store.sessions_of_user(&user.id, now).await?;
    Ok(serde_json::to_value(sessions).unwrap_or(Value::Null))
}

/// Revokes one session of a user (`Some(id)`) or all of them.
pub async fn revoke_sessions(
    store: &dyn Adapter,
    user: &User,
    id: Option<&str>,
    now: i64,
) -> Result<Value, StoreError> {
    let which = id.map_or(Revoke::All, Revoke::One);
    let revoked = store.revoke_sessions(&user.id, which, now).await?;
    Ok(json!({ "revoked": revoked }))
}

/// Deletes a user with their accounts and sessions.
pub async fn delete_user(store: &dyn Adapter, user: &User) -> Result<Value, StoreError> {
    let deleted = store.delete_user(&user.id).await?;
    Ok(json!({ "deleted": deleted.is_some(), "id": user.id }))
}
