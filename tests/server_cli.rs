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

/// The served binary writes one access-log line per request to stderr:
/// method, path, status, latency and operation name. It runs as a separate
/// process because tracing's dispatcher is global: a subscriber set inside
/// a parallel test binary races the other tests' callsites.
#[cfg(unix)]
#[test]
fn one_access_log_line_per_request() {
    use std::io::{BufRead, BufReader, Read as _, Write as _};
    use std::net::TcpStream;
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args([
            "serve",
            "--port",
            "0",
            "--project",
            "tests/projects/basic",
            "--data",
        ])
        .arg(data.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run appsync-local");
    let stdout = child.stdout.take().expect("stdout");
    let listening = BufReader::new(stdout)
        .lines()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    let address = listening
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|url| url.trim_start_matches("http://").split('/').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{listening}"));
    let (lines, received) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let send = |request: String| {
        let mut stream = TcpStream::connect(&address).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        response
    };
    let body =
        r#"{"query":"query GetPost { getPost(id: \"1\") { id } }","operationName":"GetPost"}"#;
    let posted = send(format!(
        "POST /graphql HTTP/1.1\r\nhost: x\r\nx-api-key: da2-local\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(posted.starts_with("HTTP/1.1 200"), "{posted}");
    let got = send(
        "GET /graphql?query=mutation%7Ba%7D HTTP/1.1\r\nhost: x\r\nx-api-key: da2-local\r\nconnection: close\r\n\r\n"
            .into(),
    );
    assert!(got.starts_with("HTTP/1.1 405"), "{got}");

    // The lines are written by a background thread, so they arrive a little
    // after the responses.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut access = Vec::new();
    while access.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                if let Some(message) = line.split("appsync_local::http: ").nth(1) {
                    access.push(message.split(' ').map(str::to_owned).collect::<Vec<_>>());
                }
            }
            Err(_) => panic!("access-log lines so far: {access:?}"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(access[0][..3], ["POST", "/graphql", "200"], "{access:?}");
    assert!(access[0][3].ends_with("ms"), "{access:?}");
    assert_eq!(access[0][4], "GetPost", "{access:?}");
    assert_eq!(access[1][..3], ["GET", "/graphql", "405"], "{access:?}");
    assert_eq!(access[1][4], "-", "{access:?}");
    assert_eq!(access[0].len(), 5, "{access:?}");
}
