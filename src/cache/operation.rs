//! Operation-level entries (`OPERATION_LEVEL_CACHING`): whole query
//! responses, serialized, under a canonical key, and the memos that lead a
//! request as received to that key without parsing it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition};
use bytes::Bytes;
use serde_json::{Map, Value as Json};

use super::store::{Entry, Stored};
use super::{ApiCache, key};
use crate::graphql::GraphQLResponse;
use crate::model::manifest::CachingBehavior;

/// The largest operation response AppSync caches.
pub const MAX_OPERATION_RESPONSE_BYTES: usize = 15 * 1024 * 1024;

/// A serialized operation response from [`ApiCache::resolve_operation`].
#[derive(Debug, Clone)]
pub struct OperationBody {
    pub body: Bytes,
    /// The cache holds it under the operation key.
    pub stored: bool,
}

impl ApiCache {
    pub fn caches_operations(&self) -> bool {
        self.behavior == CachingBehavior::OperationLevelCaching
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
            .get_or_try_insert(key, async {
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
        self.operation_stats.count(ran.load(Ordering::Relaxed));
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
        let entry = self.store.get(key).await?;
        let Stored::Response(body) = &entry.stored else {
            return None;
        };
        self.operation_stats.hits.fetch_add(1, Ordering::Relaxed);
        Some(body.clone())
    }

    /// Records that requests spelled as `memo` have the operation key `key`.
    pub async fn remember(&self, memo: String, key: Arc<str>) {
        let entry = Entry::new(memo.capacity(), Stored::Memo(key), self.ttl);
        self.store.insert(memo, entry).await;
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
    use std::collections::HashMap;
    use std::time::Duration;

    use serde_json::json;

    use super::*;

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
