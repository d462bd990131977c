//! What the store said about each tracked JWT session, kept for `session.revocationStaleness`
//! so that most session reads need no database round trip. Entries are keyed by the
//! session's `sid`. A revocation made by this process sets aside every answer about that
//! user's sessions asked for before it (an epoch per user, so an answer in flight cannot
//! bring a revoked session back); one made by another process is seen within the staleness
//! bound. Both maps are swept of what no longer counts each time they double, so memory
//! follows the sessions read within the staleness window rather than every session ever
//! read; and both are bounded: when full, stale entries go, and if none are stale, all do.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::JwtSessionStatus;

/// The most entries kept, and the most users remembered as forgotten.
const MAX_ENTRIES: usize = 100_000;

/// The fewest entries (and forgotten users) at which a sweep runs.
const MIN_SWEEP: usize = 1024;

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
    forgotten: HashMap<String, Forgotten>,
    /// The epoch of the last `forget_all`: no answer asked for before it counts.
    floor: u64,
    /// The epoch of the last sweep that let go of a forgotten user: an answer asked for
    /// before it is not kept, since it may be about one of them.
    swept: u64,
    epoch: u64,
    /// The count of entries and forgotten users at which the next sweep runs.
    next_sweep: usize,
}

struct Forgotten {
    epoch: u64,
    at: Instant,
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
                .is_none_or(|forgotten| epoch >= forgotten.epoch)
        })
    }

    /// Lets go of entries older than `staleness`, and of users forgotten longer ago than
    /// that. An entry about a user forgotten at epoch E with an epoch below E was put
    /// before the user was forgotten (later puts are refused), so it is older than the
    /// record and goes in the same sweep; an answer still in flight from before the sweep
    /// is refused by `swept`.
    fn sweep(&mut self, staleness: Duration) {
        // One reading of the clock for both maps: an entry older than a record it sits
        // under must go whenever the record goes.
        let now = Instant::now();
        let fresh = |since: Instant| now.saturating_duration_since(since) < staleness;
        self.entries.retain(|_, entry| fresh(entry.checked));
        let forgotten = self.forgotten.len();
        self.forgotten.retain(|_, forgotten| fresh(forgotten.at));
        if self.forgotten.len() < forgotten {
            self.epoch += 1;
            self.swept = self.epoch;
        }
        let kept = self.entries.len() + self.forgotten.len();
        self.next_sweep = (2 * kept).max(MIN_SWEEP);
        // A burst leaves a table sized for it; give the room back once it is mostly empty.
        if self.entries.capacity() > 4 * self.next_sweep {
            self.entries.shrink_to(self.next_sweep);
        }
        if self.forgotten.capacity() > 4 * self.next_sweep {
            self.forgotten.shrink_to(self.next_sweep);
        }
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
        if epoch < inner.swept || !inner.current(&status, epoch) {
            return;
        }
        if inner.entries.len() + inner.forgotten.len() >= inner.next_sweep.max(MIN_SWEEP) {
            inner.sweep(staleness);
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
        let forgotten = Forgotten {
            epoch,
            at: Instant::now(),
        };
        inner.forgotten.insert(user_id.to_string(), forgotten);
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
    fn stale_entries_and_forgotten_users_are_swept_as_the_cache_grows() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_millis(50);
        for i in 0..MIN_SWEEP / 2 {
            cache.put(&format!("old{i}"), status("u"), cache.epoch(), staleness);
            cache.forget_user(&format!("gone{i}"));
        }
        std::thread::sleep(staleness);
        let asked = cache.epoch();
        cache.put("fresh", status("u2"), cache.epoch(), staleness);
        {
            let inner = cache.inner();
            assert_eq!(inner.entries.len(), 1, "only the fresh entry is left");
            assert!(inner.forgotten.is_empty());
            assert_eq!(inner.next_sweep, MIN_SWEEP);
        }
        assert_eq!(cache.get("fresh", staleness), Some(status("u2")));
        // An answer asked for before the sweep may be about a user it let go of: not kept.
        cache.put("in flight", status("gone0"), asked, staleness);
        assert_eq!(cache.get("in flight", staleness), None);
        cache.put("in flight", status("gone0"), cache.epoch(), staleness);
        assert_eq!(cache.get("in flight", staleness), Some(status("gone0")));
    }

    #[test]
    fn a_sweep_keeps_what_is_fresh_and_what_is_forgotten() {
        let cache = RevocationCache::default();
        let staleness = Duration::from_secs(60);
        cache.forget_user("u1");
        for i in 0..MIN_SWEEP {
            cache.put(&i.to_string(), status("u2"), cache.epoch(), staleness);
        }
        cache.put("after", status("u2"), cache.epoch(), staleness);
        let inner = cache.inner();
        assert_eq!(inner.entries.len(), MIN_SWEEP + 1);
        assert!(inner.forgotten.contains_key("u1"));
        assert_eq!(inner.next_sweep, 2 * MIN_SWEEP);
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
