//! `AMAZON_OPENSEARCH_SERVICE` (and the older `AMAZON_ELASTICSEARCH`): AppSync's
//! request format against the embedded indexes.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::datasource::{DataSource, DataSourceError, InvocationInfo};
use crate::graphql::BoxFuture;
use crate::opensearch::{Engine, OpenSearchRequest};

pub struct OpenSearchDataSource {
    pub engine: Arc<Engine>,
}

impl std::fmt::Debug for OpenSearchDataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSearchDataSource")
            .finish_non_exhaustive()
    }
}

impl DataSource for OpenSearchDataSource {
    fn invoke<'a>(
        &'a self,
        request: Json,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        let engine = Arc::clone(&self.engine);
        Box::pin(async move {
            let request = OpenSearchRequest::from_json(&request)
                .map_err(|e| DataSourceError::new("MappingTemplate", e.to_string()))?;
            // A document by id is one stored block read: cheaper inline than
            // the trip to the blocking pool. Searches and writes go there.
            let outcome = if is_document_get(&request) {
                Ok(engine.handle_data_source_request(&request))
            } else {
                tokio::task::spawn_blocking(move || engine.handle_data_source_request(&request))
                    .await
            };
            match outcome {
                // AppSync hands the raw response to the response template,
                // whatever its status, so templates can inspect `error`.
                Ok((_status, body)) => Ok(body),
                Err(join) => Err(DataSourceError::new(
                    "InternalFailure",
                    format!("the OpenSearch request failed: {join}"),
                )),
            }
        })
    }
}

/// `GET /{index}/_doc/{id}`.
fn is_document_get(request: &OpenSearchRequest) -> bool {
    request.is_document_get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_document_gets_run_inline() {
        let request = |operation: &str, path: &str| OpenSearchRequest {
            operation: operation.to_owned(),
            path: path.to_owned(),
            params: Default::default(),
        };
        assert!(is_document_get(&request("GET", "/bookings/_doc/BK1")));
        assert!(is_document_get(&request("get", "bookings/_doc/BK1")));
        assert!(!is_document_get(&request("GET", "/bookings/_search")));
        assert!(!is_document_get(&request("PUT", "/bookings/_doc/BK1")));
        assert!(!is_document_get(&request("GET", "/bookings/_doc/")));
        assert!(!is_document_get(&request("GET", "/_doc/x/y/z")));
    }
}
