//! Data sources: one interface, typed requests parsed from the rendered
//! request template. Data sources never see VTL.
//!
//! The stores (DynamoDB, OpenSearch) plug in as arms of [`build`].

mod dynamodb;
mod opensearch;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::graphql::BoxFuture;
use crate::model::manifest::{DataSourceConfig, DataSourceType};
use crate::stores::Stores;

/// A failed invocation, as the response template sees it in `$ctx.error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct DataSourceError {
    /// AppSync's `errorType`, e.g. `DynamoDB:ConditionalCheckFailedException`.
    pub error_type: String,
    pub message: String,
    /// What `$ctx.result` holds beside the error, e.g. a failed transaction's
    /// `{keys: null, cancellationReasons: [...]}`.
    pub data: Option<Json>,
}

impl DataSourceError {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        DataSourceError {
            error_type: error_type.into(),
            message: message.into(),
            data: None,
        }
    }
}

/// Which resolver is calling, for logs and for stores that key state
/// (pagination tokens) by resolver.
#[derive(Debug, Clone, Copy)]
pub struct InvocationInfo<'a> {
    pub parent_type_name: &'a str,
    pub field_name: &'a str,
}

/// A data source receives the rendered request (already parsed JSON) and
/// returns what becomes `$ctx.result`.
pub trait DataSource: Send + Sync + std::fmt::Debug {
    fn invoke<'a>(
        &'a self,
        request: Json,
        info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>>;
}

/// `{"version": "2018-05-29", "payload": any}`.
#[derive(Debug, Deserialize)]
pub struct NoneRequest {
    #[serde(default)]
    pub payload: Json,
}

/// NONE: the payload becomes `$ctx.result`.
#[derive(Debug, Default)]
pub struct NoneDataSource;

fn parse_request<T: serde::de::DeserializeOwned>(request: Json) -> Result<T, DataSourceError> {
    serde_json::from_value(request)
        .map_err(|e| DataSourceError::new("MappingTemplate", e.to_string()))
}

impl DataSource for NoneDataSource {
    fn invoke<'a>(
        &'a self,
        request: Json,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        let result = parse_request::<NoneRequest>(request).map(|r| r.payload);
        Box::pin(std::future::ready(result))
    }
}

/// Test-only (`type: SLEEP`, `config: {millis: N}`): waits, then answers like
/// NONE. It exists to prove that sibling fields resolve concurrently.
#[derive(Debug)]
pub struct SleepDataSource {
    pub delay: Duration,
}

impl DataSource for SleepDataSource {
    fn invoke<'a>(
        &'a self,
        request: Json,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            parse_request::<NoneRequest>(request).map(|r| r.payload)
        })
    }
}

/// A type this build cannot run yet: loading succeeds (so `check` passes on
/// real projects) and every invocation fails with a clear error.
#[derive(Debug)]
pub struct UnsupportedDataSource {
    pub kind: DataSourceType,
}

impl DataSource for UnsupportedDataSource {
    fn invoke<'a>(
        &'a self,
        _request: Json,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        let err = DataSourceError::new(
            "UnsupportedDataSource",
            format!(
                "data sources of type {} are not supported by appsync-local yet",
                self.kind.as_str()
            ),
        );
        Box::pin(std::future::ready(Err(err)))
    }
}

/// What a data source may need from the project when it is built.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    /// The open tables and indexes.
    pub stores: &'a Arc<Stores>,
}

/// A data source entry that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A required `config` key is missing or of the wrong type.
    #[error("{kind} data source needs `config: {{{key}: {example}}}`")]
    MissingConfig {
        kind: &'static str,
        key: &'static str,
        example: &'static str,
    },
}

/// Builds the data source a manifest entry describes.
pub fn build(
    _name: &str,
    config: &DataSourceConfig,
    context: &BuildContext<'_>,
) -> Result<Arc<dyn DataSource>, BuildError> {
    Ok(match config.kind {
        DataSourceType::None => Arc::new(NoneDataSource),
        DataSourceType::AmazonDynamodb => {
            let table_name = config
                .config
                .as_ref()
                .and_then(|c| c.get("tableName"))
                .and_then(Json::as_str)
                .ok_or(BuildError::MissingConfig {
                    kind: "an AMAZON_DYNAMODB",
                    key: "tableName",
                    example: "NAME",
                })?;
            // The table may also be created later through the DynamoDB API, so a
            // missing table is reported per invocation, as AppSync does.
            Arc::new(dynamodb::DynamoDbDataSource {
                database: Arc::clone(&context.stores.dynamodb),
                table_name: table_name.to_owned(),
            })
        }
        DataSourceType::AmazonOpensearchService | DataSourceType::AmazonElasticsearch => {
            Arc::new(opensearch::OpenSearchDataSource {
                engine: Arc::clone(&context.stores.opensearch),
            })
        }
        DataSourceType::Sleep => {
            let millis = config
                .config
                .as_ref()
                .and_then(|c| c.get("millis"))
                .and_then(Json::as_u64)
                .ok_or(BuildError::MissingConfig {
                    kind: "a SLEEP",
                    key: "millis",
                    example: "N",
                })?;
            Arc::new(SleepDataSource {
                delay: Duration::from_millis(millis),
            })
        }
        kind => Arc::new(UnsupportedDataSource { kind }),
    })
}
