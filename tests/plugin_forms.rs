//! serverless-appsync-plugin v2's shorthand forms in `appsync.yaml`
//! (`tests/projects/plugin_forms`): the API serves as the plugin would
//! deploy it.

mod common;

use appsync_local::model::manifest::Manifest;
use appsync_local::model::source::KeyIndex;
use serde_norway::{Mapping, Value};

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
        let manifest = match example_manifest(&text) {
            Ok(manifest) => manifest,
            Err(err) => {
                assert!(
                    not_yaml.contains(&name.as_str()),
                    "{name} is not YAML: {err}"
                );
                continue;
            }
        };
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

/// serverless-appsync-plugin's own validation schema (from npm,
/// `tests/plugin-oracle`) as the oracle: every documentation example it
/// accepts reads as a manifest here too. (We also read some it refuses:
/// its quick start's resolvers lack `kind: UNIT`, which we infer.)
#[test]
fn what_the_plugin_accepts_reads_here() {
    common::npm_ci("tests/plugin-oracle");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/plugin_docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let out = std::process::Command::new("node")
        .arg(root.join("tests/plugin-oracle/validate.mjs"))
        .args(&files)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(verdicts.len(), files.len());
    let mut valid = 0;
    for (file, verdict) in files.iter().zip(&verdicts) {
        if verdict["valid"] != true {
            continue;
        }
        valid += 1;
        let manifest = example_manifest(&std::fs::read_to_string(file).unwrap()).unwrap();
        if let Err(errors) = Manifest::parse(&manifest, &KeyIndex::parse(&manifest)) {
            panic!(
                "{}: the plugin accepts it, we refuse: {errors:?}",
                verdict["file"]
            );
        }
    }
    assert!(valid >= 30, "only {valid} examples valid for the plugin");
}

/// A documentation example as an `appsync.yaml`: its `appSync:` block, or
/// the whole example when it is part of one (one resolver is put under
/// `resolvers`), with a `name` and an `authentication` when it has none.
/// `tests/plugin-oracle/validate.mjs` reads them the same way.
fn example_manifest(text: &str) -> Result<String, serde_norway::Error> {
    let value: Value = serde_norway::from_str(text)?;
    let mut block = match value.get("appSync") {
        Some(block) => block.clone(),
        None if value.get("Query.user").is_some() => {
            let mut resolvers = Mapping::new();
            resolvers.insert("resolvers".into(), value.clone());
            Value::Mapping(resolvers)
        }
        None => value.clone(),
    };
    if let Some(map) = block.as_mapping_mut() {
        map.entry("name".into()).or_insert("docs".into());
        let mut auth = Mapping::new();
        auth.insert("type".into(), "API_KEY".into());
        map.entry("authentication".into())
            .or_insert(Value::Mapping(auth));
    }
    serde_norway::to_string(&block)
}
