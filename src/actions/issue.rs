//! Issuing a session after a successful sign-in, shared by every sign-in path: a JWT
//! through the `jwt` callback (`trigger: "signIn"`), or a database session row. Each
//! returns the cookie value and its max-age in seconds. Either records the browser it was
//! issued to, so that only that browser's session may link another account.

use rhai::Dynamic;
use serde_json::{Map, Value, json};

use super::AuthRequest;
use super::callbacks::run_jwt;
use super::session::{seconds, token_max_age, unix_now};
use crate::error::{AuthError, ErrorCode};
use crate::pipeline::Pipeline;
use crate::session::jwt::encode;
use crate::session::tokens::new_session_token;
use crate::store::{Adapter, Session, StoreError};

/// What a sign-in hands the `jwt` callback.
pub struct SignInArguments {
    pub user: Value,
    pub account: Value,
    pub profile: Value,
    pub is_new_user: bool,
}

/// Runs the jwt callback on `token` and encodes the result. `()` from the callback or a
/// failing script denies (AccessDenied); a key problem is a Configuration error.
pub fn jwt_cookie(
    request: &AuthRequest,
    pipeline: &Pipeline,
    token: Map<String, Value>,
    arguments: SignInArguments,
    session_id: Option<String>,
) -> Result<(String, u64), AuthError> {
    let token = match run_jwt(
        pipeline,
        token,
        &[
            ("user", arguments.user),
            ("account", arguments.account),
            ("profile", arguments.profile),
            ("trigger", json!("signIn")),
            ("isNewUser", json!(arguments.is_new_user)),
        ],
    ) {
        Ok(Some(token)) => token,
        Ok(None) => {
            return Err(AuthError::new(
                ErrorCode::AccessDenied,
                "callbacks.jwt returned () at sign-in",
            ));
        }
        Err(error) => return Err(error),
    };
    let token = OwnClaims {
        browser: request.browser_binding(pipeline),
        session_id,
    }
    .apply(token);
    let max_age = token_max_age(pipeline);
    let name = &request.cookie_policy(pipeline).session_token.name;
    let keys = pipeline
        .session_keys
        .for_cookie(name)
        .ok_or_else(|| AuthError::configuration(format!("no session key for cookie {name}")))?;
    let encoded = encode(keys, &token, pipeline.clock.now(), max_age).map_err(|error| {
        AuthError::configuration(format!("cannot encode the session token: {error}"))
    })?;
    Ok((encoded, max_age.as_secs()))
}

/// The JWT claim holding the browser a session was issued to. authgate sets it after the
/// `jwt` callback, so a script can neither drop nor forge it.
pub const BROWSER_CLAIM: &str = "bnd";

/// The JWT claim holding the session's stable id, under which a store tracks it. Set like
/// the browser claim, and kept when the cookie is re-issued (its `jti` is new each time).
pub const SESSION_ID_CLAIM: &str = "sid";

/// The claims authgate owns in a session JWT: whatever the `jwt` callback returns, they
/// are what authgate set at sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnClaims {
    pub browser: Option<String>,
    pub session_id: Option<String>,
}

impl OwnClaims {
    /// The claims `token` carries.
    pub fn of(token: &Map<String, Value>) -> OwnClaims {
        let text = |claim: &str| token.get(claim).and_then(Value::as_str).map(str::to_string);
        OwnClaims {
            browser: text(BROWSER_CLAIM),
            session_id: text(SESSION_ID_CLAIM),
        }
    }

    /// Whether `token`, a script's result, holds exactly these claims already, as
    /// `apply` would leave it.
    pub fn held_by(&self, token: &Dynamic) -> bool {
        let Ok(token) = token.as_map_ref() else {
            return false;
        };
        [
            (BROWSER_CLAIM, &self.browser),
            (SESSION_ID_CLAIM, &self.session_id),
        ]
        .into_iter()
        .all(|(claim, own)| {
            let held = token.get(claim);
            match own {
                None => held.is_none(),
                Some(own) => held
                    .and_then(|held| held.as_immutable_string_ref().ok())
                    .is_some_and(|held| held.as_str() == own),
            }
        })
    }

    /// `token` with exactly these claims (a missing one removed).
    pub fn apply(self, mut token: Map<String, Value>) -> Map<String, Value> {
        for (claim, value) in [
            (BROWSER_CLAIM, self.browser),
            (SESSION_ID_CLAIM, self.session_id),
        ] {
            token.remove(claim);
            if let Some(value) = value {
                token.insert(claim.into(), Value::String(value));
            }
        }
        token
    }
}

/// Opens a database session for `user_id`, valid for `session.maxAge`, bound to the
/// browser that signed in (`browser`, from its CSRF token).
pub async fn database_cookie(
    pipeline: &Pipeline,
    store: &dyn Adapter,
    user_id: &str,
    browser: Option<String>,
    user_agent: Option<String>,
) -> Result<(String, u64), StoreError> {
    let max_age = seconds(pipeline.config.session.max_age.as_std());
    let session = store
        .create_session(Session {
            session_token: new_session_token(),
            user_id: user_id.to_string(),
            expires: unix_now(pipeline).saturating_add(max_age),
            browser_binding: browser,
            created_at: Some(unix_now(pipeline)),
            user_agent,
            last_seen: Some(unix_now(pipeline)),
        })
        .await?;
    Ok((session.session_token, max_age.unsigned_abs()))
}

#[cfg(test)]
#[path = "issue_tests.rs"]
mod tests;
