//! The HTTP server: GraphQL over HTTP in front of a [`GraphQLService`].
//!
//! [`app`] builds the whole axum [`Router`] from an [`AppState`], so tests and
//! the `serve` command run exactly the same stack. The server never looks
//! inside the schema: it decodes requests, checks API keys, and hands a
//! [`GraphQLRequest`](crate::graphql::GraphQLRequest) to the current service,
//! which [`ProjectWatcher`] swaps on reload.
//!
//! [`GraphQLService`]: crate::graphql::GraphQLService

mod admin;
mod auth;
mod auth_routes;
mod graphiql;
mod graphql_http;
mod layers;
mod log_writer;
mod realtime;
mod state;
mod watch;

pub(crate) use admin::change_stores;
pub use graphql_http::RequestError;
pub use log_writer::stderr_writer;
pub use state::{AppState, CorsOrigins, DEFAULT_BODY_LIMIT, ServerOptions, ServiceCell};
pub use watch::{ProjectLoader, ProjectWatcher, WatchOptions};

use axum::Router;
use axum::routing::get;

/// Builds the server's router: `/graphql`, the real-time WebSocket endpoint
/// `/graphql/realtime` (also reached by an upgrade on `/graphql`), `/health`, GraphiQL on `GET /` and
/// `/graphiql` with its assets under `/graphiql/`, `POST /` for the `X-Amz-Target` router, the cache flush and
/// `/metrics`, plus the extra routers.
pub fn app(state: AppState) -> Router {
    let AppState { service, options } = state;
    let ServerOptions {
        body_limit,
        cors_origins,
        amz_target_router,
        extra_routers,
        stores,
        admin_token,
        realtime,
    } = options;
    service.realtime().set_limits(realtime);
    let admin = admin::router(service.clone(), stores)
        .merge(auth_routes::admin_router(service.clone()))
        .layer(axum::middleware::from_fn_with_state(
            admin_token.map(std::sync::Arc::<str>::from),
            admin::admin_guard,
        ))
        .merge(auth_routes::public_router(service.clone()));
    let shared = graphql_http::Shared {
        service,
        body_limit,
        amz_target_router,
    };
    let mut router = Router::new()
        .route(
            "/graphql",
            get(graphql_http::graphql_get)
                .post(graphql_http::graphql_post)
                .fallback(graphql_http::method_not_allowed),
        )
        .route(
            "/",
            get(graphiql::graphiql_page).post(graphql_http::root_post),
        )
        .route("/graphql/realtime", get(graphql_http::realtime_get))
        .route("/graphiql", get(graphiql::graphiql_page))
        .route("/graphiql/{file}", get(graphiql::graphiql_asset))
        .route("/health", get(health))
        .with_state(shared)
        .merge(admin);
    for extra in extra_routers {
        router = router.merge(extra);
    }
    layers::apply(router, &cors_origins)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}
