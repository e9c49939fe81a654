//! APPSYNC_JS resolvers through the real server (`tests/projects/js_resolvers`):
//! unit and pipeline resolvers on NONE, DynamoDB and OpenSearch, a pipeline
//! mixing VTL and JS functions, `runtime.earlyReturn`, caching keys and
//! eviction from JS, and errors in AppSync's shape.

mod common;

use serde_json::{Value as Json, json};

async fn server() -> common::Client {
    common::start("js_resolvers").await
}

#[tokio::test]
async fn unit_resolver_on_none_imports_a_local_module() {
    let s = server().await;
    assert_eq!(
        s.data("{ a: hello(name: \"Ada\") b: hello }", json!({}))
            .await,
        json!({"a": "Hello, Ada!", "b": "Hello, world!"})
    );
}

async fn put(s: &common::Client, id: &str, owner: &str, title: &str) -> Json {
    s.data(
        "mutation($id: ID!, $owner: String!, $title: String!) {
           putItem(id: $id, owner: $owner, title: $title) { id owner title }
         }",
        json!({"id": id, "owner": owner, "title": title}),
    )
    .await
}

#[tokio::test]
async fn dynamodb_helpers_build_requests_the_table_answers() {
    let s = server().await;
    assert_eq!(
        put(&s, "i1", "ann", "red kettle").await,
        json!({"putItem": {"id": "i1", "owner": "ann", "title": "red kettle"}})
    );
    put(&s, "i2", "ann", "blue teapot").await;
    put(&s, "i3", "bob", "green mug").await;
    assert_eq!(
        s.data("{ item(id: \"i2\") { id owner title } }", json!({}))
            .await,
        json!({"item": {"id": "i2", "owner": "ann", "title": "blue teapot"}})
    );
    // A `.ts` resolver: its types are erased at load.
    assert_eq!(
        s.data("{ itemsByOwner(owner: \"ann\") { id } }", json!({}))
            .await,
        json!({"itemsByOwner": [{"id": "i1"}, {"id": "i2"}]})
    );
    assert_eq!(
        s.data("{ item(id: \"nope\") { id } }", json!({})).await,
        json!({"item": null})
    );
}

#[tokio::test]
async fn opensearch_requests_from_js() {
    let s = server().await;
    put(&s, "s1", "zed", "copper kettle").await;
    put(&s, "s2", "amy", "steel kettle").await;
    put(&s, "s3", "amy", "glass jar").await;
    common::wait_until("the index holds the items", async || {
        s.search_total("items").await == 3
    })
    .await;
    assert_eq!(
        s.data("{ search(text: \"kettle\") { id owner } }", json!({}))
            .await,
        json!({"search": [{"id": "s2", "owner": "amy"}, {"id": "s1", "owner": "zed"}]})
    );
}

#[tokio::test]
async fn cache_keys_and_eviction_from_js() {
    let s = server().await;
    put(&s, "c1", "ann", "first").await;
    let query = "{ item(id: \"c1\") { title } }";
    assert_eq!(
        s.data(query, json!({})).await,
        json!({"item": {"title": "first"}})
    );
    // Written behind the resolver's back: the cached entry still answers.
    s.dynamodb_ok(
        "PutItem",
        json!({"TableName": "Items", "Item": {"id": {"S": "c1"}, "owner": {"S": "ann"}, "title": {"S": "second"}}}),
    )
    .await;
    assert_eq!(
        s.data(query, json!({})).await,
        json!({"item": {"title": "first"}})
    );
    // The mutation's response evicts `Query.item` for its id.
    put(&s, "c1", "ann", "third").await;
    assert_eq!(
        s.data(query, json!({})).await,
        json!({"item": {"title": "third"}})
    );
}

#[tokio::test]
async fn a_pipeline_mixes_vtl_and_js_functions() {
    let s = server().await;
    // before: 3; double: 6; addOne (VTL): 7; double: 14; after: 14 * 100 +
    // the trail's length (before, double, addOne, double, after).
    assert_eq!(
        s.data("{ mixed(n: 3) }", json!({})).await,
        json!({"mixed": 1405})
    );
}

#[tokio::test]
async fn early_return_follows_appsync_semantics() {
    let s = server().await;
    let early = async |skip: &str| {
        s.data(
            "query($skip: String) { early(skip: $skip) }",
            json!({"skip": skip}),
        )
        .await["early"]
            .clone()
    };
    assert_eq!(early("none").await, json!("start|first|second|after"));
    // In the before step: every function is skipped, the after step runs.
    assert_eq!(early("all").await, json!("skipped|after"));
    // In a function: that function's data source and response are skipped.
    assert_eq!(
        early("first").await,
        json!("start|first-skipped|second|after")
    );
    // skipTo END: straight to the after step.
    assert_eq!(early("end").await, json!("start|to-end|after"));
}

#[tokio::test]
async fn errors_have_appsync_shape() {
    let s = server().await;
    let out = s.query("{ failing }").await;
    assert_eq!(out["data"], json!({"failing": null}));
    let errors = out["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{out}");
    assert_eq!(errors[0]["message"], "first problem");
    assert_eq!(errors[0]["errorType"], "Warning");
    assert_eq!(errors[1]["message"], "it failed");
    assert_eq!(errors[1]["errorType"], "CustomError");
    assert_eq!(errors[1]["errorInfo"], json!({"hint": "retry"}));
    assert_eq!(errors[1]["path"], json!(["failing"]));

    let out = s.query("{ broken }").await;
    assert_eq!(out["data"], json!({"broken": null}));
    let error = &out["errors"][0];
    assert_eq!(error["errorType"], "Code");
    let message = error["message"].as_str().expect("a message");
    assert!(
        message.starts_with("resolvers/broken.js:2:"),
        "the message names the file and line: {message}"
    );
    assert!(message.contains("TypeError"), "{message}");
}
