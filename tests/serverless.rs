//! A serverless.yml project served as it is (`examples/serverless-notes`):
//! Serverless variables, the plugin's `appSync:` block, the DynamoDB table
//! of `resources`, the top-level `functions`, and local values from
//! `appsync-local.yaml`.

mod common;

use std::collections::HashMap;

use appsync_local::loader::DeployOptions;
use appsync_local::testing::TestServer;
use common::ws::{Ws, api_key_header};
use common::{Client, start_with};
use serde_json::json;

fn project() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/serverless-notes")
}

async fn serve(stage: Option<&str>) -> Client {
    let options = DeployOptions {
        stage: stage.map(str::to_owned),
        params: HashMap::new(),
    };
    start_with(TestServer::builder(project()).deploy(options)).await
}

const CREATE: &str = "mutation($author: String!, $text: String!) { createNote(author: $author, text: $text) { id author text createdAt } }";

#[tokio::test]
async fn a_serverless_project_serves_as_it_is() {
    let client = serve(None).await;
    // The API key's local value comes from appsync-local.yaml.
    assert_eq!(client.api_key(), Some("da2-notes-web"));
    let mut ws = Ws::open(&client, "da2-notes-web").await;
    let header = api_key_header(&client, "da2-notes-web");
    ws.subscribe(
        "ann",
        "subscription { onNoteCreated(author: \"ann\") { id text } }",
        json!({}),
        &header,
    )
    .await;

    let mut ids = Vec::new();
    for (author, text) in [
        ("ann", "first note"),
        ("bob", "hello"),
        ("ann", "three words here"),
    ] {
        let created = client
            .data(CREATE, json!({"author": author, "text": text}))
            .await;
        ids.push(created["createNote"]["id"].as_str().unwrap().to_owned());
    }
    // Read, with a field resolved by the project's own Lambda function.
    let note = client
        .data(
            "query($id: ID!) { note(id: $id) { author text words } }",
            json!({"id": ids[2]}),
        )
        .await;
    assert_eq!(
        note,
        json!({"note": {"author": "ann", "text": "three words here", "words": 3}})
    );
    // List by the table's GSI, newest first.
    let listed = client
        .data(
            "{ notesByAuthor(author: \"ann\") { items { text } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed,
        json!({"notesByAuthor": {"items": [{"text": "three words here"}, {"text": "first note"}]}})
    );
    // The subscription heard ann's notes only.
    assert_eq!(
        ws.data("ann").await["data"]["onNoteCreated"]["text"],
        "first note"
    );
    assert_eq!(
        ws.data("ann").await["data"]["onNoteCreated"]["text"],
        "three words here"
    );
    // The Lambda authorizer is the same function: "allow…" tokens pass.
    let allowed = client
        .post_with_auth(
            json!({"query": "{ note(id: \"none\") { id } }"}),
            &[("authorization", "allow-me")],
        )
        .await;
    assert_eq!(allowed.json(), json!({"data": {"note": null}}));
    let denied = client
        .post_with_auth(
            json!({"query": "{ note(id: \"none\") { id } }"}),
            &[("authorization", "deny-me")],
        )
        .await;
    assert_eq!(denied.status, 401);
    // The other key has no local value: its name is the key.
    let partner = client
        .query_with(
            "{ note(id: \"none\") { id } }",
            json!({}),
            &[("x-api-key", "partner")],
        )
        .await;
    assert_eq!(partner, json!({"data": {"note": null}}));
}

#[tokio::test]
async fn the_stage_names_the_tables() {
    let client = serve(Some("prod")).await;
    let tables = client.dynamodb_ok("ListTables", json!({})).await;
    assert_eq!(tables["TableNames"], json!(["notes-prod-notes"]));
    let created = client
        .data(CREATE, json!({"author": "ann", "text": "on prod"}))
        .await;
    assert_eq!(created["createNote"]["text"], "on prod");
}

#[test]
fn check_points_into_serverless_yml() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&project(), dir.path());
    let file = dir.path().join("serverless.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    let broken = text
        .replace("timeout: 5", "timeout: ${ssm:/notes/timeout}")
        .replace(
            "      kind: UNIT\n      dataSource: words",
            "      kind: UNIT\n      dataSorce: words",
        );
    std::fs::write(&file, &broken).unwrap();
    let errors = appsync_local::loader::Project::load(dir.path())
        .expect_err("the broken project is refused")
        .to_string();
    assert!(
        errors.contains("serverless.yml:24:14"),
        "the variable's place: {errors}"
    );
    assert!(errors.contains("needs AWS (`ssm`)"), "{errors}");

    std::fs::write(
        &file,
        text.replace(
            "      kind: UNIT\n      dataSource: words",
            "      kind: UNIT\n      dataSorce: words",
        ),
    )
    .unwrap();
    let errors = appsync_local::loader::Project::load(dir.path())
        .expect_err("the typo is refused")
        .to_string();
    assert!(errors.contains("unknown field `dataSorce`"), "{errors}");
    assert!(
        errors.contains("serverless.yml:66:7"),
        "the key's place: {errors}"
    );
}

/// The Lambda authorizer admits real-time connections and subscriptions
/// too: the token travels in the header JSON's `Authorization`.
#[tokio::test]
async fn the_lambda_authorizer_guards_subscriptions() {
    use common::ws::{Auth, token_header};

    let client = serve(None).await;
    let allowed = token_header(&client, "allow-ws");
    let mut ws = Ws::connect(&client.realtime_url(), Auth::Subprotocol(allowed.clone())).await;
    ws.init().await;
    ws.subscribe(
        "all",
        "subscription { onNoteCreated { text } }",
        json!({}),
        &allowed,
    )
    .await;
    client
        .data(CREATE, json!({"author": "cy", "text": "over the socket"}))
        .await;
    assert_eq!(
        ws.data("all").await["data"]["onNoteCreated"]["text"],
        "over the socket"
    );

    let denied = token_header(&client, "deny-ws");
    let mut refused = Ws::connect(&client.realtime_url(), Auth::Subprotocol(denied)).await;
    let closing = refused.until_closed().await;
    assert_eq!(closing[0]["type"], "connection_error", "{closing:?}");
    assert_eq!(
        closing[0]["payload"]["errors"][0]["errorType"],
        "UnauthorizedException"
    );
}
