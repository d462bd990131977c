//! Who signs in when a provider account comes back, by Auth.js's linking rules:
//!
//! - an account already linked signs in its user (tokens refreshed in the store);
//! - a signed-in user who brings a new account gets it linked; an account linked to
//!   someone else is refused (OAuthAccountNotLinked);
//! - a new account whose email belongs to an existing user is refused
//!   (OAuthAccountNotLinked) unless the provider sets `allowDangerousEmailAccountLinking`
//!   AND asserts that the email is verified, AND the existing user's email was verified
//!   too: an unverified email never links (the "nOAuth" takeover through an IdP that lets
//!   anyone claim any address, and its pre-registration twin);
//! - otherwise a new user is created and the account linked to it; a verified email is
//!   recorded as `emailVerified`.

use serde_json::Value;

use super::AuthRequest;
use super::issue::BROWSER_CLAIM;
use super::session::{SessionCookie, session_cookie, unix_now};
use super::session_state::{Standing, jwt_standing};
use crate::config::model::SessionStrategy;
use crate::error::AuthError;
use crate::pipeline::Pipeline;
use crate::providers::profile::UserProfile;
use crate::store::{Account, Adapter, NewUser, StoreError, User};
use crate::text::constant_time_eq;

/// The outcome of a sign-in against the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub user: User,
    pub is_new_user: bool,
    /// The account was linked by this sign-in (the linkAccount event runs).
    pub linked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the account is not linked to this user")]
    NotLinked,
    /// The user is disabled: nothing of theirs changes, nothing is linked to them.
    #[error("user {0} is disabled")]
    Disabled(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who a returning provider account signs in. `signed_in` is the user the browser is
/// already signed in as; the caller has proven that this browser started the round trip.
/// `now` (Unix seconds) stamps `emailVerified` on a new user.
pub async fn resolve_user(
    store: &dyn Adapter,
    account: &Account,
    profile: &UserProfile,
    allow_email_linking: bool,
    signed_in: Option<&str>,
    now: i64,
) -> Result<Resolved, LinkError> {
    let existing = store
        .get_user_by_account(&account.provider, &account.provider_account_id)
        .await?;
    if let Some(current) = signed_in {
        return match existing {
            Some(user) if user.id == current => {
                let user = enabled(user)?;
                store.update_account_tokens(account).await?;
                Ok(Resolved {
                    user,
                    is_new_user: false,
                    linked: false,
                })
            }
            Some(_) => Err(LinkError::NotLinked),
            None => {
                let user = store.get_user(current).await?.ok_or(LinkError::NotLinked)?;
                let user = enabled(user)?;
                link(store, account, &user, now).await?;
                Ok(Resolved {
                    user,
                    is_new_user: false,
                    linked: true,
                })
            }
        };
    }
    if let Some(user) = existing {
        let user = enabled(user)?;
        store.update_account_tokens(account).await?;
        return Ok(Resolved {
            user,
            is_new_user: false,
            linked: false,
        });
    }
    if let Some(email) = &profile.email
        && let Some(user) = store.get_user_by_email(email).await?
    {
        // Both sides must vouch for the address: the provider now, and the existing user
        // when it was created (or the address was confirmed). Otherwise a user that an
        // attacker pre-created with someone else's unverified address would receive the
        // owner's account.
        if !allow_email_linking || !profile.email_verified || user.email_verified.is_none() {
            return Err(LinkError::NotLinked);
        }
        let user = enabled(user)?;
        link(store, account, &user, now).await?;
        return Ok(Resolved {
            user,
            is_new_user: false,
            linked: true,
        });
    }
    let user = match store
        .create_user(NewUser {
            id: None,
            name: profile.name.clone(),
            email: profile.email.clone(),
            email_verified: profile.email_verified.then_some(now),
            image: profile.image.clone(),
        })
        .await
    {
        Ok(user) => user,
        // Another sign-in created the same email in between.
        Err(StoreError::Conflict(_)) => return Err(LinkError::NotLinked),
        Err(error) => return Err(error.into()),
    };
    link(store, account, &user, now).await?;
    Ok(Resolved {
        user,
        is_new_user: true,
        linked: true,
    })
}

/// `user`, unless disabled: a disabled user's tokens are not refreshed and nothing is
/// linked to them, before the sign-in is refused.
fn enabled(user: User) -> Result<User, LinkError> {
    match user.disabled_at {
        Some(_) => Err(LinkError::Disabled(user.id)),
        None => Ok(user),
    }
}

async fn link(
    store: &dyn Adapter,
    account: &Account,
    user: &User,
    now: i64,
) -> Result<(), LinkError> {
    let account = Account {
        user_id: user.id.clone(),
        linked_at: Some(now),
        ..account.clone()
    };
    match store.link_account(account).await {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(LinkError::NotLinked),
        Err(error) => Err(error.into()),
    }
}

/// The store user a request is already signed in as, and since when (its session's
/// creation, when recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: String,
    pub since: Option<i64>,
}

/// The store user the request is already signed in as, if any (a new account is linked
/// to it). A JWT's `sub` counts only under the JWT strategy, only when that user exists and
/// only while its session stands (not revoked, user not disabled): under the database
/// strategy JWTs carry credentials ids, not store ids.
///
/// Only a session issued to this very browser counts: one that a sibling subdomain
/// planted (a parent-domain cookie holding the attacker's own session) carries another
/// browser's binding, and the sign-in then goes on as if nobody were signed in, so the
/// victim's provider account is never linked to the attacker's user.
pub async fn signed_in_user(
    request: &AuthRequest,
    pipeline: &Pipeline,
    store: &dyn Adapter,
) -> Result<Option<SignedIn>, AuthError> {
    let Some(browser) = request.browser_binding(pipeline) else {
        return Ok(None);
    };
    let issued_here =
        |bound: Option<&str>| bound.is_some_and(|bound| constant_time_eq(bound, &browser));
    match session_cookie(request, pipeline) {
        Some(Ok(SessionCookie::Jwt(token)))
            if pipeline.session_strategy == SessionStrategy::Jwt =>
        {
            if !issued_here(token.get(BROWSER_CLAIM).and_then(Value::as_str)) {
                return Ok(None);
            }
            let Standing::Active { status } = jwt_standing(pipeline, &token).await? else {
                return Ok(None);
            };
            // A tracked session names its owner (a credentials user of a script is no
            // store user); an untracked one only has its `sub`.
            let owner = match &status {
                Some(status) => Some(status.user_id.as_str()),
                None => token.get("sub").and_then(Value::as_str),
            };
            let Some(owner) = owner else {
                return Ok(None);
            };
            Ok(store.get_user(owner).await?.map(|user| SignedIn {
                user_id: user.id,
                since: status.map(|status| status.created_at),
            }))
        }
        Some(Ok(SessionCookie::Database { token, store })) => Ok(store
            .get_session_and_user(&token)
            .await?
            .filter(|(session, _)| session.expires > unix_now(pipeline))
            .filter(|(session, _)| issued_here(session.browser_binding.as_deref()))
            .filter(|(_, user)| user.disabled_at.is_none())
            .map(|(session, user)| SignedIn {
                user_id: user.id,
                since: session.created_at,
            })),
        _ => Ok(None),
    }
}

/// Without a store, the user id is derived from the provider and the account id, so it is
/// the same at every sign-in (Auth.js makes a random one each time).
pub fn stable_user_id(provider: &str, provider_account_id: &str) -> String {
    use sha2::{Digest, Sha256};
    // Length-prefixed, so no two (provider, account) pairs share an input.
    let digest = Sha256::digest(format!(
        "{}:{provider}{provider_account_id}",
        provider.len()
    ));
    let hex = crate::text::lower_hex(&digest[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_user_ids_depend_on_provider_and_account_only() {
        let a = stable_user_id("github", "42");
        assert_eq!(a, stable_user_id("github", "42"));
        assert_ne!(a, stable_user_id("gitlab", "42"));
        assert_ne!(a, stable_user_id("github", "43"));
        assert_ne!(stable_user_id("a", "b\0c"), stable_user_id("a\0b", "c"));
        assert_eq!(a.len(), 36);
    }
}
