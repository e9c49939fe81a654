//! Every `examples/*.graphql` holds one operation of the demo API, valid
//! against the demo's schema.graphql, with a `# Variables: {...}` header line
//! whose values fit the operation's variable types. Each runs against the
//! demo (unseeded, in memory) through the public server.

mod common;

use std::path::PathBuf;

use appsync_local::testing::TestServer;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use common::Client;
use serde_json::{Map, Value as Json, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn demo() -> Client {
    common::start_with(TestServer::builder(root()).seed(false)).await
}

/// Whether a response failed as a whole (parse, validation or variable
/// coercion), as opposed to fields that failed with a path.
fn request_failed(response: &Json) -> bool {
    response["data"].is_null()
        || response["errors"].as_array().is_some_and(|errors| {
            errors
                .iter()
                .any(|e| e.get("path").is_none_or(Json::is_null))
        })
}

fn examples() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "graphql"))
        .map(|path| {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).expect("readable example");
            (name, text)
        })
        .collect();
    files.sort();
    files
}

/// The JSON object on the header's `# Variables:` line.
fn header_variables(name: &str, text: &str) -> Map<String, Json> {
    let line = text
        .lines()
        .take_while(|line| line.starts_with('#'))
        .find_map(|line| line.strip_prefix("# Variables:"))
        .unwrap_or_else(|| panic!("{name}: no `# Variables: {{...}}` line in the header comment"));
    match serde_json::from_str(line.trim()) {
        Ok(Json::Object(variables)) => variables,
        other => panic!("{name}: variables are not a JSON object: {other:?}"),
    }
}

fn single_operation(name: &str, doc: &ExecutableDocument) -> Option<String> {
    match &doc.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) => {
            assert_eq!(operations.len(), 1, "{name}: one operation per file");
            operations.keys().next().map(|key| key.to_string())
        }
    }
}

#[tokio::test]
async fn every_example_validates_against_the_demo_schema_with_its_variables() {
    let demo = demo().await;
    let examples = examples();
    for expected in [
        "getFlight.graphql",
        "getFlightBySchedule.graphql",
        "searchFlights.graphql",
        "getBooking.graphql",
        "searchBookings.graphql",
        "getLoyalty.graphql",
        "createBooking.graphql",
        "cancelBooking.graphql",
        "bookingFlightBookings.graphql",
    ] {
        assert!(
            examples.iter().any(|(name, _)| name == expected),
            "examples/{expected} is missing"
        );
    }
    for (name, text) in &examples {
        let doc = async_graphql::parser::parse_query(text)
            .unwrap_or_else(|err| panic!("{name} does not parse: {err}"));
        let operation_name = single_operation(name, &doc);
        let variables = header_variables(name, text);
        // Validation and variable coercion are the server's: a request that
        // fails as a whole names the problem.
        let raw = demo
            .post(
                json!({"query": text, "operationName": operation_name, "variables": variables}),
                &[],
            )
            .await;
        let response = raw.json();
        assert!(
            !request_failed(&response),
            "{name} is not valid: {response:#}"
        );
        let (_, operation) = doc.operations.iter().next().expect("one operation");
        for given in variables.keys() {
            assert!(
                operation
                    .node
                    .variable_definitions
                    .iter()
                    .any(|definition| definition.node.name.node.as_str() == given),
                "{name}: the header sets ${given}, which the operation does not declare"
            );
        }
    }
}

#[tokio::test]
async fn an_invalid_operation_or_variable_is_caught() {
    // The check above could pass vacuously if the server accepted anything.
    let demo = demo().await;
    let invalid = demo
        .post(
            json!({"query": "query { getFlight(id: \"FL00001\") { id noSuchField } }"}),
            &[],
        )
        .await
        .json();
    assert!(request_failed(&invalid), "{invalid:#}");
    let wrong_variable = demo
        .post(
            json!({"query": "query Q($id: ID!) { getFlight(id: $id) { id } }", "variables": {"id": null}}),
            &[],
        )
        .await
        .json();
    assert!(request_failed(&wrong_variable), "{wrong_variable:#}");
}
