//! A bounded in-memory cache of encoded tiles, shared by all workers.
//!
//! Entries are evicted oldest-inserted first (FIFO) once the bytes held pass the budget: hot
//! tiles of one snapshot are asked within seconds of each other, and a new snapshot makes the
//! old keys unreachable anyway, so recency tracking would cost a write lock per hit for little.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Bytes of bookkeeping counted per entry besides its body.
const ENTRY_OVERHEAD: usize = 96;

/// A cache of tile bodies keyed by `K`, holding at most a budget of bytes.
#[derive(Debug)]
pub struct TileCache<K> {
    budget: usize,
    inner: Mutex<Inner<K>>,
}

#[derive(Debug)]
struct Inner<K> {
    map: HashMap<K, Arc<[u8]>>,
    order: VecDeque<K>,
    bytes: usize,
    hits: u64,
    misses: u64,
}

/// What the cache holds and how it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries held.
    pub entries: usize,
    /// Bytes held (bodies and bookkeeping).
    pub bytes: usize,
    /// Lookups answered.
    pub hits: u64,
    /// Lookups not answered.
    pub misses: u64,
}

impl<K: Hash + Eq + Clone> TileCache<K> {
    /// A cache holding at most `budget` bytes.
    #[must_use]
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
                hits: 0,
                misses: 0,
            }),
        }
    }

    /// The body cached under `key`.
    pub fn get(&self, key: &K) -> Option<Arc<[u8]>> {
        let mut inner = self.inner.lock().ok()?;
        let found = inner.map.get(key).cloned();
        if found.is_some() {
            inner.hits += 1;
        } else {
            inner.misses += 1;
        }
        found
    }

    /// Caches `body` under `key` (a body larger than the whole budget is not kept).
    pub fn insert(&self, key: K, body: Arc<[u8]>) {
        let size = body.len() + ENTRY_OVERHEAD;
        if size > self.budget {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(old) = inner.map.insert(key.clone(), body) {
            inner.bytes -= old.len() + ENTRY_OVERHEAD;
        } else {
            inner.order.push_back(key);
        }
        inner.bytes += size;
        while inner.bytes > self.budget {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(old) = inner.map.remove(&oldest) {
                inner.bytes -= old.len() + ENTRY_OVERHEAD;
            }
        }
    }

    /// What the cache holds.
    #[must_use]
    pub fn stats(&self) -> CacheStats {
        self.inner.lock().map_or(
            CacheStats {
                entries: 0,
                bytes: 0,
                hits: 0,
                misses: 0,
            },
            |i| CacheStats {
                entries: i.map.len(),
                bytes: i.bytes,
                hits: i.hits,
                misses: i.misses,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize) -> Arc<[u8]> {
        vec![7_u8; n].into()
    }

    #[test]
    fn the_cache_never_holds_more_than_its_budget_and_drops_the_oldest_first() {
        let cache = TileCache::new(10 * (100 + ENTRY_OVERHEAD));
        for k in 0..25_u32 {
            cache.insert(k, body(100));
            assert!(cache.stats().bytes <= 10 * (100 + ENTRY_OVERHEAD));
        }
        let s = cache.stats();
        assert_eq!(s.entries, 10);
        assert!(cache.get(&14).is_none(), "an old entry is gone");
        assert_eq!(cache.get(&24).as_deref(), Some(&body(100)[..]));
        // Replacing an entry does not count it twice.
        cache.insert(24, body(50));
        assert_eq!(
            cache.stats().bytes,
            9 * (100 + ENTRY_OVERHEAD) + 50 + ENTRY_OVERHEAD
        );
        // A body larger than the budget is not kept.
        cache.insert(99, body(10_000));
        assert!(cache.get(&99).is_none());
        let s = cache.stats();
        assert_eq!((s.hits, s.misses), (1, 2));
    }
}
