//! The `shared_state` table, for `state.backend: database`: values with an expiry in Unix
//! milliseconds, read and written with compare-and-set so that concurrent instances never
//! lose each other's writes. Rare next to session reads, so each statement is prepared for
//! the dialect when it runs.

use sqlx::Row;

use super::StoreError;
use super::StoreResult;
use super::dialect::Dialect;
use super::sql::{SqlStore, classify};

const GET: &str = "SELECT value, expires_at FROM shared_state WHERE state_key = ?";
const INSERT: &str = "INSERT INTO shared_state (state_key, value, expires_at) VALUES (?, ?, ?)";
const REPLACE: &str =
    "UPDATE shared_state SET value = ?, expires_at = ? WHERE state_key = ? AND value = ?";
const UPSERT: &str = "INSERT INTO shared_state (state_key, value, expires_at) VALUES (?, ?, ?) \
    ON CONFLICT (state_key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at";
const UPSERT_MYSQL: &str = "INSERT INTO shared_state (state_key, value, expires_at) \
    VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value), expires_at = VALUES(expires_at)";
const DELETE: &str = "DELETE FROM shared_state WHERE state_key = ?";
const RELEASE: &str = "DELETE FROM shared_state WHERE state_key = ? AND value = ?";
const DELETE_EXPIRED_KEY: &str = "DELETE FROM shared_state WHERE state_key = ? AND expires_at <= ?";
pub(super) const PURGE: &str = "DELETE FROM shared_state WHERE expires_at <= ?";

/// A stored value and when it expires (Unix milliseconds), expired or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateEntry {
    pub value: String,
    pub expires_at: i64,
}

impl SqlStore {
    fn shared(&self, sql: &str) -> sqlx::SqlStr {
        self.dialect().statement(sql)
    }

    /// The entry under `key`, expired or not.
    pub async fn state_entry(&self, key: &str) -> StoreResult<Option<StateEntry>> {
        let row = sqlx::query(self.shared(GET))
            .bind(key.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(classify)?;
        row.map(|row| {
            Ok(StateEntry {
                value: row.try_get(0).map_err(classify)?,
                expires_at: row.try_get(1).map_err(classify)?,
            })
        })
        .transpose()
    }

    /// Writes `value` under `key` when the entry is still `current` (`None`: when there is
    /// none); whether it was written.
    pub async fn state_compare_and_set(
        &self,
        key: &str,
        current: Option<&str>,
        value: &str,
        expires_at: i64,
    ) -> StoreResult<bool> {
        let written = match current {
            None => sqlx::query(self.shared(INSERT))
                .bind(key.to_string())
                .bind(value.to_string())
                .bind(expires_at)
                .execute(self.pool())
                .await
                .map_err(classify),
            Some(current) => sqlx::query(self.shared(REPLACE))
                .bind(value.to_string())
                .bind(expires_at)
                .bind(key.to_string())
                .bind(current.to_string())
                .execute(self.pool())
                .await
                .map_err(classify),
        };
        match written {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Writes `value` under `key` unless an unexpired entry is there; whether it was.
    pub async fn state_insert_if_absent(
        &self,
        key: &str,
        value: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        sqlx::query(self.shared(DELETE_EXPIRED_KEY))
            .bind(key.to_string())
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(classify)?;
        self.state_compare_and_set(key, None, value, expires_at)
            .await
    }

    /// Writes `value` under `key`, whatever was there.
    pub async fn state_put(&self, key: &str, value: &str, expires_at: i64) -> StoreResult<()> {
        let sql = match self.dialect() {
            Dialect::MySql => UPSERT_MYSQL,
            Dialect::Sqlite | Dialect::Postgres => UPSERT,
        };
        sqlx::query(self.shared(sql))
            .bind(key.to_string())
            .bind(value.to_string())
            .bind(expires_at)
            .execute(self.pool())
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Deletes `key` only while it holds `value`.
    pub async fn state_release(&self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(self.shared(RELEASE))
            .bind(key.to_string())
            .bind(value.to_string())
            .execute(self.pool())
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub async fn state_delete(&self, key: &str) -> StoreResult<()> {
        sqlx::query(self.shared(DELETE))
            .bind(key.to_string())
            .execute(self.pool())
            .await
            .map_err(classify)?;
        Ok(())
    }
}
