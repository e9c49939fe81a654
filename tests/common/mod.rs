//! Shared by several test files: one HTTP client for a running test server
//! (GraphQL, the DynamoDB and admin routes, `/metrics`), routers served on a
//! loopback port, polling with a deadline, and copies of projects, among
//! them the demo with a small seed, so tests exercise the real generator
//! without loading 70k items.

#![allow(dead_code)]

pub mod ws;

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use appsync_local::testing::{TestServer, TestServerBuilder, User};
use serde_json::{Value as Json, json};

/// A command's stdout as JSON (panicking with both streams when it is
/// not), and whether it exited 0.
pub fn json_output(out: &std::process::Output) -> (Json, bool) {
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, out.status.success())
}

/// `tests/projects/NAME`.
pub fn project(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/projects")
        .join(name)
}

/// A running test server and a client for it. It dereferences to the
/// server, so its URLs, `reset` and `load_fixture` are at hand.
pub struct Client {
    pub server: TestServer,
    pub http: reqwest::Client,
}

/// Serves `tests/projects/NAME` with in-memory stores.
pub async fn start(name: &str) -> Client {
    start_at(project(name)).await
}

/// Serves the project in `dir` with in-memory stores.
pub async fn start_at(dir: impl AsRef<Path>) -> Client {
    start_with(TestServer::builder(dir)).await
}

/// Serves a configured project; panics with the load errors.
pub async fn start_with(builder: TestServerBuilder) -> Client {
    match builder.start().await {
        Ok(server) => Client::new(server),
        Err(e) => panic!("the test server did not start: {e}"),
    }
}

/// Status, content type and body text of one response.
pub struct Raw {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Raw {
    pub async fn read(response: reqwest::Response) -> Raw {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.expect("a body");
        Raw {
            status,
            content_type,
            body,
        }
    }

    /// The body as JSON.
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Deref for Client {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.server
    }
}

impl Client {
    pub fn new(server: TestServer) -> Client {
        Client {
            server,
            http: reqwest::Client::new(),
        }
    }

    /// POSTs a GraphQL request body with the project's API key.
    pub async fn post(&self, body: Json, headers: &[(&str, &str)]) -> Raw {
        let mut request = self
            .http
            .post(self.graphql_url())
            .header("x-api-key", self.api_key().unwrap_or_default())
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Raw::read(request.send().await.expect("the server answers")).await
    }

    /// POSTs a GraphQL request body as `user` (`Authorization: <token>`,
    /// no API key).
    pub async fn post_as(&self, user: &User, body: Json) -> Raw {
        self.post_with_auth(body, &[("authorization", &user.token())])
            .await
    }

    /// POSTs a GraphQL request body with exactly these credentials headers
    /// (no API key unless given).
    pub async fn post_with_auth(&self, body: Json, headers: &[(&str, &str)]) -> Raw {
        let mut request = self.http.post(self.graphql_url()).json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Raw::read(request.send().await.expect("the server answers")).await
    }

    /// A GraphQL query as `user`, answered with HTTP 200; the JSON response.
    pub async fn query_as(&self, user: &User, query: &str, variables: Json) -> Json {
        let raw = self
            .post_as(user, json!({"query": query, "variables": variables}))
            .await;
        assert_eq!(raw.status, 200, "{}", raw.body);
        raw.json()
    }

    /// A GraphQL query answered with HTTP 200; the JSON response.
    pub async fn query_with(&self, query: &str, variables: Json, headers: &[(&str, &str)]) -> Json {
        let raw = self
            .post(json!({"query": query, "variables": variables}), headers)
            .await;
        assert_eq!(raw.status, 200, "{}", raw.body);
        raw.json()
    }

    pub async fn query(&self, query: &str) -> Json {
        self.query_with(query, json!({}), &[]).await
    }

    pub async fn graphql(&self, query: &str, variables: Json) -> Json {
        self.query_with(query, variables, &[]).await
    }

    /// The response's `data`, failing the test on any error.
    pub async fn data(&self, query: &str, variables: Json) -> Json {
        let response = self.graphql(query, variables).await;
        assert!(response.get("errors").is_none(), "{response:#}");
        response["data"].clone()
    }

    /// One DynamoDB call shaped as the AWS SDKs send it; status and body.
    pub async fn dynamodb(&self, operation: &str, body: Json) -> (u16, Json) {
        let request = self
            .http
            .post(self.dynamodb_url())
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            .body(body.to_string());
        send(request).await
    }

    /// A DynamoDB call that must succeed; its body.
    pub async fn dynamodb_ok(&self, operation: &str, body: Json) -> Json {
        let (status, body) = self.dynamodb(operation, body).await;
        assert_eq!(status, 200, "{operation}: {body}");
        body
    }

    /// How many items `table` holds (a `Scan` with `Select: COUNT`).
    pub async fn count(&self, table: &str) -> u64 {
        let out = self
            .dynamodb_ok("Scan", json!({"TableName": table, "Select": "COUNT"}))
            .await;
        out["Count"].as_u64().unwrap_or_else(|| panic!("{out}"))
    }

    /// A GET of `PATH` under the OpenSearch prefix, as JSON.
    pub async fn opensearch_get(&self, path: &str) -> Json {
        let url = format!("{}{path}", self.opensearch_url());
        let raw = Raw::read(self.http.get(url).send().await.expect("OpenSearch answers")).await;
        raw.json()
    }

    /// How many documents `index` holds (`GET /{index}/_count`).
    pub async fn search_total(&self, index: &str) -> u64 {
        let out = self.opensearch_get(&format!("/{index}/_count")).await;
        out["count"].as_u64().unwrap_or_else(|| panic!("{out}"))
    }

    /// A request to a route under the base URL (admin routes, the cache
    /// flush), without API key; status and JSON body.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: &str) -> (u16, Json) {
        let url = format!("{}{path}", self.base_url());
        send(self.http.request(method, url).body(body.to_owned())).await
    }

    /// `POST {base}{path}`; status and JSON body.
    pub async fn admin(&self, path: &str, body: &str) -> (u16, Json) {
        self.call(reqwest::Method::POST, path, body).await
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        let url = format!("{}/metrics", self.base_url());
        let response = self.http.get(url).send().await.expect("metrics answer");
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics text")
    }

    /// A sample's value in the metrics text, if the series is there.
    pub async fn sample(&self, series: &str) -> Option<f64> {
        sample(&self.metrics().await, series)
    }

    /// A counter or gauge; 0 when absent.
    pub async fn metric(&self, series: &str) -> u64 {
        // Counters and gauges asked for here are whole numbers.
        self.sample(series).await.map_or(0, |v| v as u64)
    }

    /// How many times `field`'s resolver called `data_source`.
    pub async fn calls(&self, field: &str, data_source: &str) -> u64 {
        self.metric(&format!(
            "appsync_resolver_invocations_total{{field=\"{field}\",data_source=\"{data_source}\"}}"
        ))
        .await
    }
}

/// Sends `request`; the answer's status and JSON body.
async fn send(request: reqwest::RequestBuilder) -> (u16, Json) {
    let raw = Raw::read(request.send().await.expect("the server answers")).await;
    (raw.status, raw.json())
}

/// The value of `series` (name and labels, exactly) in metrics text.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("a number"))
}

/// Serves `router` on `127.0.0.1:0` until the test ends; its address.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// Polls `condition` until it holds; fails the test after 10 s.
pub async fn wait_until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The demo project (manifest, schema, templates) in `dir`, with the
/// generator asked for `flights` and `bookings`.
pub fn small_demo(dir: &Path, flights: usize, bookings: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("appsync.yaml")).expect("the demo manifest");
    let manifest = manifest
        .replace("flights: 20000", &format!("flights: {flights}"))
        .replace("bookings: 50000", &format!("bookings: {bookings}"));
    assert!(manifest.contains(&format!("flights: {flights}\n")));
    std::fs::write(dir.join("appsync.yaml"), manifest).expect("write the manifest");
    std::fs::copy(root.join("schema.graphql"), dir.join("schema.graphql")).expect("schema");
    copy_dir(&root.join("resolvers"), &dir.join("resolvers"));
    copy_dir(&root.join("functions"), &dir.join("functions"));
}

/// A copy of `tests/projects/NAME` in a temporary directory whose manifest
/// has `from` replaced by `to` (which must occur).
pub fn edited_project(name: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_dir(&project(name), dir.path());
    let manifest = dir.path().join("appsync.yaml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest");
    assert!(text.contains(from), "{from:?} not in {name}'s manifest");
    std::fs::write(&manifest, text.replace(from, to)).expect("written");
    dir
}

/// Copies a directory tree (a project and its templates).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// `headers` plus the SigV4 headers AWS's own signer adds for a POST of
/// `body` to `url` (service `appsync`, region us-east-1), with the
/// credentials `(access key, secret, session token)`.
pub fn sigv4_headers(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    (access_key, secret, session_token): (&str, &str, Option<&str>),
    at: std::time::SystemTime,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let identity = aws_credential_types::Credentials::new(
        access_key,
        secret,
        session_token.map(str::to_owned),
        None,
        "tests",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("appsync")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    for (name, value) in instructions.headers() {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

/// Installs the npm packages of a test folder of the project (`npm ci`,
/// pinned by its lock file) once per test binary, unless an install of the
/// same lock file is already there.
pub fn npm_ci(folder: &str) {
    static DONE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if done.iter().any(|f| f == folder) {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let lock = std::fs::read(dir.join("package-lock.json")).expect("the lock file");
    let stamp = dir.join("node_modules/.appsync-local-lock");
    if std::fs::read(&stamp).ok().as_deref() != Some(&lock[..]) {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run npm ({e}): {folder} needs Node.js and npm on PATH")
            });
        assert!(status.success(), "npm ci in {folder} failed");
        std::fs::write(&stamp, &lock).expect("the install stamp");
    }
    done.push(folder.to_owned());
}
