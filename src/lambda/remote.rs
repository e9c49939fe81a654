//! Lambda's Invoke API at an endpoint (`sam local start-lambda`,
//! LocalStack, or AWS), signed with SigV4 when the environment has
//! credentials.

use std::time::Duration;

use axum::http::{Request, Uri};
use bytes::Bytes;
use http_body_util::Full;

use super::{FunctionRef, InvocationType, Invoker, LambdaError};
use crate::auth::sigv4::{SigningCredentials, sign};
use crate::graphql::BoxFuture;

/// AppSync gives a whole request 30 s; a remote call never waits longer.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);

/// A function behind an Invoke API endpoint.
#[derive(Debug, Clone)]
pub struct RemoteFunction {
    pub endpoint: Uri,
    /// A name, or an ARN (`Invoke` takes either).
    pub function: String,
    /// `functionAlias`, sent as `Qualifier`.
    pub qualifier: Option<String>,
    /// For SigV4: the ARN's region, else `AWS_REGION`, else us-east-1.
    pub region: String,
    /// The environment's credentials, read once; unsigned without them.
    pub credentials: Option<SigningCredentials>,
}

const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl RemoteFunction {
    pub fn new(endpoint: Uri, target: &FunctionRef) -> Self {
        RemoteFunction {
            endpoint,
            function: target.invoke_as.clone(),
            qualifier: target.qualifier.clone(),
            region: target.region.clone().unwrap_or_else(super::default_region),
            credentials: SigningCredentials::from_env(),
        }
    }

    fn url(&self) -> String {
        let base = self.endpoint.to_string();
        let mut url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            base.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(&self.function, PATH_SEGMENT)
        );
        if let Some(q) = &self.qualifier {
            url.push_str("?Qualifier=");
            url.extend(percent_encoding::utf8_percent_encode(q, PATH_SEGMENT));
        }
        url
    }

    async fn call(
        &self,
        event: Bytes,
        invocation_type: InvocationType,
    ) -> Result<Bytes, LambdaError> {
        let url = self.url();
        let request = Request::post(&url)
            .header("content-type", "application/json")
            .header(
                "x-amz-invocation-type",
                match invocation_type {
                    InvocationType::RequestResponse => "RequestResponse",
                    InvocationType::Event => "Event",
                },
            )
            .body(Full::new(event.clone()))
            .map_err(|e| LambdaError::service("ServiceException", format!("{url}: {e}")))?;
        let (mut parts, body) = request.into_parts();
        if let Some(credentials) = &self.credentials {
            sign(
                &mut parts,
                &event,
                credentials,
                &self.region,
                "lambda",
                chrono::Utc::now().timestamp(),
            );
        }
        let response = crate::outbound::send(Request::from_parts(parts, body), REMOTE_TIMEOUT)
            .await
            .map_err(|e| LambdaError::service("ServiceException", e.to_string()))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if status.is_success() {
            if header("x-amz-function-error").is_some() {
                return Err(LambdaError::from_function_body(response.body(), None));
            }
            return Ok(response.into_body());
        }
        // AWS JSON errors: the type in `x-amzn-errortype` (or `__type`),
        // the text in `message` or `Message`.
        let parsed: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
        let error_type = header("x-amzn-errortype")
            .or_else(|| {
                parsed
                    .get("__type")
                    .or_else(|| parsed.get("Type"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .map(|t| {
                let t = t.split(':').next().unwrap_or_default();
                t.rsplit('#').next().unwrap_or_default().to_owned()
            })
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "ServiceException".to_owned());
        let message = parsed
            .get("message")
            .or_else(|| parsed.get("Message"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{url} answered {status}"));
        Err(LambdaError::Service {
            error_type,
            message,
        })
    }
}

impl Invoker for RemoteFunction {
    fn invoke(
        &self,
        event: Bytes,
        invocation_type: InvocationType,
    ) -> BoxFuture<'_, Result<Bytes, LambdaError>> {
        Box::pin(self.call(event, invocation_type))
    }
}
