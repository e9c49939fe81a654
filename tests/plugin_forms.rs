//! serverless-appsync-plugin v2's shorthand forms in `appsync.yaml`
//! (`tests/projects/plugin_forms`): the API serves as the plugin would
//! deploy it.

mod common;

use common::{start, wait_until};
use serde_json::json;

#[tokio::test]
async fn the_plugins_shorthand_forms_serve() {
    let client = start("plugin_forms").await;
    // API keys given as bare names use their names as values; the others
    // are live (plugin lifetimes, a date without an offset read as UTC).
    for key in ["local", "monthly", "hours", "dated"] {
        let answer = client
            .query_with(
                "{ getNote(id: \"none\") { id } }",
                json!({}),
                &[("x-api-key", key)],
            )
            .await;
        assert_eq!(answer, json!({"data": {"getNote": null}}), "key {key}");
    }
    // The pipeline's inline functions: a DynamoDB put, then a NONE step.
    let put =
        "mutation($id: ID!, $text: String) { putNote(id: $id, text: $text) { id text stamped } }";
    let created = client.data(put, json!({"id": "n1", "text": "first"})).await;
    assert_eq!(
        created,
        json!({"putNote": {"id": "n1", "text": "first", "stamped": true}})
    );
    // `caching: true` caches getNote per request: a later write is not seen.
    let get = "{ getNote(id: \"n1\") { text } }";
    assert_eq!(
        client.data(get, json!({})).await["getNote"]["text"],
        "first"
    );
    client
        .data(put, json!({"id": "n1", "text": "second"}))
        .await;
    assert_eq!(
        client.data(get, json!({})).await["getNote"]["text"],
        "first"
    );
    // Inline definitions carry the plugin's names.
    wait_until("the metrics name the inline data sources", async || {
        let metrics = client.metrics().await;
        metrics.contains(r#"field="Query.getNote",data_source="Query_getNote""#)
            && metrics.contains(r#"field="Mutation.putNote",data_source="Mutation_putNote_1""#)
    })
    .await;
}

/// Every YAML example of serverless-appsync-plugin v2's documentation
/// (`tests/plugin_docs`, extracted by `scripts/plugin-doc-examples.py`)
/// reads as a manifest: whole `appSync:` blocks, and parts of one (a `waf:`,
/// a `resolvers:` map, a single resolver) put in a block with a name and an
/// authentication when the example leaves them out.
#[test]
fn every_plugin_documentation_example_reads_as_a_manifest() {
    use appsync_local::model::manifest::Manifest;
    use appsync_local::model::source::KeyIndex;
    use serde_norway::{Mapping, Value};

    // Examples that are not YAML at all (documentation slips): an esbuild
    // object in JavaScript syntax, and `Ref:` written inline.
    let not_yaml = ["dataSources-4.yaml", "general-config-5.yaml"];
    // Lists of `${file(...)}` variables, which Serverless resolves before
    // the plugin sees the block: an `appsync.yaml` has no variables, so
    // these are refused until serverless.yml itself is read.
    let needs_variables = ["dataSources-8.yaml", "resolvers-7.yaml"];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plugin_docs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 40, "examples missing: {}", files.len());
    let mut failures = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let value: Value = match serde_norway::from_str(&text) {
            Ok(value) => value,
            Err(err) => {
                assert!(
                    not_yaml.contains(&name.as_str()),
                    "{name} is not YAML: {err}"
                );
                continue;
            }
        };
        let mut block = match value.get("appSync") {
            Some(block) => block.clone(),
            None if value.get("Query.user").is_some() => {
                let mut resolvers = Mapping::new();
                resolvers.insert("resolvers".into(), value.clone());
                Value::Mapping(resolvers)
            }
            None => value.clone(),
        };
        let map = block.as_mapping_mut().expect("a map");
        if !map.contains_key("name") {
            map.insert("name".into(), "docs".into());
        }
        if !map.contains_key("authentication") {
            let mut auth = Mapping::new();
            auth.insert("type".into(), "API_KEY".into());
            map.insert("authentication".into(), Value::Mapping(auth));
        }
        let manifest = serde_norway::to_string(&block).unwrap();
        let parsed = Manifest::parse(&manifest, &KeyIndex::parse(&manifest));
        match (parsed, needs_variables.contains(&name.as_str())) {
            (Ok(_), false) | (Err(_), true) => {}
            (Ok(_), true) => failures.push(format!("{name} needs variables, yet it read")),
            (Err(errors), false) => failures.push(format!("{name}: {errors:?}\n{manifest}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Settings with no local effect are read, and `check` says so in one line
/// each.
#[test]
fn check_notes_settings_with_no_local_effect() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["check", "--project"])
        .arg(common::project("plugin_forms"))
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "notice: xrayEnabled: no X-Ray traces are recorded locally\n\
         notice: enhancedMetrics: metrics are served at /metrics, not sent to CloudWatch\n\
         plugin-forms: ok (17 types, 2 resolvers)\n"
    );
}
