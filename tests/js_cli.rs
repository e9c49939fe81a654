//! `appsync-local evaluate --code`, as `aws appsync evaluate-code`.

mod common;

use std::process::Command;

use serde_json::{Value as Json, json};

/// Runs the command on `code` (with `lib.js` beside it) and `context`.
fn evaluate_code(code: &str, context: &str, extra: &[&str]) -> (Json, bool) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("code.js");
    let ctx = dir.path().join("context.json");
    std::fs::write(&file, code).expect("write code");
    std::fs::write(
        dir.path().join("lib.js"),
        "export const twice = (n) => n * 2;\n",
    )
    .expect("write lib");
    std::fs::write(&ctx, context).expect("write context");
    let out = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .arg("evaluate")
        .arg("--code")
        .arg(&file)
        .arg("--context")
        .arg(&ctx)
        .args(extra)
        .output()
        .expect("the command runs");
    common::json_output(&out)
}

const CODE: &str = "import { util } from '@aws-appsync/utils';
import { twice } from './lib.js';

export function request(ctx) {
  ctx.stash.seen = true;
  console.log('id', ctx.args.id);
  util.appendError('careful', 'Warning');
  return { id: ctx.args.id, n: twice(ctx.args.n), at: util.time.nowEpochMilliSeconds() };
}

export function response(ctx) {
  return ctx.result.items[0];
}
";

#[test]
fn request_and_response_handlers_print_evaluate_code_answers() {
    let (json, ok) = evaluate_code(
        CODE,
        r#"{"arguments": {"id": "p1", "n": 21}}"#,
        &["--now", "1700000000000"],
    );
    assert!(ok, "{json}");
    assert_eq!(
        json,
        json!({
            "evaluationResult": "{\"id\":\"p1\",\"n\":42,\"at\":1700000000000}",
            "logs": ["INFO - id p1"],
            "stash": "{\"seen\":true}",
            "outErrors": "[{\"message\":\"careful\",\"errorType\":\"Warning\",\"data\":null,\"errorInfo\":null}]",
        })
    );

    let (json, ok) = evaluate_code(
        CODE,
        r#"{"result": {"items": [{"id": "x"}]}}"#,
        &["--function", "response"],
    );
    assert!(ok, "{json}");
    assert_eq!(json["evaluationResult"], "{\"id\":\"x\"}");
}

#[test]
fn rejected_code_lists_code_errors_with_locations_and_fails() {
    let (json, ok) = evaluate_code(
        "export function request(ctx) {\n  let i = 0;\n  while (i < 3) { i += 1; }\n  return {};\n}\nexport function response(ctx) {}\n",
        "{}",
        &[],
    );
    assert!(!ok);
    assert_eq!(
        json["error"],
        json!({
            "message": "The code contains one or more errors.",
            "codeErrors": [{
                "errorType": "LINT_ERROR",
                "value": "While statements are not supported.",
                "location": {"line": 3, "column": 3, "span": 25},
            }],
        })
    );
    assert!(json.get("evaluationResult").is_none());
}

#[test]
fn a_runtime_error_names_the_place_in_the_file() {
    let (json, ok) = evaluate_code(
        "export function request(ctx) {\n  return ctx.args.a.b;\n}\nexport function response(ctx) {}\n",
        "{}",
        &[],
    );
    assert!(!ok);
    assert_eq!(json["error"]["errorType"], "Code");
    let message = json["error"]["message"].as_str().expect("a message");
    assert!(message.starts_with("code.js:2:"), "{message}");
    assert!(message.contains("TypeError"), "{message}");
}
