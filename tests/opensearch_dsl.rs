//! Data-driven DSL tests: every `tests/opensearch/queries/*.json` search body runs against the
//! corpus in `tests/opensearch/corpus.json`; the ids, scores, highlights, sort values and
//! aggregations (or the error) are snapshotted. `err_*` fixtures must fail.

use std::sync::OnceLock;

use appsync_local::opensearch::Engine;
use serde_json::{Value, json};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let corpus: Value =
            serde_json::from_str(include_str!("opensearch/corpus.json")).expect("corpus is JSON");
        let engine = Engine::in_memory();
        let (status, res) = engine.handle(
            "PUT",
            "/orders",
            &[],
            Some(json!({"mappings": corpus["mappings"]})),
        );
        assert_eq!(status, 200, "{res}");
        let mut bulk = String::new();
        for doc in corpus["docs"].as_array().expect("docs array") {
            let mut doc = doc.clone();
            let id = doc["_id"].clone();
            doc.as_object_mut().expect("doc object").remove("_id");
            bulk.push_str(&json!({"index": {"_id": id}}).to_string());
            bulk.push('\n');
            bulk.push_str(&doc.to_string());
            bulk.push('\n');
        }
        let (status, res) = engine.handle("POST", "/orders/_bulk", &[], Some(Value::String(bulk)));
        assert_eq!(status, 200, "{res}");
        assert_eq!(res["errors"], false, "{res}");
        engine
    })
}

/// Scores rounded so snapshots do not depend on the last float bits.
fn round(v: &Value) -> Value {
    match v.as_f64() {
        Some(f) if !v.is_i64() && !v.is_u64() => json!((f * 1000.0).round() / 1000.0),
        _ => v.clone(),
    }
}

fn summarize(res: &Value) -> Value {
    let hits: Vec<Value> = res["hits"]["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .map(|h| {
                    let mut s = json!({"_id": h["_id"], "_score": round(&h["_score"])});
                    for key in ["highlight", "sort", "_source"] {
                        if let Some(v) = h.get(key) {
                            s[key] = match key {
                                "sort" => Value::Array(
                                    v.as_array().into_iter().flatten().map(round).collect(),
                                ),
                                // `_source` is only interesting when filtered.
                                "_source" if v.get("description").is_some() => continue,
                                _ => v.clone(),
                            };
                        }
                    }
                    s
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({"total": res["hits"]["total"], "hits": hits});
    if let Some(aggs) = res.get("aggregations") {
        out["aggregations"] = aggs.clone();
    }
    out
}

#[test]
fn dsl_fixtures() {
    let mut wrong = Vec::new();
    insta::glob!("opensearch/queries/*.json", |path| {
        let text = std::fs::read_to_string(path).expect("fixture readable");
        let body: Value = serde_json::from_str(&text).expect("fixture is JSON");
        let (status, res) = engine().handle("POST", "/orders/_search", &[], Some(body));
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if name.starts_with("err_") == (status == 200) {
            wrong.push(format!("{name}: {status} {res}"));
        }
        let snapshot = if status != 200 {
            json!({"status": status, "error": {"type": res["error"]["type"], "reason": res["error"]["reason"]}})
        } else {
            summarize(&res)
        };
        insta::with_settings!({description => text.trim(), snapshot_path => "opensearch/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_json_snapshot!(snapshot);
        });
    });
    assert!(
        wrong.is_empty(),
        "unexpected outcomes:\n{}",
        wrong.join("\n")
    );
}

/// Hostile or odd bodies get an answer (any status), never a panic.
#[test]
fn odd_bodies_never_panic() {
    let bodies = [
        json!({"size": 0, "aggs": {"h": {"histogram": {"field": "price", "interval": 0}}}}),
        json!({"size": 0, "aggs": {"h": {"date_histogram": {"field": "createdAt", "fixed_interval": "0d"}}}}),
        json!({"size": 0, "aggs": {"t": {"terms": {"field": "status", "size": 0}}}}),
        json!({"aggs": {"t": {"terms": {"field": "nothing"}}}}),
        json!({"aggs": "x"}),
        json!({"query": {"match": {"title": {"query": "shoes", "fuzziness": 99}}}}),
        json!({"query": {"match": {"title": {"query": "", "zero_terms_query": "all"}}}}),
        json!({"query": {"match_phrase": {"title": {"query": "!!!", "slop": -1}}}}),
        json!({"query": {"match_phrase_prefix": {"title": "running sh"}}}),
        json!({"query": {"regexp": {"status": "SHIP(PED"}}}),
        json!({"query": {"wildcard": {"status": "\\"}}}),
        json!({"query": {"range": {"price": {}}}}),
        json!({"query": {"range": {"price": {"gte": "cheap"}}}}),
        json!({"query": {"range": {"quantity": {"gt": 1e300}}}}),
        json!({"query": {"range": {"createdAt": {"gte": "now-1y/y", "lt": "now+1d"}}}}),
        json!({"query": {"terms": {"quantity": ["a"]}}}),
        json!({"query": {"ids": {"values": "o1"}}}),
        json!({"query": {"bool": {"must": "x"}}}),
        json!({"query": {"bool": {"should": [], "minimum_should_match": "150%"}}}),
        json!({"query": {"multi_match": {"query": "x", "fields": ["title^abc"]}}}),
        json!({"query": {"multi_match": {"query": 5}}}),
        json!({"query": {"query_string": {"query": "price:[10 TO *] AND title:\"blue"}}}),
        json!({"query": {"simple_query_string": {"query": "((( \" -"}}}),
        json!({"query": []}),
        json!({"query": {"term": {}}}),
        json!({"query": {"term": {"title": {"value": {"nested": 1}}}}}),
        json!({"from": -1}),
        json!({"size": "lots"}),
        json!({"sort": [{"price": {"order": "sideways"}}]}),
        json!({"sort": 5}),
        json!({"search_after": [null], "sort": [{"paid": "asc"}]}),
        json!({"search_after": [{"x": 1}], "sort": ["_score"]}),
        json!({"highlight": {"fields": {"*": {"number_of_fragments": 0}}}, "query": {"match": {"title": "blue"}}}),
        json!({"highlight": {"fields": "title"}}),
        json!({"_source": 5}),
        json!({"track_total_hits": -3}),
        json!({"min_score": "high"}),
        json!("not an object"),
        json!({"from": u64::MAX, "size": 10}),
        json!({"size": u64::MAX}),
        json!({"query": {"bool": {"filter": {"match_all": {}}, "boost": 1e300}}}),
        json!({"query": {"match": {"title": {"query": "blue", "boost": -1e300}}}, "min_score": 1}),
        json!({"query": {"constant_score": {"filter": {"match_all": {}}, "boost": 1e300}}, "sort": ["_score", "price"]}),
        json!({"query": {"range": {"createdAt": {"gte": "now+99999999999y"}}}}),
        json!({"query": {"range": {"createdAt": {"gte": 9_223_372_036_854_775_807i64}}}}),
        json!({"query": {"range": {"createdAt": {"gte": "0001", "format": "yyyy"}}}}),
        json!({"query": {"term": {"createdAt": "-9223372036854775808"}}}),
        json!({"search_after": [9_223_372_036_854_775_807i64], "sort": ["createdAt"]}),
    ];
    for body in bodies {
        let (status, res) = engine().handle("POST", "/orders/_search", &[], Some(body.clone()));
        assert!(
            status == 200 || (400..500).contains(&status),
            "{body} -> {status} {res}"
        );
        if status != 200 {
            assert!(res["error"]["type"].is_string(), "{body} -> {res}");
        }
    }
}
