//! AppSync's server-side cache on moka: resolver results
//! (`FULL_REQUEST_CACHING`, `PER_RESOLVER_CACHING`) or whole query responses
//! (`OPERATION_LEVEL_CACHING`).
//!
//! Choices where AppSync is silent or leaves it to ElastiCache:
//! - Memory is bounded by a byte budget. An entry weighs what it holds on
//!   the heap (its key, its value as allocated, moka's bookkeeping; see
//!   `weight`). The instance types map to local budgets (see `store`), or
//!   `maxSizeBytes` sets one directly (a local extension).
//! - Operation entries hold the serialized response, sent as it is. Beside
//!   them, a memo maps the request as received (query text, operation name,
//!   variables, identity, key headers) to the canonical key computed by the
//!   first full parse, so a repeated request is answered without parsing or
//!   validating it again. Memo entries live in the same store, under the
//!   same budget, and a flush drops them too.
//! - Only query operations are cached; mutation and subscription results,
//!   and any result that carries errors, never are.
//! - `FULL_REQUEST_CACHING` keys every resolver on `$context.arguments`,
//!   `$context.identity` and also `$context.source`, so a nested resolver
//!   never hands one parent's result to another parent.
//! - Concurrent misses for one key run the resolver (or operation) once; the
//!   others wait for its result.
//! - The cache lives with the loaded API: a reload (`serve --watch`) starts
//!   with an empty cache.
//!
//! `store` holds the entries under the budget and their TTLs; `resolver`
//! and `operation` are the two levels that fill it; `key` and `weight`
//! serve them all.

pub mod key;
pub mod metrics;
mod operation;
mod resolver;
mod store;
pub mod weight;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use operation::{MAX_OPERATION_RESPONSE_BYTES, OperationBody};
pub use resolver::{CachingKey, KeySource, ResolverRule};
pub use store::{CacheConfigError, DEFAULT_TTL_SECONDS, instance_budget};

use crate::model::manifest::{CachingBehavior, Manifest};

/// Hit and miss counts for one level.
#[derive(Debug, Default)]
pub struct LevelStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl LevelStats {
    /// Counts a lookup: a miss when it ran the resolver or operation.
    fn count(&self, ran: bool) {
        let counter = if ran { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of the cache's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub resolver_hits: u64,
    pub resolver_misses: u64,
    pub operation_hits: u64,
    pub operation_misses: u64,
    /// The level that stores entries under the API's behavior: `resolver`
    /// (full request and per-resolver caching) or `operation`.
    pub level: &'static str,
    /// Entries removed by `evictFromApiCache`, TTL expiry or the byte budget
    /// (not by a flush).
    pub evictions: u64,
    pub entries: u64,
    pub weighted_bytes: u64,
}

/// The cache of one loaded API.
pub struct ApiCache {
    behavior: CachingBehavior,
    ttl: Duration,
    budget_bytes: u64,
    /// `Type.field` to its rule, for PER_RESOLVER_CACHING (and overrides
    /// under FULL_REQUEST_CACHING).
    rules: HashMap<String, ResolverRule>,
    full_rule: ResolverRule,
    store: store::Store,
    resolver_stats: LevelStats,
    operation_stats: LevelStats,
}

impl std::fmt::Debug for ApiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCache")
            .field("behavior", &self.behavior)
            .field("ttl", &self.ttl)
            .field("budget_bytes", &self.budget_bytes)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl ApiCache {
    /// Builds the cache the manifest asks for; `None` when caching is off.
    pub fn from_manifest(manifest: &Manifest) -> Result<Option<ApiCache>, Vec<CacheConfigError>> {
        let Some(config) = &manifest.caching else {
            return Ok(None);
        };
        if config.enabled == Some(false) {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let ttl = store::ttl_of(
            config.ttl.unwrap_or(DEFAULT_TTL_SECONDS),
            &["caching", "ttl"],
        )
        .unwrap_or_else(|e| {
            problems.push(e);
            Duration::from_secs(u64::from(DEFAULT_TTL_SECONDS))
        });
        let budget_bytes = store::budget_of(config).unwrap_or_else(|e| {
            problems.push(e);
            store::DEFAULT_BUDGET_BYTES
        });
        let rules = resolver::rules_of(manifest, ttl, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Some(ApiCache::new(
            config.behavior,
            ttl,
            budget_bytes,
            rules,
        )))
    }

    /// A cache with explicit settings.
    pub fn new(
        behavior: CachingBehavior,
        ttl: Duration,
        budget_bytes: u64,
        rules: HashMap<String, ResolverRule>,
    ) -> ApiCache {
        ApiCache {
            behavior,
            ttl,
            budget_bytes,
            rules,
            full_rule: ResolverRule::whole_context(ttl),
            store: store::Store::new(budget_bytes),
            resolver_stats: LevelStats::default(),
            operation_stats: LevelStats::default(),
        }
    }

    pub fn behavior(&self) -> CachingBehavior {
        self.behavior
    }

    pub fn budget_bytes(&self) -> u64 {
        self.budget_bytes
    }

    /// Drops every entry, like AppSync's FlushApiCache.
    pub async fn flush(&self) {
        self.store.flush().await;
    }

    pub async fn stats(&self) -> CacheStats {
        let usage = self.store.usage().await;
        CacheStats {
            resolver_hits: self.resolver_stats.hits.load(Ordering::Relaxed),
            resolver_misses: self.resolver_stats.misses.load(Ordering::Relaxed),
            operation_hits: self.operation_stats.hits.load(Ordering::Relaxed),
            operation_misses: self.operation_stats.misses.load(Ordering::Relaxed),
            level: match self.behavior {
                CachingBehavior::OperationLevelCaching => "operation",
                CachingBehavior::FullRequestCaching | CachingBehavior::PerResolverCaching => {
                    "resolver"
                }
            },
            evictions: usage.evictions,
            entries: usage.entries,
            weighted_bytes: usage.weighted_bytes,
        }
    }
}
