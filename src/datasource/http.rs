//! HTTP: `{method, resourcePath, params: {headers, query, body}}` to the
//! data source's endpoint; `$ctx.result` is `{statusCode, headers, body}`
//! with the body as a string. A non-2xx answer is a result, not an error,
//! as in AppSync: the response step decides.

use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, Request, Uri};
use bytes::Bytes;
use http_body_util::Full;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::{DataSource, DataSourceError, InvocationInfo, parse_request};
use crate::auth::sigv4::{SigningCredentials, sign};
use crate::graphql::BoxFuture;

/// Headers a request may not set (AppSync's list).
const FORBIDDEN_HEADERS: [&str; 6] = [
    "host",
    "connection",
    "user-agent",
    "expectation",
    "transfer-encoding",
    "content-length",
];

/// The content types AppSync sends.
fn allowed_content_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/xml"
                | "application/json"
                | "application/soap+xml"
                | "application/x-amz-json-1.0"
                | "application/x-amz-json-1.1"
                | "application/vnd.api+json"
                | "application/x-ndjson"
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpRequest {
    method: String,
    resource_path: String,
    #[serde(default)]
    params: HttpParams,
}

#[derive(Debug, Default, Deserialize)]
struct HttpParams {
    #[serde(default)]
    headers: IndexMap<String, Json>,
    #[serde(default)]
    query: IndexMap<String, Json>,
    #[serde(default)]
    body: Option<Json>,
}

/// `authorizationConfig: {authorizationType: AWS_IAM, awsIamConfig: {...}}`.
#[derive(Debug, Clone)]
pub struct IamSigning {
    pub region: String,
    pub service: String,
    /// The environment's credentials, read at load.
    pub credentials: Option<SigningCredentials>,
}

#[derive(Debug)]
pub struct HttpDataSource {
    pub endpoint: Uri,
    pub signing: Option<IamSigning>,
    pub timeout: Duration,
}

/// AppSync's type for a call that got no response is not documented; its
/// logs name `HttpRequestException`, so that is what templates see.
fn request_failed(message: impl Into<String>) -> DataSourceError {
    DataSourceError::new("HttpRequestException", message)
}

fn text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl HttpDataSource {
    /// The request's head and body, apart, so signing can read the body.
    fn build(&self, request: HttpRequest) -> Result<(Parts, Bytes), DataSourceError> {
        let method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .ok()
            .filter(|m| {
                matches!(
                    *m,
                    Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE
                )
            })
            .ok_or_else(|| {
                DataSourceError::new(
                    "MappingTemplate",
                    format!(
                        "unsupported HTTP method `{}`: use GET, POST, PUT, PATCH or DELETE",
                        request.method
                    ),
                )
            })?;
        if !request.resource_path.starts_with('/') {
            return Err(DataSourceError::new(
                "MappingTemplate",
                format!(
                    "resourcePath `{}` must start with `/`",
                    request.resource_path
                ),
            ));
        }
        let base = self.endpoint.to_string();
        let mut url = format!("{}{}", base.trim_end_matches('/'), request.resource_path);
        let mut pairs = Vec::new();
        for (key, value) in &request.params.query {
            let values = match value {
                Json::Array(items) => items.iter().map(text).collect(),
                Json::Null => Vec::new(),
                other => vec![text(other)],
            };
            for v in values {
                pairs.push(format!(
                    "{}={}",
                    percent_encoding::utf8_percent_encode(key, QUERY_VALUE),
                    percent_encoding::utf8_percent_encode(&v, QUERY_VALUE)
                ));
            }
        }
        if !pairs.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&pairs.join("&"));
        }
        let mut builder = Request::builder().method(method).uri(&url);
        let mut has_content_type = false;
        for (name, value) in &request.params.headers {
            let lower = name.to_ascii_lowercase();
            if FORBIDDEN_HEADERS.contains(&lower.as_str()) {
                return Err(DataSourceError::new(
                    "MappingTemplate",
                    format!("the header `{name}` cannot be set on an HTTP data source request"),
                ));
            }
            let value = text(value);
            if lower == "content-type" {
                if !allowed_content_type(&value) {
                    return Err(DataSourceError::new(
                        "MappingTemplate",
                        format!("unsupported content type `{value}`"),
                    ));
                }
                has_content_type = true;
            }
            let name = HeaderName::from_bytes(lower.as_bytes()).map_err(|_| {
                DataSourceError::new("MappingTemplate", format!("invalid header name `{name}`"))
            })?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                DataSourceError::new("MappingTemplate", format!("invalid value for `{name}`"))
            })?;
            builder = builder.header(name, value);
        }
        // AppSync's JS tutorial passes an object body with a JSON content
        // type; an object or array is sent as its JSON text.
        let body = match request.params.body {
            None | Some(Json::Null) => Bytes::new(),
            Some(Json::String(s)) => Bytes::from(s),
            Some(other) => {
                if !has_content_type {
                    builder = builder.header("content-type", "application/json");
                }
                Bytes::from(other.to_string())
            }
        };
        let (parts, ()) = builder
            .body(())
            .map_err(|e| DataSourceError::new("MappingTemplate", format!("{url}: {e}")))?
            .into_parts();
        Ok((parts, body))
    }

    async fn call(&self, request: Json) -> Result<Json, DataSourceError> {
        let (mut parts, body) = self.build(parse_request::<HttpRequest>(request)?)?;
        if let Some(signing) = &self.signing {
            let credentials = signing.credentials.as_ref().ok_or_else(|| {
                request_failed(
                    "AWS_IAM signing needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in appsync-local's environment",
                )
            })?;
            sign(
                &mut parts,
                &body,
                credentials,
                &signing.region,
                &signing.service,
                chrono::Utc::now().timestamp(),
            );
        }
        let request = Request::from_parts(parts, Full::new(body));
        let response = crate::outbound::send(request, self.timeout)
            .await
            .map_err(|e| request_failed(e.to_string()))?;
        let mut headers = Map::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                Some(Json::String(existing)) => {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
                _ => {
                    headers.insert(name.as_str().to_owned(), Json::String(value));
                }
            }
        }
        Ok(json!({
            "statusCode": response.status().as_u16(),
            "headers": headers,
            "body": String::from_utf8_lossy(response.body()),
        }))
    }
}

impl DataSource for HttpDataSource {
    fn invoke<'a>(
        &'a self,
        request: Json,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        Box::pin(self.call(request))
    }
}
