//! `MeteredAdapter`: wraps any `Adapter` and records every call in the store metrics
//! (operation count, errors by kind, operations in flight), so every store gets the same
//! metrics without each implementation counting its own.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::lookup::{LookupUser, PreparedLookup};
use super::{
    Account, Adapter, HashedVerificationToken, JwtSession, JwtSessionStatus, NewUser, PoolStats,
    Purged, Revoke, Session, SessionRecord, StoreResult, UnlinkOutcome, User, UserPatch,
    VerificationToken,
};
use crate::telemetry::metrics;

/// An `Adapter` that meters the calls it passes to the one it wraps.
pub struct MeteredAdapter {
    inner: Arc<dyn Adapter>,
}

impl MeteredAdapter {
    pub fn new(inner: Arc<dyn Adapter>) -> MeteredAdapter {
        MeteredAdapter { inner }
    }
}

/// Runs `work` as the store operation `operation`: counted, in flight until it ends, and
/// its error (if any) recorded.
async fn metered<T>(
    operation: &'static str,
    work: impl Future<Output = StoreResult<T>>,
) -> StoreResult<T> {
    let in_flight = metrics::store_operation(operation);
    let result = work.await;
    if let Err(error) = &result {
        in_flight.failed(error);
    }
    result
}

#[async_trait]
impl Adapter for MeteredAdapter {
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        metered("create_user", self.inner.create_user(user)).await
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        metered("get_user", self.inner.get_user(id)).await
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        metered("get_user_by_email", self.inner.get_user_by_email(email)).await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<User>> {
        metered(
            "get_user_by_account",
            self.inner
                .get_user_by_account(provider, provider_account_id),
        )
        .await
    }

    async fn update_user(&self, id: &str, patch: UserPatch) -> StoreResult<User> {
        metered("update_user", self.inner.update_user(id, patch)).await
    }

    async fn delete_user(&self, id: &str) -> StoreResult<Option<User>> {
        metered("delete_user", self.inner.delete_user(id)).await
    }

    async fn link_account(&self, account: Account) -> StoreResult<Account> {
        metered("link_account", self.inner.link_account(account)).await
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<Account>> {
        metered(
            "unlink_account",
            self.inner.unlink_account(provider, provider_account_id),
        )
        .await
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> StoreResult<Option<Account>> {
        metered(
            "get_account",
            self.inner.get_account(provider, provider_account_id),
        )
        .await
    }

    async fn get_accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<Account>> {
        metered(
            "get_accounts_of_user",
            self.inner.get_accounts_of_user(user_id),
        )
        .await
    }

    async fn update_account_tokens(&self, account: &Account) -> StoreResult<()> {
        metered(
            "update_account_tokens",
            self.inner.update_account_tokens(account),
        )
        .await
    }

    async fn create_session(&self, session: Session) -> StoreResult<Session> {
        metered("create_session", self.inner.create_session(session)).await
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> StoreResult<Option<(Session, User)>> {
        metered(
            "get_session_and_user",
            self.inner.get_session_and_user(session_token),
        )
        .await
    }

    async fn update_session(
        &self,
        session_token: &str,
        expires: i64,
    ) -> StoreResult<Option<Session>> {
        metered(
            "update_session",
            self.inner.update_session(session_token, expires),
        )
        .await
    }

    async fn delete_session(&self, session_token: &str) -> StoreResult<Option<Session>> {
        metered("delete_session", self.inner.delete_session(session_token)).await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> StoreResult<VerificationToken> {
        metered(
            "create_verification_token",
            self.inner.create_verification_token(token),
        )
        .await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &HashedVerificationToken,
        now: i64,
    ) -> StoreResult<Option<VerificationToken>> {
        metered(
            "use_verification_token",
            self.inner.use_verification_token(identifier, token, now),
        )
        .await
    }

    async fn lookup_user(
        &self,
        lookup: &PreparedLookup,
        fields: &BTreeMap<String, String>,
    ) -> StoreResult<Option<LookupUser>> {
        metered("lookup_user", self.inner.lookup_user(lookup, fields)).await
    }

    async fn set_user_disabled(
        &self,
        id: &str,
        disabled_at: Option<i64>,
    ) -> StoreResult<Option<User>> {
        metered(
            "set_user_disabled",
            self.inner.set_user_disabled(id, disabled_at),
        )
        .await
    }

    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        metered("list_users", self.inner.list_users(limit, offset)).await
    }

    async fn respell_email(&self, id: &str, seen: &str, email: &str) -> StoreResult<bool> {
        metered("respell_email", self.inner.respell_email(id, seen, email)).await
    }

    async fn linked_accounts(&self, user_id: &str) -> StoreResult<Vec<Account>> {
        metered("linked_accounts", self.inner.linked_accounts(user_id)).await
    }

    async fn unlink_account_of_user(
        &self,
        user_id: &str,
        provider: &str,
        provider_account_id: &str,
        usable_providers: &[String],
        keep_one: bool,
    ) -> StoreResult<UnlinkOutcome> {
        metered(
            "unlink_account_of_user",
            self.inner.unlink_account_of_user(
                user_id,
                provider,
                provider_account_id,
                usable_providers,
                keep_one,
            ),
        )
        .await
    }

    async fn create_jwt_session(&self, session: JwtSession) -> StoreResult<()> {
        metered("create_jwt_session", self.inner.create_jwt_session(session)).await
    }

    async fn jwt_session_status(
        &self,
        sid: &str,
        now: i64,
        expires: i64,
    ) -> StoreResult<Option<JwtSessionStatus>> {
        metered(
            "jwt_session_status",
            self.inner.jwt_session_status(sid, now, expires),
        )
        .await
    }

    async fn touch_session(&self, session_token: &str, now: i64) -> StoreResult<()> {
        metered(
            "touch_session",
            self.inner.touch_session(session_token, now),
        )
        .await
    }

    async fn sessions_of_user(&self, user_id: &str, now: i64) -> StoreResult<Vec<SessionRecord>> {
        metered(
            "sessions_of_user",
            self.inner.sessions_of_user(user_id, now),
        )
        .await
    }

    async fn revoke_sessions(
        &self,
        user_id: &str,
        which: Revoke<'_>,
        now: i64,
    ) -> StoreResult<u64> {
        metered(
            "revoke_sessions",
            self.inner.revoke_sessions(user_id, which, now),
        )
        .await
    }

    async fn purge_expired(&self, now: i64) -> StoreResult<Purged> {
        metered("purge_expired", self.inner.purge_expired(now)).await
    }

    async fn ping(&self) -> StoreResult<()> {
        metered("ping", self.inner.ping()).await
    }

    fn pool_stats(&self) -> Option<PoolStats> {
        self.inner.pool_stats()
    }
}
