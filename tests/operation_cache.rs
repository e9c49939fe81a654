//! The operation cache's fast path (OPERATION_LEVEL_CACHING): a request seen
//! before is answered from its memo without parsing. These tests check that
//! the fast path keeps the cache's rules: spellings of one query share an
//! entry, other variables, headers or identities do not, mutations and
//! errors never come from it, TTL and flush end it, and `/metrics` counts
//! its hits.

mod common;

use appsync_local::graphql::{Answer, GraphQLRequest, RequestContext};
use appsync_local::loader::Project;
use common::{Client, project, start, start_at, wait_until};
use serde_json::{Value as Json, json};

/// Resolver calls of a field over the NONE data source.
async fn calls(c: &Client, field: &str) -> u64 {
    c.calls(field, "none").await
}

async fn hits(c: &Client) -> u64 {
    c.metric("appsync_cache_hits_total{level=\"operation\"}")
        .await
}

#[tokio::test]
async fn spellings_share_one_entry_and_hits_send_the_same_bytes() {
    let c = start("caching_operation").await;
    let q = r#"{ item(id: "1", kind: "a") { id kind } }"#;
    let first = c.post(json!({"query": q}), &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, r#"{"data":{"item":{"id":"1","kind":"a"}}}"#);
    // The same text again (the memo's fast path), other whitespace and
    // argument order (parsed once, then fast too), each twice.
    let variant = "{item(kind:\"a\"\n  id:\"1\"){ id\n kind }}";
    for text in [q, q, variant, variant] {
        let hit = c.post(json!({"query": text}), &[]).await;
        assert_eq!(hit.status, 200);
        assert_eq!(hit.content_type, first.content_type);
        assert_eq!(hit.body, first.body);
    }
    assert_eq!(calls(&c, "Query.item").await, 1);
    assert_eq!(hits(&c).await, 4);
    assert_eq!(
        c.metric("appsync_cache_misses_total{level=\"operation\"}")
            .await,
        1
    );
    // Every request is counted, fast or not.
    assert_eq!(
        c.metric("appsync_requests_total{operation=\"query\"}")
            .await,
        5
    );
    // A hit is sent in the media type each request negotiates: `accept`
    // is left out of the key, so these share the entry above.
    for _ in 0..2 {
        let negotiated = c
            .post(
                json!({"query": q}),
                &[("accept", "application/graphql-response+json")],
            )
            .await;
        assert_eq!(negotiated.status, 200);
        assert!(
            negotiated
                .content_type
                .starts_with("application/graphql-response+json"),
            "{}",
            negotiated.content_type
        );
        assert_eq!(negotiated.body, first.body);
    }
    assert_eq!(calls(&c, "Query.item").await, 1);
    assert_eq!(hits(&c).await, 6);
}

#[tokio::test]
async fn other_variables_headers_and_operation_names_are_other_entries() {
    let c = start("caching_operation").await;
    let q = "query Get($id: ID!) { item(id: $id) { id } }";
    let two_ops = "query A { item(id: \"1\") { id } } query B { item(id: \"2\") { id } }";
    for _ in 0..2 {
        assert_eq!(
            c.query_with(q, json!({"id": "1"}), &[]).await,
            json!({"data": {"item": {"id": "1"}}})
        );
        assert_eq!(
            c.query_with(q, json!({"id": "2"}), &[]).await,
            json!({"data": {"item": {"id": "2"}}})
        );
        c.query_with(q, json!({"id": "1"}), &[("x-tenant", "t1")])
            .await;
        c.query_with(q, json!({"id": "1"}), &[("x-tenant", "t2")])
            .await;
        for (name, id) in [("A", "1"), ("B", "2")] {
            let raw = c
                .post(json!({"query": two_ops, "operationName": name}), &[])
                .await;
            assert_eq!(
                raw.body,
                format!(r#"{{"data":{{"item":{{"id":"{id}"}}}}}}"#)
            );
        }
    }
    // Six entries, each computed once; the second round only hit.
    assert_eq!(calls(&c, "Query.item").await, 6);
    assert_eq!(hits(&c).await, 6);
    // Reserved headers are not part of the key.
    c.query_with(q, json!({"id": "1"}), &[("x-forwarded-for", "10.0.0.9")])
        .await;
    assert_eq!(calls(&c, "Query.item").await, 6);
}

#[tokio::test]
async fn mutations_and_errors_never_come_from_the_fast_path() {
    let c = start("caching_operation").await;
    let m = r#"mutation { updateItem(id: "1") { id } }"#;
    for _ in 0..3 {
        assert_eq!(
            c.query(m).await,
            json!({"data": {"updateItem": {"id": "1"}}})
        );
    }
    assert_eq!(calls(&c, "Mutation.updateItem").await, 3);
    let failing = r#"{ failing(id: "1") { id } }"#;
    for _ in 0..3 {
        let response = c.query(failing).await;
        assert_eq!(response["errors"][0]["errorType"], "Failure");
    }
    assert_eq!(calls(&c, "Query.failing").await, 3);
    assert_eq!(hits(&c).await, 0);
    assert_eq!(
        c.metric("appsync_requests_total{operation=\"mutation\"}")
            .await,
        3
    );
}

#[tokio::test]
async fn a_flush_ends_the_fast_path() {
    let c = start("caching_operation").await;
    let q = r#"{ item(id: "1") { id } }"#;
    for _ in 0..3 {
        c.query(q).await;
    }
    assert_eq!(calls(&c, "Query.item").await, 1);
    let (status, _) = c.admin("/admin/flush-cache", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        c.metric("appsync_cache_entries{level=\"operation\"}").await,
        0
    );
    c.query(q).await;
    c.query(q).await;
    assert_eq!(calls(&c, "Query.item").await, 2);
}

#[tokio::test]
async fn entries_expire_on_the_fast_path() {
    // Entries live one second, AppSync's shortest TTL.
    let dir = common::edited_project("caching_operation", "\n  ttl: 60\n", "\n  ttl: 1\n");
    let c = start_at(dir.path()).await;
    let q = r#"{ item(id: "1") { id } }"#;
    c.query(q).await;
    c.query(q).await;
    assert_eq!(calls(&c, "Query.item").await, 1);
    // Hits until the entry expires; the first query after that computes it.
    wait_until("the entry to expire", async || {
        assert_eq!(c.query(q).await, json!({"data": {"item": {"id": "1"}}}));
        calls(&c, "Query.item").await == 2
    })
    .await;
    assert_eq!(calls(&c, "Query.item").await, 2);
}

#[tokio::test]
async fn get_requests_hit_too() {
    let c = start("caching_operation").await;
    let q = r#"{ item(id: "3") { id } }"#;
    c.query(q).await;
    let url = format!("{}?query={}", c.server.graphql_url(), urlencode(q));
    let response = c
        .http
        .get(url)
        .header("x-api-key", c.server.api_key().unwrap_or_default())
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.ok().as_deref(),
        Some(r#"{"data":{"item":{"id":"3"}}}"#)
    );
    assert_eq!(calls(&c, "Query.item").await, 1);
    assert_eq!(hits(&c).await, 1);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Identities only come from authorization modes the HTTP server does not
/// check yet, so this one calls the service directly.
#[tokio::test]
async fn identities_never_share_a_fast_path_entry() {
    let api = match Project::load(&project("caching_operation")) {
        Ok(api) => api,
        Err(errors) => panic!("{errors}"),
    };
    let ask = |identity: Json| {
        let request = GraphQLRequest {
            query: r#"{ item(id: "1") { id } }"#.into(),
            ..Default::default()
        };
        let context = RequestContext {
            principal: appsync_local::graphql::Principal {
                identity: identity.into(),
                ..Default::default()
            },
            ..Default::default()
        };
        api.answer_request(request, context)
    };
    let alice = json!({"sub": "alice", "sourceIp": ["10.0.0.1"]});
    let alice_elsewhere = json!({"sourceIp": ["10.0.0.2"], "sub": "alice"});
    let bob = json!({"sub": "bob", "sourceIp": ["10.0.0.1"]});
    for identity in [
        &alice,
        &alice,
        &bob,
        &bob,
        &alice_elsewhere,
        &alice_elsewhere,
    ] {
        let answer = ask(identity.clone()).await;
        assert!(matches!(answer, Answer::Serialized(_)));
        assert_eq!(
            answer.into_response().data,
            Some(json!({"item": {"id": "1"}}))
        );
    }
    let stats = api.cache_stats().await.expect("a cache");
    // Alice and Bob have one entry each; Alice from another address shares
    // hers (AppSync leaves sourceIp out of the key).
    assert_eq!(stats.operation_misses, 2);
    assert_eq!(stats.operation_hits, 4);
}
