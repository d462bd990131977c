//! The sessions forward-auth read recently, by the cookies that made them: a proxy asks
//! about every request a page makes (scripts, images, API calls), and reading the session
//! each time (verify, callbacks) would cost what `GET /session` costs. An answer is reused
//! for at most `session.revocationStaleness`, the bound a revocation already has on other
//! processes, and not at all once this process revoked or disabled anything (the revocation
//! cache's epoch moved). Bounded: when full, it starts over.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The most sessions remembered.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    read: Instant,
    epoch: u64,
    session: Option<Value>,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache").finish_non_exhaustive()
    }
}

/// The key of a request's session: its session and CSRF cookies (the binding), hashed.
pub fn key_of(cookies: &[(String, String)], relevant: impl Fn(&str) -> bool) -> Option<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut any = false;
    for (name, value) in cookies.iter().filter(|(name, _)| relevant(name)) {
        any = true;
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    any.then(|| hasher.finalize().into())
}

impl SessionCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session read under `key` less than `ttl` ago at revocation epoch `epoch`.
    pub fn get(&self, key: &[u8; 32], ttl: Duration, epoch: u64) -> Option<Option<Value>> {
        let entries = self.entries();
        let entry = entries.get(key)?;
        (entry.read.elapsed() < ttl && entry.epoch == epoch).then(|| entry.session.clone())
    }

    pub fn put(&self, key: [u8; 32], session: Option<Value>, epoch: u64) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                read: Instant::now(),
                epoch,
                session,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_reused_only_while_fresh_and_no_revocation_happened() {
        let cache = SessionCache::default();
        let key = [7u8; 32];
        let ttl = Duration::from_secs(60);
        cache.put(key, Some(serde_json::json!({"user": {}})), 3);
        assert!(cache.get(&key, ttl, 3).is_some());
        assert!(cache.get(&key, ttl, 4).is_none());
        assert!(cache.get(&key, Duration::ZERO, 3).is_none());
    }

    #[test]
    fn keys_depend_on_the_session_cookies_only() {
        let cookies = |session: &str| {
            vec![
                ("authjs.session-token".to_string(), session.to_string()),
                ("other".to_string(), "x".to_string()),
            ]
        };
        let relevant = |name: &str| name.starts_with("authjs.");
        assert_eq!(
            key_of(&cookies("a"), relevant),
            key_of(&cookies("a"), relevant)
        );
        assert_ne!(
            key_of(&cookies("a"), relevant),
            key_of(&cookies("b"), relevant)
        );
        assert_eq!(key_of(&[], relevant), None);
    }
}
