//! What the server holds: the current API, swappable as a whole, and settings.

use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::http::HeaderValue;

use crate::graphql::GraphQLService;
use crate::realtime::hub::{Hub, RealtimeLimits};
use crate::stores::Stores;
use crate::{dynamodb, opensearch};

/// Default request body limit: 5 MiB. AppSync documents no request size limit;
/// 5 MB is its limit for an evaluated mapping template, so a larger request
/// could hardly be served by AppSync anyway.
pub const DEFAULT_BODY_LIMIT: usize = 5 * 1024 * 1024;

/// The API being served, and its subscriptions. A reload replaces the API
/// atomically: requests in flight finish on the service they started with,
/// new requests see the new one. The subscription hub stays, so open
/// real-time connections survive a reload.
#[derive(Clone)]
pub struct ServiceCell {
    service: Arc<RwLock<Arc<dyn GraphQLService>>>,
    realtime: Arc<Hub>,
}

impl ServiceCell {
    pub fn new(service: Arc<dyn GraphQLService>) -> Self {
        Self {
            service: Arc::new(RwLock::new(service)),
            realtime: Arc::new(Hub::default()),
        }
    }

    /// The service new requests should use.
    pub fn current(&self) -> Arc<dyn GraphQLService> {
        // The lock only guards a pointer swap, so a poisoned lock still holds
        // a consistent value.
        Arc::clone(&self.service.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The real-time subscriptions.
    pub fn realtime(&self) -> &Arc<Hub> {
        &self.realtime
    }

    /// Installs `service` and returns the one it replaces. Subscriptions to
    /// fields the new schema lacks are closed.
    pub fn replace(&self, service: Arc<dyn GraphQLService>) -> Arc<dyn GraphQLService> {
        let fields = service.subscription_fields();
        let old = {
            let mut slot = self.service.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *slot, service)
        };
        self.realtime.retain_fields(&fields);
        old
    }
}

impl std::fmt::Debug for ServiceCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceCell")
    }
}

/// Which origins CORS allows.
#[derive(Debug, Clone, Default)]
pub enum CorsOrigins {
    /// Any origin (`Access-Control-Allow-Origin: *`): the right default for a
    /// local development server that browsers on any port talk to.
    #[default]
    Any,
    /// Only these origins, e.g. `http://localhost:3000`.
    List(Vec<HeaderValue>),
}

/// Server settings besides the API itself.
#[derive(Clone)]
pub struct ServerOptions {
    /// Largest accepted GraphQL request body, in bytes, after gzip
    /// decompression. Larger requests get 413.
    pub body_limit: usize,
    pub cors_origins: CorsOrigins,
    /// Answers `POST /` requests that carry an `X-Amz-Target` header (the
    /// DynamoDB JSON API). The request is forwarded unchanged, so this router
    /// must route `POST /` itself and applies its own size limits.
    pub amz_target_router: Option<Router>,
    /// Routers merged into the app as they are, e.g. the OpenSearch REST API
    /// nested under `/opensearch`. Their paths must not overlap `/graphql`,
    /// `/graphiql`, `/health` or `/`, and at most one may set a fallback.
    pub extra_routers: Vec<Router>,
    /// The stores behind `/admin/seed`, `/admin/reset` and `/admin/fixtures`.
    pub stores: Option<Arc<Stores>>,
    /// When set, the admin routes (`/admin/*` and the cache flush) answer
    /// only requests carrying it in `x-appsync-local-admin-token`. `serve`
    /// sets one whenever it binds a non-loopback address: anyone who can
    /// mint tokens or reset data must not be a stranger on the network.
    pub admin_token: Option<String>,
    /// The real-time endpoint's limits.
    pub realtime: RealtimeLimits,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            cors_origins: CorsOrigins::Any,
            amz_target_router: None,
            extra_routers: Vec::new(),
            stores: None,
            admin_token: None,
            realtime: RealtimeLimits::default(),
        }
    }
}

impl ServerOptions {
    /// Mounts the stores' own APIs beside GraphQL: DynamoDB's JSON protocol
    /// on `POST /` with `X-Amz-Target`, and OpenSearch's REST API under
    /// `/opensearch`, and the admin routes that seed, reset and load fixtures.
    pub fn with_stores(mut self, stores: &Arc<Stores>) -> Self {
        self.stores = Some(Arc::clone(stores));
        self.amz_target_router = Some(dynamodb::http::router(Arc::clone(&stores.dynamodb)));
        self.extra_routers
            .push(opensearch::router(Arc::clone(&stores.opensearch)));
        self
    }
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("body_limit", &self.body_limit)
            .field("cors_origins", &self.cors_origins)
            .field("amz_target_router", &self.amz_target_router.is_some())
            .field("extra_routers", &self.extra_routers.len())
            .field("stores", &self.stores.is_some())
            .finish()
    }
}

/// Everything [`app`](crate::server::app) needs.
#[derive(Clone, Debug)]
pub struct AppState {
    pub service: ServiceCell,
    pub options: ServerOptions,
}

impl AppState {
    /// Serves `service` with default options.
    pub fn new(service: Arc<dyn GraphQLService>) -> Self {
        Self {
            service: ServiceCell::new(service),
            options: ServerOptions::default(),
        }
    }

    pub fn with_options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }
}
