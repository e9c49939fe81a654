//! The `check` command as users run it in CI.

use std::path::PathBuf;
use std::process::Command;

fn check(project: &str) -> std::process::Output {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/projects")
        .join(project);
    Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["check", "--project"])
        .arg(&dir)
        .output()
        .expect("the binary runs")
}

#[test]
fn check_exits_non_zero_and_lists_every_problem() {
    let out = check("broken_bindings");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("13 problems found"), "{stderr}");
    assert!(stderr.contains("appsync.yaml:10:5"), "{stderr}");
}

#[test]
fn check_passes_a_good_project() {
    let out = check("basic");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("basic: ok"), "{stdout}");
}

/// A function that is not declared locally is a problem, unless `check` is
/// told the Invoke API `serve` will send it to.
#[test]
fn check_accepts_remote_functions_given_the_lambda_endpoint() {
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("appsync.yaml"),
        "name: remote\ndataSources:\n  fn:\n    type: AWS_LAMBDA\n    config:\n      functionName: elsewhere\nresolvers:\n  Query.a:\n    dataSource: fn\n",
    )
    .expect("manifest");
    std::fs::write(
        project.path().join("schema.graphql"),
        "type Query { a: String }",
    )
    .expect("schema");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_appsync-local"))
            .args(["check", "--project"])
            .arg(project.path())
            .args(extra)
            .output()
            .expect("the binary runs")
    };
    let out = run(&[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown function `elsewhere`"), "{stderr}");
    assert!(stderr.contains("appsync.yaml:6:7"), "{stderr}");
    let out = run(&["--lambda-endpoint", "http://127.0.0.1:3001"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
