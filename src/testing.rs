//! Run a project in-process for integration tests, the way a user's test
//! suite would: a real HTTP server on a random loopback port, stores in
//! memory, and the URLs of the GraphQL, DynamoDB and OpenSearch endpoints.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = appsync_local::testing::TestServer::start("tests/projects/orders").await?;
//! println!("{} {}", server.graphql_url(), server.api_key().unwrap_or(""));
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use crate::graphql::GraphQLService;
use crate::project::{LoadOptions, Project, ProjectErrors};
use crate::server::{AppState, ServerOptions, app};
use crate::stores::Stores;

/// Why a test server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot load the project:\n{0}")]
    Project(#[from] ProjectErrors),
    #[error("cannot bind a loopback port: {0}")]
    Bind(#[from] std::io::Error),
}

/// A running server; it stops when dropped.
pub struct TestServer {
    address: SocketAddr,
    api_key: Option<String>,
    stores: Arc<Stores>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Loads `project` with in-memory stores and serves it on `127.0.0.1:0`.
    /// Must be called inside a tokio runtime.
    pub async fn start(project: impl AsRef<Path>) -> Result<TestServer, StartError> {
        let api = Project::load_with(project.as_ref(), &LoadOptions::default())?;
        let stores = Arc::clone(&api.stores);
        let api_key = api.auth.api_keys.first().map(|k| k.value.clone());
        let service: Arc<dyn GraphQLService> = Arc::new(api);
        let state =
            AppState::new(service).with_options(ServerOptions::default().with_stores(&stores));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(
                listener,
                app(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(err) = server.await {
                tracing::error!("test server stopped: {err}");
            }
        });
        Ok(TestServer {
            address,
            api_key,
            stores,
            shutdown: Some(shutdown),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.address)
    }

    /// The endpoint for AWS SDKs and the AWS CLI (`--endpoint-url`).
    pub fn dynamodb_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The base URL for OpenSearch clients (`/opensearch` prefix).
    pub fn opensearch_url(&self) -> String {
        format!("http://{}{}", self.address, crate::opensearch::PATH_PREFIX)
    }

    /// The first API key of the manifest, for the `x-api-key` header.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// The tables and indexes, for seeding and inspection in-process.
    pub fn stores(&self) -> &Arc<Stores> {
        &self.stores
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
