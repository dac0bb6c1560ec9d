//! The API keys this process has recently seen accepted, so that a request
//! with a known key does not ask the database again (on SQLite that query
//! is a round trip to a connection's thread and back: a third of what a
//! published event cost at ordinary rates, `docs/BENCHMARKS.md`).
//!
//! Correctness rests on three rules:
//! - a revocation through this process empties the cache after its commit
//!   and before it answers, and bumps a generation, so a lookup that read
//!   the key before the revocation cannot put it back afterwards;
//! - an entry is trusted for `TRUST_FOR` at most, which bounds how long a
//!   change made outside this process (another process on the same SQLite
//!   file, an operator's SQL) goes unseen;
//! - on PostgreSQL, where other processes revoke keys as a matter of
//!   course, there is no cache: every request asks the database.
//!
//! Only accepted keys are kept (by their SHA-256, never the key itself), so
//! requests with made-up keys cannot fill it; it is bounded all the same.

use super::api_keys::KeyOwner;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long an accepted key is trusted without asking the database again.
const TRUST_FOR: Duration = Duration::from_secs(5);
/// Entries kept at most; when full, the cache starts again empty.
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
pub struct KeyCache(Option<Arc<Mutex<Inner>>>);

#[derive(Default)]
struct Inner {
    generation: u64,
    entries: HashMap<String, (KeyOwner, Instant)>,
}

/// Taken before a database lookup; `remember` keeps the answer only if no
/// revocation happened since.
#[derive(Clone, Copy, Debug)]
pub struct Generation(Option<u64>);

impl KeyCache {
    pub fn enabled() -> Self {
        Self(Some(Arc::default()))
    }

    pub fn disabled() -> Self {
        Self(None)
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Inner>> {
        // The critical sections cannot leave the map half-changed.
        self.0.as_ref().map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The owner of the key with this hash, if it was accepted recently;
    /// otherwise the generation to pass to `remember` after asking the database.
    pub fn get(&self, key_hash: &str) -> Result<KeyOwner, Generation> {
        let Some(mut inner) = self.lock() else { return Err(Generation(None)) };
        match inner.entries.get(key_hash) {
            Some((owner, at)) if at.elapsed() < TRUST_FOR => Ok(owner.clone()),
            Some(_) => {
                inner.entries.remove(key_hash);
                Err(Generation(Some(inner.generation)))
            }
            None => Err(Generation(Some(inner.generation))),
        }
    }

    /// Keeps an accepted key, unless a revocation happened since `seen`.
    pub fn remember(&self, seen: Generation, key_hash: String, owner: KeyOwner) {
        let (Some(mut inner), Some(seen)) = (self.lock(), seen.0) else { return };
        if inner.generation != seen {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(key_hash, (owner, Instant::now()));
    }

    /// After a revocation committed: nothing cached before it is trusted again.
    pub fn revoked(&self) {
        if let Some(mut inner) = self.lock() {
            inner.generation += 1;
            inner.entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ResourceId, Vertical};
    use crate::storage::accounts::Account;

    fn owner() -> KeyOwner {
        KeyOwner {
            key_id: "k".into(),
            account: Account {
                id: ResourceId::parse("0123456789abcdef01234567").expect("id"),
                email: "a@example.com".into(),
                is_admin: false,
                vertical: Vertical::Flightrates,
            },
        }
    }

    #[test]
    fn a_remembered_key_is_found_and_a_revocation_forgets_it() {
        let cache = KeyCache::enabled();
        let seen = cache.get("h").expect_err("empty at first");
        cache.remember(seen, "h".into(), owner());
        assert_eq!(cache.get("h").map(|o| o.key_id).ok().as_deref(), Some("k"));
        cache.revoked();
        assert!(cache.get("h").is_err());
    }

    #[test]
    fn a_lookup_that_began_before_a_revocation_is_not_remembered() {
        let cache = KeyCache::enabled();
        let seen = cache.get("h").expect_err("empty at first");
        cache.revoked();
        cache.remember(seen, "h".into(), owner());
        assert!(cache.get("h").is_err(), "the stale answer must not be kept");
    }

    #[test]
    fn a_disabled_cache_remembers_nothing() {
        let cache = KeyCache::disabled();
        let seen = cache.get("h").expect_err("empty");
        cache.remember(seen, "h".into(), owner());
        assert!(cache.get("h").is_err());
    }
}
