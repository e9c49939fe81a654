//! Engine-level behaviour: persistence, dynamic re-mapping, the streaming hooks
//! (`apply_change`, `reconcile`) and the AppSync data source request format.

use appsync_local::opensearch::{
    Engine, IndexDefinition, IndexSource, Mapping, OpenSearchRequest, ReconcileReport,
};
use serde_json::{Value, json};

fn all_ids(engine: &Engine, index: &str) -> Vec<String> {
    let (status, res) = engine.handle(
        "POST",
        &format!("/{index}/_search"),
        &[],
        Some(json!({"size": 100})),
    );
    assert_eq!(status, 200, "{res}");
    let mut ids: Vec<String> = res["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["_id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

fn orders_definition() -> IndexDefinition {
    serde_json::from_value(json!({
        "name": "orders",
        "mappings": {"properties": {"description": {"type": "text"}, "status": {"type": "keyword"}}},
        "source": {"table": "Orders", "fields": ["description", "status"]}
    }))
    .expect("definition")
}

#[test]
fn index_definition_is_camel_case_and_strict() {
    let def = orders_definition();
    assert_eq!(
        def.source,
        Some(IndexSource {
            table: "Orders".into(),
            fields: vec!["description".into(), "status".into()]
        })
    );
    let err = serde_json::from_value::<IndexDefinition>(json!({"name": "x", "mapping": {}}));
    assert!(err.is_err());
}

#[test]
fn indexes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let engine = Engine::open(dir.path()).expect("open");
        engine.create_index(orders_definition()).expect("create");
        let (status, _) = engine.handle(
            "PUT",
            "/orders/_doc/1",
            &[],
            Some(json!({"description": "blue shoes", "status": "NEW", "extra": 5})),
        );
        assert_eq!(status, 201);
        engine.handle("PUT", "/other/_doc/a", &[], Some(json!({"x": "y"})));
    }
    let engine = Engine::open(dir.path()).expect("reopen");
    assert_eq!(engine.index_names(), ["orders", "other"]);
    // Only the live mapping generation is left on disk.
    let mut entries: Vec<String> = std::fs::read_dir(dir.path().join("orders"))
        .expect("index dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["gen-1", "index.json"]);
    let (_, res) = engine.handle(
        "POST",
        "/orders/_search",
        &[],
        Some(json!({"query": {"match": {"description": "shoes"}}})),
    );
    assert_eq!(res["hits"]["hits"][0]["_id"], "1");
    // The dynamic field added before the restart is still mapped and searchable.
    let (_, res) = engine.handle(
        "POST",
        "/orders/_count",
        &[],
        Some(json!({"query": {"range": {"extra": {"gte": 5}}}})),
    );
    assert_eq!(res["count"], 1);
    // Versions and sequence numbers continue after a restart.
    let (_, res) = engine.handle("PUT", "/orders/_doc/1", &[], Some(json!({"status": "OLD"})));
    assert_eq!(res["_version"], 2);
    assert_eq!(res["_seq_no"], 1);
    // ... after deletes too: sequence numbers never go back, as in OpenSearch.
    let (_, res) = engine.handle("PUT", "/orders/_doc/2", &[], Some(json!({"status": "NEW"})));
    assert_eq!(res["_seq_no"], 2);
    let (_, res) = engine.handle("DELETE", "/orders/_doc/2", &[], None);
    assert_eq!(res["_seq_no"], 3);
    drop(engine);
    let engine = Engine::open(dir.path()).expect("reopen");
    let (_, res) = engine.handle("PUT", "/orders/_doc/3", &[], Some(json!({"status": "NEW"})));
    assert_eq!(res["_seq_no"], 4);
    // Deleting removes the data from disk, so a recreated index starts empty.
    let (status, _) = engine.handle("DELETE", "/orders", &[], None);
    assert_eq!(status, 200);
    engine.create_index(orders_definition()).expect("recreate");
    assert!(all_ids(&engine, "orders").is_empty());
}

#[test]
fn new_dynamic_fields_keep_existing_documents_searchable() {
    let engine = Engine::in_memory();
    engine.handle(
        "PUT",
        "/notes/_doc/1",
        &[],
        Some(json!({"title": "first note"})),
    );
    engine.handle(
        "PUT",
        "/notes/_doc/2",
        &[],
        Some(json!({"title": "second", "stars": 4})),
    );
    engine.handle(
        "PUT",
        "/notes/_doc/3",
        &[],
        Some(json!({"body": {"text": "nested note"}})),
    );
    let (_, res) = engine.handle(
        "POST",
        "/notes/_search",
        &[],
        Some(json!({"query": {"multi_match": {"query": "note"}}})),
    );
    assert_eq!(res["hits"]["total"]["value"], 2, "{res}");
    let (_, res) = engine.handle("GET", "/notes/_doc/1", &[], None);
    assert_eq!(res["_version"], 1);
    let (_, res) = engine.handle("GET", "/notes/_mapping", &[], None);
    assert_eq!(
        res["notes"]["mappings"]["properties"]["body"]["properties"]["text"]["type"],
        "text"
    );
}

#[test]
fn apply_change_mirrors_table_writes() {
    let engine = Engine::in_memory();
    engine.create_index(orders_definition()).expect("create");
    engine
        .apply_change(
            "orders",
            "o1",
            Some(json!({"id": "o1", "description": "red hat", "status": "NEW", "secret": "x"})),
        )
        .expect("upsert");
    // Only the declared source fields are copied.
    let (_, doc) = engine.handle("GET", "/orders/_doc/o1", &[], None);
    assert_eq!(
        doc["_source"],
        json!({"description": "red hat", "status": "NEW"})
    );
    engine
        .apply_change(
            "orders",
            "o1",
            Some(json!({"description": "red cap", "status": "NEW"})),
        )
        .expect("update");
    let (_, res) = engine.handle(
        "POST",
        "/orders/_search",
        &[],
        Some(json!({"query": {"match": {"description": "cap"}}})),
    );
    assert_eq!(res["hits"]["total"]["value"], 1);
    engine.apply_change("orders", "o1", None).expect("delete");
    engine
        .apply_change("orders", "never", None)
        .expect("delete of missing is fine");
    assert!(all_ids(&engine, "orders").is_empty());
    assert!(engine.apply_change("nope", "1", None).is_err());
    // A batch applies in order with one commit: the later change to o2 wins.
    engine
        .apply_changes(
            "orders",
            [
                ("o2".to_string(), Some(json!({"description": "first"}))),
                ("o3".to_string(), Some(json!({"description": "third"}))),
                ("o2".to_string(), Some(json!({"description": "second"}))),
                ("o3".to_string(), None),
            ],
        )
        .expect("batch");
    assert_eq!(all_ids(&engine, "orders"), ["o2"]);
    let (_, doc) = engine.handle("GET", "/orders/_doc/o2", &[], None);
    assert_eq!(doc["_source"]["description"], "second");
    assert_eq!(doc["_version"], 2);
}

#[test]
fn reconcile_repairs_a_crash_between_table_and_index_writes() {
    let engine = Engine::in_memory();
    engine.create_index(orders_definition()).expect("create");
    let table = |items: &[(&str, &str)]| -> Vec<(String, Value)> {
        items
            .iter()
            .map(|(id, d)| (id.to_string(), json!({"description": d, "status": "NEW"})))
            .collect()
    };
    // The index saw o1, o2 and o3...
    for (id, item) in table(&[("o1", "one"), ("o2", "two"), ("o3", "three")]) {
        engine
            .apply_change("orders", &id, Some(item))
            .expect("seed");
    }
    // ...then the table deleted o2, changed o3 and added o4, and we crashed before the
    // index heard of it.
    let now = table(&[("o1", "one"), ("o3", "three, revised"), ("o4", "four")]);
    let report = engine.reconcile("orders", now.clone()).expect("reconcile");
    assert_eq!(
        report,
        ReconcileReport {
            upserted: 2,
            deleted: 1,
            unchanged: 1,
            ..ReconcileReport::default()
        }
    );
    assert_eq!(all_ids(&engine, "orders"), ["o1", "o3", "o4"]);
    let (_, o1) = engine.handle("GET", "/orders/_doc/o1", &[], None);
    assert_eq!(o1["_version"], 1, "unchanged documents keep their version");
    let (_, res) = engine.handle(
        "POST",
        "/orders/_search",
        &[],
        Some(json!({"query": {"match": {"description": "revised"}}})),
    );
    assert_eq!(res["hits"]["hits"][0]["_id"], "o3");
    // A second pass is a no-op.
    let report = engine.reconcile("orders", now).expect("reconcile again");
    assert_eq!(report.unchanged, 3);
    assert_eq!(report.upserted + report.deleted, 0);
}

#[test]
fn data_source_requests_run_like_rest_calls() {
    let engine = Engine::in_memory();
    engine.handle(
        "PUT",
        "/post/_doc/1",
        &[],
        Some(json!({"title": "hello world", "n": 1})),
    );
    let request = OpenSearchRequest::from_json(&json!({
        "version": "2017-02-28",
        "operation": "GET",
        "path": "/post/_search",
        "params": {
            "headers": {},
            "queryString": {"pretty": "true", "size": 5},
            "body": {"from": 0, "query": {"bool": {"must": [{"match": {"title": "world"}}]}}}
        }
    }))
    .expect("valid request");
    assert_eq!(
        request.params.query_string[1],
        ("size".to_string(), "5".to_string())
    );
    let (status, result) = engine.handle_data_source_request(&request);
    assert_eq!(status, 200);
    assert_eq!(result["hits"]["hits"][0]["_source"]["title"], "hello world");
    let (status, result) = engine.handle_data_source_request(
        &OpenSearchRequest::from_json(&json!({"operation": "GET", "path": "/post/_doc/1"}))
            .expect("valid request"),
    );
    assert_eq!((status, &result["_source"]["n"]), (200, &json!(1)));
    let (status, result) = engine.handle("GET", "/post/_search?q=title:world&size=0", &[], None);
    assert_eq!(status, 200);
    assert_eq!(result["hits"]["total"]["value"], 1);
    assert_eq!(result["hits"]["hits"], json!([]));
    let bad = OpenSearchRequest::from_json(&json!({"operation": "PATCH", "path": "/post"}));
    assert!(bad.is_err());
    let bad = OpenSearchRequest::from_json(&json!({"operation": "GET"}));
    assert!(bad.is_err());
}

#[test]
fn ensure_index_keeps_documents_and_adds_declared_fields() {
    let engine = Engine::in_memory();
    engine.create_index(orders_definition()).expect("create");
    engine
        .apply_change(
            "orders",
            "o1",
            Some(json!({"description": "x", "status": "NEW"})),
        )
        .expect("write");
    let mut def = orders_definition();
    def.mappings =
        Mapping::from_json(&json!({"properties": {"total": {"type": "double"}}})).expect("mapping");
    engine.ensure_index(def).expect("ensure");
    assert_eq!(all_ids(&engine, "orders"), ["o1"]);
    let (_, res) = engine.handle("GET", "/orders/_mapping", &[], None);
    assert_eq!(
        res["orders"]["mappings"]["properties"]["total"]["type"],
        "double"
    );
    assert_eq!(
        res["orders"]["mappings"]["properties"]["status"]["type"],
        "keyword"
    );
}

#[test]
fn concurrent_writers_and_readers_agree() {
    let engine = std::sync::Arc::new(Engine::in_memory());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let (status, res) = engine.handle(
                        "PUT",
                        &format!("/c/_doc/{t}-{i}"),
                        &[],
                        Some(json!({"t": t, "i": i})),
                    );
                    assert_eq!(status, 201, "{res}");
                    let (status, _) = engine.handle("GET", &format!("/c/_doc/{t}-{i}"), &[], None);
                    assert_eq!(status, 200);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let (_, res) = engine.handle("GET", "/c/_count", &[], None);
    assert_eq!(res["count"], 100);
}
