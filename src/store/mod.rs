//! Persistence: users, OAuth accounts, database sessions and email verification tokens.
//! `Adapter` is the Auth.js adapter contract; `SqlStore` implements it once for SQLite,
//! PostgreSQL and MySQL/MariaDB through sqlx, with the dialect differences confined to
//! `dialect` (placeholders and DDL). Timestamps are Unix seconds in every dialect.
//!
//! Session tokens never reach the database: the store keeps their SHA-256, so a leaked
//! `sessions` table cannot be replayed as cookies. Nor do email verification tokens: it
//! keeps `sha256hex(token + secret)` (`verification`).

mod dialect;
pub mod lookup;
mod management;
mod metered;
mod models;
pub mod purge;
mod registry;
mod shared_state;
mod sql;
mod verification;

use async_trait::async_trait;

pub use dialect::Dialect;
pub use management::session_id;
pub use metered::MeteredAdapter;
pub use models::{
    Account, JwtSession, JwtSessionStatus, NewUser, Revoke, Session, SessionKind, SessionRecord,
    UnlinkOutcome, User, UserPatch, VerificationToken,
};
pub use registry::StoreRegistry;
pub use shared_state::StateEntry;
pub use sql::{ConnectError, SqlStore, StoreSettings, token_digest};
pub use verification::{HashedVerificationToken, verification_token_hash};

use crate::error::ErrorCode;

/// Why a store call failed. The variants decide the HTTP answer; the message is for the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or did not answer in time: 503, try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the write (an email or account already taken).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The row to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    /// The Auth.js code a client sees.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Configuration
    }

    /// The HTTP status for a request that needed the store.
    pub fn status(&self) -> u16 {
        match self {
            StoreError::Unavailable(_) => 503,
            _ => 500,
        }
    }
}

impl From<StoreError> for crate::error::AuthError {
    fn from(error: StoreError) -> Self {
        crate::error::AuthError::new(error.code(), format!("store: {error}"))
            .with_status(error.status())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How many expired rows a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub verification_tokens: u64,
}

/// The Auth.js adapter methods, plus housekeeping. Session tokens are passed in clear
/// and hashed by the implementation. Verification tokens are passed already hashed with
/// the secret (`HashedVerificationToken`), as Auth.js's core hashes them before the adapter.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// Creates a user; the id is generated unless given. A taken email is a `Conflict`.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn get_user(&self, id: &str) -> StoreResult<Option<User>>;
    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<User>>;
    /// Changes the fields the patch sets; `NotFound` when there is no such user.
    async fn update_user(&self, id: &str, patch: UserPatch) -> StoreResult<User>;
    /// Deletes a user with its accounts and sessions; `None` when there was none.
    async fn delete_user(&self, id: &str) -> StoreResult<Option<User>>;

    /// Links an account (a provider identity) to a user; taken identities are a `Conflict`.
    async fn link_account(&self, account: Account) -> StoreResult<Account>;
    /// Removes a link; `None` when there was none.
    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<Account>>;
    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<Account>>;
    /// The accounts linked to a user, oldest first.
    async fn get_accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<Account>>;
    /// Replaces an account's tokens (sign-in again, refresh rotation).
    async fn update_account_tokens(&self, account: &Account) -> StoreResult<()>;

    async fn create_session(&self, session: Session) -> StoreResult<Session>;
    /// The session and its user, expired or not: the caller decides about expiry.
    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> StoreResult<Option<(Session, User)>>;
    /// Moves a session's expiry; `None` when the session is gone.
    async fn update_session(
        &self,
        session_token: &str,
        expires: i64,
    ) -> StoreResult<Option<Session>>;
    /// Deletes a session; `None` when there was none.
    async fn delete_session(&self, session_token: &str) -> StoreResult<Option<Session>>;

    /// Stores a token for an identifier; the same token twice for one identifier is a
    /// `Conflict`.
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> StoreResult<VerificationToken>;
    /// Deletes and returns the token, atomically: of two concurrent uses, one gets it. A
    /// token that expired at or before `now` (Unix seconds) is deleted and refused (`None`).
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &HashedVerificationToken,
        now: i64,
    ) -> StoreResult<Option<VerificationToken>>;

    /// A credentials `lookup`: runs the operator's query with each of its parameters bound
    /// to the field of that name (empty when absent; never spliced into the text); the first
    /// row wins.
    async fn lookup_user(
        &self,
        lookup: &lookup::PreparedLookup,
        fields: &std::collections::BTreeMap<String, String>,
    ) -> StoreResult<Option<lookup::LookupUser>>;

    /// Disables (`Some(now)`) or enables (`None`) a user; `None` when there is no such user.
    async fn set_user_disabled(
        &self,
        id: &str,
        disabled_at: Option<i64>,
    ) -> StoreResult<Option<User>>;
    /// A page of users, by id.
    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>>;
    /// Replaces a user's email spelled `seen` by `email`, touching nothing else; `false`
    /// when the row no longer has that spelling. An email another user has is a
    /// `Conflict`.
    async fn respell_email(&self, id: &str, seen: &str, email: &str) -> StoreResult<bool>;
    /// The accounts linked to a user with when they were linked, oldest first (those from
    /// before link times were recorded count as oldest), and no tokens.
    async fn linked_accounts(&self, user_id: &str) -> StoreResult<Vec<Account>>;

    /// Removes a user's account unless, with `keep_one`, it is the last of the user's
    /// accounts whose provider is in `usable_providers`. One transaction with the user's
    /// row locked, so concurrent unlinks cannot together remove every way to sign in.
    async fn unlink_account_of_user(
        &self,
        user_id: &str,
        provider: &str,
        provider_account_id: &str,
        usable_providers: &[String],
        keep_one: bool,
    ) -> StoreResult<UnlinkOutcome>;

    /// Records a JWT session (its stable `sid`) at sign-in.
    async fn create_jwt_session(&self, session: JwtSession) -> StoreResult<()>;
    /// A tracked JWT session's state, `None` when it was revoked or expired; records that
    /// it was seen at `now` and now `expires` then.
    async fn jwt_session_status(
        &self,
        sid: &str,
        now: i64,
        expires: i64,
    ) -> StoreResult<Option<JwtSessionStatus>>;
    /// Records that a database session was seen at `now`.
    async fn touch_session(&self, session_token: &str, now: i64) -> StoreResult<()>;
    /// A user's unexpired sessions of both kinds, newest first (at most 1000).
    async fn sessions_of_user(&self, user_id: &str, now: i64) -> StoreResult<Vec<SessionRecord>>;
    /// Deletes the selected sessions of a user (`All` also refuses every JWT issued before
    /// `now`); how many went.
    async fn revoke_sessions(&self, user_id: &str, which: Revoke<'_>, now: i64)
    -> StoreResult<u64>;

    /// Deletes sessions and verification tokens that expired at or before `now`.
    async fn purge_expired(&self, now: i64) -> StoreResult<Purged>;
    /// A round trip to the database.
    async fn ping(&self) -> StoreResult<()>;

    /// The connection pool as it is now, when the store has one.
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }
}

/// A connection pool's state, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}
