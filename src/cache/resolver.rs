//! Resolver-level entries (`FULL_REQUEST_CACHING`, `PER_RESOLVER_CACHING`):
//! caching keys, rules per field, entry keys, and `evictFromApiCache`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value as Json;

use super::store::{CacheConfigError, Entry, Stored, ttl_of};
use super::{ApiCache, key};
use crate::model::manifest::{CachingBehavior, Manifest};

/// AppSync's limit on a resolver's `cachingKeys`.
const MAX_CACHING_KEYS: usize = 25;

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

impl ResolverRule {
    /// `FULL_REQUEST_CACHING`'s rule, and a resolver's when it names no key.
    pub(super) fn whole_context(ttl: Duration) -> ResolverRule {
        let keys = [KeySource::Arguments, KeySource::Source, KeySource::Identity]
            .into_iter()
            .map(|source| CachingKey {
                source,
                path: Vec::new(),
            })
            .collect();
        ResolverRule { ttl, keys }
    }
}

/// The rules of the manifest's resolvers with a `caching` block, by
/// `Type.field`; `ttl` is the API's, for rules without their own.
pub(super) fn rules_of(
    manifest: &Manifest,
    ttl: Duration,
    problems: &mut Vec<CacheConfigError>,
) -> HashMap<String, ResolverRule> {
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
        let key_path = ["resolvers", name, "caching", "keys"];
        let mut keys = Vec::new();
        for text in &caching.keys {
            match CachingKey::parse(text) {
                Some(k) => keys.push(k),
                None => problems.push(CacheConfigError::at(
                    &key_path,
                    format!(
                        "`{text}` is not a caching key; use $context.arguments, $context.source or $context.identity, optionally with a field (e.g. $context.arguments.id)"
                    ),
                )),
            }
        }
        if keys.len() > MAX_CACHING_KEYS {
            problems.push(CacheConfigError::at(
                &key_path,
                format!("AppSync allows at most {MAX_CACHING_KEYS} caching keys"),
            ));
        }
        let rule = if keys.is_empty() {
            ResolverRule::whole_context(rule_ttl)
        } else {
            ResolverRule {
                ttl: rule_ttl,
                keys,
            }
        };
        rules.insert(field_key, rule);
    }
    rules
}

impl ApiCache {
    /// How `Type.field` is cached in a query, if at all.
    pub fn resolver_rule(&self, type_name: &str, field_name: &str) -> Option<&ResolverRule> {
        let rule = self.rules.get(&format!("{type_name}.{field_name}"));
        match self.behavior {
            CachingBehavior::PerResolverCaching => rule,
            CachingBehavior::FullRequestCaching => Some(rule.unwrap_or(&self.full_rule)),
            CachingBehavior::OperationLevelCaching => None,
        }
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
        entry_key(type_name, field_name, &values)
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
            .get_or_try_insert(key, async {
                ran.store(true, Ordering::Relaxed);
                let (value, errors) = run.await;
                if errors.is_empty() {
                    Ok(Arc::new(Entry::new(key_len, Stored::Value(value), ttl)))
                } else {
                    Err((value, errors))
                }
            })
            .await;
        self.resolver_stats.count(ran.load(Ordering::Relaxed));
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
        let key = entry_key(type_name, field_name, &values);
        u64::from(self.store.evict(&key).await)
    }
}

fn entry_key(type_name: &str, field_name: &str, values: &[&Json]) -> String {
    let mut out = format!("resolver\0{type_name}.{field_name}\0");
    key::canonical_json(
        &Json::Array(values.iter().map(|v| (*v).clone()).collect()),
        &mut out,
    );
    out
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
        let key = |arguments: Json, identity: Json| {
            ApiCache::resolver_key("Q", "f", &whole, &arguments, &Json::Null, &identity)
        };
        let k1 = key(
            json!({"a": 1, "b": 2}),
            json!({"sub": "a", "username": "x"}),
        );
        let k2 = key(
            json!({"b": 2, "a": 1}),
            json!({"username": "x", "sub": "a"}),
        );
        let k3 = key(
            json!({"b": 2, "a": 1}),
            json!({"username": "x", "sub": "b"}),
        );
        assert_eq!(k1, k2);
        assert_ne!(k1, k3);
    }

    #[tokio::test]
    async fn evicting_by_caching_keys_drops_only_that_entry() {
        let mut rules = HashMap::new();
        rules.insert("Query.get".to_owned(), rule(&["$context.arguments.id"]));
        let cache = ApiCache::new(
            CachingBehavior::PerResolverCaching,
            Duration::from_secs(60),
            1 << 20,
            rules,
        );
        let get_rule = cache.resolver_rule("Query", "get").expect("cached").clone();
        assert!(cache.resolver_rule("Query", "other").is_none());
        for id in ["1", "2"] {
            let key = ApiCache::resolver_key(
                "Query",
                "get",
                &get_rule,
                &json!({ "id": id }),
                &Json::Null,
                &Json::Null,
            );
            let _: (Json, Vec<()>) = cache
                .resolve(key, get_rule.ttl, async { (json!(id), Vec::new()) })
                .await;
        }
        // A key the rule does not have matches nothing; a second eviction
        // finds nothing left.
        for (name, removed) in [("ctx.source.id", 0), ("ctx.args.id", 1), ("ctx.args.id", 0)] {
            let keys = indexmap::IndexMap::from([(name.to_owned(), json!("1"))]);
            assert_eq!(cache.evict("Query", "get", &keys).await, removed, "{name}");
        }
        let stats = cache.stats().await;
        assert_eq!((stats.entries, stats.evictions), (1, 1));
    }
}
