//! What the store said about each tracked JWT session, kept for `session.revocationStaleness`
//! so that most session reads need no database round trip. Entries are keyed by the
//! session's `sid`. A revocation made by this process sets aside every answer about that
//! user's sessions asked for before it (an epoch per user, so an answer in flight cannot
//! bring a revoked session back); one made by another process is seen within the staleness
//! bound. Both maps are bounded: when full, stale entries go, and if none are stale, all do.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::JwtSessionStatus;

/// The most entries kept, and the most users remembered as forgotten.
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    checked: Instant,
    /// The cache's epoch when the store was asked.
    epoch: u64,
    /// `None`: the store has no such session (revoked or expired).
    status: Option<JwtSessionStatus>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Per user, the epoch at which this process last revoked or disabled something of
    /// theirs: an answer the store gave before then is not used.
    forgotten: HashMap<String, u64>,
    /// The epoch of the last `forget_all`: no answer asked for before it counts.
    floor: u64,
    epoch: u64,
}

impl Inner {
    /// Whether an answer about `status` asked for at `epoch` still counts.
    fn current(&self, status: &Option<JwtSessionStatus>, epoch: u64) -> bool {
        if epoch < self.floor {
            return false;
        }
        status.as_ref().is_none_or(|status| {
            self.forgotten
                .get(&status.user_id)
                .is_none_or(|forgotten| epoch >= *forgotten)
        })
    }
}

/// One per server, kept across reloads.
#[derive(Default)]
pub struct RevocationCache {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for RevocationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationCache").finish_non_exhaustive()
    }
}

impl RevocationCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The epoch to pass to `put` for an answer the store is asked for now.
    pub fn epoch(&self) -> u64 {
        self.inner().epoch
    }

    /// What the store said about `sid` less than `staleness` ago, if it was asked after
    /// this process last changed anything of the session's user.
    pub fn get(&self, sid: &str, staleness: Duration) -> Option<Option<JwtSessionStatus>> {
        let inner = self.inner();
        let entry = inner.entries.get(sid)?;
        (entry.checked.elapsed() < staleness && inner.current(&entry.status, entry.epoch))
            .then(|| entry.status.clone())
    }

    /// Remembers what the store said about `sid` when asked at `epoch`. An answer that a
    /// revocation by this process overtook while it was being fetched is dropped.
    pub fn put(
        &self,
        sid: &str,
        status: Option<JwtSessionStatus>,
        epoch: u64,
        staleness: Duration,
    ) {
        let mut inner = self.inner();
        if !inner.current(&status, epoch) {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES && !inner.entries.contains_key(sid) {
            inner
                .entries
                .retain(|_, entry| entry.checked.elapsed() < staleness);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        inner.entries.insert(
            sid.to_string(),
            Entry {
                checked: Instant::now(),
                epoch,
                status,
            },
        );
    }

    /// Sets aside every answer asked for until now (after the revocation announcements
    /// may have been missed).
    pub fn forget_all(&self) {
        let mut inner = self.inner();
        inner.epoch += 1;
        inner.floor = inner.epoch;
        inner.entries.clear();
    }

    /// After this process revoked or disabled something of `user_id`'s: every answer about
    /// their sessions asked for until now is set aside, in constant time.
    pub fn forget_user(&self, user_id: &str) {
        let mut inner = self.inner();
        inner.epoch += 1;
        if inner.forgotten.len() >= MAX_ENTRIES && !inner.forgotten.contains_key(user_id) {
            // Forgetting everything is always safe: every read asks the store again.
            inner.entries.clear();
            inner.forgotten.clear();
            inner.floor = inner.epoch;
        }
        let epoch = inner.epoch;
        inner.forgotten.insert(user_id.to_string(), epoch);
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
        cache.put("a", status("u1"), cache.epoch(), staleness);
        assert_eq!(cache.get("a", staleness), Some(status("u1")));
        assert_eq!(cache.get("a", Duration::ZERO), None);
        cache.put("gone", None, cache.epoch(), staleness);
        assert_eq!(cache.get("gone", staleness), Some(None));
    }

    #[test]
    fn forgetting_a_user_drops_only_their_entries() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        cache.put("a", status("u1"), cache.epoch(), staleness);
        cache.put("b", status("u2"), cache.epoch(), staleness);
        cache.forget_user("u1");
        assert_eq!(cache.get("a", staleness), None);
        assert_eq!(cache.get("b", staleness), Some(status("u2")));
    }

    #[test]
    fn an_answer_fetched_before_a_revocation_is_not_kept() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        let asked = cache.epoch();
        // The store answered "active", but this process revoked in the meantime.
        cache.forget_user("u1");
        cache.put("a", status("u1"), asked, staleness);
        assert_eq!(cache.get("a", staleness), None);
        // Asked afterwards, the answer counts.
        cache.put("a", status("u1"), cache.epoch(), staleness);
        assert_eq!(cache.get("a", staleness), Some(status("u1")));
    }

    #[test]
    fn forgetting_everything_also_drops_answers_in_flight() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        cache.put("a", status("u1"), cache.epoch(), staleness);
        let asked = cache.epoch();
        cache.forget_all();
        assert_eq!(cache.get("a", staleness), None);
        cache.put("b", status("u2"), asked, staleness);
        assert_eq!(cache.get("b", staleness), None);
        cache.put("b", status("u2"), cache.epoch(), staleness);
        assert_eq!(cache.get("b", staleness), Some(status("u2")));
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        for i in 0..MAX_ENTRIES {
            cache.put(&i.to_string(), None, 0, staleness);
        }
        cache.put("new", status("u"), 0, staleness);
        assert_eq!(cache.get("new", staleness), Some(status("u")));
        assert!(cache.inner().entries.len() <= MAX_ENTRIES);
    }
}
