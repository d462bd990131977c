//! Account and session management over the pool: disabling users, listing them,
//! respelling an email written before emails were normalised, the
//! accounts a user linked (without tokens), the JWT sessions the store tracks by `sid`, a
//! user's sessions of both kinds, and revoking them. Each statement is prepared for the
//! dialect when it runs: these are rare next to sign-ins and session reads.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::StoreResult;
use super::models::{
    Account, JwtSession, JwtSessionStatus, Revoke, SessionKind, SessionRecord, UnlinkOutcome, User,
};
use super::sql::{SqlStore, classify, token_digest, user_from};

const SET_DISABLED: &str = "UPDATE users SET disabled_at = ? WHERE id = ?";
const RESPELL_EMAIL: &str = "UPDATE users SET email = ? WHERE id = ? AND email = ?";
const LIST_USERS: &str = "SELECT id, name, email, email_verified, image, disabled_at FROM users \
    ORDER BY id LIMIT ? OFFSET ?";
const LINKED_ACCOUNTS: &str = "SELECT type, provider, provider_account_id, created_at \
    FROM accounts WHERE user_id = ? ORDER BY COALESCE(created_at, 0), id";
const INSERT_JWT_SESSION: &str = "INSERT INTO jwt_sessions (sid, user_id, created_at, last_seen, \
    expires, user_agent) VALUES (?, ?, ?, ?, ?, ?)";
const TOUCH_JWT_SESSION: &str =
    "UPDATE jwt_sessions SET last_seen = ?, expires = ? WHERE sid = ? AND expires > ?";
const JWT_SESSION_STATUS: &str = "SELECT j.user_id, j.created_at, u.disabled_at, \
    u.sessions_not_before FROM jwt_sessions j LEFT JOIN users u ON u.id = j.user_id \
    WHERE j.sid = ? AND j.expires > ?";
const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen = ? WHERE session_token = ?";
const DATABASE_SESSIONS_OF_USER: &str = "SELECT session_token, created_at, last_seen, expires, \
    user_agent FROM sessions WHERE user_id = ? AND expires > ?";
const JWT_SESSIONS_OF_USER: &str = "SELECT sid, created_at, last_seen, expires, user_agent \
    FROM jwt_sessions WHERE user_id = ? AND expires > ?";
const DELETE_DATABASE_SESSION: &str = "DELETE FROM sessions WHERE session_token = ?";
const DELETE_JWT_SESSION: &str = "DELETE FROM jwt_sessions WHERE sid = ?";
const SET_NOT_BEFORE: &str = "UPDATE users SET sessions_not_before = ? WHERE id = ?";
/// Takes the user's row lock (SQLite: the write lock) for the rest of the transaction.
const LOCK_USER: &str = "UPDATE users SET id = id WHERE id = ?";
const ACCOUNT_KEYS_OF_USER: &str =
    "SELECT type, provider, provider_account_id, created_at FROM accounts WHERE user_id = ?";
const DELETE_ACCOUNT_OF_USER: &str =
    "DELETE FROM accounts WHERE provider = ? AND provider_account_id = ? AND user_id = ?";
const DELETE_DATABASE_SESSIONS_OF_USER: &str = "DELETE FROM sessions WHERE user_id = ?";
const DELETE_JWT_SESSIONS_OF_USER: &str = "DELETE FROM jwt_sessions WHERE user_id = ?";
const DELETE_OTHER_DATABASE_SESSIONS: &str =
    "DELETE FROM sessions WHERE user_id = ? AND session_token <> ?";
const DELETE_OTHER_JWT_SESSIONS: &str = "DELETE FROM jwt_sessions WHERE user_id = ? AND sid <> ?";
/// The most sessions listed for one user.
const MAX_LISTED_SESSIONS: usize = 1000;

/// The opaque id a session is listed under: derived from what the store keeps (the token's
/// hash, or the `sid`), so listing never hands out anything that opens a session.
pub fn session_id(kind: SessionKind, stored_key: &str) -> String {
    let kind = match kind {
        SessionKind::Database => "database",
        SessionKind::Jwt => "jwt",
    };
    let digest = Sha256::new()
        .chain_update(b"authgate session id\0")
        .chain_update(kind.as_bytes())
        .chain_update(b"\0")
        .chain_update(stored_key.as_bytes())
        .finalize();
    crate::text::lower_hex(&digest[..16])
}

/// A listed session with the key it is stored under.
struct Stored {
    record: SessionRecord,
    key: String,
}

impl SqlStore {
    fn prepared(&self, sql: &str) -> sqlx::SqlStr {
        self.dialect().statement(sql)
    }

    pub(super) async fn set_email_spelling(
        &self,
        id: &str,
        seen: &str,
        email: &str,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(self.prepared(RESPELL_EMAIL))
            .bind(email.to_string())
            .bind(id.to_string())
            .bind(seen.to_string())
            .execute(self.pool())
            .await
            .map_err(classify)?;
        Ok(updated.rows_affected() == 1)
    }

    pub(super) async fn set_disabled(
        &self,
        id: &str,
        disabled_at: Option<i64>,
    ) -> StoreResult<Option<User>> {
        let updated = sqlx::query(self.prepared(SET_DISABLED))
            .bind(disabled_at)
            .bind(id.to_string())
            .execute(self.pool())
            .await
            .map_err(classify)?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        use super::Adapter;
        self.get_user(id).await
    }

    pub(super) async fn users_page(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(self.prepared(LIST_USERS))
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|row| user_from(row, 0))
            .collect::<Result<_, _>>()
            .map_err(classify)
    }

    pub(super) async fn accounts_linked_to(&self, user_id: &str) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query(self.prepared(LINKED_ACCOUNTS))
            .bind(user_id.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|row| {
                Ok(Account {
                    user_id: user_id.to_string(),
                    kind: row.try_get(0)?,
                    provider: row.try_get(1)?,
                    provider_account_id: row.try_get(2)?,
                    linked_at: row.try_get(3)?,
                    ..Account::default()
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(classify)
    }

    pub(super) async fn unlink_keeping(
        &self,
        user_id: &str,
        provider: &str,
        provider_account_id: &str,
        usable_providers: &[String],
        keep_one: bool,
    ) -> StoreResult<UnlinkOutcome> {
        let mut transaction = self.pool().begin().await.map_err(classify)?;
        sqlx::query(self.prepared(LOCK_USER))
            .bind(user_id.to_string())
            .execute(&mut *transaction)
            .await
            .map_err(classify)?;
        let rows = sqlx::query(self.prepared(ACCOUNT_KEYS_OF_USER))
            .bind(user_id.to_string())
            .fetch_all(&mut *transaction)
            .await
            .map_err(classify)?;
        let accounts = rows
            .iter()
            .map(|row| {
                Ok(Account {
                    user_id: user_id.to_string(),
                    kind: row.try_get(0)?,
                    provider: row.try_get(1)?,
                    provider_account_id: row.try_get(2)?,
                    linked_at: row.try_get(3)?,
                    ..Account::default()
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(classify)?;
        let is_target = |account: &Account| {
            account.provider == provider && account.provider_account_id == provider_account_id
        };
        let Some(target) = accounts.iter().find(|account| is_target(account)).cloned() else {
            return Ok(UnlinkOutcome::NotLinked);
        };
        let usable_left = accounts
            .iter()
            .filter(|account| !is_target(account))
            .filter(|account| usable_providers.contains(&account.provider))
            .count();
        if keep_one && usable_left == 0 {
            return Ok(UnlinkOutcome::LastSignInMethod);
        }
        sqlx::query(self.prepared(DELETE_ACCOUNT_OF_USER))
            .bind(provider.to_string())
            .bind(provider_account_id.to_string())
            .bind(user_id.to_string())
            .execute(&mut *transaction)
            .await
            .map_err(classify)?;
        transaction.commit().await.map_err(classify)?;
        Ok(UnlinkOutcome::Unlinked(Box::new(target)))
    }

    pub(super) async fn insert_jwt_session(&self, session: &JwtSession) -> StoreResult<()> {
        sqlx::query(self.prepared(INSERT_JWT_SESSION))
            .bind(session.sid.clone())
            .bind(session.user_id.clone())
            .bind(session.created_at)
            .bind(session.created_at)
            .bind(session.expires)
            .bind(session.user_agent.clone())
            .execute(self.pool())
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub(super) async fn jwt_status(
        &self,
        sid: &str,
        now: i64,
        expires: i64,
    ) -> StoreResult<Option<JwtSessionStatus>> {
        sqlx::query(self.prepared(TOUCH_JWT_SESSION))
            .bind(now)
            .bind(expires)
            .bind(sid.to_string())
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(classify)?;
        let row = sqlx::query(self.prepared(JWT_SESSION_STATUS))
            .bind(sid.to_string())
            .bind(now)
            .fetch_optional(self.pool())
            .await
            .map_err(classify)?;
        row.map(|row| {
            let disabled_at: Option<i64> = row.try_get(2)?;
            Ok(JwtSessionStatus {
                user_id: row.try_get(0)?,
                created_at: row.try_get(1)?,
                disabled: disabled_at.is_some(),
                not_before: row.try_get(3)?,
            })
        })
        .transpose()
        .map_err(classify)
    }

    pub(super) async fn touch(&self, session_token: &str, now: i64) -> StoreResult<()> {
        sqlx::query(self.prepared(TOUCH_SESSION))
            .bind(now)
            .bind(token_digest(session_token))
            .execute(self.pool())
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn stored_sessions(&self, user_id: &str, now: i64) -> StoreResult<Vec<Stored>> {
        let mut sessions = Vec::new();
        for (kind, sql) in [
            (SessionKind::Database, DATABASE_SESSIONS_OF_USER),
            (SessionKind::Jwt, JWT_SESSIONS_OF_USER),
        ] {
            let rows = sqlx::query(self.prepared(sql))
                .bind(user_id.to_string())
                .bind(now)
                .fetch_all(self.pool())
                .await
                .map_err(classify)?;
            for row in rows {
                let key: String = row.try_get(0).map_err(classify)?;
                let record = SessionRecord {
                    id: session_id(kind, &key),
                    kind,
                    user_id: user_id.to_string(),
                    created_at: row.try_get(1).map_err(classify)?,
                    last_seen: row.try_get(2).map_err(classify)?,
                    expires: row.try_get(3).map_err(classify)?,
                    user_agent: row.try_get(4).map_err(classify)?,
                };
                sessions.push(Stored { record, key });
            }
        }
        // Newest first; sessions from before creation times were kept go last.
        sessions.sort_by_key(|stored| std::cmp::Reverse(stored.record.created_at));
        Ok(sessions)
    }

    pub(super) async fn sessions_of(
        &self,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Vec<SessionRecord>> {
        Ok(self
            .stored_sessions(user_id, now)
            .await?
            .into_iter()
            .take(MAX_LISTED_SESSIONS)
            .map(|stored| stored.record)
            .collect())
    }

    pub(super) async fn revoke(
        &self,
        user_id: &str,
        which: Revoke<'_>,
        now: i64,
    ) -> StoreResult<u64> {
        let id = match which {
            Revoke::All => {
                sqlx::query(self.prepared(SET_NOT_BEFORE))
                    .bind(now)
                    .bind(user_id.to_string())
                    .execute(self.pool())
                    .await
                    .map_err(classify)?;
                return self
                    .delete_sessions(
                        [
                            DELETE_DATABASE_SESSIONS_OF_USER,
                            DELETE_JWT_SESSIONS_OF_USER,
                        ],
                        user_id,
                        None,
                    )
                    .await;
            }
            Revoke::One(id) | Revoke::AllBut(id) => id,
        };
        // The opaque id names one stored key of this user's, if any.
        let found = self
            .stored_sessions(user_id, now)
            .await?
            .into_iter()
            .find(|stored| stored.record.id == id);
        match (which, found) {
            (Revoke::One(_), Some(stored)) => {
                let sql = match stored.record.kind {
                    SessionKind::Database => DELETE_DATABASE_SESSION,
                    SessionKind::Jwt => DELETE_JWT_SESSION,
                };
                let deleted = sqlx::query(self.prepared(sql))
                    .bind(stored.key)
                    .execute(self.pool())
                    .await
                    .map_err(classify)?;
                Ok(deleted.rows_affected())
            }
            (Revoke::AllBut(_), Some(stored)) => {
                self.delete_sessions(
                    [DELETE_OTHER_DATABASE_SESSIONS, DELETE_OTHER_JWT_SESSIONS],
                    user_id,
                    Some(&stored.key),
                )
                .await
            }
            // Another user's id, or a session that is gone: nothing of this user's.
            (_, None) | (Revoke::All, _) => Ok(0),
        }
    }

    /// Runs a database-session and a JWT-session bulk delete of `user_id`'s sessions (but
    /// the one stored under `except`); how many went.
    async fn delete_sessions(
        &self,
        statements: [&str; 2],
        user_id: &str,
        except: Option<&str>,
    ) -> StoreResult<u64> {
        let mut deleted = 0;
        for sql in statements {
            let mut query = sqlx::query(self.prepared(sql)).bind(user_id.to_string());
            if let Some(except) = except {
                query = query.bind(except.to_string());
            }
            deleted += query
                .execute(self.pool())
                .await
                .map_err(classify)?
                .rows_affected();
        }
        Ok(deleted)
    }
}
