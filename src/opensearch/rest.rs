//! The OpenSearch REST subset over HTTP, under the `/opensearch` path prefix.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::opensearch::engine::Engine;

/// Where OpenSearch is mounted: one port serves `/graphql`, DynamoDB at `/` and this.
/// OpenSearch clients accept a URL with a path prefix (`http://localhost:4000/opensearch`).
pub const PATH_PREFIX: &str = "/opensearch";

/// OpenSearch's default `http.max_content_length`.
const MAX_BODY_BYTES: usize = 100 * 1024 * 1024;

/// Routes for the OpenSearch REST subset.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route(PATH_PREFIX, any(handle))
        .route(&format!("{PATH_PREFIX}/"), any(handle))
        .route(&format!("{PATH_PREFIX}/{{*path}}"), any(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(engine)
}

async fn handle(
    State(engine): State<Arc<Engine>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri
        .path()
        .strip_prefix(PATH_PREFIX)
        .unwrap_or(uri.path())
        .to_string();
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let is_head = method == Method::HEAD;
    let method_name = method.as_str().to_string();
    // tantivy is synchronous; commits and searches must not block the async workers.
    let result = tokio::task::spawn_blocking(move || {
        engine.handle_bytes(&method_name, &path, &query, &body)
    })
    .await;
    let (status, json) = match result {
        Ok(res) => res,
        Err(e) => {
            let err = crate::opensearch::error::Error::Internal(e.to_string());
            (err.status(), err.to_body())
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if is_head {
        Body::empty()
    } else {
        Body::from(json.to_string())
    };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}
