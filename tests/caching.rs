//! AppSync's server-side cache against the real server: resolver caching
//! (per resolver and full request), operation caching, TTL, eviction from a
//! mutation, flush and coalescing. Data-source calls are read from
//! `GET /metrics`, the way a user would check that a hit never reached the
//! data source.

mod common;

use async_graphql::futures_util::future::join_all;
use common::{start, wait_until};
use serde_json::json;

#[tokio::test]
async fn per_resolver_cache_hits_and_splits_by_argument() {
    let c = start("caching_resolver").await;
    let first = c.query(r#"{ item(id: "1", kind: "a") { id kind } }"#).await;
    assert_eq!(first, json!({"data": {"item": {"id": "1", "kind": "a"}}}));
    // Whitespace and argument order do not split the entry.
    let again = c.query("{item(kind:\"a\"\n id:\"1\"){id kind}}").await;
    assert_eq!(again, first);
    assert_eq!(c.calls("Query.item", "none").await, 1);
    // A different value of a caching key is a different entry.
    let other = c.query(r#"{ item(id: "2", kind: "a") { id kind } }"#).await;
    assert_eq!(other, json!({"data": {"item": {"id": "2", "kind": "a"}}}));
    let other_kind = c.query(r#"{ item(id: "1", kind: "b") { id kind } }"#).await;
    assert_eq!(
        other_kind,
        json!({"data": {"item": {"id": "1", "kind": "b"}}})
    );
    assert_eq!(c.calls("Query.item", "none").await, 3);
    assert_eq!(
        c.metric("appsync_cache_hits_total{level=\"resolver\"}")
            .await,
        1
    );
    assert_eq!(
        c.metric("appsync_cache_misses_total{level=\"resolver\"}")
            .await,
        3
    );
    assert_eq!(
        c.metric("appsync_cache_entries{level=\"resolver\"}").await,
        3
    );
    assert!(c.metric("appsync_cache_weighted_size_bytes").await > 0);
    // A resolver without a caching block always runs.
    for _ in 0..2 {
        c.query(r#"{ uncached(id: "1") { id } }"#).await;
    }
    assert_eq!(c.calls("Query.uncached", "none").await, 2);
}

#[tokio::test]
async fn ttl_expires_entries() {
    let c = start("caching_resolver").await;
    let q = r#"{ shortItem(id: "1") { id } }"#;
    c.query(q).await;
    c.query(q).await;
    assert_eq!(c.calls("Query.shortItem", "none").await, 1);
    // The entry lives 1 s (AppSync's shortest TTL): each query until then
    // is a hit, the first one after it runs the resolver once more.
    wait_until("the entry to expire", async || {
        assert_eq!(
            c.query(q).await,
            json!({"data": {"shortItem": {"id": "1"}}})
        );
        c.calls("Query.shortItem", "none").await == 2
    })
    .await;
    assert_eq!(c.calls("Query.shortItem", "none").await, 2);
}

#[tokio::test]
async fn errors_and_mutations_are_never_cached() {
    let c = start("caching_resolver").await;
    for _ in 0..2 {
        let response = c.query(r#"{ failing(id: "1") { id } }"#).await;
        assert_eq!(response["data"], json!({"failing": null}));
        assert_eq!(response["errors"][0]["errorType"], "Failure");
    }
    assert_eq!(c.calls("Query.failing", "none").await, 2);
    for _ in 0..2 {
        c.query(r#"mutation { updateItem(id: "9") { id } }"#).await;
    }
    assert_eq!(c.calls("Mutation.updateItem", "none").await, 2);
}

#[tokio::test]
async fn a_mutation_evicts_the_entry_it_names() {
    let c = start("caching_resolver").await;
    c.query(r#"{ item(id: "1", kind: "a") { id } }"#).await;
    c.query(r#"{ item(id: "2", kind: "a") { id } }"#).await;
    assert_eq!(c.calls("Query.item", "none").await, 2);

    let evicted = c
        .query(r#"mutation { updateItem(id: "1", kind: "a") { id } }"#)
        .await;
    assert_eq!(
        evicted,
        json!({"data": {"updateItem": {"id": "1"}}, "extensions": {"apiCacheEntriesDeleted": 1}})
    );
    // Nothing left to delete the second time.
    let again = c
        .query(r#"mutation { updateItem(id: "1", kind: "a") { id } }"#)
        .await;
    assert_eq!(again["extensions"], json!({"apiCacheEntriesDeleted": 0}));

    // The evicted entry runs again; the other one is still cached.
    c.query(r#"{ item(id: "1", kind: "a") { id } }"#).await;
    c.query(r#"{ item(id: "2", kind: "a") { id } }"#).await;
    assert_eq!(c.calls("Query.item", "none").await, 3);
    assert_eq!(
        c.metric("appsync_cache_evictions_total{level=\"resolver\"}")
            .await,
        1
    );
}

#[tokio::test]
async fn queries_cannot_evict() {
    let c = start("caching_resolver").await;
    c.query(r#"{ item(id: "1", kind: "a") { id } }"#).await;
    let response = c
        .query(r#"{ evictingQuery(id: "1", kind: "a") { id } }"#)
        .await;
    // No extension: the request is ignored, as AppSync does.
    assert_eq!(response, json!({"data": {"evictingQuery": {"id": "1"}}}));
    c.query(r#"{ item(id: "1", kind: "a") { id } }"#).await;
    assert_eq!(c.calls("Query.item", "none").await, 1);
    assert_eq!(
        c.metric("appsync_cache_evictions_total{level=\"resolver\"}")
            .await,
        0
    );
}

#[tokio::test]
async fn flush_empties_the_cache() {
    let c = start("caching_resolver").await;
    let q = r#"{ item(id: "1", kind: "a") { id } }"#;
    c.query(q).await;
    assert_eq!(
        c.metric("appsync_cache_entries{level=\"resolver\"}").await,
        1
    );

    let flushed = c
        .call(reqwest::Method::DELETE, "/v1/apis/anything/FlushCache", "")
        .await;
    assert_eq!(flushed, (200, json!({})));
    assert_eq!(
        c.metric("appsync_cache_entries{level=\"resolver\"}").await,
        0
    );
    c.query(q).await;
    assert_eq!(c.calls("Query.item", "none").await, 2);

    let (status, _) = c.admin("/admin/flush-cache", "").await;
    assert_eq!(status, 200);
    c.query(q).await;
    assert_eq!(c.calls("Query.item", "none").await, 3);
}

#[tokio::test]
async fn the_flush_cache_command_flushes_a_running_server() {
    let c = start("caching_resolver").await;
    c.query(r#"{ item(id: "1", kind: "a") { id } }"#).await;
    assert_eq!(
        c.metric("appsync_cache_entries{level=\"resolver\"}").await,
        1
    );
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["flush-cache", "--url"])
        .arg(c.base_url())
        .output()
        .await
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        c.metric("appsync_cache_entries{level=\"resolver\"}").await,
        0
    );
}

#[tokio::test]
async fn concurrent_misses_call_the_data_source_once() {
    let c = start("caching_resolver").await;
    let q = r#"{ slowItem(id: "1") { id } }"#;
    let responses = join_all((0..20).map(|_| c.query(q))).await;
    for response in responses {
        assert_eq!(response, json!({"data": {"slowItem": {"id": "1"}}}));
    }
    assert_eq!(c.calls("Query.slowItem", "slow").await, 1);
}

#[tokio::test]
async fn full_request_caching_keeps_nested_results_per_parent() {
    let c = start("caching_full").await;
    let q = r#"{ a: item(id: "1") { id detail } b: item(id: "2") { id detail } }"#;
    let expected = json!({"data": {
        "a": {"id": "1", "detail": "detail of 1"},
        "b": {"id": "2", "detail": "detail of 2"}
    }});
    assert_eq!(c.query(q).await, expected);
    assert_eq!(c.query(q).await, expected);
    assert_eq!(c.calls("Query.item", "none").await, 2);
    assert_eq!(c.calls("Item.detail", "none").await, 2);
}

#[tokio::test]
async fn operation_cache_hits_with_reordered_arguments() {
    let c = start("caching_operation").await;
    let first = c
        .query_with(
            "query Get($id: ID!) { item(id: $id, kind: \"a\") { id kind } }",
            json!({"id": "1"}),
            &[],
        )
        .await;
    assert_eq!(first, json!({"data": {"item": {"id": "1", "kind": "a"}}}));
    let again = c
        .query_with(
            "query Get($id: ID!) {\n  item(kind: \"a\", id: $id) {\n    id\n    kind\n  }\n}",
            json!({"id": "1"}),
            &[],
        )
        .await;
    assert_eq!(again, first);
    assert_eq!(c.calls("Query.item", "none").await, 1);
    assert_eq!(
        c.metric("appsync_cache_hits_total{level=\"operation\"}")
            .await,
        1
    );

    // Other variables and other non-reserved headers are other entries;
    // reserved headers are not part of the key.
    let q = "query Get($id: ID!) { item(id: $id, kind: \"a\") { id kind } }";
    c.query_with(q, json!({"id": "2"}), &[]).await;
    c.query_with(q, json!({"id": "1"}), &[("x-tenant", "t1")])
        .await;
    c.query_with(q, json!({"id": "1"}), &[("x-forwarded-for", "10.0.0.1")])
        .await;
    assert_eq!(c.calls("Query.item", "none").await, 3);
}

#[tokio::test]
async fn operation_cache_skips_errors_and_mutations_and_coalesces() {
    let c = start("caching_operation").await;
    for _ in 0..2 {
        let response = c.query(r#"{ failing(id: "1") { id } }"#).await;
        assert_eq!(response["errors"][0]["errorType"], "Failure");
    }
    assert_eq!(c.calls("Query.failing", "none").await, 2);
    for _ in 0..2 {
        c.query(r#"mutation { updateItem(id: "1") { id } }"#).await;
    }
    assert_eq!(c.calls("Mutation.updateItem", "none").await, 2);

    let q = r#"{ slowItem(id: "1") { id } }"#;
    let responses = join_all((0..20).map(|_| c.query(q))).await;
    for response in responses {
        assert_eq!(response, json!({"data": {"slowItem": {"id": "1"}}}));
    }
    assert_eq!(c.calls("Query.slowItem", "slow").await, 1);
}
