//! `SqlStore`: the Adapter over one sqlx `AnyPool`. Each query is written once, with `?`
//! placeholders; `Dialect` rewrites them for PostgreSQL. Timestamps are `BIGINT` Unix
//! seconds, which every driver (and sqlx's `Any`) carries the same way.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row, SqlStr};

use super::dialect::Dialect;
use super::models::{
    Account, JwtSession, JwtSessionStatus, NewUser, Revoke, Session, SessionRecord, UnlinkOutcome,
    User, UserPatch, VerificationToken,
};
use super::verification::HashedVerificationToken;
use super::{Adapter, PoolStats, Purged, StoreError, StoreResult};
use crate::config::model::DatabaseConfig;
use crate::email::address::normalize_email;

/// Declares the statements once, as `?`-style SQL, and prepares them for a dialect.
macro_rules! statements {
    ($($name:ident = $sql:expr;)*) => {
        /// Every statement the store runs, in its dialect's placeholder style.
        struct Statements {
            $($name: SqlStr,)*
        }

        impl Statements {
            fn new(dialect: Dialect) -> Statements {
                Statements {
                    $($name: dialect.statement($sql),)*
                }
            }
        }

        #[cfg(test)]
        const ALL_STATEMENTS: &[&str] = &[$($sql),*];
    };
}

statements! {
    insert_user = "INSERT INTO users (id, name, email, email_verified, image) VALUES (?, ?, ?, ?, ?)";
    user_by_id = "SELECT id, name, email, email_verified, image, disabled_at FROM users \
        WHERE id = ?";
    user_by_email = "SELECT id, name, email, email_verified, image, disabled_at FROM users \
        WHERE email = ?";
    user_by_account = "SELECT u.id, u.name, u.email, u.email_verified, u.image, u.disabled_at \
        FROM users u JOIN accounts a ON a.user_id = u.id \
        WHERE a.provider = ? AND a.provider_account_id = ?";
    update_user = "UPDATE users SET name = ?, email = ?, email_verified = ?, image = ? WHERE id = ?";
    delete_user = "DELETE FROM users WHERE id = ?";
    // JWT sessions name users the store may not know (credentials users), so no foreign key
    // removes them with their user.
    delete_jwt_sessions_of_user = "DELETE FROM jwt_sessions WHERE user_id = ?";
    insert_account = "INSERT INTO accounts (id, user_id, type, provider, provider_account_id, \
        refresh_token, access_token, expires_at, token_type, scope, id_token, session_state, \
        created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    account_by_provider = "SELECT user_id, type, provider, provider_account_id, refresh_token, \
        access_token, expires_at, token_type, scope, id_token, session_state, created_at \
        FROM accounts WHERE provider = ? AND provider_account_id = ?";
    accounts_of_user = "SELECT user_id, type, provider, provider_account_id, refresh_token, \
        access_token, expires_at, token_type, scope, id_token, session_state, created_at \
        FROM accounts WHERE user_id = ? ORDER BY id";
    // A token response that leaves out the refresh token (Google sends it on the first
    // consent only), the id_token or the scope keeps the stored one.
    update_account_tokens = "UPDATE accounts SET refresh_token = COALESCE(?, refresh_token), \
        access_token = ?, expires_at = ?, token_type = COALESCE(?, token_type), \
        scope = COALESCE(?, scope), id_token = COALESCE(?, id_token), \
        session_state = COALESCE(?, session_state) \
        WHERE provider = ? AND provider_account_id = ?";
    delete_account = "DELETE FROM accounts WHERE provider = ? AND provider_account_id = ?";
    insert_session = "INSERT INTO sessions (session_token, user_id, expires, browser_binding, \
        created_at, last_seen, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)";
    session_and_user = "SELECT s.user_id, s.expires, s.browser_binding, s.created_at, \
        s.user_agent, s.last_seen, u.id, u.name, u.email, u.email_verified, u.image, \
        u.disabled_at FROM sessions s JOIN users u ON u.id = s.user_id \
        WHERE s.session_token = ?";
    session_by_token = "SELECT user_id, expires, browser_binding, created_at, user_agent, \
        last_seen FROM sessions WHERE session_token = ?";
    update_session = "UPDATE sessions SET expires = ? WHERE session_token = ?";
    delete_session = "DELETE FROM sessions WHERE session_token = ?";
    insert_verification_token = "INSERT INTO verification_tokens (identifier, token, expires) \
        VALUES (?, ?, ?)";
    verification_token_expiry = "SELECT expires FROM verification_tokens \
        WHERE identifier = ? AND token = ?";
    delete_verification_token = "DELETE FROM verification_tokens WHERE identifier = ? AND token = ?";
    purge_sessions = "DELETE FROM sessions WHERE expires <= ?";
    purge_verification_tokens = "DELETE FROM verification_tokens WHERE expires <= ?";
    purge_jwt_sessions = "DELETE FROM jwt_sessions WHERE expires <= ?";
    ping = "SELECT 1";
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL scheme (expected sqlite:, postgres:// or mysql://)")]
    Scheme,
    #[error("cannot connect to the {dialect} database: {reason}")]
    Connect {
        dialect: &'static str,
        reason: String,
    },
    #[error("cannot migrate the {dialect} database: {reason}")]
    Migrate {
        dialect: &'static str,
        reason: String,
    },
}

/// What identifies a pool: a reload with the same settings keeps the running pool.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// The URL sqlx connects to (relative SQLite paths resolved against the config).
    url: String,
    pub dialect: Dialect,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for StoreSettings {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("dialect", &self.dialect)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl StoreSettings {
    /// The settings of `database`, with a relative SQLite path taken from `config_dir`.
    pub fn new(
        database: &DatabaseConfig,
        config_dir: &Path,
    ) -> Result<StoreSettings, ConnectError> {
        let url = database.url.expose();
        let dialect = Dialect::of_url(url).ok_or(ConnectError::Scheme)?;
        let url = match dialect {
            Dialect::Sqlite => sqlite_url(url, config_dir),
            // sqlx knows MariaDB by the MySQL scheme.
            Dialect::MySql => match url.strip_prefix("mariadb:") {
                Some(rest) => format!("mysql:{rest}"),
                None => url.to_string(),
            },
            Dialect::Postgres => url.to_string(),
        };
        Ok(StoreSettings {
            url,
            dialect,
            max_connections: database.max_connections.max(1),
            acquire_timeout: database.acquire_timeout.as_std(),
        })
    }
}

/// `sqlite://relative.db` → `sqlite:///<config dir>/relative.db?mode=rwc`: the file is
/// created when missing, and found beside the config whatever the working directory.
fn sqlite_url(url: &str, config_dir: &Path) -> String {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path == ":memory:" || path.is_empty() {
        return format!(
            "sqlite::memory:{}",
            query.map(|q| format!("?{q}")).unwrap_or_default()
        );
    }
    let path = Path::new(path);
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        config_dir.join(path)
    };
    let query = match query {
        Some(query) if query.split('&').any(|pair| pair.starts_with("mode=")) => query.to_string(),
        Some(query) => format!("{query}&mode=rwc"),
        None => "mode=rwc".to_string(),
    };
    format!("sqlite://{}?{query}", path.display())
}

/// The lowercase hex SHA-256 of a session token: what the `sessions` table stores.
pub fn token_digest(token: &str) -> String {
    crate::text::lower_hex(&Sha256::digest(token.as_bytes()))
}

/// Sorts a sqlx error into what the caller can do about it.
pub(super) fn classify(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(database) => {
            let code = database
                .code()
                .map(|code| code.to_string())
                .unwrap_or_default();
            if database.is_unique_violation() {
                StoreError::Conflict(database.message().to_string())
            // PostgreSQL classes 08 (connection) and 57 (shutdown, admin intervention).
            } else if code.starts_with("08") || code.starts_with("57") {
                StoreError::Unavailable(database.message().to_string())
            } else {
                StoreError::Other(database.message().to_string())
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(error.to_string()),
        other => StoreError::Other(other.to_string()),
    }
}

pub(super) fn user_from(row: &AnyRow, offset: usize) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get(offset)?,
        name: row.try_get(offset + 1)?,
        email: row.try_get(offset + 2)?,
        email_verified: row.try_get(offset + 3)?,
        image: row.try_get(offset + 4)?,
        disabled_at: row.try_get(offset + 5)?,
    })
}

/// A session from its columns: user_id, expires, browser_binding, created_at, user_agent,
/// last_seen.
fn session_from(row: &AnyRow, session_token: &str) -> Result<Session, sqlx::Error> {
    Ok(Session {
        session_token: session_token.to_string(),
        user_id: row.try_get(0)?,
        expires: row.try_get(1)?,
        browser_binding: row.try_get(2)?,
        created_at: row.try_get(3)?,
        user_agent: row.try_get(4)?,
        last_seen: row.try_get(5)?,
    })
}

fn account_from(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        user_id: row.try_get(0)?,
        kind: row.try_get(1)?,
        provider: row.try_get(2)?,
        provider_account_id: row.try_get(3)?,
        refresh_token: row.try_get(4)?,
        access_token: row.try_get(5)?,
        expires_at: row.try_get(6)?,
        token_type: row.try_get(7)?,
        scope: row.try_get(8)?,
        id_token: row.try_get(9)?,
        session_state: row.try_get(10)?,
        linked_at: row.try_get(11)?,
    })
}

/// The store over one connection pool.
pub struct SqlStore {
    pool: AnyPool,
    settings: StoreSettings,
    statements: Statements,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Connects (one round trip proves the database answers) without migrating.
    pub async fn connect(settings: StoreSettings) -> Result<SqlStore, ConnectError> {
        sqlx::any::install_default_drivers();
        let dialect = settings.dialect;
        let mut options = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .idle_timeout(Duration::from_secs(300));
        if dialect == Dialect::Sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    // Safe with WAL, and much faster than FULL.
                    sqlx::raw_sql("PRAGMA synchronous = NORMAL")
                        .execute(&mut *connection)
                        .await?;
                    Ok(())
                })
            });
            if settings.url.starts_with("sqlite::memory:") {
                // Each connection to `:memory:` is its own database: keep exactly one.
                options = options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
        }
        let pool = options
            .connect(&settings.url)
            .await
            .map_err(|error| ConnectError::Connect {
                dialect: dialect.name(),
                reason: error.to_string(),
            })?;
        if dialect == Dialect::Sqlite && !settings.url.starts_with("sqlite::memory:") {
            // Persistent in the file: readers no longer wait for writers.
            sqlx::raw_sql("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(|error| ConnectError::Connect {
                    dialect: dialect.name(),
                    reason: error.to_string(),
                })?;
        }
        Ok(SqlStore {
            pool,
            statements: Statements::new(dialect),
            settings,
        })
    }

    /// Applies the embedded migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        self.settings
            .dialect
            .migrator()
            .run(&self.pool)
            .await
            .map_err(|error| ConnectError::Migrate {
                dialect: self.settings.dialect.name(),
                reason: error.to_string(),
            })
    }

    /// Connects and migrates: what the server does at start and on a reload that changes
    /// the database settings.
    pub async fn open(settings: StoreSettings) -> Result<SqlStore, ConnectError> {
        let store = SqlStore::connect(settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    pub fn dialect(&self) -> Dialect {
        self.settings.dialect
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn user_where(&self, statement: &SqlStr, keys: &[&str]) -> StoreResult<Option<User>> {
        let mut query = sqlx::query(statement.clone());
        for key in keys {
            query = query.bind(key.to_string());
        }
        let row = query.fetch_optional(&self.pool).await.map_err(classify)?;
        row.map(|row| user_from(&row, 0))
            .transpose()
            .map_err(classify)
    }
}

#[async_trait]
impl Adapter for SqlStore {
    async fn lookup_user(
        &self,
        lookup: &super::lookup::PreparedLookup,
        fields: &std::collections::BTreeMap<String, String>,
    ) -> StoreResult<Option<super::lookup::LookupUser>> {
        self.run_lookup(lookup, fields).await
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        let user = User {
            id: user.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: user.name,
            email: user.email.as_deref().and_then(normalize_email),
            email_verified: user.email_verified,
            image: user.image,
            disabled_at: None,
        };
        sqlx::query(self.statements.insert_user.clone())
            .bind(user.id.clone())
            .bind(user.name.clone())
            .bind(user.email.clone())
            .bind(user.email_verified)
            .bind(user.image.clone())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(user)
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        self.user_where(&self.statements.user_by_id, &[id]).await
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let Some(email) = normalize_email(email) else {
            return Ok(None);
        };
        self.user_where(&self.statements.user_by_email, &[&email])
            .await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<User>> {
        self.user_where(
            &self.statements.user_by_account,
            &[provider, provider_account_id],
        )
        .await
    }

    async fn update_user(&self, id: &str, patch: UserPatch) -> StoreResult<User> {
        let mut user = self
            .get_user(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        patch.apply(&mut user);
        user.email = user.email.as_deref().and_then(normalize_email);
        sqlx::query(self.statements.update_user.clone())
            .bind(user.name.clone())
            .bind(user.email.clone())
            .bind(user.email_verified)
            .bind(user.image.clone())
            .bind(user.id.clone())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(user)
    }

    async fn delete_user(&self, id: &str) -> StoreResult<Option<User>> {
        let Some(user) = self.get_user(id).await? else {
            return Ok(None);
        };
        let deleted = sqlx::query(self.statements.delete_user.clone())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        sqlx::query(self.statements.delete_jwt_sessions_of_user.clone())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok((deleted.rows_affected() > 0).then_some(user))
    }

    async fn link_account(&self, account: Account) -> StoreResult<Account> {
        sqlx::query(self.statements.insert_account.clone())
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(account.user_id.clone())
            .bind(account.kind.clone())
            .bind(account.provider.clone())
            .bind(account.provider_account_id.clone())
            .bind(account.refresh_token.clone())
            .bind(account.access_token.clone())
            .bind(account.expires_at)
            .bind(account.token_type.clone())
            .bind(account.scope.clone())
            .bind(account.id_token.clone())
            .bind(account.session_state.clone())
            .bind(account.linked_at)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(account)
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<Account>> {
        let Some(account) = self.get_account(provider, provider_account_id).await? else {
            return Ok(None);
        };
        let deleted = sqlx::query(self.statements.delete_account.clone())
            .bind(provider.to_string())
            .bind(provider_account_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok((deleted.rows_affected() > 0).then_some(account))
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<Account>> {
        let row = sqlx::query(self.statements.account_by_provider.clone())
            .bind(provider.to_string())
            .bind(provider_account_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.map(|row| account_from(&row))
            .transpose()
            .map_err(classify)
    }

    async fn get_accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query(self.statements.accounts_of_user.clone())
            .bind(user_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(account_from)
            .collect::<Result<_, _>>()
            .map_err(classify)
    }

    async fn update_account_tokens(&self, account: &Account) -> StoreResult<()> {
        let updated = sqlx::query(self.statements.update_account_tokens.clone())
            .bind(account.refresh_token.clone())
            .bind(account.access_token.clone())
            .bind(account.expires_at)
            .bind(account.token_type.clone())
            .bind(account.scope.clone())
            .bind(account.id_token.clone())
            .bind(account.session_state.clone())
            .bind(account.provider.clone())
            .bind(account.provider_account_id.clone())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "account {}/{}",
                account.provider, account.provider_account_id
            )));
        }
        Ok(())
    }

    async fn create_session(&self, session: Session) -> StoreResult<Session> {
        sqlx::query(self.statements.insert_session.clone())
            .bind(token_digest(&session.session_token))
            .bind(session.user_id.clone())
            .bind(session.expires)
            .bind(session.browser_binding.clone())
            .bind(session.created_at)
            .bind(session.last_seen)
            .bind(session.user_agent.clone())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(session)
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> StoreResult<Option<(Session, User)>> {
        let row = sqlx::query(self.statements.session_and_user.clone())
            .bind(token_digest(session_token))
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session = session_from(&row, session_token).map_err(classify)?;
        let user = user_from(&row, 6).map_err(classify)?;
        Ok(Some((session, user)))
    }

    async fn update_session(
        &self,
        session_token: &str,
        expires: i64,
    ) -> StoreResult<Option<Session>> {
        let digest = token_digest(session_token);
        let updated = sqlx::query(self.statements.update_session.clone())
            .bind(expires)
            .bind(digest.clone())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query(self.statements.session_by_token.clone())
            .bind(digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.map(|row| session_from(&row, session_token))
            .transpose()
            .map_err(classify)
    }

    async fn delete_session(&self, session_token: &str) -> StoreResult<Option<Session>> {
        let digest = token_digest(session_token);
        let row = sqlx::query(self.statements.session_by_token.clone())
            .bind(digest.clone())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session = session_from(&row, session_token).map_err(classify)?;
        let deleted = sqlx::query(self.statements.delete_session.clone())
            .bind(digest)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok((deleted.rows_affected() > 0).then_some(session))
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> StoreResult<VerificationToken> {
        sqlx::query(self.statements.insert_verification_token.clone())
            .bind(token.identifier.clone())
            .bind(token.token.as_str().to_string())
            .bind(token.expires)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(token)
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &HashedVerificationToken,
        now: i64,
    ) -> StoreResult<Option<VerificationToken>> {
        let row = sqlx::query(self.statements.verification_token_expiry.clone())
            .bind(identifier.to_string())
            .bind(token.as_str().to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires: i64 = row.try_get(0).map_err(classify)?;
        // The delete decides: of two concurrent uses, only one removes the row. An expired
        // token is removed as well, but refused.
        let deleted = sqlx::query(self.statements.delete_verification_token.clone())
            .bind(identifier.to_string())
            .bind(token.as_str().to_string())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        let used = deleted.rows_affected() == 1;
        Ok((used && expires > now).then(|| VerificationToken {
            identifier: identifier.to_string(),
            token: token.clone(),
            expires,
        }))
    }

    async fn set_user_disabled(
        &self,
        id: &str,
        disabled_at: Option<i64>,
    ) -> StoreResult<Option<User>> {
        self.set_disabled(id, disabled_at).await
    }

    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        self.users_page(limit, offset).await
    }

    async fn respell_email(&self, id: &str, seen: &str, email: &str) -> StoreResult<bool> {
        self.set_email_spelling(id, seen, email).await
    }

    async fn linked_accounts(&self, user_id: &str) -> StoreResult<Vec<Account>> {
        self.accounts_linked_to(user_id).await
    }

    async fn unlink_account_of_user(
        &self,
        user_id: &str,
        provider: &str,
        provider_account_id: &str,
        usable_providers: &[String],
        keep_one: bool,
    ) -> StoreResult<UnlinkOutcome> {
        self.unlink_keeping(
            user_id,
            provider,
            provider_account_id,
            usable_providers,
            keep_one,
        )
        .await
    }

    async fn create_jwt_session(&self, session: JwtSession) -> StoreResult<()> {
        self.insert_jwt_session(&session).await
    }

    async fn jwt_session_status(
        &self,
        sid: &str,
        now: i64,
        expires: i64,
    ) -> StoreResult<Option<JwtSessionStatus>> {
        self.jwt_status(sid, now, expires).await
    }

    async fn touch_session(&self, session_token: &str, now: i64) -> StoreResult<()> {
        self.touch(session_token, now).await
    }

    async fn sessions_of_user(&self, user_id: &str, now: i64) -> StoreResult<Vec<SessionRecord>> {
        self.sessions_of(user_id, now).await
    }

    async fn revoke_sessions(
        &self,
        user_id: &str,
        which: Revoke<'_>,
        now: i64,
    ) -> StoreResult<u64> {
        self.revoke(user_id, which, now).await
    }

    async fn purge_expired(&self, now: i64) -> StoreResult<Purged> {
        let sessions = sqlx::query(self.statements.purge_sessions.clone())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        let tokens = sqlx::query(self.statements.purge_verification_tokens.clone())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        let jwt_sessions = sqlx::query(self.statements.purge_jwt_sessions.clone())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        // Shared state expires in milliseconds.
        sqlx::query(self.dialect().statement(super::shared_state::PURGE))
            .bind(now.saturating_mul(1000))
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(Purged {
            sessions: sessions.rows_affected() + jwt_sessions.rows_affected(),
            verification_tokens: tokens.rows_affected(),
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query(self.statements.ping.clone())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    fn pool_stats(&self) -> Option<PoolStats> {
        Some(PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            // The pool's own limit: an in-memory SQLite pool keeps one connection whatever
            // the settings say.
            max: self.pool.options().get_max_connections(),
        })
    }
}

#[cfg(test)]
#[path = "sql_tests.rs"]
mod tests;
