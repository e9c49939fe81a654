//! The `serve` command as a process.

use std::process::Command;

#[test]
fn serve_refuses_a_project_it_cannot_load() {
    let empty = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["serve", "--port", "0", "--project"])
        .arg(empty.path())
        .output()
        .expect("run appsync-local");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot load the project in"),
        "stderr: {stderr}"
    );
    // The server never started listening.
    assert!(!String::from_utf8_lossy(&output.stdout).contains("listening on"));
}

#[test]
fn serve_documents_its_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["serve", "--help"])
        .output()
        .expect("run appsync-local");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--project",
        "--port",
        "--host",
        "--data",
        "--watch",
        "--verbose",
        "--body-limit",
        "--cors-origin",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
