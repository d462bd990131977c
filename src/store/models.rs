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
