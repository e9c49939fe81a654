//! One real query per async-graphql validation message we reword
//! ([`errors::VALIDATION_MESSAGES`]): each runs through the real validation
//! and its message is pinned by a snapshot, so an async-graphql upgrade that
//! changes a message fails here instead of silently changing our output.

use std::path::PathBuf;

use crate::execution::errors::VALIDATION_MESSAGES;
use crate::graphql::GraphQLRequest;
use crate::loader::Project;

/// (what it exercises, query, operation name)
const FIXTURES: &[(&str, &str, Option<&str>)] = &[
    ("unknown field", "{ getPost(id: \"1\") { titel } }", None),
    (
        "unknown argument",
        "{ getPost(id: \"1\", draft: true) { id } }",
        None,
    ),
    (
        "unknown directive argument",
        "{ getPost(id: \"1\") { id @include(when: true, if: true) } }",
        None,
    ),
    ("missing argument", "{ getPost { id } }", None),
    ("undefined variable", "{ getPost(id: $id) { id } }", None),
    ("unused variable", "query Q($id: ID) { config }", None),
    (
        "unused fragment",
        "{ config } fragment F on Post { id }",
        None,
    ),
    (
        "unknown fragment",
        "{ getPost(id: \"1\") { ...Missing } }",
        None,
    ),
    ("unknown operation", "query A { config }", Some("B")),
    (
        "operation name required",
        "query A { config } query B { config }",
        None,
    ),
    (
        "unknown type",
        "query Q($id: Identifier) { getPost(id: $id) { id } }",
        None,
    ),
    ("wrong literal type", "{ echo(input: {title: 1}) }", None),
    (
        "wrong directive value",
        "{ config @include(if: \"yes\") }",
        None,
    ),
    (
        "missing input field",
        "{ echo(input: {status: DRAFT}) }",
        None,
    ),
    ("subselection required", "{ getPost(id: \"1\") }", None),
    ("subselection not allowed", "{ config { length } }", None),
];

#[tokio::test]
async fn every_reworded_message_has_a_fixture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/projects/basic");
    let api = match Project::load(&dir) {
        Ok(api) => api,
        Err(e) => panic!("{e}"),
    };
    let mut out = String::new();
    let mut messages = Vec::new();
    for (what, query, operation_name) in FIXTURES {
        let request = GraphQLRequest {
            query: (*query).to_owned(),
            operation_name: operation_name.map(str::to_owned),
            ..Default::default()
        };
        let errors = match api.engine.validate(&request).await {
            Ok(_) => panic!("{what}: `{query}` validated"),
            Err(invalid) => invalid.errors,
        };
        out.push_str(&format!("# {what}\n{query}\n"));
        for e in &errors {
            let message = e["message"].as_str().unwrap_or_default().to_owned();
            out.push_str(&format!("-> {message}\n"));
            messages.push(message);
        }
        out.push('\n');
    }
    insta::assert_snapshot!(out);
    // Every rule produced at least one message: a rule whose upstream text
    // changed leaves the raw message in the snapshot and is missing here.
    for rule in VALIDATION_MESSAGES {
        let prefix = rule.appsync.split('{').next().unwrap_or_default();
        assert!(
            messages.iter().any(|m| m.starts_with(prefix)),
            "no fixture produces `{}`",
            rule.appsync
        );
    }
}
