//! Data sources: one interface, typed requests parsed from the rendered
//! request template. Data sources never see VTL.
//!
//! The stores (DynamoDB, OpenSearch), Lambda functions, HTTP endpoints
//! and EventBridge plug in as arms of [`build`].

mod dynamodb;
mod eventbridge;
mod http;
mod lambda;
mod opensearch;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::auth::sigv4::SigningCredentials;
use crate::graphql::BoxFuture;
use crate::lambda::{FunctionRef, Functions, Invoker, RemoteFunction};
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

    /// Whether this request may be merged with its siblings' into one call
    /// ([`DataSource::invoke_batch`]): Lambda's `BatchInvoke`.
    fn batches(&self, _request: &Json) -> bool {
        false
    }

    /// Runs several requests as one call; one result per request, in order.
    fn invoke_batch<'a>(
        &'a self,
        requests: Vec<Json>,
        info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Vec<Result<Json, DataSourceError>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(requests.len());
            for request in requests {
                results.push(self.invoke(request, info).await);
            }
            results
        })
    }

    /// The data source a resolver with no code and no templates calls (a
    /// direct Lambda resolver), or `None` when this type needs code.
    fn direct_resolver(&self) -> Option<Arc<dyn DataSource>> {
        None
    }
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

pub(crate) fn parse_request<T: serde::de::DeserializeOwned>(
    request: Json,
) -> Result<T, DataSourceError> {
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
    /// The project's local Lambda functions.
    pub functions: &'a Functions,
    /// `serve --lambda-endpoint`: where functions that are not local run.
    pub lambda_endpoint: Option<&'a axum::http::Uri>,
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
    /// A `config` key has a value that cannot work.
    #[error("{message}")]
    Invalid { key: &'static str, message: String },
}

impl BuildError {
    /// The key under `config` the problem is at, for its position.
    pub fn config_key(&self) -> Option<&'static str> {
        match self {
            BuildError::MissingConfig { .. } => None,
            BuildError::Invalid { key, .. } => Some(key),
        }
    }
}

fn config_str<'c>(config: &'c DataSourceConfig, key: &str) -> Option<&'c str> {
    config.config.as_ref()?.get(key)?.as_str()
}

fn endpoint(config: &DataSourceConfig) -> Result<Option<axum::http::Uri>, BuildError> {
    let Some(value) = config.config.as_ref().and_then(|c| c.get("endpoint")) else {
        return Ok(None);
    };
    let invalid = |text: String| BuildError::Invalid {
        key: "endpoint",
        message: format!("`endpoint` must be an http:// or https:// URL; got {text}"),
    };
    let text = value.as_str().ok_or_else(|| invalid(value.to_string()))?;
    crate::outbound::parse_endpoint(text)
        .map(Some)
        .map_err(|_| invalid(format!("`{text}`")))
}

/// The function a Lambda data source names: `functionName`, `functionArn`,
/// or the data source's own name for an inline `function:`.
fn lambda_target(name: &str, config: &DataSourceConfig) -> Result<FunctionRef, BuildError> {
    let alias = config_str(config, "functionAlias");
    let named = config_str(config, "functionName")
        .or_else(|| config_str(config, "functionArn"))
        .or_else(|| {
            let inline = config.config.as_ref().and_then(|c| c.get("function"));
            inline.map(|_| name)
        })
        .ok_or(BuildError::MissingConfig {
            kind: "an AWS_LAMBDA",
            key: "functionName",
            example: "NAME",
        })?;
    FunctionRef::parse(named, alias).ok_or_else(|| BuildError::Invalid {
        key: "functionArn",
        message: format!(
            "`{named}` is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        ),
    })
}

fn lambda(
    name: &str,
    config: &DataSourceConfig,
    context: &BuildContext<'_>,
) -> Result<Arc<dyn DataSource>, BuildError> {
    let target = lambda_target(name, config)?;
    let invoker = match endpoint(config)? {
        Some(endpoint) => {
            Some(Arc::new(RemoteFunction::new(endpoint, &target)) as Arc<dyn Invoker>)
        }
        None => context.functions.invoker(&target, context.lambda_endpoint),
    };
    let Some(invoker) = invoker else {
        let key = if config_str(config, "functionArn").is_some() {
            "functionArn"
        } else {
            "functionName"
        };
        return Err(BuildError::Invalid {
            key,
            message: format!(
                "unknown function `{}`: define it under `functions:`, or set `config.endpoint` (or `serve --lambda-endpoint`) to run it remotely",
                target.name
            ),
        });
    };
    Ok(Arc::new(lambda::LambdaDataSource {
        invoker,
        direct: false,
    }))
}

fn http(config: &DataSourceConfig) -> Result<Arc<dyn DataSource>, BuildError> {
    let endpoint = endpoint(config)?.ok_or(BuildError::MissingConfig {
        kind: "an HTTP",
        key: "endpoint",
        example: "https://...",
    })?;
    let auth = config
        .config
        .as_ref()
        .and_then(|c| c.get("authorizationConfig"));
    let signing = match auth {
        None => None,
        Some(auth) => {
            if auth.get("authorizationType").and_then(Json::as_str) != Some("AWS_IAM") {
                return Err(BuildError::Invalid {
                    key: "authorizationConfig",
                    message: "`authorizationConfig.authorizationType` must be AWS_IAM".to_owned(),
                });
            }
            let iam = auth.get("awsIamConfig");
            let read = |key: &str| iam.and_then(|c| c.get(key)).and_then(Json::as_str);
            let service = read("signingServiceName").ok_or_else(|| BuildError::Invalid {
                key: "authorizationConfig",
                message: "AWS_IAM signing needs `awsIamConfig.signingServiceName`".to_owned(),
            })?;
            Some(http::IamSigning {
                // The plugin defaults the region to the stack's.
                region: read("signingRegion")
                    .map_or_else(crate::lambda::default_region, str::to_owned),
                service: service.to_owned(),
                credentials: SigningCredentials::from_env(),
            })
        }
    };
    // Local extension: AppSync gives a whole request 30 s and documents no
    // per-source timeout; `timeout` (seconds) shortens it.
    let timeout = match config.config.as_ref().and_then(|c| c.get("timeout")) {
        None => Duration::from_secs(30),
        Some(t) => t
            .as_f64()
            .filter(|t| *t > 0.0 && *t <= 30.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| BuildError::Invalid {
                key: "timeout",
                message: format!("`timeout` is in seconds, above 0 and at most 30; got {t}"),
            })?,
    };
    Ok(Arc::new(http::HttpDataSource {
        endpoint,
        signing,
        timeout,
    }))
}

/// Builds the data source a manifest entry describes.
pub fn build(
    name: &str,
    config: &DataSourceConfig,
    context: &BuildContext<'_>,
) -> Result<Arc<dyn DataSource>, BuildError> {
    Ok(match config.kind {
        DataSourceType::None => Arc::new(NoneDataSource),
        DataSourceType::AmazonDynamodb => {
            let table_name = config_str(config, "tableName").ok_or(BuildError::MissingConfig {
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
        DataSourceType::AwsLambda => lambda(name, config, context)?,
        DataSourceType::Http => http(config)?,
        DataSourceType::AmazonEventbridge => {
            let event_bus = config_str(config, "eventBusArn")
                .and_then(|arn| arn.rsplit(['/', ':']).next())
                .unwrap_or("default")
                .to_owned();
            Arc::new(eventbridge::EventBridgeDataSource {
                name: name.to_owned(),
                event_bus,
                stores: Arc::clone(context.stores),
                forward: endpoint(config)?.map(|endpoint| eventbridge::Forwarding {
                    endpoint,
                    credentials: SigningCredentials::from_env(),
                    region: crate::lambda::default_region(),
                }),
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
