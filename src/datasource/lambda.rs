//! AWS_LAMBDA: `{operation: Invoke | BatchInvoke, payload, invocationType}`.
//! The function's event is the `payload` value; its result is `$ctx.result`.

use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value as Json;

use super::{DataSource, DataSourceError, InvocationInfo, parse_request};
use crate::graphql::BoxFuture;
use crate::lambda::{InvocationType, Invoker, LambdaError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Operation {
    Invoke,
    BatchInvoke,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
enum InvocationTypeName {
    #[default]
    RequestResponse,
    Event,
}

/// The request a Lambda resolver or function renders.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvokeRequest {
    /// Required and checked, as AppSync does; which one it is was decided
    /// before parsing (see `batches`).
    #[serde(rename = "operation")]
    _operation: Operation,
    #[serde(default)]
    payload: Json,
    #[serde(default)]
    invocation_type: InvocationTypeName,
}

impl InvokeRequest {
    fn invocation_type(&self) -> InvocationType {
        match self.invocation_type {
            InvocationTypeName::RequestResponse => InvocationType::RequestResponse,
            InvocationTypeName::Event => InvocationType::Event,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LambdaDataSource {
    pub invoker: Arc<dyn Invoker>,
    /// Bound to a direct resolver: a function error keeps the function's
    /// own `errorType`, as AppSync reports it without templates; templates
    /// see `Lambda:Unhandled`.
    pub direct: bool,
}

impl LambdaDataSource {
    fn error(&self, error: LambdaError) -> DataSourceError {
        match error {
            LambdaError::Function {
                error_type,
                message,
            } => {
                let error_type = match error_type {
                    Some(t) if self.direct => t,
                    _ => "Lambda:Unhandled".to_owned(),
                };
                DataSourceError::new(error_type, message)
            }
            LambdaError::Service {
                error_type,
                message,
            } => DataSourceError::new(format!("Lambda:{error_type}"), message),
        }
    }

    async fn call(
        &self,
        payload: &Json,
        invocation_type: InvocationType,
    ) -> Result<Json, DataSourceError> {
        let event = serde_json::to_vec(payload)
            .map_err(|e| DataSourceError::new("MappingTemplate", e.to_string()))?;
        let result = self
            .invoker
            .invoke(Bytes::from(event), invocation_type)
            .await
            .map_err(|e| self.error(e))?;
        if result.is_empty() {
            return Ok(Json::Null);
        }
        serde_json::from_slice(&result).map_err(|e| {
            DataSourceError::new(
                "Lambda:Unhandled",
                format!("the function's response is not JSON: {e}"),
            )
        })
    }

    /// One invocation for many requests: their payloads become the event's
    /// list, and the function's list is split back in order.
    async fn call_batch(&self, requests: Vec<Json>) -> Vec<Result<Json, DataSourceError>> {
        let count = requests.len();
        let mut payloads = Vec::with_capacity(count);
        for request in requests {
            match parse_request::<InvokeRequest>(request) {
                Ok(r) => payloads.push(r.payload),
                Err(e) => return vec![Err(e); count],
            }
        }
        let result = self
            .call(&Json::Array(payloads), InvocationType::RequestResponse)
            .await;
        match result {
            Ok(Json::Array(items)) if items.len() == count => items.into_iter().map(Ok).collect(),
            Ok(other) => {
                let got = match &other {
                    Json::Array(items) => format!("a list of {}", items.len()),
                    _ => "no list".to_owned(),
                };
                // AppSync's wording is unknown; the contract is a list of
                // the batch's length, in order.
                let error = DataSourceError::new(
                    "Lambda:Unhandled",
                    format!(
                        "a batch of {count} events needs a list of {count} results; the function returned {got}"
                    ),
                );
                vec![Err(error); count]
            }
            // A throw fails the whole batch.
            Err(e) => vec![Err(e); count],
        }
    }
}

impl DataSource for LambdaDataSource {
    fn invoke<'a>(
        &'a self,
        request: Json,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        Box::pin(async move {
            // A BatchInvoke outside a batch (no sibling to merge with) is
            // still a batch, of one.
            if self.batches(&request) {
                let mut results = self.call_batch(vec![request]).await;
                return results.pop().unwrap_or(Ok(Json::Null));
            }
            let request = parse_request::<InvokeRequest>(request)?;
            self.call(&request.payload, request.invocation_type()).await
        })
    }

    fn batches(&self, request: &Json) -> bool {
        request.get("operation").and_then(Json::as_str) == Some("BatchInvoke")
    }

    fn invoke_batch<'a>(
        &'a self,
        requests: Vec<Json>,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Vec<Result<Json, DataSourceError>>> {
        Box::pin(self.call_batch(requests))
    }

    fn direct_resolver(&self) -> Option<Arc<dyn DataSource>> {
        Some(Arc::new(LambdaDataSource {
            invoker: Arc::clone(&self.invoker),
            direct: true,
        }))
    }
}
