//! `serve --watch` machinery: a fake loader over temporary project files.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use appsync_local::graphql::{
    AuthConfig, BoxFuture, GraphQLRequest, GraphQLResponse, GraphQLService, RequestContext,
};
use appsync_local::server::{ProjectLoader, ProjectWatcher, ServiceCell, WatchOptions};
use serde_json::json;

/// Serves the schema text it was loaded from, so tests can tell versions apart.
struct Loaded(String);

impl GraphQLService for Loaded {
    fn auth(&self) -> &AuthConfig {
        const {
            &AuthConfig {
                modes: Vec::new(),
                api_keys: Vec::new(),
            }
        }
    }

    fn execute(&self, _: GraphQLRequest, _: RequestContext) -> BoxFuture<'_, GraphQLResponse> {
        Box::pin(async move {
            GraphQLResponse {
                data: Some(json!(self.0)),
                ..GraphQLResponse::default()
            }
        })
    }
}

/// Reads `schema.graphql`; a schema containing `BROKEN` fails to load.
type LoadError = Box<dyn std::error::Error + Send + Sync>;

fn load(dir: &Path) -> Result<Arc<dyn GraphQLService>, LoadError> {
    let schema = std::fs::read_to_string(dir.join("schema.graphql"))
        .map_err(|err| format!("schema.graphql: {err}"))?;
    if schema.contains("BROKEN") {
        return Err("schema.graphql:1:1: broken".into());
    }
    Ok(Arc::new(Loaded(schema)))
}

async fn served(cell: &ServiceCell) -> String {
    let response = cell
        .current()
        .execute(GraphQLRequest::default(), RequestContext::default())
        .await;
    response
        .data
        .and_then(|data| data.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn wait_until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn reload_keeps_the_last_good_service_on_a_broken_change() {
    let project = tempfile::tempdir().expect("temp dir");
    let dir = project.path();
    std::fs::write(dir.join("schema.graphql"), "type Query { v1: Int }").expect("write");
    std::fs::create_dir_all(dir.join("resolvers")).expect("mkdir");
    std::fs::create_dir_all(dir.join(".appsync-local")).expect("mkdir");

    let cell = ServiceCell::new(load(dir).expect("first load"));
    let attempts = Arc::new(AtomicUsize::new(0));
    let loader: ProjectLoader = {
        let attempts = Arc::clone(&attempts);
        Arc::new(move |dir: &Path| {
            attempts.fetch_add(1, Ordering::SeqCst);
            load(dir)
        })
    };
    let options = WatchOptions {
        interval: Duration::from_millis(25),
        ..WatchOptions::default()
    };
    let _watcher = ProjectWatcher::spawn(dir, cell.clone(), loader, options).expect("watch");

    std::fs::write(dir.join("schema.graphql"), "type Query { version2: Int }").expect("write");
    wait_until("version 2", async || {
        served(&cell).await == "type Query { version2: Int }"
    })
    .await;
    let after_good = attempts.load(Ordering::SeqCst);
    assert_eq!(after_good, 1);

    // A broken schema is tried once, and the last good one keeps serving.
    std::fs::write(dir.join("schema.graphql"), "BROKEN").expect("write");
    wait_until("the broken load attempt", async || {
        attempts.load(Ordering::SeqCst) > after_good
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(attempts.load(Ordering::SeqCst), after_good + 1);
    assert_eq!(served(&cell).await, "type Query { version2: Int }");

    // A template change triggers a reload too, which now succeeds.
    std::fs::write(dir.join("schema.graphql"), "type Query { v3: Int }").expect("write");
    std::fs::write(dir.join("resolvers/Query.v3.req.vtl"), "{}").expect("write");
    wait_until("version 3", async || {
        served(&cell).await == "type Query { v3: Int }"
    })
    .await;

    // Files that are not project files, or under hidden directories, are ignored.
    let before = attempts.load(Ordering::SeqCst);
    std::fs::write(dir.join("notes.txt"), "hello").expect("write");
    std::fs::write(dir.join(".appsync-local/data.yaml"), "a: 1").expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(attempts.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn dropping_the_watcher_stops_reloads() {
    let project = tempfile::tempdir().expect("temp dir");
    let dir = project.path();
    std::fs::write(dir.join("schema.graphql"), "one").expect("write");
    let cell = ServiceCell::new(load(dir).expect("first load"));
    let options = WatchOptions {
        interval: Duration::from_millis(25),
        ..WatchOptions::default()
    };
    let watcher = ProjectWatcher::spawn(dir, cell.clone(), Arc::new(load), options).expect("watch");
    drop(watcher);
    std::fs::write(dir.join("schema.graphql"), "two!").expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(served(&cell).await, "one");
}
