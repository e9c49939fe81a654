//! APPSYNC_JS fixtures: each `tests/js/fixtures/<group>/<name>.js` is a code
//! file run like `aws appsync evaluate-code`, with a header of comments:
//!
//! - `// Doc: <url>`: the page (or recorded test) grounding the behaviour;
//!   required;
//! - `// Function: request|response` (default `request`);
//! - `// Context: <one line of JSON>` (default `{}`);
//! - `// Expect-result: <one line of JSON>`: the handler's value as AWS
//!   documents or recorded it;
//! - `// Expect-error: <type>`: the evaluation fails with this `errorType`
//!   (`LINT_ERROR`/`PARSER_ERROR` for code rejected at load; `null` for an
//!   error without a type);
//! - `// Expect-message: <text>`: the error's exact message;
//! - `// Expect-error-json`, `// Expect-appended-errors`,
//!   `// Expect-effects`, `// Expect-stash: <JSON>`: the raised error, the
//!   `util.appendError` entries, the recorded effects and the stash after
//!   the handler, as the runtime seam's types serialize;
//! - `// Expect-early-return: default|NEXT|END`: the handler ended with
//!   `runtime.earlyReturn`.
//!
//! The whole `evaluate-code` answer is also snapshotted, with the clock
//! pinned and the generator seeded.

use std::path::Path;
use std::time::Duration;

use appsync_local::js::{EvaluateCodeResponse, JsLimits, JsProgram, evaluate_code};
use appsync_local::runtime::{Context, Host, Outcome, Phase};
use serde_json::Value as Json;

/// 2018-02-06T19:01:35.749Z, the developer guide's example instant.
const NOW: i64 = 1_517_943_695_749;

#[derive(Default)]
struct Fixture {
    doc: Option<String>,
    function: Option<Phase>,
    context: Context,
    expect_result: Option<Json>,
    expect_error: Option<String>,
    expect_message: Option<String>,
    /// Header name → expected JSON, for the seam-level checks.
    expect_json: Vec<(String, Json)>,
    expect_early_return: Option<String>,
}

fn header(source: &str) -> Result<Fixture, String> {
    let mut fixture = Fixture::default();
    for line in source.lines() {
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        let Some((key, value)) = comment.trim().split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "Doc" => fixture.doc = Some(value.to_owned()),
            "Function" => {
                fixture.function = Some(match value {
                    "request" => Phase::Request,
                    "response" => Phase::Response,
                    other => return Err(format!("unknown Function `{other}`")),
                })
            }
            "Context" => {
                fixture.context =
                    serde_json::from_str(value).map_err(|e| format!("bad Context: {e}"))?
            }
            "Expect-result" => {
                fixture.expect_result = Some(
                    serde_json::from_str(value).map_err(|e| format!("bad Expect-result: {e}"))?,
                )
            }
            "Expect-error" => fixture.expect_error = Some(value.to_owned()),
            "Expect-message" => fixture.expect_message = Some(value.to_owned()),
            "Expect-early-return" => fixture.expect_early_return = Some(value.to_owned()),
            key @ ("Expect-error-json"
            | "Expect-appended-errors"
            | "Expect-effects"
            | "Expect-stash") => fixture.expect_json.push((
                key.to_owned(),
                serde_json::from_str(value).map_err(|e| format!("bad {key}: {e}"))?,
            )),
            other if other.starts_with("Expect") => {
                return Err(format!("unknown header `{other}`"));
            }
            _ => {}
        }
    }
    Ok(fixture)
}

const LIMITS: JsLimits = JsLimits {
    time_budget: Duration::from_millis(300),
};

fn reader(path: &Path) -> impl FnMut(&str) -> std::io::Result<String> + use<> {
    let dir = path.parent().expect("a fixture directory").to_path_buf();
    move |relative: &str| std::fs::read_to_string(dir.join(relative))
}

fn name(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// The `evaluate-code` answer.
fn run(path: &Path, source: &str, fixture: &Fixture) -> EvaluateCodeResponse {
    let mut ctx = fixture.context.clone();
    evaluate_code(
        &name(path),
        source,
        &mut reader(path),
        fixture.function.unwrap_or(Phase::Request),
        &mut ctx,
        Host::seeded(NOW, 7),
        LIMITS,
    )
}

/// The seam-level checks: the same run, read as the executor reads it.
fn check_seam(path: &Path, source: &str, fixture: &Fixture) -> Result<(), String> {
    if fixture.expect_json.is_empty() && fixture.expect_early_return.is_none() {
        return Ok(());
    }
    let program = JsProgram::compile(&name(path), source, &mut reader(path))
        .map_err(|e| format!("does not compile: {e}"))?;
    let mut ctx = fixture.context.clone();
    let out = program.evaluate_with(
        fixture.function.unwrap_or(Phase::Request),
        &mut ctx,
        Host::seeded(NOW, 7),
        LIMITS,
    );
    for (key, expected) in &fixture.expect_json {
        let got = match key.as_str() {
            "Expect-error-json" => match &out.outcome {
                Outcome::Failed(e) => serde_json::to_value(e).map_err(|e| e.to_string())?,
                other => return Err(format!("expected an error, got {other:?}")),
            },
            "Expect-appended-errors" => {
                serde_json::to_value(&out.appended_errors).map_err(|e| e.to_string())?
            }
            "Expect-effects" => serde_json::to_value(&out.effects).map_err(|e| e.to_string())?,
            _ => Json::Object(ctx.stash.clone()),
        };
        if &got != expected {
            return Err(format!("{key}: got {got}\n   expected {expected}"));
        }
    }
    if let Some(kind) = &fixture.expect_early_return {
        let ok = matches!(
            (kind.as_str(), &out.outcome),
            ("default" | "NEXT", Outcome::EarlyReturn(_)) | ("END", Outcome::SkipToEnd(_))
        );
        if !ok {
            return Err(format!(
                "expected an early return ({kind}), got {:?}",
                out.outcome
            ));
        }
    }
    Ok(())
}

/// What the fixture's header promises, checked against the answer.
fn check(fixture: &Fixture, response: &EvaluateCodeResponse) -> Result<(), String> {
    if fixture.doc.is_none() {
        return Err("no `// Doc:` line".to_owned());
    }
    if let Some(expected) = &fixture.expect_result {
        let got = response
            .evaluation_result
            .as_deref()
            .ok_or_else(|| format!("expected a result, got {:?}", response.error))?;
        let got: Json = serde_json::from_str(got).map_err(|e| e.to_string())?;
        if &got != expected {
            return Err(format!("result {got}\n   expected {expected}"));
        }
    }
    match (&fixture.expect_error, &response.error) {
        (None, Some(err)) if fixture.expect_result.is_some() => {
            Err(format!("unexpected error {err:?}"))
        }
        (Some(want), None) => Err(format!("expected a {want} error, got none")),
        (Some(want), Some(err)) => {
            let got = err
                .code_errors
                .first()
                .map(|c| serde_json::to_value(c.error_type).unwrap_or_default())
                .and_then(|v| v.as_str().map(str::to_owned))
                .or_else(|| err.error_type.clone())
                .unwrap_or_else(|| "null".to_owned());
            if &got != want {
                return Err(format!(
                    "expected a {want} error, got {got}: {}",
                    err.message
                ));
            }
            // Code rejected at load may have several problems (an `await`
            // in an `async` function is two); one of them must match.
            let messages: Vec<&String> = if err.code_errors.is_empty() {
                vec![&err.message]
            } else {
                err.code_errors.iter().map(|c| &c.value).collect()
            };
            match &fixture.expect_message {
                Some(m) if !messages.contains(&m) => {
                    Err(format!("messages {messages:?}\n   expected {m:?}"))
                }
                _ => Ok(()),
            }
        }
        (None, None) if fixture.expect_message.is_some() => {
            Err("expected an error message, got no error".to_owned())
        }
        _ => Ok(()),
    }
}

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/fixtures");
    let mut failures = Vec::new();
    let mut answers = Vec::new();
    let mut count = 0;
    let mut paths: Vec<_> = glob_js(&root);
    paths.sort();
    for path in &paths {
        count += 1;
        let rel = path
            .strip_prefix(&root)
            .expect("under the root")
            .display()
            .to_string();
        let source = std::fs::read_to_string(path).expect("a readable fixture");
        let fixture = match header(&source) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{rel}: {e}"));
                continue;
            }
        };
        let response = run(path, &source, &fixture);
        if let Err(e) =
            check(&fixture, &response).and_then(|()| check_seam(path, &source, &fixture))
        {
            failures.push(format!("{rel}: {e}"));
        }
        answers.push((rel, response));
    }
    assert!(count >= 150, "only {count} fixtures");
    assert!(
        failures.is_empty(),
        "{} of {count} fixtures failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for (rel, response) in answers {
        let snapshot = rel.trim_end_matches(".js").replace('/', "__");
        insta::with_settings!({
            snapshot_path => "js/snapshots",
            prepend_module_to_snapshot => false,
            description => rel.clone(),
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!(snapshot, response);
        });
    }
}

/// Fixtures, skipping helper modules (`_*.js`) that fixtures import.
fn glob_js(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("a fixture directory")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "js")
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('_'))
            {
                out.push(path);
            }
        }
    }
    out
}
