//! `environment` in the manifest is `ctx.env` in VTL and JS, strings only,
//! under AppSync's rules for names, lengths and counts.

mod common;

use appsync_local::loader::Project;
use serde_json::{Value as Json, json};

fn parsed(body: &Json, field: &str) -> Json {
    serde_json::from_str(body["data"][field].as_str().expect("AWSJSON")).expect("json")
}

#[tokio::test]
async fn both_runtimes_read_the_same_strings() {
    let c = common::start("environment").await;
    let body = c.query("{ vtl js }").await;
    let all = json!({"STAGE": "local", "TABLE_SUFFIX": "dev", "MAX_ITEMS": "25"});
    assert_eq!(
        parsed(&body, "vtl"),
        json!({"all": all, "stage": "local", "missing": null})
    );
    assert_eq!(
        parsed(&body, "js"),
        json!({"all": all, "stage": "local", "max": "25", "kind": "string"})
    );
}

#[test]
fn names_values_and_counts_follow_appsync_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let many: String = (0..51).map(|i| format!("  KEY{i}: v\n")).collect();
    for (environment, expected, line) in [
        ("  a: short\n", "names start with a letter", 3),
        ("  9LIVES: x\n", "names start with a letter", 3),
        ("  OK: [1, 2]\n", "must be a string", 3),
        (
            &format!("  LONG: {}\n", "x".repeat(513))[..],
            "longer than AppSync's 512 characters",
            3,
        ),
        (&many[..], "at most 50", 2),
    ] {
        std::fs::write(
            dir.path().join("appsync.yaml"),
            format!("name: env\nenvironment:\n{environment}"),
        )
        .expect("manifest");
        std::fs::write(
            dir.path().join("schema.graphql"),
            "type Query { a: String }\n",
        )
        .expect("schema");
        let errors = Project::load(dir.path()).expect_err("a refused environment");
        let problem = errors
            .problems
            .iter()
            .find(|p| p.message.contains(expected))
            .unwrap_or_else(|| panic!("{expected}: {errors}"));
        assert_eq!(problem.file, "appsync.yaml");
        assert_eq!(problem.line, Some(line), "{problem:?}");
    }
}
