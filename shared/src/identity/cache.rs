//! The caches in front of identity, with Unikorn's bounds: a container's own (bounded in entries and
//! lifetime), and one shared by every container through the table, so a burst of cold containers
//! asks identity once per token or ACL, not once per container.
//!
//! Keys are SHA-256 digests: no token, subject or organization is stored or logged in clear.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// A cache key: the digest of what it is about, never the thing itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(pub String);

impl CacheKey {
    /// `kind` separates the caches (`token`, `acl`); `parts` are joined unambiguously.
    pub fn of(kind: &str, parts: &[&str]) -> Self {
        let mut hash = Sha256::new();
        hash.update(kind.as_bytes());
        for part in parts {
            hash.update([0u8]);
            hash.update(part.len().to_be_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        CacheKey(format!("{kind}#{}", crate::text::hex(&digest)))
    }
}

/// A bounded cache of values that expire: at most `capacity` entries; when full, expired entries go
/// first, then the oldest inserted.
pub struct TtlCache<V> {
    capacity: usize,
    inner: Mutex<Entries<V>>,
}

struct Entries<V> {
    map: HashMap<CacheKey, (V, DateTime<Utc>)>,
    order: VecDeque<CacheKey>,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(capacity: usize) -> Self {
        TtlCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries { map: HashMap::new(), order: VecDeque::new() }),
        }
    }

    pub fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Option<V> {
        let mut entries = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match entries.map.get(key) {
            Some((value, expires)) if *expires > now => Some(value.clone()),
            Some(_) => {
                entries.map.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: CacheKey, value: V, expires: DateTime<Utc>, now: DateTime<Utc>) {
        let mut entries = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if entries.map.len() >= self.capacity && !entries.map.contains_key(&key) {
            entries.map.retain(|_, (_, e)| *e > now);
            let live: std::collections::HashSet<CacheKey> = entries.map.keys().cloned().collect();
            entries.order.retain(|k| live.contains(k));
            while entries.map.len() >= self.capacity {
                let Some(oldest) = entries.order.pop_front() else { break };
                entries.map.remove(&oldest);
            }
        }
        if entries.map.insert(key.clone(), (value, expires)).is_none() {
            entries.order.push_back(key);
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the shared cache holds for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// The answer (JSON), good until `expires`.
    Ready { value: String, expires: DateTime<Utc> },
    /// A container is asking identity now, and will write the answer by `until`.
    Pending { until: DateTime<Utc> },
}

/// The cache every container shares (the DynamoDB table in AWS). Entries carry their expiry, which
/// readers check themselves (DynamoDB's TTL removes items late).
#[async_trait]
pub trait SharedCache: Send + Sync {
    async fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Result<Option<Shared>, String>;
    /// Claims the right to ask identity for `key` until `until`: true unless another container
    /// holds a live claim or a live answer (one conditional write).
    async fn claim(&self, key: &CacheKey, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, String>;
    async fn put(&self, key: &CacheKey, value: &str, expires: DateTime<Utc>) -> Result<(), String>;
    /// Gives up a claim whose question failed, so waiting containers ask themselves.
    async fn release(&self, key: &CacheKey) -> Result<(), String>;
}

/// No shared cache (each container asks identity on its own).
pub struct NoSharedCache;

#[async_trait]
impl SharedCache for NoSharedCache {
    async fn get(&self, _: &CacheKey, _: DateTime<Utc>) -> Result<Option<Shared>, String> {
        Ok(None)
    }
    async fn claim(&self, _: &CacheKey, _: DateTime<Utc>, _: DateTime<Utc>) -> Result<bool, String> {
        Ok(true)
    }
    async fn put(&self, _: &CacheKey, _: &str, _: DateTime<Utc>) -> Result<(), String> {
        Ok(())
    }
    async fn release(&self, _: &CacheKey) -> Result<(), String> {
        Ok(())
    }
}

/// The shared cache in memory, with the table's semantics (unit tests; one process standing in for
/// many containers).
#[derive(Default)]
pub struct MemorySharedCache {
    items: Mutex<HashMap<CacheKey, Shared>>,
}

impl MemorySharedCache {
    fn items(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Shared>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SharedCache for MemorySharedCache {
    async fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Result<Option<Shared>, String> {
        Ok(self.items().get(key).cloned().filter(|item| match item {
            Shared::Ready { expires, .. } => *expires > now,
            Shared::Pending { until } => *until > now,
        }))
    }
    async fn claim(&self, key: &CacheKey, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, String> {
        let mut items = self.items();
        let live = match items.get(key) {
            Some(Shared::Ready { expires, .. }) => *expires >= now,
            Some(Shared::Pending { until }) => *until >= now,
            None => false,
        };
        if !live {
            items.insert(key.clone(), Shared::Pending { until });
        }
        Ok(!live)
    }
    async fn put(&self, key: &CacheKey, value: &str, expires: DateTime<Utc>) -> Result<(), String> {
        self.items().insert(key.clone(), Shared::Ready { value: value.to_owned(), expires });
        Ok(())
    }
    async fn release(&self, key: &CacheKey) -> Result<(), String> {
        let mut items = self.items();
        if matches!(items.get(key), Some(Shared::Pending { .. })) {
            items.remove(key);
        }
        Ok(())
    }
}

/// One question per key at a time within a container: concurrent requests for the same token wait
/// for the first one's answer instead of asking identity again.
#[derive(Default)]
pub struct SingleFlight {
    locks: Mutex<HashMap<CacheKey, Weak<tokio::sync::Mutex<()>>>>,
}

impl SingleFlight {
    pub async fn lock(&self, key: &CacheKey) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.retain(|_, weak| weak.strong_count() > 0);
            match locks.get(key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(key.clone(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_digests_that_never_show_what_they_key() {
        let key = CacheKey::of("token", &["secret-token"]);
        assert!(!key.0.contains("secret"));
        assert_eq!(key.0.len(), "token#".len() + 64);
        assert_ne!(CacheKey::of("acl", &["ab", "c"]), CacheKey::of("acl", &["a", "bc"]));
        assert_eq!(key, CacheKey::of("token", &["secret-token"]));
    }

    #[test]
    fn entries_expire_and_the_cache_stays_within_its_bound() {
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(60);
        let cache = TtlCache::new(3);
        for i in 0..10 {
            cache.put(CacheKey::of("t", &[&i.to_string()]), i, later, now);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&CacheKey::of("t", &["9"]), now), Some(9), "the newest stays");
        assert_eq!(cache.get(&CacheKey::of("t", &["0"]), now), None, "the oldest went");
        assert_eq!(cache.get(&CacheKey::of("t", &["9"]), later), None, "expired at its lifetime");
    }
}
