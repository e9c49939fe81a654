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

/// SIGTERM (what `docker stop` sends) stops the server gracefully: it
/// exits 0 and records that its indexes are in step with their tables,
/// which the next start consumes instead of reconciling.
#[cfg(unix)]
#[test]
fn sigterm_stops_gracefully_and_the_next_start_skips_reconciling() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let data = tempfile::tempdir().expect("temp dir");
    let record = data.path().join("closed-cleanly.json");
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
            .args([
                "serve",
                "--port",
                "0",
                "--project",
                "tests/projects/orders",
                "--data",
            ])
            .arg(data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run appsync-local");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let listening = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(listening.starts_with("listening on "), "{listening}");
        child
    };
    let stop = |mut child: std::process::Child| {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    let status = stop(start());
    assert!(status.success(), "{status}");
    assert!(record.exists(), "a graceful stop writes the record");
    let child = start();
    assert!(!record.exists(), "the next start consumes it");
    assert!(stop(child).success());
    assert!(record.exists());
}
