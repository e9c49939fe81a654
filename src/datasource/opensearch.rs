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
            let outcome =
                tokio::task::spawn_blocking(move || engine.handle_data_source_request(&request))
                    .await;
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
