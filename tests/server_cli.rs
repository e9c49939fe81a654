//! The `serve` command as a process.

use std::process::Command;

/// `appsync-local serve --port 0 --data DATA` plus `args`, stdout piped and
/// read up to its "listening on" line; the child and its port.
#[cfg(unix)]
fn serve(
    args: &[&str],
    data: &std::path::Path,
    stderr: std::process::Stdio,
) -> (std::process::Child, u16) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["serve", "--port", "0", "--data"])
        .arg(data)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("APPSYNC_LOCAL_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("run appsync-local");
    let stdout = child.stdout.take().expect("stdout");
    let listening = BufReader::new(stdout)
        .lines()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    let port = listening
        .strip_prefix("listening on ")
        .and_then(|url| url.trim().trim_end_matches("/graphql").rsplit(':').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("{listening}"));
    (child, port)
}

/// The child's stderr, line by line, read by a thread so the child never
/// blocks on a full pipe.
#[cfg(unix)]
fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader};
    let (lines, received) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}

/// One HTTP/1.1 request on a new connection to `127.0.0.1:port`; the raw
/// response.
#[cfg(unix)]
fn http(port: u16, request: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

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
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let data = tempfile::tempdir().expect("temp dir");
    let record = data.path().join("closed-cleanly.json");
    let start = || {
        serve(
            &["--project", "tests/projects/orders"],
            data.path(),
            Stdio::null(),
        )
        .0
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
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let data = tempfile::tempdir().expect("temp dir");
    let (mut child, port) = serve(
        &["--project", "tests/projects/basic"],
        data.path(),
        Stdio::piped(),
    );
    let received = stderr_lines(&mut child);
    let send = |request: String| http(port, &request);
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

/// `appsync-local token` signs with the data directory's key, which a
/// server on the same directory accepts; `--expires-in 0` mints an expired
/// token for tests of expiry.
#[test]
fn token_mints_what_a_server_on_the_same_data_accepts() {
    let data = tempfile::tempdir().expect("temp dir");
    let mint = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
            .args(["token", "--project", "tests/projects/auth_modes", "--data"])
            .arg(data.path())
            .args(["--sub", "alice", "--groups", "Admin,Editors"])
            .args(extra)
            .output()
            .expect("run appsync-local token");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    };
    let valid = mint(&[]);
    let expired = mint(&["--expires-in", "0"]);
    assert_eq!(valid.split('.').count(), 3, "{valid}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = appsync_local::testing::TestServer::builder("tests/projects/auth_modes")
            .data_dir(data.path())
            .start()
            .await
            .expect("server");
        let client = reqwest::Client::new();
        let ask = |token: &str| {
            client
                .post(server.graphql_url())
                .header("authorization", token)
                .json(&serde_json::json!({"query": "{ me adminOnly }"}))
                .send()
        };
        let body: serde_json::Value = ask(&valid)
            .await
            .expect("response")
            .json()
            .await
            .expect("json");
        assert_eq!(
            body,
            serde_json::json!({"data": {"me": "alice", "adminOnly": "adminOnly"}})
        );
        let refused = ask(&expired).await.expect("response");
        assert_eq!(refused.status(), 401);
        let body: serde_json::Value = refused.json().await.expect("json");
        assert_eq!(body["errors"][0]["message"], "Token has expired.");
    });
    // A project without Cognito or OIDC has nothing to mint for.
    let output = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["token", "--project", "tests/projects/basic", "--data"])
        .arg(data.path())
        .args(["--sub", "alice"])
        .output()
        .expect("run appsync-local token");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no AMAZON_COGNITO_USER_POOLS or OPENID_CONNECT provider"),
        "{stderr}"
    );
}

/// Bound beyond loopback, the admin routes need the token `serve` prints;
/// GraphQL and `/metrics` do not.
#[cfg(unix)]
#[test]
fn admin_routes_need_the_admin_token_beyond_loopback() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let data = tempfile::tempdir().expect("temp dir");
    let (mut child, port) = serve(
        &[
            "--host",
            "0.0.0.0",
            "--project",
            "tests/projects/auth_modes",
        ],
        data.path(),
        Stdio::piped(),
    );
    // The token line comes before the listening line; log lines may too.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let token = stderr
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split("x-appsync-local-admin-token: ")
                .nth(1)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned)
        })
        .expect("serve prints the admin token");
    // Keep reading, so the access log never writes to a closed pipe.
    std::thread::spawn(move || stderr.for_each(drop));
    let status = |path: &str, headers: &str| {
        http(
            port,
            &format!("GET {path} HTTP/1.1\r\nhost: x\r\n{headers}connection: close\r\n\r\n"),
        )
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .parse::<u16>()
        .unwrap_or_default()
    };
    let with_token = format!("x-appsync-local-admin-token: {token}\r\n");
    let results = [
        status("/admin/auth", ""),
        status("/admin/auth", "x-appsync-local-admin-token: wrong\r\n"),
        status("/admin/auth", &with_token),
        status("/metrics", ""),
        status("/graphql?query=%7Bping%7D", "x-api-key: da2-authmodes\r\n"),
    ];
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(results, [401, 401, 200, 200, 200]);
}

/// Without the local issuer and without network, a provider whose keys
/// cannot be fetched stops the start with the reason, within the fetch
/// timeout, instead of refusing every request later.
#[test]
fn a_provider_without_reachable_keys_fails_the_start() {
    let project = tempfile::tempdir().expect("project");
    std::fs::write(
        project.path().join("appsync.yaml"),
        "name: offline\nauthentication:\n  type: OPENID_CONNECT\n  config:\n    issuer: http://127.0.0.1:9\n",
    )
    .expect("manifest");
    std::fs::write(
        project.path().join("schema.graphql"),
        "type Query { a: String }\n",
    )
    .expect("schema");
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["serve", "--port", "0", "--no-local-issuer", "--project"])
        .arg(project.path())
        .output()
        .expect("run appsync-local");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot get the signing keys of http://127.0.0.1:9"),
        "{stderr}"
    );
    assert!(stderr.contains("config.jwks"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// A function's output reaches the log tagged with its name and request
/// id, and `--watch` restarts its workers when its handler changes.
#[cfg(unix)]
#[test]
fn lambda_output_is_logged_and_watch_reloads_handlers() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let project = tempfile::tempdir().expect("temp dir");
    let copied = Command::new("cp")
        .arg("-r")
        .arg("tests/projects/lambda/.")
        .arg(project.path())
        .status()
        .expect("cp");
    assert!(copied.success());
    let data = tempfile::tempdir().expect("temp dir");
    let project_arg = project.path().to_str().expect("utf-8 path");
    let (mut child, port) = serve(
        &["--project", project_arg, "--watch"],
        data.path(),
        Stdio::piped(),
    );
    let received = stderr_lines(&mut child);
    let query = |query: &str| {
        let body = serde_json::json!({ "query": query }).to_string();
        let response = http(
            port,
            &format!(
                "POST /graphql HTTP/1.1\r\nhost: x\r\nx-api-key: da2-lambda\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        let json = response
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        serde_json::from_str::<serde_json::Value>(&json).unwrap_or_default()
    };
    let answer = query("{ logs(name: \"bob\") }");
    assert_eq!(answer["data"]["logs"], "logged", "{answer}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stdout_line = None;
    let mut stderr_line = None;
    let mut seen = Vec::new();
    while stdout_line.is_none() || stderr_line.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = received
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no function output in the log: {seen:#?}"));
        seen.push(line.clone());
        if line.contains("hello from bob") {
            stdout_line = Some(line);
        } else if line.contains("to stderr") {
            stderr_line = Some(line);
        }
    }
    for line in [stdout_line.unwrap(), stderr_line.unwrap()] {
        assert!(line.contains("appsync_local::lambda"), "{line}");
        assert!(line.contains("function=logs"), "{line}");
        assert!(line.contains("request_id="), "{line}");
    }

    let module = |answer: serde_json::Value| {
        let text = answer["data"]["echoEsm"]
            .as_str()
            .unwrap_or("{}")
            .to_owned();
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default()["module"].clone()
    };
    assert_eq!(module(query("{ echoEsm }")), "esm");
    let handler = project.path().join("functions/echo_esm.mjs");
    let source = std::fs::read_to_string(&handler).expect("handler");
    std::fs::write(&handler, source.replace("\"esm\"", "\"edited\"")).expect("edit");
    let deadline = Instant::now() + Duration::from_secs(20);
    while module(query("{ echoEsm }")) != "edited" {
        assert!(Instant::now() < deadline, "the edited handler never ran");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `serve` on a serverless.yml project: it says which value each API key
/// has (AWS would generate them) and notes settings with no local effect.
#[cfg(unix)]
#[test]
fn serve_names_the_api_keys_of_a_serverless_project() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let data = tempfile::tempdir().expect("temp dir");
    let (mut child, _port) = serve(
        &[
            "--project",
            "examples/serverless-notes",
            "--param",
            "xray=true",
        ],
        data.path(),
        Stdio::piped(),
    );
    let received = stderr_lines(&mut child);
    let wanted = [
        "xrayEnabled: no X-Ray traces are recorded locally",
        "API key `web`: da2-notes-web",
        "API key `partner`: partner",
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !wanted
        .iter()
        .all(|w| seen.iter().any(|l: &String| l.contains(w)))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("log lines so far: {seen:#?}"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
