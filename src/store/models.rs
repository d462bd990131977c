//! The Auth.js models, as the store reads and writes them. They serialize with Auth.js's
//! field names (camelCase), which is what scripts see.

use serde::Serialize;

use super::verification::HashedVerificationToken;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Unix seconds at which the email address was verified.
    pub email_verified: Option<i64>,
    pub image: Option<String>,
    /// Unix seconds at which an administrator disabled the user: no sign-in, no session.
    #[serde(skip)]
    pub disabled_at: Option<i64>,
}

/// A user to create; `id: None` lets the store generate one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUser {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<i64>,
    pub image: Option<String>,
}

/// Fields to change: `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub email_verified: Option<Option<i64>>,
    pub image: Option<Option<String>>,
}

impl UserPatch {
    pub fn apply(self, user: &mut User) {
        if let Some(name) = self.name {
            user.name = name;
        }
        if let Some(email) = self.email {
            user.email = email;
        }
        if let Some(email_verified) = self.email_verified {
            user.email_verified = email_verified;
        }
        if let Some(image) = self.image {
            user.image = image;
        }
    }
}

/// A provider identity linked to a user, with the provider's tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub user_id: String,
    /// `oauth`, `oidc`, `email` or `credentials`.
    #[serde(rename = "type")]
    pub kind: String,
    pub provider: String,
    pub provider_account_id: String,
    #[serde(rename = "refresh_token")]
    pub refresh_token: Option<String>,
    #[serde(rename = "access_token")]
    pub access_token: Option<String>,
    /// Unix seconds.
    #[serde(rename = "expires_at")]
    pub expires_at: Option<i64>,
    #[serde(rename = "token_type")]
    pub token_type: Option<String>,
    pub scope: Option<String>,
    #[serde(rename = "id_token")]
    pub id_token: Option<String>,
    #[serde(rename = "session_state")]
    pub session_state: Option<String>,
    /// Unix seconds it was linked; set when linking, read back by `linked_accounts`.
    #[serde(skip)]
    pub linked_at: Option<i64>,
}

/// A database session. `session_token` is the cookie value; the store keeps its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub session_token: String,
    pub user_id: String,
    /// Unix seconds.
    pub expires: i64,
    /// The browser the session was issued to: the hash of its CSRF token
    /// (`providers::checks::browser_binding`), when it had one.
    pub browser_binding: Option<String>,
    /// Unix seconds it was created (the sign-in); `None` for sessions from before it was
    /// recorded.
    pub created_at: Option<i64>,
    /// The browser's `User-Agent` at sign-in, shortened.
    pub user_agent: Option<String>,
    /// Unix seconds it was last read (recorded at most once a minute).
    pub last_seen: Option<i64>,
}

/// A JWT session the store keeps track of: the token's stable `sid` claim, which stays the
/// same when the cookie is re-issued (its `jti` changes each time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSession {
    pub sid: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires: i64,
    pub user_agent: Option<String>,
}

/// What a JWT session's read must know about it: gone (revoked) is `None` at the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSessionStatus {
    pub user_id: String,
    pub created_at: i64,
    /// The user is disabled (a user the store does not know, such as a credentials user
    /// from an `authorize` script, is not).
    pub disabled: bool,
    /// Tokens issued before this (Unix seconds) are revoked.
    pub not_before: Option<i64>,
}

/// Which kind of session a listed one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    Database,
    Jwt,
}

/// One of a user's sessions, as the user and administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    /// Opaque: derived from the stored token hash or `sid`, never a credential.
    pub id: String,
    pub kind: SessionKind,
    pub user_id: String,
    pub created_at: Option<i64>,
    pub last_seen: Option<i64>,
    pub expires: i64,
    pub user_agent: Option<String>,
}

/// Which of a user's sessions to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoke<'a> {
    /// The session with this opaque id.
    One(&'a str),
    /// Every session but the one with this opaque id.
    AllBut(&'a str),
    /// Every session, and every JWT issued before now.
    All,
}

/// An email sign-in token. The store only ever holds its hash with the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationToken {
    /// The normalized email address the token was sent to.
    pub identifier: String,
    pub token: HashedVerificationToken,
    /// Unix seconds; the token is refused from this second on.
    pub expires: i64,
}

/// What `unlink_account_of_user` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnlinkOutcome {
    Unlinked(Box<Account>),
    /// The account is the user's last one of a usable provider; nothing changed.
    LastSignInMethod,
    /// The user has no such account.
    NotLinked,
}
