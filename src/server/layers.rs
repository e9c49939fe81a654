//! Middleware wrapped around every route: access log, CORS, gzip both ways.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::Response;
use axum::middleware::{self, Next};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::Predicate;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::decompression::RequestDecompressionLayer;

use crate::server::graphql_http::LoggedOperation;
use crate::server::state::CorsOrigins;

/// Access-log lines use this target, so `RUST_LOG` can silence them alone.
pub const ACCESS_LOG_TARGET: &str = "appsync_local::http";

pub fn apply(router: Router, cors_origins: &CorsOrigins) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn(access_log))
            .layer(cors(cors_origins))
            .layer(
                CompressionLayer::new()
                    .gzip(true)
                    .no_br()
                    .no_deflate()
                    .no_zstd()
                    .compress_when(AppSyncCompression),
            )
            // Unsupported encodings get 415 from the layer itself.
            .layer(RequestDecompressionLayer::new().gzip(true)),
    )
}

fn cors(origins: &CorsOrigins) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers(Any)
        .max_age(Duration::from_secs(24 * 60 * 60));
    match origins {
        CorsOrigins::Any => layer.allow_origin(Any),
        CorsOrigins::List(list) => layer.allow_origin(AllowOrigin::list(list.iter().cloned())),
    }
}

/// AppSync gzips responses of 1,000 to 10,000,000 bytes for clients that
/// accept gzip. Bodies of unknown size are compressed.
#[derive(Debug, Clone, Copy)]
struct AppSyncCompression;

impl Predicate for AppSyncCompression {
    fn should_compress<B: HttpBody>(&self, response: &Response<B>) -> bool {
        let size = response.body().size_hint().exact().or_else(|| {
            response
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse().ok())
        });
        size.is_none_or(|size| (1_000..=10_000_000).contains(&size))
    }
}

/// One line per request: method, path, status, latency and operation name.
async fn access_log(request: Request, next: Next) -> axum::response::Response {
    if !tracing::enabled!(target: ACCESS_LOG_TARGET, tracing::Level::INFO) {
        return next.run(request).await;
    }
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let operation = response
        .extensions()
        .get::<LoggedOperation>()
        .map(|LoggedOperation(name)| name.as_str())
        .unwrap_or("-");
    tracing::info!(
        target: ACCESS_LOG_TARGET,
        "{method} {path} {status} {latency:.2}ms {operation}",
        status = response.status().as_u16(),
        latency = start.elapsed().as_secs_f64() * 1_000.0,
    );
    response
}
