//! `serve --watch` machinery: a fake loader over temporary project files.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use appsync_local::graphql::{
    AuthConfig, BoxFuture, GraphQLRequest, GraphQLResponse, GraphQLService, RequestContext,
};
use appsync_local::server::{ProjectLoader, ProjectWatcher, ServiceCell, WatchOptions};
use common::wait_until;
use serde_json::json;

/// Serves the schema text it was loaded from, so tests can tell versions apart.
struct Loaded(String, AuthConfig);

impl GraphQLService for Loaded {
    fn auth(&self) -> &AuthConfig {
        &self.1
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
    Ok(Arc::new(Loaded(schema, AuthConfig::default())))
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

/// Waits until the watcher has scanned the files twice after now and
/// acted on what it saw: a watched change made before this call has been
/// loaded by then, however slow the machine.
async fn settled(watcher: &ProjectWatcher) {
    // The scan under way may have missed the change; the next one sees it
    // and the one after it loads it, before a third one begins.
    let seen = watcher.scans() + 3;
    wait_until("two more scans", async || watcher.scans() >= seen).await;
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
    let watcher = ProjectWatcher::spawn(dir, cell.clone(), loader, options).expect("watch");

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
    settled(&watcher).await;
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
    settled(&watcher).await;
    assert_eq!(attempts.load(Ordering::SeqCst), before);
    // The watcher still reloads on the next real change, once.
    std::fs::write(dir.join("schema.graphql"), "type Query { v4: Int }").expect("write");
    wait_until("version 4", async || {
        served(&cell).await == "type Query { v4: Int }"
    })
    .await;
    assert_eq!(attempts.load(Ordering::SeqCst), before + 1);
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
    let loader: ProjectLoader = Arc::new(load);
    let watcher =
        ProjectWatcher::spawn(dir, cell.clone(), Arc::clone(&loader), options).expect("watch");
    assert_eq!(Arc::strong_count(&loader), 2);
    drop(watcher);
    // The watcher's thread has ended and let go of the loader: nothing can
    // reload any more.
    assert_eq!(Arc::strong_count(&loader), 1);
    std::fs::write(dir.join("schema.graphql"), "two!").expect("write");
    assert_eq!(served(&cell).await, "one");
}
