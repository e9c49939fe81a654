//! Admin routes beside GraphQL: the cache flush, as AppSync's
//! `FlushApiCache` (`DELETE /v1/apis/{apiId}/FlushCache`, any id here) and
//! `POST /admin/flush-cache`, and the Prometheus `GET /metrics`.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};

use super::ServiceCell;

pub fn router(service: ServiceCell) -> Router {
    Router::new()
        .route("/v1/apis/{api_id}/FlushCache", delete(flush_cache))
        .route("/admin/flush-cache", post(flush_cache))
        .route("/metrics", get(metrics))
        .with_state(service)
}

async fn flush_cache(State(service): State<ServiceCell>) -> axum::Json<serde_json::Value> {
    service.current().flush_cache().await;
    // FlushApiCache answers 200 with an empty object.
    axum::Json(serde_json::json!({}))
}

async fn metrics(State(service): State<ServiceCell>) -> impl IntoResponse {
    let text = service.current().metrics().await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
