//! What the store said about each tracked JWT session, kept for `session.revocationStaleness`
//! so that most session reads need no database round trip. Entries are keyed by the
//! session's `sid`. A revocation made by this process forgets the user's entries at once;
//! one made by another process is seen within the staleness bound. The map is bounded:
//! when full, stale entries go, and if none are stale, all of them do.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::JwtSessionStatus;

/// The most entries kept.
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    checked: Instant,
    /// `None`: the store has no such session (revoked or expired).
    status: Option<JwtSessionStatus>,
}

/// One per server, kept across reloads.
#[derive(Default)]
pub struct RevocationCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for RevocationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationCache").finish_non_exhaustive()
    }
}

impl RevocationCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the store said about `sid` less than `staleness` ago, if it was asked.
    pub fn get(&self, sid: &str, staleness: Duration) -> Option<Option<JwtSessionStatus>> {
        let entries = self.entries();
        let entry = entries.get(sid)?;
        (entry.checked.elapsed() < staleness).then(|| entry.status.clone())
    }

    /// Remembers what the store just said about `sid`.
    pub fn put(&self, sid: &str, status: Option<JwtSessionStatus>, staleness: Duration) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(sid) {
            entries.retain(|_, entry| entry.checked.elapsed() < staleness);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            sid.to_string(),
            Entry {
                checked: Instant::now(),
                status,
            },
        );
    }

    /// Forgets every entry of `user_id`, after this process revoked or disabled something
    /// of theirs: their next reads ask the store.
    pub fn forget_user(&self, user_id: &str) {
        self.entries().retain(|_, entry| {
            entry
                .status
                .as_ref()
                .is_none_or(|status| status.user_id != user_id)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(user: &str) -> Option<JwtSessionStatus> {
        Some(JwtSessionStatus {
            user_id: user.into(),
            created_at: 1,
            disabled: false,
            not_before: None,
        })
    }

    #[test]
    fn entries_are_reused_only_while_fresh() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        assert_eq!(cache.get("a", staleness), None);
        cache.put("a", status("u1"), staleness);
        assert_eq!(cache.get("a", staleness), Some(status("u1")));
        assert_eq!(cache.get("a", Duration::ZERO), None);
        cache.put("gone", None, staleness);
        assert_eq!(cache.get("gone", staleness), Some(None));
    }

    #[test]
    fn forgetting_a_user_drops_only_their_entries() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        cache.put("a", status("u1"), staleness);
        cache.put("b", status("u2"), staleness);
        cache.forget_user("u1");
        assert_eq!(cache.get("a", staleness), None);
        assert_eq!(cache.get("b", staleness), Some(status("u2")));
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        for i in 0..MAX_ENTRIES {
            cache.put(&i.to_string(), None, staleness);
        }
        cache.put("new", status("u"), staleness);
        assert_eq!(cache.get("new", staleness), Some(status("u")));
        assert!(cache.entries().len() <= MAX_ENTRIES);
    }
}
