//! The store under every kind of entry: one moka cache bounded by a byte
//! budget, with a TTL per entry, and the configuration of both.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache;
use serde_json::Value as Json;

use super::weight;
use crate::model::manifest::CachingConfig;

/// AppSync's default TTL when none is given. AppSync requires one; the
/// serverless plugin defaults it to 3600 s.
pub const DEFAULT_TTL_SECONDS: u32 = 3600;
pub(super) const MIB: u64 = 1024 * 1024;
/// The budget when the manifest names neither a size nor an instance type.
pub(super) const DEFAULT_BUDGET_BYTES: u64 = 64 * MIB;

/// Local byte budgets for AppSync's cache instance types. The cloud sizes
/// (1.5 GB to 317 GB of Redis) make no sense on a laptop, so they start at
/// 64 MiB and double with each size; LARGE_12X is 1.5 times LARGE_8X, as in
/// the cloud. The legacy T2_*/R4_* types map to their current equivalents.
pub fn instance_budget(instance_type: &str) -> Option<u64> {
    let mib = match instance_type {
        "SMALL" | "T2_SMALL" => 64,
        "MEDIUM" | "T2_MEDIUM" => 128,
        "LARGE" | "R4_LARGE" => 256,
        "XLARGE" | "R4_XLARGE" => 512,
        "LARGE_2X" | "R4_2XLARGE" => 1024,
        "LARGE_4X" | "R4_4XLARGE" => 2048,
        "LARGE_8X" | "R4_8XLARGE" => 4096,
        "LARGE_12X" => 6144,
        _ => return None,
    };
    Some(mib * MIB)
}

/// A configuration problem, reported against the manifest key path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CacheConfigError {
    pub key_path: Vec<String>,
    pub message: String,
}

impl CacheConfigError {
    pub(super) fn at(key_path: &[&str], message: String) -> CacheConfigError {
        CacheConfigError {
            key_path: key_path.iter().map(|s| (*s).to_owned()).collect(),
            message,
        }
    }
}

/// AppSync accepts TTLs from 1 to 3600 seconds.
pub(super) fn ttl_of(seconds: u32, key_path: &[&str]) -> Result<Duration, CacheConfigError> {
    if (1..=3600).contains(&seconds) {
        Ok(Duration::from_secs(u64::from(seconds)))
    } else {
        Err(CacheConfigError::at(
            key_path,
            format!("ttl must be between 1 and 3600 seconds, not {seconds}"),
        ))
    }
}

/// `maxSizeBytes` (a local extension) wins over the instance type.
pub(super) fn budget_of(config: &CachingConfig) -> Result<u64, CacheConfigError> {
    if let Some(bytes) = config.max_size_bytes {
        return Ok(bytes);
    }
    match config.instance_type.as_deref() {
        None => Ok(DEFAULT_BUDGET_BYTES),
        Some(name) => instance_budget(name).ok_or_else(|| {
            CacheConfigError::at(
                &["caching", "type"],
                format!(
                    "unknown cache instance type `{name}`; use SMALL, MEDIUM, LARGE, XLARGE, LARGE_2X, LARGE_4X, LARGE_8X or LARGE_12X"
                ),
            )
        }),
    }
}

pub(super) struct Entry {
    pub(super) stored: Stored,
    ttl: Duration,
    weight: u32,
}

pub(super) enum Stored {
    /// A resolver's result.
    Value(Json),
    /// A whole response to a query, serialized: `{"data":...}`.
    Response(Bytes),
    /// A memo: the canonical key of an operation entry.
    Memo(Arc<str>),
}

impl Entry {
    /// `key_capacity` is the heap the entry's key string holds.
    pub(super) fn new(key_capacity: usize, stored: Stored, ttl: Duration) -> Entry {
        let value = match &stored {
            Stored::Value(value) => weight::json(value),
            // `Bytes` made from a `Vec` keeps its exact allocation.
            Stored::Response(body) => weight::block(body.len()),
            // The shared key's block, with the two counters of its `Arc`.
            Stored::Memo(key) => weight::block(key.len() + 2 * size_of::<usize>()),
        };
        let size = weight::string(key_capacity)
            + value
            + weight::block(size_of::<Entry>() + 2 * size_of::<usize>())
            + weight::ENTRY_OVERHEAD;
        let weight = u32::try_from(size).unwrap_or(u32::MAX);
        Entry {
            stored,
            ttl,
            weight,
        }
    }
}

struct PerEntryTtl;

impl Expiry<String, Arc<Entry>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<Entry>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The entries of one API's cache, weighed against its byte budget.
pub(super) struct Store {
    entries: Cache<String, Arc<Entry>>,
    /// Entries removed by `evictFromApiCache`, TTL expiry or the budget.
    evictions: Arc<AtomicU64>,
}

/// What the store holds right now.
pub(super) struct Usage {
    pub(super) entries: u64,
    pub(super) weighted_bytes: u64,
    pub(super) evictions: u64,
}

impl Store {
    pub(super) fn new(budget_bytes: u64) -> Store {
        let evictions = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&evictions);
        let entries = Cache::builder()
            .max_capacity(budget_bytes)
            .weigher(|_key: &String, entry: &Arc<Entry>| entry.weight)
            .expire_after(PerEntryTtl)
            .eviction_listener(move |_key, _value, cause| {
                if cause.was_evicted() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        Store { entries, evictions }
    }

    /// The entry under `key`, or the one `init` makes, run once however many
    /// callers miss together; an `Err` is shared with them and not stored.
    pub(super) async fn get_or_try_insert<F, E>(
        &self,
        key: String,
        init: F,
    ) -> Result<Arc<Entry>, Arc<E>>
    where
        F: Future<Output = Result<Arc<Entry>, E>>,
        E: Send + Sync + 'static,
    {
        self.entries.try_get_with(key, init).await
    }

    pub(super) async fn get(&self, key: &str) -> Option<Arc<Entry>> {
        self.entries.get(key).await
    }

    pub(super) async fn insert(&self, key: String, entry: Entry) {
        self.entries.insert(key, Arc::new(entry)).await;
    }

    /// Removes one entry on request (`evictFromApiCache`); counts as an
    /// eviction when there was one.
    pub(super) async fn evict(&self, key: &str) -> bool {
        let removed = self.entries.remove(key).await.is_some();
        if removed {
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
        removed
    }

    /// Drops every entry; a flush is not an eviction.
    pub(super) async fn flush(&self) {
        self.entries.invalidate_all();
        self.entries.run_pending_tasks().await;
    }

    /// Settles moka's pending work first, so the counts are current.
    pub(super) async fn usage(&self) -> Usage {
        self.entries.run_pending_tasks().await;
        Usage {
            entries: self.entries.entry_count(),
            weighted_bytes: self.entries.weighted_size(),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::cache::ApiCache;
    use crate::model::manifest::CachingBehavior;

    #[test]
    fn instance_types_have_doubling_budgets() {
        assert_eq!(instance_budget("SMALL"), Some(64 * MIB));
        assert_eq!(instance_budget("T2_MEDIUM"), Some(128 * MIB));
        assert_eq!(instance_budget("LARGE_8X"), Some(4096 * MIB));
        assert_eq!(instance_budget("LARGE_12X"), Some(6144 * MIB));
        assert_eq!(instance_budget("HUGE"), None);
    }

    #[test]
    fn ttls_outside_appsyncs_range_name_their_key() {
        assert_eq!(ttl_of(1, &["caching", "ttl"]), Ok(Duration::from_secs(1)));
        assert_eq!(
            ttl_of(3600, &["caching", "ttl"]),
            Ok(Duration::from_secs(3600))
        );
        let error = ttl_of(3601, &["caching", "ttl"]).expect_err("too long");
        assert_eq!(error.key_path, ["caching", "ttl"]);
        assert!(ttl_of(0, &["caching", "ttl"]).is_err());
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_memory() {
        let cache = ApiCache::new(
            CachingBehavior::PerResolverCaching,
            Duration::from_secs(60),
            10_000,
            HashMap::new(),
        );
        for i in 0..200 {
            let _: (Json, Vec<()>) = cache
                .resolve(format!("k{i}"), Duration::from_secs(60), async {
                    (json!("x".repeat(500)), Vec::new())
                })
                .await;
        }
        let stats = cache.stats().await;
        assert!(stats.weighted_bytes <= 10_000, "{stats:?}");
        assert!(stats.evictions > 0, "{stats:?}");
        assert_eq!(stats.resolver_misses, 200);
    }

    #[tokio::test]
    async fn evicting_counts_only_entries_that_were_there() {
        let store = Store::new(1 << 20);
        let ttl = Duration::from_secs(60);
        store
            .insert("k".into(), Entry::new(1, Stored::Value(json!(1)), ttl))
            .await;
        assert!(store.evict("k").await);
        assert!(!store.evict("k").await);
        store
            .insert("k".into(), Entry::new(1, Stored::Value(json!(1)), ttl))
            .await;
        store.flush().await;
        let usage = store.usage().await;
        assert_eq!((usage.entries, usage.evictions), (0, 1));
    }
}
