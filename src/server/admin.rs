//! Admin routes beside GraphQL: the cache flush, as AppSync's
//! `FlushApiCache` (`DELETE /v1/apis/{apiId}/FlushCache`, any id here) and
//! `POST /admin/flush-cache`; the Prometheus `GET /metrics`; and, for test
//! suites in any language, `POST /admin/reset` (`?seed=false` to leave the
//! stores empty), `POST /admin/seed` and `POST /admin/fixtures`
//! (`?format=dynamodb` for DynamoDB-JSON items), and `GET /admin/events`
//! (`DELETE` empties it): what EventBridge data sources emitted. AppSync
//! has no such routes.
//!
//! Every data change flushes the API cache: a result cached before a reset
//! would otherwise outlive the data it came from.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value as Json, json};

use super::ServiceCell;
use crate::seed::{FixtureFormat, parse_fixture};
use crate::stores::{Stores, StoresError};

/// Fixtures can be much larger than GraphQL requests.
const FIXTURE_BODY_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Clone)]
struct Admin {
    service: ServiceCell,
    stores: Option<Arc<Stores>>,
}

pub fn router(service: ServiceCell, stores: Option<Arc<Stores>>) -> Router {
    Router::new()
        .route("/v1/apis/{api_id}/FlushCache", delete(flush_cache))
        .route("/admin/flush-cache", post(flush_cache))
        .route("/admin/reset", post(reset))
        .route("/admin/seed", post(seed))
        .route(
            "/admin/fixtures",
            post(fixtures).layer(DefaultBodyLimit::max(FIXTURE_BODY_LIMIT)),
        )
        .route("/admin/events", get(events).delete(clear_events))
        .route("/metrics", get(metrics))
        .with_state(Admin { service, stores })
}

async fn flush_cache(State(admin): State<Admin>) -> axum::Json<Json> {
    admin.service.current().flush_cache().await;
    // FlushApiCache answers 200 with an empty object.
    axum::Json(json!({}))
}

/// `{"events": [...]}`, oldest first, each as EventBridge received it plus
/// the data source and field that emitted it.
async fn events(State(admin): State<Admin>) -> axum::Json<Json> {
    let events = admin
        .stores
        .as_ref()
        .map(|s| s.events.list())
        .unwrap_or_default();
    axum::Json(json!({ "events": events }))
}

async fn clear_events(State(admin): State<Admin>) -> axum::Json<Json> {
    if let Some(stores) = &admin.stores {
        stores.events.clear();
    }
    axum::Json(json!({}))
}

async fn metrics(State(admin): State<Admin>) -> impl IntoResponse {
    let mut text = admin.service.current().metrics().await;
    admin.service.realtime().write_metrics(&mut text);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// The header that carries the admin token.
pub const ADMIN_TOKEN_HEADER: &str = "x-appsync-local-admin-token";

/// Lets admin requests through only with the admin token, when the server
/// has one; `/metrics` stays open for scrapers.
pub async fn admin_guard(
    State(token): State<Option<Arc<str>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(token) = token else {
        return next.run(request).await;
    };
    if request.uri().path() == "/metrics" {
        return next.run(request).await;
    }
    let sent = request
        .headers()
        .get(ADMIN_TOKEN_HEADER)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let equal: bool = subtle::ConstantTimeEq::ct_eq(sent.as_slice(), token.as_bytes()).into();
    if equal {
        next.run(request).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            format!(
                "admin token required: this server listens beyond loopback, so admin routes need the token it printed at start in `{ADMIN_TOKEN_HEADER}`"
            ),
        )
    }
}

/// A JSON error: `{"errorType": ..., "message": ...}`.
pub(super) fn error(status: StatusCode, error_type: &str, message: impl Into<String>) -> Response {
    let body = json!({ "errorType": error_type, "message": message.into() });
    (status, axum::Json(body)).into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequestException", message)
}

fn stores_error(err: StoresError) -> Response {
    match err {
        StoresError::NoSeed | StoresError::InvalidItems(_) => bad_request(err.to_string()),
        StoresError::UnknownTable(_) => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            err.to_string(),
        ),
        other => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailureException",
            other.to_string(),
        ),
    }
}

/// A query parameter an admin route does not take.
#[derive(Debug, thiserror::Error)]
#[error("unknown query parameter `{key}`; this route takes `{allowed}`")]
struct UnknownParameter {
    key: String,
    allowed: &'static str,
}

/// The query's parameters, refusing any but `allowed`.
fn params(query: Option<&str>, allowed: &'static str) -> Result<Option<String>, UnknownParameter> {
    let mut value = None;
    for (key, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key != allowed {
            return Err(UnknownParameter {
                key: key.into_owned(),
                allowed,
            });
        }
        value = Some(v.into_owned());
    }
    Ok(value)
}

/// Runs a store operation off the async runtime, then flushes the API cache
/// (even after a failure, which may have changed data: a failed reset). The
/// admin routes and `testing::TestServer` change data through this one path.
pub(crate) async fn change_stores<T: Send + 'static>(
    service: &ServiceCell,
    stores: Arc<Stores>,
    operation: impl FnOnce(&Stores) -> Result<T, StoresError> + Send + 'static,
) -> Result<T, StoresError> {
    let result = tokio::task::spawn_blocking(move || operation(&stores)).await;
    service.current().flush_cache().await;
    result.map_err(|e| StoresError::Tables(format!("the operation panicked: {e}")))?
}

async fn run<T: Send + 'static>(
    admin: &Admin,
    operation: impl FnOnce(&Stores) -> Result<T, StoresError> + Send + 'static,
) -> Result<T, Response> {
    let Some(stores) = admin.stores.clone() else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            "this server has no tables or indexes",
        ));
    };
    change_stores(&admin.service, stores, operation)
        .await
        .map_err(stores_error)
}

async fn reset(State(admin): State<Admin>, RawQuery(query): RawQuery) -> Response {
    let reseed = match params(query.as_deref(), "seed") {
        Ok(None) => true,
        Ok(Some(v)) if v == "true" => true,
        Ok(Some(v)) if v == "false" => false,
        Ok(Some(v)) => return bad_request(format!("`seed` must be true or false, got `{v}`")),
        Err(err) => return bad_request(err.to_string()),
    };
    match run(&admin, move |stores| stores.reset(reseed)).await {
        Ok(report) => axum::Json(json!({
            "cleared": report.cleared,
            "seeded": report.seeded,
        }))
        .into_response(),
        Err(response) => response,
    }
}

async fn seed(State(admin): State<Admin>) -> Response {
    match run(&admin, Stores::seed).await {
        Ok(report) => axum::Json(json!({ "seeded": report })).into_response(),
        Err(response) => response,
    }
}

async fn fixtures(
    State(admin): State<Admin>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLargeException",
                format!(
                    "the fixture is larger than {} MiB: split it into several calls",
                    FIXTURE_BODY_LIMIT / (1024 * 1024)
                ),
            );
        }
        Err(rejection) => return bad_request(rejection.body_text()),
    };
    let format = match params(query.as_deref(), "format") {
        Ok(None) => FixtureFormat::Plain,
        Ok(Some(v)) if v == "plain" || v == "json" => FixtureFormat::Plain,
        Ok(Some(v)) if v.eq_ignore_ascii_case("dynamodb") => FixtureFormat::DynamoDb,
        Ok(Some(v)) => {
            return bad_request(format!("`format` must be plain or dynamodb, got `{v}`"));
        }
        Err(err) => return bad_request(err.to_string()),
    };
    let body: Json = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return bad_request(format!("the fixture is not valid JSON: {e}")),
    };
    let items = match parse_fixture(&body, format) {
        Ok(items) => items,
        Err(err) => return bad_request(err.to_string()),
    };
    match run(&admin, move |stores| stores.load_fixture(&items)).await {
        Ok(report) => axum::Json(json!({ "loaded": report })).into_response(),
        Err(response) => response,
    }
}
