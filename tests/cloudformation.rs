//! A SAM template served as it is (`examples/sam-notes`): the AppSync
//! resources as the API (inline and local templates and code), the
//! DynamoDB table, the SAM function with its Globals, parameters and
//! intrinsics.

mod common;

use std::collections::HashMap;

use appsync_local::loader::DeployOptions;
use appsync_local::testing::TestServer;
use common::ws::{Ws, api_key_header};
use common::{Client, start_with};
use serde_json::json;

async fn serve(params: &[(&str, &str)]) -> Client {
    let options = DeployOptions {
        stage: None,
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>(),
    };
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sam-notes");
    start_with(TestServer::builder(project).deploy(options)).await
}

const CREATE: &str = "mutation($author: String!, $text: String!) { createNote(author: $author, text: $text) { id author text } }";

#[tokio::test]
async fn a_sam_template_serves_as_it_is() {
    let client = serve(&[]).await;
    assert_eq!(client.api_key(), Some("da2-sam-notes"));
    let mut ws = Ws::open(&client, "da2-sam-notes").await;
    ws.subscribe(
        "s",
        "subscription { onNoteCreated(author: \"ann\") { text } }",
        json!({}),
        &api_key_header(&client, "da2-sam-notes"),
    )
    .await;
    let mut ids = Vec::new();
    for (author, text) in [("ann", "one two"), ("bob", "x"), ("ann", "a b c d")] {
        let created = client
            .data(CREATE, json!({"author": author, "text": text}))
            .await;
        ids.push(created["createNote"]["id"].as_str().unwrap().to_owned());
    }
    // An inline VTL resolver, and a field from the SAM function.
    let note = client
        .data(
            "query($id: ID!) { note(id: $id) { text words } }",
            json!({"id": ids[0]}),
        )
        .await;
    assert_eq!(note, json!({"note": {"text": "one two", "words": 2}}));
    // Code from a local CodeS3Location, on the table's GSI.
    let listed = client
        .data(
            "{ notesByAuthor(author: \"ann\") { items { text } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed,
        json!({"notesByAuthor": {"items": [{"text": "a b c d"}, {"text": "one two"}]}})
    );
    assert_eq!(
        ws.data("s").await["data"]["onNoteCreated"]["text"],
        "one two"
    );
    let tables = client.dynamodb_ok("ListTables", json!({})).await;
    assert_eq!(tables["TableNames"], json!(["notes-dev"]));
}

#[tokio::test]
async fn parameters_take_param_values() {
    let client = serve(&[("Stage", "prod")]).await;
    let tables = client.dynamodb_ok("ListTables", json!({})).await;
    assert_eq!(tables["TableNames"], json!(["notes-prod"]));
    let created = client
        .data(CREATE, json!({"author": "ann", "text": "on prod"}))
        .await;
    assert_eq!(created["createNote"]["text"], "on prod");
}

/// Problems in what a resource describes point at that resource in the
/// template.
#[test]
fn check_points_at_the_resource() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sam-notes");
    for file in ["template.yaml", "schema.graphql", "appsync-local.yaml"] {
        std::fs::copy(source.join(file), dir.path().join(file)).unwrap();
    }
    let text = std::fs::read_to_string(dir.path().join("template.yaml")).unwrap();
    let broken = text
        .replace(
            "DataSourceName: !GetAtt WordsDataSource.Name",
            "DataSourceName: nope",
        )
        // The code the template names lives beside the example.
        .replace(
            "../serverless-notes/",
            &format!("{}/", source.join("../serverless-notes").display()),
        );
    std::fs::write(dir.path().join("template.yaml"), &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l == "  WordsResolver:")
        .unwrap()
        + 1;
    let errors = appsync_local::loader::Project::load(dir.path())
        .expect_err("an unknown data source is refused")
        .to_string();
    assert!(errors.contains("unknown data source `nope`"), "{errors}");
    assert!(
        errors.contains(&format!("template.yaml:{line}:3")),
        "the resource's place: {errors}"
    );
}
