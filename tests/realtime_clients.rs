//! Real AppSync client libraries from npm against the server, unchanged:
//! Amplify JS v6, `aws-appsync-subscription-link` 3.x (query-string auth)
//! with Apollo Client 3, and 4.x (subprotocol auth) with Apollo Client 4.
//! `tests/realtime-clients/subscribe.mjs` drives each; the first test to
//! need them installs the pinned versions with `npm ci`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use appsync_local::testing::TestServer;
use common::{Client, project, start_with, wait_until};
use serde_json::{Value as Json, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realtime-clients")
}

struct Driver {
    lines: Lines<BufReader<ChildStdout>>,
    child: tokio::process::Child,
}

impl Driver {
    fn spawn(client: &str, server: &TestServer, query: &str, variables: Json) -> Driver {
        let mut child = Command::new("node")
            .arg(clients_dir().join("subscribe.mjs"))
            .args(["--client", client, "--url", &server.graphql_url()])
            .args(["--api-key", server.api_key().unwrap_or_default()])
            .args(["--query", query, "--variables", &variables.to_string()])
            .args(["--count", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().expect("stdout");
        Driver {
            lines: BufReader::new(stdout).lines(),
            child,
        }
    }

    /// The driver's next JSON line (30 s: Amplify retries slowly).
    async fn next(&mut self) -> Json {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("the client answers within 30 s")
            .expect("stdout reads")
            .expect("the client printed a line before exiting");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }
}

async fn round_trip(client: &str, expected: Json) {
    common::npm_ci("tests/realtime-clients");
    let server: Client = start_with(TestServer::builder(project("realtime"))).await;
    let query = "subscription On($id: ID) { onNote(id: $id) { id text } }";
    let mut driver = Driver::spawn(client, &server, query, json!({"id": "n1"}));
    assert_eq!(driver.next().await, json!({"event": "ready"}));
    let put = "mutation P($id: ID!, $text: String) { putNote(id: $id, text: $text, owner: \"ann\") { id text owner } }";
    // Another note first: argument filtering must skip it.
    server.data(put, json!({"id": "n2", "text": "other"})).await;
    server.data(put, json!({"id": "n1", "text": "hello"})).await;
    assert_eq!(
        driver.next().await,
        json!({"event": "data", "data": expected})
    );
    let done = driver.next().await;
    assert_eq!(done["event"], "done", "{done}");
    assert_eq!(done["sent"], json!(["connection_init", "start", "stop"]));
    let frames: Vec<&str> = done["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Json::as_str)
        .filter(|t| *t != "ka")
        .collect();
    assert_eq!(frames, ["connection_ack", "start_ack", "data", "complete"]);
    let status = driver.child.wait().await.expect("the driver exits");
    assert!(status.success());
    wait_until("the subscription ends", async || {
        server.realtime().subscription_count() == 0
    })
    .await;
}

#[tokio::test]
async fn amplify_js_v6_subscribes_and_unsubscribes() {
    round_trip(
        "amplify6",
        json!({"data": {"onNote": {"id": "n1", "text": "hello"}}}),
    )
    .await;
}

/// Apollo adds `__typename` to every selection set it sends.
#[tokio::test]
async fn subscription_link_3_with_query_string_auth() {
    round_trip(
        "link3",
        json!({"data": {"onNote": {"id": "n1", "text": "hello", "__typename": "Note"}}}),
    )
    .await;
}

#[tokio::test]
async fn subscription_link_4_with_subprotocol_auth() {
    round_trip(
        "link4",
        json!({"data": {"onNote": {"id": "n1", "text": "hello", "__typename": "Note"}}}),
    )
    .await;
}
