//! The REST subset over real HTTP: each `tests/opensearch/http/*.json` file is a list of
//! requests sent in order to a fresh server; the statuses and bodies are snapshotted.

mod common;

use std::sync::Arc;

use appsync_local::opensearch::{Engine, router};
use serde_json::{Value, json};

async fn serve(engine: Arc<Engine>) -> String {
    let address = common::serve(router(engine)).await;
    format!("http://{address}/opensearch")
}

/// Values that change from run to run.
fn scrub(v: &mut Value) {
    if let Value::Object(map) = v {
        if map.contains_key("took") {
            map.insert("took".into(), json!("[took]"));
        }
        for (k, inner) in map.iter_mut() {
            if k == "_id" && inner.as_str().is_some_and(|s| s.len() == 20) {
                *inner = json!("[generated]");
            }
            scrub(inner);
        }
    } else if let Value::Array(items) = v {
        items.iter_mut().for_each(scrub);
    }
}

async fn run_script(steps: &[Value]) -> Value {
    let base = serve(Arc::new(Engine::in_memory())).await;
    let client = reqwest::Client::new();
    let mut transcript = Vec::new();
    for step in steps {
        let method = step["method"].as_str().expect("method");
        let path = step["path"].as_str().expect("path");
        let mut req = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method name"),
            format!("{base}{path}"),
        );
        if let Some(body) = step.get("body") {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        } else if let Some(lines) = step.get("ndjson").and_then(Value::as_array) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            req = req
                .header("content-type", "application/x-ndjson")
                .body(text);
        } else if let Some(raw) = step.get("raw").and_then(Value::as_str) {
            req = req.body(raw.to_string());
        }
        let common::Raw {
            status,
            content_type,
            body: text,
        } = common::Raw::read(req.send().await.expect("request")).await;
        let mut body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path}: content-type {content_type}"
        );
        scrub(&mut body);
        transcript.push(
            json!({"request": format!("{method} {path}"), "status": status, "response": body}),
        );
    }
    Value::Array(transcript)
}

#[test]
fn http_scripts() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    insta::glob!("opensearch/http/*.json", |path| {
        let text = std::fs::read_to_string(path).expect("script readable");
        let steps: Vec<Value> = serde_json::from_str(&text).expect("script is a JSON array");
        let transcript = rt.block_on(run_script(&steps));
        insta::with_settings!({snapshot_path => "opensearch/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_json_snapshot!(transcript);
        });
    });
}

#[tokio::test]
async fn writes_are_visible_to_the_next_search_without_refresh() {
    let base = serve(Arc::new(Engine::in_memory())).await;
    let client = reqwest::Client::new();
    for i in 0..20 {
        let res = client
            .put(format!("{base}/ryw/_doc/{i}"))
            .json(&json!({"n": i, "text": "hello"}))
            .send()
            .await
            .expect("put");
        assert_eq!(res.status().as_u16(), 201);
        let count: Value = client
            .get(format!("{base}/ryw/_count"))
            .send()
            .await
            .expect("count")
            .json()
            .await
            .expect("json");
        assert_eq!(count["count"], i + 1);
    }
}

#[tokio::test]
async fn head_has_no_body_and_root_prefix_answers() {
    let base = serve(Arc::new(Engine::in_memory())).await;
    let client = reqwest::Client::new();
    let res = client
        .head(format!("{base}/missing"))
        .send()
        .await
        .expect("head");
    assert_eq!(res.status().as_u16(), 404);
    assert!(res.bytes().await.expect("body").is_empty());
    let info: Value = client
        .get(&base)
        .send()
        .await
        .expect("get /")
        .json()
        .await
        .expect("json");
    assert_eq!(info["version"]["distribution"], "opensearch");
}
