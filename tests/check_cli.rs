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
