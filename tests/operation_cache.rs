//! The operation cache's fast path (OPERATION_LEVEL_CACHING): a request seen
//! before is answered from its memo without parsing. These tests check that
//! the fast path keeps the cache's rules: spellings of one query share an
//! entry, other variables, headers or identities do not, mutations and
//! errors never come from it, TTL and flush end it, and `/metrics` counts
//! its hits.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use appsync_local::graphql::{Answer, GraphQLRequest, RequestContext};
use appsync_local::loader::Project;
use appsync_local::testing::TestServer;
use serde_json::{Value as Json, json};

fn project(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/projects")
        .join(name)
}

struct Client {
    server: TestServer,
    http: reqwest::Client,
}

async fn start(name: &str) -> Client {
    start_at(&project(name)).await
}

async fn start_at(dir: &Path) -> Client {
    let server = match TestServer::start(dir).await {
        Ok(s) => s,
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    Client {
        server,
        http: reqwest::Client::new(),
    }
}

/// Status, content type and body text of one response.
struct Raw {
    status: u16,
    content_type: String,
    body: String,
}

impl Client {
    async fn post(&self, body: Json, headers: &[(&str, &str)]) -> Raw {
        let mut request = self
            .http
            .post(self.server.graphql_url())
            .header("x-api-key", self.server.api_key().unwrap_or_default())
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.expect("a body");
        Raw {
            status,
            content_type,
            body,
        }
    }

    async fn query_with(&self, query: &str, variables: Json, headers: &[(&str, &str)]) -> Json {
        let raw = self
            .post(json!({"query": query, "variables": variables}), headers)
            .await;
        assert_eq!(raw.status, 200, "{}", raw.body);
        serde_json::from_str(&raw.body).expect("a JSON body")
    }

    async fn query(&self, query: &str) -> Json {
        self.query_with(query, json!({}), &[]).await
    }

    /// A sample's value in the metrics text; 0 when absent.
    async fn metric(&self, series: &str) -> u64 {
        let url = format!("http://{}/metrics", self.server.address());
        let response = self.http.get(url).send().await.expect("metrics answer");
        let text = response.text().await.expect("metrics text");
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(|v| v.trim().parse().expect("a number"))
            .unwrap_or(0)
    }

    async fn calls(&self, field: &str) -> u64 {
        self.metric(&format!(
            "appsync_resolver_invocations_total{{field=\"{field}\",data_source=\"none\"}}"
        ))
        .await
    }

    async fn hits(&self) -> u64 {
        self.metric("appsync_cache_hits_total{level=\"operation\"}")
            .await
    }
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
    assert_eq!(c.calls("Query.item").await, 1);
    assert_eq!(c.hits().await, 4);
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
    assert_eq!(c.calls("Query.item").await, 1);
    assert_eq!(c.hits().await, 6);
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
    assert_eq!(c.calls("Query.item").await, 6);
    assert_eq!(c.hits().await, 6);
    // Reserved headers are not part of the key.
    c.query_with(q, json!({"id": "1"}), &[("x-forwarded-for", "10.0.0.9")])
        .await;
    assert_eq!(c.calls("Query.item").await, 6);
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
    assert_eq!(c.calls("Mutation.updateItem").await, 3);
    let failing = r#"{ failing(id: "1") { id } }"#;
    for _ in 0..3 {
        let response = c.query(failing).await;
        assert_eq!(response["errors"][0]["errorType"], "Failure");
    }
    assert_eq!(c.calls("Query.failing").await, 3);
    assert_eq!(c.hits().await, 0);
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
    assert_eq!(c.calls("Query.item").await, 1);
    let url = format!("http://{}/admin/flush-cache", c.server.address());
    let response = c.http.post(url).send().await.expect("flush answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        c.metric("appsync_cache_entries{level=\"operation\"}").await,
        0
    );
    c.query(q).await;
    c.query(q).await;
    assert_eq!(c.calls("Query.item").await, 2);
}

/// A copy of `caching_operation` whose entries live one second.
fn short_ttl_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    common::copy_dir(&project("caching_operation"), dir.path());
    let manifest = dir.path().join("appsync.yaml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest");
    assert!(text.contains("\n  ttl: 60\n"));
    std::fs::write(&manifest, text.replace("\n  ttl: 60\n", "\n  ttl: 1\n")).expect("written");
    dir
}

#[tokio::test]
async fn entries_expire_on_the_fast_path() {
    let dir = short_ttl_project();
    let c = start_at(dir.path()).await;
    let q = r#"{ item(id: "1") { id } }"#;
    c.query(q).await;
    c.query(q).await;
    assert_eq!(c.calls("Query.item").await, 1);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(c.query(q).await, json!({"data": {"item": {"id": "1"}}}));
    assert_eq!(c.calls("Query.item").await, 2);
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
    assert_eq!(c.calls("Query.item").await, 1);
    assert_eq!(c.hits().await, 1);
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
            identity,
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
