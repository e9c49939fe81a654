//! Every `examples/*.graphql` holds one operation of the demo API, valid
//! against the demo's schema.graphql, with a `# Variables: {...}` header line
//! whose values fit the operation's variable types.

use std::path::PathBuf;

use appsync_local::execution::coerce::coerce_json;
use appsync_local::execution::engine::Engine;
use appsync_local::graphql::GraphQLRequest;
use appsync_local::model::schema::{self, SchemaModel};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use serde_json::{Map, Value as Json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo_schema() -> SchemaModel {
    let text = std::fs::read_to_string(root().join("schema.graphql")).expect("schema.graphql");
    schema::build(&[text]).unwrap_or_else(|problems| panic!("demo schema: {problems:?}"))
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
    let model = demo_schema();
    let engine = Engine::build(&model).expect("engine");
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
        let request = GraphQLRequest {
            query: text.clone(),
            operation_name,
            variables: Some(variables.clone()),
            extensions: None,
        };
        if let Err(invalid) = engine.validate(&request).await {
            panic!("{name} is not valid: {:?}", invalid.errors);
        }
        let (_, operation) = doc.operations.iter().next().expect("one operation");
        for definition in &operation.node.variable_definitions {
            let variable = definition.node.name.node.as_str();
            let ty = &definition.node.var_type.node;
            match variables.get(variable) {
                Some(value) => {
                    if let Err(err) = coerce_json(&model, ty, value) {
                        panic!("{name}: ${variable} = {value} is not a {ty}: {err:?}");
                    }
                }
                None => assert!(
                    ty.nullable || definition.node.default_value.is_some(),
                    "{name}: the header gives no value for the required ${variable}"
                ),
            }
        }
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
async fn an_invalid_operation_is_caught() {
    // The check above could pass vacuously if the engine accepted anything.
    let engine = Engine::build(&demo_schema()).expect("engine");
    let request = GraphQLRequest {
        query: "query { getFlight(id: \"FL00001\") { id noSuchField } }".to_owned(),
        operation_name: None,
        variables: None,
        extensions: None,
    };
    assert!(engine.validate(&request).await.is_err());
}
