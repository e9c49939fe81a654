//! AppSync's server-side cache on moka: resolver results
//! (`FULL_REQUEST_CACHING`, `PER_RESOLVER_CACHING`) or whole query responses
//! (`OPERATION_LEVEL_CACHING`).
//!
//! Choices where AppSync is silent or leaves it to ElastiCache:
//! - Memory is bounded by a byte budget. An entry weighs what it holds on
//!   the heap (its key, its value as allocated, moka's bookkeeping; see
//!   `weight`). The instance types map to local budgets (below), or
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

pub mod key;
pub mod metrics;
pub mod weight;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition};
use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache;
use serde_json::{Map, Value as Json};

use crate::graphql::GraphQLResponse;
use crate::model::manifest::{CachingBehavior, CachingConfig, Manifest};

/// AppSync's default TTL when none is given. AppSync requires one; the
/// serverless plugin defaults it to 3600 s.
pub const DEFAULT_TTL_SECONDS: u32 = 3600;
/// The largest operation response AppSync caches.
pub const MAX_OPERATION_RESPONSE_BYTES: usize = 15 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

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

/// Which map a caching key reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Arguments,
    Source,
    Identity,
}

/// One of a resolver's `cachingKeys`, e.g. `$context.arguments.id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachingKey {
    pub source: KeySource,
    /// Empty for a whole map.
    pub path: Vec<String>,
}

impl CachingKey {
    /// Reads `$context.arguments.x`, `$ctx.args.x`, `ctx.source.x` (the
    /// spelling `evictFromApiCache` uses), `$context.identity.sub`, or a
    /// whole map.
    pub fn parse(text: &str) -> Option<CachingKey> {
        let text = text.trim();
        let text = text.strip_prefix('$').unwrap_or(text);
        let rest = text
            .strip_prefix("context.")
            .or_else(|| text.strip_prefix("ctx."))?;
        let mut parts = rest.split('.');
        let source = match parts.next()? {
            "arguments" | "args" => KeySource::Arguments,
            "source" => KeySource::Source,
            "identity" => KeySource::Identity,
            _ => return None,
        };
        let path: Vec<String> = parts.map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            return None;
        }
        Some(CachingKey { source, path })
    }

    fn read<'v>(&self, arguments: &'v Json, source: &'v Json, identity: &'v Json) -> &'v Json {
        static NULL: Json = Json::Null;
        let mut value = match self.source {
            KeySource::Arguments => arguments,
            KeySource::Source => source,
            KeySource::Identity => identity,
        };
        for part in &self.path {
            value = value.get(part.as_str()).unwrap_or(&NULL);
        }
        value
    }
}

/// How one resolver is cached.
#[derive(Debug, Clone)]
pub struct ResolverRule {
    pub ttl: Duration,
    pub keys: Vec<CachingKey>,
}

fn default_keys() -> Vec<CachingKey> {
    [KeySource::Arguments, KeySource::Source, KeySource::Identity]
        .into_iter()
        .map(|source| CachingKey {
            source,
            path: Vec::new(),
        })
        .collect()
}

/// A configuration problem, reported against the manifest key path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CacheConfigError {
    pub key_path: Vec<String>,
    pub message: String,
}

fn ttl_of(seconds: u32, key_path: &[&str]) -> Result<Duration, CacheConfigError> {
    if (1..=3600).contains(&seconds) {
        Ok(Duration::from_secs(u64::from(seconds)))
    } else {
        Err(CacheConfigError {
            key_path: key_path.iter().map(|s| (*s).to_owned()).collect(),
            message: format!("ttl must be between 1 and 3600 seconds, not {seconds}"),
        })
    }
}

struct Entry {
    stored: Stored,
    ttl: Duration,
    weight: u32,
}

enum Stored {
    /// A resolver's result.
    Value(Json),
    /// A whole response to a query, serialized: `{"data":...}`.
    Response(Bytes),
    /// A memo: the canonical key of an operation entry.
    Memo(Arc<str>),
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

/// Hit and miss counts for one level.
#[derive(Debug, Default)]
pub struct LevelStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
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

/// A serialized operation response from [`ApiCache::resolve_operation`].
#[derive(Debug, Clone)]
pub struct OperationBody {
    pub body: Bytes,
    /// The cache holds it under the operation key.
    pub stored: bool,
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
    store: Cache<String, Arc<Entry>>,
    resolver_stats: LevelStats,
    operation_stats: LevelStats,
    evictions: Arc<AtomicU64>,
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
        let ttl = ttl_of(
            config.ttl.unwrap_or(DEFAULT_TTL_SECONDS),
            &["caching", "ttl"],
        )
        .unwrap_or_else(|e| {
            problems.push(e);
            Duration::from_secs(u64::from(DEFAULT_TTL_SECONDS))
        });
        let budget_bytes = budget_of(config).unwrap_or_else(|e| {
            problems.push(e);
            64 * MIB
        });
        let mut rules = HashMap::new();
        for (name, resolver) in &manifest.resolvers {
            let Some(caching) = &resolver.caching else {
                continue;
            };
            let field_key = match (&resolver.type_name, &resolver.field) {
                (Some(t), Some(f)) => format!("{t}.{f}"),
                _ => name.clone(),
            };
            let rule_ttl = match caching.ttl {
                Some(seconds) => ttl_of(seconds, &["resolvers", name, "caching", "ttl"])
                    .unwrap_or_else(|e| {
                        problems.push(e);
                        ttl
                    }),
                None => ttl,
            };
            let mut keys = Vec::new();
            for text in &caching.keys {
                match CachingKey::parse(text) {
                    Some(k) => keys.push(k),
                    None => problems.push(CacheConfigError {
                        key_path: ["resolvers", name, "caching", "keys"]
                            .map(str::to_owned)
                            .to_vec(),
                        message: format!(
                            "`{text}` is not a caching key; use $context.arguments, $context.source or $context.identity, optionally with a field (e.g. $context.arguments.id)"
                        ),
                    }),
                }
            }
            if keys.len() > 25 {
                problems.push(CacheConfigError {
                    key_path: ["resolvers", name, "caching", "keys"]
                        .map(str::to_owned)
                        .to_vec(),
                    message: "AppSync allows at most 25 caching keys".into(),
                });
            }
            if keys.is_empty() {
                keys = default_keys();
            }
            rules.insert(
                field_key,
                ResolverRule {
                    ttl: rule_ttl,
                    keys,
                },
            );
        }
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
        let evictions = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&evictions);
        let store = Cache::builder()
            .max_capacity(budget_bytes)
            .weigher(|_key: &String, entry: &Arc<Entry>| entry.weight)
            .expire_after(PerEntryTtl)
            .eviction_listener(move |_key, _value, cause| {
                if cause.was_evicted() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        ApiCache {
            behavior,
            ttl,
            budget_bytes,
            rules,
            full_rule: ResolverRule {
                ttl,
                keys: default_keys(),
            },
            store,
            resolver_stats: LevelStats::default(),
            operation_stats: LevelStats::default(),
            evictions,
        }
    }

    pub fn behavior(&self) -> CachingBehavior {
        self.behavior
    }

    pub fn budget_bytes(&self) -> u64 {
        self.budget_bytes
    }

    /// How `Type.field` is cached in a query, if at all.
    pub fn resolver_rule(&self, type_name: &str, field_name: &str) -> Option<&ResolverRule> {
        let rule = self.rules.get(&format!("{type_name}.{field_name}"));
        match self.behavior {
            CachingBehavior::PerResolverCaching => rule,
            CachingBehavior::FullRequestCaching => Some(rule.unwrap_or(&self.full_rule)),
            CachingBehavior::OperationLevelCaching => None,
        }
    }

    pub fn caches_operations(&self) -> bool {
        self.behavior == CachingBehavior::OperationLevelCaching
    }

    /// The entry key for a resolver run: the field and its caching-key
    /// values, in the rule's order.
    pub fn resolver_key(
        type_name: &str,
        field_name: &str,
        rule: &ResolverRule,
        arguments: &Json,
        source: &Json,
        identity: &Json,
    ) -> String {
        let values: Vec<&Json> = rule
            .keys
            .iter()
            .map(|k| k.read(arguments, source, identity))
            .collect();
        build_resolver_key(type_name, field_name, &values)
    }

    /// Returns the cached result for `key`, or runs `run` once however many
    /// callers miss together, and stores its result when it has no errors.
    pub async fn resolve<E, F>(&self, key: String, ttl: Duration, run: F) -> (Json, Vec<E>)
    where
        E: Clone + Send + Sync + 'static,
        F: Future<Output = (Json, Vec<E>)>,
    {
        let ran = AtomicBool::new(false);
        let key_len = key.capacity();
        let outcome = self
            .store
            .try_get_with(key, async {
                ran.store(true, Ordering::Relaxed);
                let (value, errors) = run.await;
                if errors.is_empty() {
                    Ok(Arc::new(Entry::new(key_len, Stored::Value(value), ttl)))
                } else {
                    Err((value, errors))
                }
            })
            .await;
        self.count(&self.resolver_stats, ran.load(Ordering::Relaxed));
        match outcome {
            Ok(entry) => match &entry.stored {
                Stored::Value(value) => (value.clone(), Vec::new()),
                // Resolver keys start with `resolver\0`, so they never
                // name another kind of entry.
                Stored::Response(_) | Stored::Memo(_) => (Json::Null, Vec::new()),
            },
            Err(failed) => {
                // Errors are never stored; waiters share the one result.
                let (value, errors) = &*failed;
                (value.clone(), errors.clone())
            }
        }
    }

    /// The entry key for a whole query: its normalized text, operation name,
    /// variables, identity (without `sourceIp`) and non-reserved headers.
    pub fn operation_key(
        doc: &ExecutableDocument,
        op: &OperationDefinition,
        operation_name: Option<&str>,
        variables: &Map<String, Json>,
        identity: &Json,
        headers: &[(String, String)],
    ) -> String {
        let mut out = String::from("operation\0");
        out.push_str(&key::normalized_operation(doc, op));
        out.push('\0');
        out.push_str(operation_name.unwrap_or(""));
        out.push('\0');
        key::canonical_json(&Json::Object(variables.clone()), &mut out);
        out.push('\0');
        key::canonical_json(&without_source_ip(identity), &mut out);
        let mut kept: Vec<&(String, String)> =
            headers.iter().filter(|(name, _)| !reserved(name)).collect();
        // A stable sort keeps a repeated header's values in order.
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in kept {
            out.push('\0');
            out.push_str(name);
            out.push(':');
            out.push_str(value);
        }
        out
    }

    /// Like [`resolve`](Self::resolve) for whole responses: `run` gives the
    /// response's `data` and whether it may be cached; the result is the
    /// serialized response, and whether the cache holds it (a response over
    /// 15 MB is served, not kept, so no memo should lead to it).
    pub async fn resolve_operation<T, F>(&self, key: String, run: F) -> Result<OperationBody, T>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<Json, T>>,
    {
        let ran = AtomicBool::new(false);
        let key_len = key.capacity();
        let ttl = self.ttl;
        let outcome = self
            .store
            .try_get_with(key, async {
                ran.store(true, Ordering::Relaxed);
                match run.await {
                    Ok(data) => {
                        let body = serialize_data(data);
                        if body.len() > MAX_OPERATION_RESPONSE_BYTES {
                            // Too large for AppSync's cache: served, not kept.
                            Err(Ok(body))
                        } else {
                            Ok(Arc::new(Entry::new(key_len, Stored::Response(body), ttl)))
                        }
                    }
                    Err(response) => Err(Err(response)),
                }
            })
            .await;
        self.count(&self.operation_stats, ran.load(Ordering::Relaxed));
        let body = match outcome {
            Ok(entry) => match &entry.stored {
                Stored::Response(body) => body.clone(),
                // Operation keys start with `operation\0`, so they never
                // name another kind of entry.
                Stored::Value(data) => serialize_data(data.clone()),
                Stored::Memo(_) => serialize_data(Json::Null),
            },
            Err(failed) => {
                return (*failed).clone().map(|body| OperationBody {
                    body,
                    stored: false,
                });
            }
        };
        Ok(OperationBody { body, stored: true })
    }

    /// The memo of a request as received: everything the operation key is
    /// computed from, before parsing. Two spellings of one query have two
    /// memos that lead to one entry. Fields are length-prefixed, so no text
    /// can spill into the next field.
    pub fn memo_key(
        query: &str,
        operation_name: Option<&str>,
        variables: Option<&Map<String, Json>>,
        identity: &Json,
        headers: &[(String, String)],
    ) -> String {
        use std::io::Write as _;
        let mut out = Vec::with_capacity(query.len() + 64);
        out.extend_from_slice(b"memo\0");
        let _ = write!(out, "{}:{query}", query.len());
        match operation_name {
            Some(name) => {
                let _ = write!(out, "{}:{name}", name.len());
            }
            None => out.push(b'-'),
        }
        // JSON texts end where their brackets close (strings are escaped).
        match variables {
            Some(v) if !v.is_empty() => {
                let _ = serde_json::to_writer(&mut out, v);
            }
            _ => out.extend_from_slice(b"{}"),
        }
        if identity.is_null() {
            out.extend_from_slice(b"null");
        } else {
            let mut text = String::new();
            key::canonical_json(&without_source_ip(identity), &mut text);
            out.extend_from_slice(text.as_bytes());
        }
        for (name, value) in headers.iter().filter(|(name, _)| !reserved(name)) {
            // Header values never hold a NUL byte.
            out.push(0);
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
        }
        // Everything written is UTF-8 text.
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The serialized response for a request seen before, when its entry is
    /// still cached: the fast path, which never parses the query.
    pub async fn lookup_memo(&self, memo: &str) -> Option<Bytes> {
        let entry = self.store.get(memo).await?;
        let Stored::Memo(key) = &entry.stored else {
            return None;
        };
        let entry = self.store.get(&**key).await?;
        let Stored::Response(body) = &entry.stored else {
            return None;
        };
        self.operation_stats.hits.fetch_add(1, Ordering::Relaxed);
        Some(body.clone())
    }

    /// Records that requests spelled as `memo` have the operation key `key`.
    pub async fn remember(&self, memo: String, key: Arc<str>) {
        let memo_len = memo.capacity();
        let weight = weight::block(key.len() + 2 * size_of::<usize>());
        let mut entry = Entry::new(memo_len, Stored::Memo(key), self.ttl);
        entry.weight = entry
            .weight
            .saturating_add(u32::try_from(weight).unwrap_or(u32::MAX));
        self.store.insert(memo, Arc::new(entry)).await;
    }

    /// `$extensions.evictFromApiCache`: removes the entry of `Type.field`
    /// whose caching keys have the given values; returns how many went.
    /// `keys` names each caching key as `ctx.args.id` (or any spelling
    /// [`CachingKey::parse`] reads); a key of the rule that is not named
    /// matches nothing.
    pub async fn evict(
        &self,
        type_name: &str,
        field_name: &str,
        keys: &indexmap::IndexMap<String, Json>,
    ) -> u64 {
        let Some(rule) = self.resolver_rule(type_name, field_name) else {
            return 0;
        };
        let given: Vec<(CachingKey, &Json)> = keys
            .iter()
            .filter_map(|(name, value)| CachingKey::parse(name).map(|k| (k, value)))
            .collect();
        let mut values = Vec::with_capacity(rule.keys.len());
        for wanted in &rule.keys {
            match given.iter().find(|(k, _)| k == wanted) {
                Some((_, value)) => values.push(*value),
                None => return 0,
            }
        }
        let entry_key = build_resolver_key(type_name, field_name, &values);
        match self.store.remove(&entry_key).await {
            Some(_) => {
                self.evictions.fetch_add(1, Ordering::Relaxed);
                1
            }
            None => 0,
        }
    }

    /// Drops every entry, like AppSync's FlushApiCache.
    pub async fn flush(&self) {
        self.store.invalidate_all();
        self.store.run_pending_tasks().await;
    }

    pub async fn stats(&self) -> CacheStats {
        self.store.run_pending_tasks().await;
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
            evictions: self.evictions.load(Ordering::Relaxed),
            entries: self.store.entry_count(),
            weighted_bytes: self.store.weighted_size(),
        }
    }

    fn count(&self, stats: &LevelStats, ran: bool) {
        let counter = if ran { &stats.misses } else { &stats.hits };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Entry {
    /// `key_capacity` is the heap the entry's key string holds.
    fn new(key_capacity: usize, stored: Stored, ttl: Duration) -> Entry {
        let value = match &stored {
            Stored::Value(value) => weight::json(value),
            // `Bytes` made from a `Vec` keeps its exact allocation.
            Stored::Response(body) => weight::block(body.len()),
            // Counted by `remember`, which knows the shared key's size.
            Stored::Memo(_) => 0,
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

/// The body of a response with `data` and nothing else, serialized as the
/// HTTP layer serializes any [`GraphQLResponse`].
fn serialize_data(data: Json) -> Bytes {
    let response = GraphQLResponse {
        data: Some(data),
        ..GraphQLResponse::default()
    };
    // A `Value` has only string keys, so serializing cannot fail.
    let mut body = serde_json::to_vec(&response).unwrap_or_default();
    // Shrinking keeps the entry's heap exact (`Bytes` keeps a `Vec`'s
    // spare capacity).
    body.shrink_to_fit();
    Bytes::from(body)
}

/// AppSync leaves the caller's address out of the operation key.
fn without_source_ip(identity: &Json) -> Json {
    let mut identity = identity.clone();
    if let Json::Object(map) = &mut identity {
        map.remove("sourceIp");
    }
    identity
}

fn budget_of(config: &CachingConfig) -> Result<u64, CacheConfigError> {
    if let Some(bytes) = config.max_size_bytes {
        return Ok(bytes);
    }
    match config.instance_type.as_deref() {
        None => Ok(64 * MIB),
        Some(name) => instance_budget(name).ok_or_else(|| CacheConfigError {
            key_path: vec!["caching".into(), "type".into()],
            message: format!(
                "unknown cache instance type `{name}`; use SMALL, MEDIUM, LARGE, XLARGE, LARGE_2X, LARGE_4X, LARGE_8X or LARGE_12X"
            ),
        }),
    }
}

fn build_resolver_key(type_name: &str, field_name: &str, values: &[&Json]) -> String {
    let mut out = format!("resolver\0{type_name}.{field_name}\0");
    key::canonical_json(
        &Json::Array(values.iter().map(|v| (*v).clone()).collect()),
        &mut out,
    );
    out
}

/// Headers left out of the operation key. AppSync names authorization, host,
/// x-forwarded-for and cloudfront-*; the others describe the connection or
/// the signature rather than the request (a SigV4 date changes on every
/// call), `content-type`/`content-encoding` describe the body's encoding,
/// not the query, `accept` negotiates a response that is always JSON (so
/// clients that send different values share entries), and `cookie` is never
/// visible to resolvers. `x-api-key`
/// is a credential like `authorization`, and the identity is in the key.
fn reserved(name: &str) -> bool {
    matches!(
        name,
        "authorization"
            | "host"
            | "x-forwarded-for"
            | "x-forwarded-proto"
            | "x-forwarded-port"
            | "x-api-key"
            | "x-amz-date"
            | "x-amz-security-token"
            | "x-amz-content-sha256"
            | "x-amzn-trace-id"
            | "content-length"
            | "content-type"
            | "content-encoding"
            | "accept"
            | "accept-encoding"
            | "connection"
            | "keep-alive"
            | "te"
            | "cookie"
    ) || name.starts_with("cloudfront-")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(keys: &[&str]) -> ResolverRule {
        ResolverRule {
            ttl: Duration::from_secs(60),
            keys: keys.iter().filter_map(|k| CachingKey::parse(k)).collect(),
        }
    }

    #[test]
    fn caching_keys_accept_every_spelling() {
        let a = CachingKey::parse("$context.arguments.id");
        assert_eq!(a, CachingKey::parse("$ctx.args.id"));
        assert_eq!(a, CachingKey::parse("ctx.args.id"));
        assert_eq!(
            CachingKey::parse("$context.identity"),
            Some(CachingKey {
                source: KeySource::Identity,
                path: vec![]
            })
        );
        assert_eq!(CachingKey::parse("$context.stash.id"), None);
        assert_eq!(CachingKey::parse("arguments.id"), None);
        assert_eq!(CachingKey::parse("$context.arguments..id"), None);
    }

    #[test]
    fn identities_never_share_a_key() {
        let r = rule(&["$context.arguments.id", "$context.identity.sub"]);
        let args = json!({"id": "1"});
        let alice = ApiCache::resolver_key("Q", "f", &r, &args, &Json::Null, &json!({"sub": "a"}));
        let bob = ApiCache::resolver_key("Q", "f", &r, &args, &Json::Null, &json!({"sub": "b"}));
        assert_ne!(alice, bob);
        // Whole-map keys too, and argument order never matters.
        let whole = rule(&["$context.arguments", "$context.identity"]);
        let k1 = ApiCache::resolver_key(
            "Q",
            "f",
            &whole,
            &json!({"a": 1, "b": 2}),
            &Json::Null,
            &json!({"sub": "a", "username": "x"}),
        );
        let k2 = ApiCache::resolver_key(
            "Q",
            "f",
            &whole,
            &json!({"b": 2, "a": 1}),
            &Json::Null,
            &json!({"username": "x", "sub": "a"}),
        );
        let k3 = ApiCache::resolver_key(
            "Q",
            "f",
            &whole,
            &json!({"b": 2, "a": 1}),
            &Json::Null,
            &json!({"username": "x", "sub": "b"}),
        );
        assert_eq!(k1, k2);
        assert_ne!(k1, k3);
    }

    #[test]
    fn instance_types_have_doubling_budgets() {
        assert_eq!(instance_budget("SMALL"), Some(64 * MIB));
        assert_eq!(instance_budget("T2_MEDIUM"), Some(128 * MIB));
        assert_eq!(instance_budget("LARGE_8X"), Some(4096 * MIB));
        assert_eq!(instance_budget("LARGE_12X"), Some(6144 * MIB));
        assert_eq!(instance_budget("HUGE"), None);
    }

    #[test]
    fn reserved_headers_stay_out_of_operation_keys() {
        assert!(reserved("authorization"));
        assert!(reserved("cloudfront-viewer-country"));
        assert!(reserved("accept"));
        assert!(!reserved("x-tenant"));
    }

    #[test]
    fn operation_keys_split_by_identity_but_not_by_source_ip() {
        let doc = async_graphql::parser::parse_query("{ a(x: 1, y: 2) }").expect("valid");
        let (_, op) = doc.operations.iter().next().expect("one operation");
        let key = |identity: Json, headers: &[(&str, &str)]| {
            let headers: Vec<(String, String)> = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            ApiCache::operation_key(&doc, &op.node, None, &Map::new(), &identity, &headers)
        };
        let alice = key(json!({"sub": "a", "sourceIp": ["1.1.1.1"]}), &[]);
        assert_eq!(
            alice,
            key(json!({"sourceIp": ["2.2.2.2"], "sub": "a"}), &[])
        );
        assert_ne!(
            alice,
            key(json!({"sub": "b", "sourceIp": ["1.1.1.1"]}), &[])
        );
        let plain = key(
            Json::Null,
            &[("authorization", "x"), ("x-a", "1"), ("x-b", "2")],
        );
        assert_eq!(plain, key(Json::Null, &[("x-b", "2"), ("x-a", "1")]));
        assert_ne!(plain, key(Json::Null, &[("x-a", "1")]));
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

    fn operation_cache(budget: u64) -> ApiCache {
        ApiCache::new(
            CachingBehavior::OperationLevelCaching,
            Duration::from_secs(60),
            budget,
            HashMap::new(),
        )
    }

    #[tokio::test]
    async fn distinct_operations_and_memos_stay_within_the_budget() {
        let budget = 256 * 1024;
        let cache = operation_cache(budget);
        for i in 0..5_000_usize {
            let key = format!("operation\0{{item(id:{i}){{id name}}}}");
            let shared: Arc<str> = Arc::from(key.as_str());
            let data = json!({"item": {"id": i.to_string(), "name": "x".repeat(i % 300)}});
            let answer = cache
                .resolve_operation::<(), _>(key, async move { Ok(data) })
                .await;
            assert!(answer.is_ok_and(|a| a.stored));
            cache.remember(format!("memo\0{i}"), shared).await;
            if i % 500 == 0 {
                let stats = cache.stats().await;
                assert!(stats.weighted_bytes <= budget, "{stats:?}");
            }
        }
        let stats = cache.stats().await;
        assert!(stats.weighted_bytes <= budget, "{stats:?}");
        assert!(stats.entries > 100, "{stats:?}");
        assert!(stats.evictions > 0, "{stats:?}");
        assert_eq!(stats.operation_misses, 5_000);
    }

    #[tokio::test]
    async fn memos_lead_to_the_entry_until_it_goes() {
        let cache = operation_cache(1 << 20);
        let key = "operation\0{a}".to_owned();
        let shared: Arc<str> = Arc::from(key.as_str());
        let answer = cache
            .resolve_operation::<(), _>(key, async { Ok(json!({"a": 1})) })
            .await
            .expect("an answer");
        assert_eq!(&answer.body[..], br#"{"data":{"a":1}}"#);
        assert!(answer.stored);
        assert_eq!(cache.lookup_memo("memo\0x").await, None);
        cache.remember("memo\0x".into(), shared).await;
        assert_eq!(
            cache.lookup_memo("memo\0x").await.as_deref(),
            Some(&br#"{"data":{"a":1}}"#[..])
        );
        assert_eq!(cache.stats().await.operation_hits, 1);
        cache.flush().await;
        assert_eq!(cache.lookup_memo("memo\0x").await, None);
    }

    #[tokio::test]
    async fn responses_over_15_mb_are_served_but_not_kept() {
        let cache = operation_cache(64 << 20);
        let big = "x".repeat(MAX_OPERATION_RESPONSE_BYTES);
        for _ in 0..2 {
            let answer = cache
                .resolve_operation::<(), _>("operation\0{big}".to_owned(), async {
                    Ok(json!({ "big": big }))
                })
                .await
                .expect("an answer");
            assert!(answer.body.len() > MAX_OPERATION_RESPONSE_BYTES);
            assert!(!answer.stored);
        }
        let stats = cache.stats().await;
        assert_eq!((stats.entries, stats.operation_misses), (0, 2));
    }

    #[test]
    fn memo_keys_separate_every_part() {
        let key = |query: &str, name: Option<&str>, vars: Json, headers: &[(&str, &str)]| {
            let headers: Vec<(String, String)> = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            ApiCache::memo_key(query, name, vars.as_object(), &Json::Null, &headers)
        };
        let base = key("{a}", None, json!({}), &[]);
        assert_eq!(base, key("{a}", None, Json::Null, &[("x-api-key", "k")]));
        assert_ne!(base, key("{a}", Some("A"), json!({}), &[]));
        assert_ne!(base, key("{a}", None, json!({"x": 1}), &[]));
        assert_ne!(base, key("{a}", None, json!({}), &[("x-tenant", "1")]));
        // A query cannot pose as a query plus an operation name.
        assert_ne!(
            key("{a}1:B", None, json!({}), &[]),
            key("{a}", Some("B"), json!({}), &[])
        );
    }
}
