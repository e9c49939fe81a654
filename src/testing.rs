//! Run a project in-process for integration tests, the way a user's test
//! suite would: a real HTTP server on a random loopback port, stores in
//! memory (or in a data directory), and the URLs of the GraphQL, DynamoDB
//! and OpenSearch endpoints.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use appsync_local::testing::TestServer;
//! let server = TestServer::builder("tests/projects/orders")
//!     .seed(false)                     // start empty; the manifest's seed is not loaded
//!     .start()
//!     .await?;
//! server.load_fixture(r#"{"Orders": [{"id": "o1", "customer": "c1"}]}"#).await?;
//! println!("{} {}", server.graphql_url(), server.api_key().unwrap_or(""));
//! server.reset().await?;               // empty again (and reseeded, if seeding)
//! # Ok(()) }
//! ```

use crate::auth::{IssuerError, TokenRequest};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::graphql::GraphQLService;
use crate::loader::{DeployOptions, LambdaOptions, LoadOptions, Project, ProjectErrors};
use crate::realtime::RealtimeLimits;
use crate::seed::{FixtureError, FixtureFormat, parse_fixture};
use crate::server::{AppState, ServerOptions, ServiceCell, app};
use crate::stores::{LoadReport, ResetReport, Stores, StoresError};

/// Why a test server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot load the project:\n{0}")]
    Project(#[from] ProjectErrors),
    #[error("cannot bind a loopback port: {0}")]
    Bind(#[from] std::io::Error),
}

/// Why a reset, seed or fixture failed.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("invalid fixture: not valid JSON: {0}")]
    FixtureJson(#[from] serde_json::Error),
    #[error("invalid fixture: {0}")]
    Fixture(#[from] FixtureError),
    #[error(transparent)]
    Stores(#[from] StoresError),
}

/// Where a test server keeps its data.
#[derive(Debug, Clone)]
enum Data {
    Memory,
    /// A fresh directory, deleted when the server is dropped.
    Temporary,
    Dir(PathBuf),
}

/// Settings of a [`TestServer`] before it starts.
#[derive(Debug, Clone)]
pub struct TestServerBuilder {
    project: PathBuf,
    seed: bool,
    data: Data,
    local_issuer: bool,
    lambda: LambdaOptions,
    realtime: RealtimeLimits,
    deploy: DeployOptions,
}

impl TestServerBuilder {
    /// Whether fresh stores get the manifest's `seed` (default `true`).
    pub fn seed(mut self, seed: bool) -> Self {
        self.seed = seed;
        self
    }

    /// Keeps data in a new temporary directory, removed on drop, instead of
    /// memory: for tests of persistence.
    pub fn temp_data_dir(mut self) -> Self {
        self.data = Data::Temporary;
        self
    }

    /// Keeps data in `dir`, which outlives the server: a second server on the
    /// same directory sees the first one's data (and does not seed again).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data = Data::Dir(dir.into());
        self
    }

    /// Whether Cognito and OIDC providers accept the local issuer's tokens
    /// (default `true`; `false` is `serve --no-local-issuer`).
    pub fn local_issuer(mut self, on: bool) -> Self {
        self.local_issuer = on;
        self
    }

    /// Interpreters and the Invoke API endpoint for Lambda functions, as
    /// `serve --node`, `--python` and `--lambda-endpoint` set them.
    pub fn lambda(mut self, options: LambdaOptions) -> Self {
        self.lambda = options;
        self
    }

    /// `--stage` and `--param`: a serverless.yml's stage and parameters, a template's parameters.
    pub fn deploy(mut self, options: DeployOptions) -> Self {
        self.deploy = options;
        self
    }

    /// The real-time endpoint's limits (AppSync's by default).
    pub fn realtime(mut self, limits: RealtimeLimits) -> Self {
        self.realtime = limits;
        self
    }

    /// Loads the project and serves it on `127.0.0.1:0`. Must be called
    /// inside a tokio runtime.
    pub async fn start(self) -> Result<TestServer, StartError> {
        let temporary = match &self.data {
            Data::Temporary => Some(
                tempfile::Builder::new()
                    .prefix("appsync-local-test-")
                    .tempdir()?,
            ),
            _ => None,
        };
        let data_dir = match &self.data {
            Data::Memory => None,
            Data::Temporary => temporary.as_ref().map(|t| t.path().to_path_buf()),
            Data::Dir(dir) => Some(dir.clone()),
        };
        let options = LoadOptions {
            data_dir,
            stores: None,
            no_seed: !self.seed,
            no_local_issuer: !self.local_issuer,
            lambda: self.lambda.clone(),
            deploy: self.deploy.clone(),
        };
        let project = self.project.clone();
        // Loading opens sled and may seed: blocking work.
        let api = tokio::task::spawn_blocking(move || Project::load_with(&project, &options))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        let stores = Arc::clone(&api.stores);
        let api_key = api.auth.api_keys.first().map(|k| k.value.clone());
        let service: Arc<dyn GraphQLService> = Arc::new(api);
        let state = AppState::new(service).with_options(ServerOptions {
            realtime: self.realtime.clone(),
            ..ServerOptions::default().with_stores(&stores)
        });
        let cell = state.service.clone();
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
            service: cell,
            shutdown: Some(shutdown),
            _temporary: temporary,
        })
    }
}

/// A user to mint tokens for ([`TestServer::as_user`]).
#[derive(Clone)]
pub struct User {
    auth: Arc<crate::auth::AuthConfig>,
    request: TokenRequest,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("request", &self.request)
            .finish()
    }
}

impl User {
    /// `cognito:groups`.
    pub fn groups<I, S>(mut self, groups: I) -> User
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.request.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// `cognito:username` (the sub when not set).
    pub fn username(mut self, name: &str) -> User {
        self.request.username = Some(name.to_owned());
        self
    }

    /// Extra claims (a JSON object), merged over the generated ones.
    pub fn claims(mut self, claims: serde_json::Value) -> User {
        if let serde_json::Value::Object(map) = claims {
            self.request.claims = map;
        }
        self
    }

    /// Mint for the project's OIDC provider instead of its first one.
    pub fn oidc(mut self) -> User {
        self.request.provider = Some(crate::auth::TokenProvider::Oidc);
        self
    }

    /// Mint for the project's Cognito provider.
    pub fn cognito(mut self) -> User {
        self.request.provider = Some(crate::auth::TokenProvider::Cognito);
        self
    }

    /// Seconds until expiry; zero or negative mints an expired token.
    pub fn expires_in(mut self, seconds: i64) -> User {
        self.request.expires_in = Some(seconds);
        self
    }

    /// The `aud` claim.
    pub fn client_id(mut self, client_id: &str) -> User {
        self.request.client_id = Some(client_id.to_owned());
        self
    }

    /// A signed token; panics with the reason when the project cannot have
    /// one (no Cognito or OIDC provider).
    pub fn token(&self) -> String {
        match self
            .auth
            .mint(&self.request, chrono::Utc::now().timestamp())
        {
            Ok(minted) => minted.token,
            Err(err) => panic!("cannot mint a token for {}: {err}", self.request.sub),
        }
    }
}

/// A running server; it stops when dropped.
pub struct TestServer {
    address: SocketAddr,
    api_key: Option<String>,
    stores: Arc<Stores>,
    service: ServiceCell,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _temporary: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Loads `project` with in-memory stores (seeded as its manifest says)
    /// and serves it on `127.0.0.1:0`. Must be called inside a tokio runtime.
    pub async fn start(project: impl AsRef<Path>) -> Result<TestServer, StartError> {
        Self::builder(project).start().await
    }

    /// A server to configure: [`TestServerBuilder::seed`],
    /// [`TestServerBuilder::temp_data_dir`], [`TestServerBuilder::data_dir`].
    pub fn builder(project: impl AsRef<Path>) -> TestServerBuilder {
        TestServerBuilder {
            project: project.as_ref().to_path_buf(),
            seed: true,
            data: Data::Memory,
            local_issuer: true,
            lambda: LambdaOptions::default(),
            realtime: RealtimeLimits::default(),
            deploy: DeployOptions::default(),
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`: the admin routes live under it
    /// (`/admin/reset`, `/admin/seed`, `/admin/fixtures`, `/metrics`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// `http://127.0.0.1:PORT/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.address)
    }

    /// `ws://127.0.0.1:PORT/graphql/realtime`, AppSync's real-time endpoint.
    pub fn realtime_url(&self) -> String {
        format!("ws://{}/graphql/realtime", self.address)
    }

    /// The server's subscriptions, for their counts.
    pub fn realtime(&self) -> &Arc<crate::realtime::Hub> {
        self.service.realtime()
    }

    /// The endpoint for AWS SDKs and the AWS CLI (`--endpoint-url`).
    pub fn dynamodb_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The base URL for OpenSearch clients (`/opensearch` prefix).
    pub fn opensearch_url(&self) -> String {
        format!("http://{}{}", self.address, crate::opensearch::PATH_PREFIX)
    }

    /// Mints a token for the project's Cognito or OIDC provider with the
    /// local issuer.
    pub fn token(&self, request: &TokenRequest) -> Result<String, IssuerError> {
        let service = self.service.current();
        service
            .auth()
            .mint(request, chrono::Utc::now().timestamp())
            .map(|minted| minted.token)
    }

    /// A user of the project's first Cognito (or OIDC) provider, to send
    /// requests as: `server.as_user("alice").groups(["Admin"]).token()`.
    pub fn as_user(&self, sub: &str) -> User {
        User {
            // The config, not the service: a user kept past the server must
            // not keep its stores open.
            auth: Arc::new(self.service.current().auth().clone()),
            request: TokenRequest {
                sub: sub.to_owned(),
                ..TokenRequest::default()
            },
        }
    }

    /// The first API key of the manifest, for the `x-api-key` header.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// The tables and indexes, for seeding and inspection in-process.
    pub fn stores(&self) -> &Arc<Stores> {
        &self.stores
    }

    /// The events EventBridge data sources emitted, oldest first.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.stores.events.list()
    }

    /// Empties every table and index (and the event log), then loads the
    /// manifest's seed again (like `POST /admin/reset`); the API cache is
    /// flushed.
    pub async fn reset(&self) -> Result<ResetReport, DataError> {
        self.change(|stores| stores.reset(true)).await
    }

    /// Empties every table and index without seeding (`?seed=false`).
    pub async fn clear(&self) -> Result<ResetReport, DataError> {
        self.change(|stores| stores.reset(false)).await
    }

    /// Loads the manifest's seed (like `POST /admin/seed`).
    pub async fn seed(&self) -> Result<LoadReport, DataError> {
        self.change(Stores::seed).await
    }

    /// Writes a fixture, `{"Table": [plain JSON items]}`, as normal writes
    /// (they reach the sourced indexes), all or nothing.
    pub async fn load_fixture(&self, fixture: &str) -> Result<LoadReport, DataError> {
        self.load_fixture_as(fixture, FixtureFormat::Plain).await
    }

    /// [`TestServer::load_fixture`] with items in either format.
    pub async fn load_fixture_as(
        &self,
        fixture: &str,
        format: FixtureFormat,
    ) -> Result<LoadReport, DataError> {
        let json: serde_json::Value = serde_json::from_str(fixture)?;
        let items = parse_fixture(&json, format)?;
        self.change(move |stores| stores.load_fixture(&items)).await
    }

    async fn change<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&Stores) -> Result<T, StoresError> + Send + 'static,
    ) -> Result<T, DataError> {
        let stores = Arc::clone(self.stores());
        Ok(crate::server::change_stores(&self.service, stores, operation).await?)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
