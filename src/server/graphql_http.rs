//! GraphQL over HTTP (<https://graphql.github.io/graphql-over-http/>): decoding
//! POST bodies and GET parameters, content negotiation and status codes.

use std::pin::Pin;
use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;
use tower::ServiceExt;

use crate::auth::AuthFailure;
use crate::execution::errors;
use crate::graphql::{Answer, GraphQLRequest, GraphQLService, RequestContext};
use crate::server::auth::{authorize, is_signed, needs_body};
use crate::server::realtime;
use crate::server::state::ServiceCell;

/// State of the GraphQL handlers.
#[derive(Clone)]
pub struct Shared {
    pub service: ServiceCell,
    pub body_limit: usize,
    pub amz_target_router: Option<Router>,
}

/// The operation name of a request, attached to the response for the access
/// log when the request names one.
#[derive(Debug, Clone)]
pub struct LoggedOperation(pub String);

/// Why a request was refused before it reached the executor.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    Auth(AuthFailure),
    #[error("Unsupported Content-Type {0:?}: send GraphQL requests as application/json.")]
    UnsupportedMediaType(String),
    #[error("Missing Content-Type: send GraphQL requests as application/json.")]
    MissingContentType,
    #[error("Request body is larger than the limit of {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    #[error("Request body could not be read: {0}")]
    BodyRead(String),
    #[error("Request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("Invalid GraphQL request: {0}")]
    InvalidRequest(String),
    #[error("Mutations cannot be sent with GET; use POST.")]
    MutationOverGet,
    #[error("Method {0} is not allowed on /graphql; use GET or POST.")]
    MethodNotAllowed(String),
    #[error("No route for POST /: GraphQL is served at /graphql.")]
    NoRootRoute,
}

impl RequestError {
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::Auth(failure) => {
                StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::UNAUTHORIZED)
            }
            RequestError::UnsupportedMediaType(_) | RequestError::MissingContentType => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            RequestError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::BodyRead(_)
            | RequestError::MalformedJson(_)
            | RequestError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            RequestError::MutationOverGet | RequestError::MethodNotAllowed(_) => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            RequestError::NoRootRoute => StatusCode::NOT_FOUND,
        }
    }

    /// The `errorType` of the error body. Only the authorization ones are
    /// documented by AppSync; the others are guesses in AWS's naming style.
    pub fn error_type(&self) -> &'static str {
        match self {
            RequestError::Auth(failure) => failure.error_type(),
            RequestError::UnsupportedMediaType(_) | RequestError::MissingContentType => {
                "UnsupportedMediaTypeException"
            }
            RequestError::PayloadTooLarge { .. } => "PayloadTooLargeException",
            RequestError::BodyRead(_)
            | RequestError::MalformedJson(_)
            | RequestError::InvalidRequest(_) => "MalformedHttpRequestException",
            RequestError::MutationOverGet | RequestError::MethodNotAllowed(_) => {
                "MethodNotAllowedException"
            }
            RequestError::NoRootRoute => "NotFoundException",
        }
    }

    fn into_response(self, media: ResponseMediaType) -> Response {
        let body = errors::request_rejection(self.error_type(), &self.to_string());
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, media.header_value())],
            body.to_string(),
        )
            .into_response();
        let allow = match self {
            RequestError::MutationOverGet => Some("POST"),
            RequestError::MethodNotAllowed(_) => Some("GET, POST"),
            _ => None,
        };
        if let Some(allow) = allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

impl From<AuthFailure> for RequestError {
    fn from(failure: AuthFailure) -> Self {
        RequestError::Auth(failure)
    }
}

/// The response media type the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMediaType {
    /// `application/json`: status 200 for every well-formed GraphQL response.
    Json,
    /// `application/graphql-response+json`: status 400 when the request failed
    /// before execution.
    GraphQLResponseJson,
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

impl ResponseMediaType {
    /// `application/graphql-response+json` when the client accepts it with a
    /// non-zero quality; otherwise `application/json`, which is also what a
    /// missing or unsatisfiable `Accept` gets (the spec allows ignoring it, and
    /// AppSync clients expect JSON).
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let accepts_graphql_response = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|item| {
                let mut params = item.split(';');
                let media = params.next().unwrap_or_default().trim();
                media.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON)
                    && !params.any(|param| {
                        param
                            .trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.trim().parse::<f32>().ok())
                            .is_some_and(|q| q <= 0.0)
                    })
            });
        if accepts_graphql_response {
            ResponseMediaType::GraphQLResponseJson
        } else {
            ResponseMediaType::Json
        }
    }

    fn header_value(self) -> HeaderValue {
        match self {
            ResponseMediaType::Json => HeaderValue::from_static("application/json"),
            ResponseMediaType::GraphQLResponseJson => {
                HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
            }
        }
    }
}

pub async fn graphql_post(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let media = ResponseMediaType::negotiate(&parts.headers);
    let service = shared.service.current();
    match decode_post(&service, &parts, body, shared.body_limit).await {
        Ok((request, context)) => execute(&shared, service, request, context, media).await,
        Err(err) => err.into_response(media),
    }
}

async fn decode_post(
    service: &Arc<dyn GraphQLService>,
    parts: &Parts,
    body: Body,
    limit: usize,
) -> Result<(GraphQLRequest, RequestContext), RequestError> {
    // A SigV4 signature covers the body and a Lambda authorizer reads the
    // operation, so it is read first; otherwise a refused credential costs
    // no read.
    let (context, bytes) = if needs_body(service.auth(), parts) {
        let bytes = read_body(body, limit).await?;
        (authorize(service.auth(), parts, Some(&bytes)).await?, bytes)
    } else {
        let context = authorize(service.auth(), parts, None).await?;
        check_content_type(&parts.headers)?;
        (context, read_body(body, limit).await?)
    };
    check_content_type(&parts.headers)?;
    // serde would also read a struct from a JSON array; only objects are
    // requests. AppSync has no batching, so a batch is refused here too.
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| *byte == b'[') {
        return Err(RequestError::InvalidRequest(
            "the body must be one JSON object; batched requests are not supported".to_owned(),
        ));
    }
    let request = serde_json::from_slice::<GraphQLRequest>(&bytes).map_err(|err| {
        if err.is_data() {
            RequestError::InvalidRequest(err.to_string())
        } else {
            RequestError::MalformedJson(err.to_string())
        }
    })?;
    Ok((request, context))
}

/// The spec's request media type is `application/json`; a missing
/// Content-Type is rejected too, as the spec recommends.
fn check_content_type(headers: &HeaderMap) -> Result<(), RequestError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .ok_or(RequestError::MissingContentType)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let media = text.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(RequestError::UnsupportedMediaType(text.into_owned()))
    }
}

/// Reads the (already decompressed) body, refusing to buffer more than
/// `limit` bytes, so a small gzip body cannot expand without bound.
async fn read_body(mut body: Body, limit: usize) -> Result<Vec<u8>, RequestError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(RequestError::PayloadTooLarge { limit });
    }
    let mut bytes = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|err| RequestError::BodyRead(err.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(RequestError::PayloadTooLarge { limit });
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

pub async fn graphql_get(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    // Some clients derive the real-time URL from the HTTP one unchanged.
    if realtime::is_upgrade(&parts.headers) {
        return realtime::upgrade(shared.service, parts).await;
    }
    let media = ResponseMediaType::negotiate(&parts.headers);
    let service = shared.service.current();
    match decode_get(&service, &parts).await {
        Ok((request, context)) => execute(&shared, service, request, context, media).await,
        Err(err) => err.into_response(media),
    }
}

/// `GET /graphql/realtime`: AppSync's real-time WebSocket endpoint.
pub async fn realtime_get(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    realtime::upgrade(shared.service, parts).await
}

async fn decode_get(
    service: &Arc<dyn GraphQLService>,
    parts: &Parts,
) -> Result<(GraphQLRequest, RequestContext), RequestError> {
    // Parsed first, reported after authorization: a refused credential
    // must not learn whether its request was well formed.
    let parsed = parse_get_parameters(parts.uri.query().unwrap_or_default());
    // A Lambda authorizer receives the operation, which a GET carries in
    // its query string: it gets the request as a POST body would hold it
    // (never for SigV4, whose signature covers the real, empty body).
    let as_body = match (&service.auth().lambda, &parsed) {
        (Some(_), Ok(r)) if !is_signed(parts) => Some(
            serde_json::json!({
                "query": r.query,
                "operationName": r.operation_name,
                "variables": r.variables,
            })
            .to_string(),
        ),
        _ => None,
    };
    let context = authorize(service.auth(), parts, as_body.as_deref().map(str::as_bytes)).await?;
    let request = parsed?;
    if selected_operation_type(&request) == Some(OperationType::Mutation) {
        return Err(RequestError::MutationOverGet);
    }
    Ok((request, context))
}

/// `query`, `operationName`, and JSON-encoded `variables` and `extensions`.
fn parse_get_parameters(query_string: &str) -> Result<GraphQLRequest, RequestError> {
    let mut request = GraphQLRequest::default();
    let mut query = None;
    for (key, value) in form_urlencoded::parse(query_string.as_bytes()) {
        match key.as_ref() {
            "query" => query = Some(value.into_owned()),
            "operationName" if !value.is_empty() => {
                request.operation_name = Some(value.into_owned())
            }
            "variables" => request.variables = json_object_parameter("variables", &value)?,
            "extensions" => request.extensions = json_object_parameter("extensions", &value)?,
            _ => {}
        }
    }
    request.query = query
        .ok_or_else(|| RequestError::InvalidRequest("missing `query` parameter".to_owned()))?;
    Ok(request)
}

fn json_object_parameter(
    name: &str,
    value: &str,
) -> Result<Option<serde_json::Map<String, Json>>, RequestError> {
    if value.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Json>(value) {
        Ok(Json::Object(map)) => Ok(Some(map)),
        Ok(Json::Null) => Ok(None),
        Ok(_) => Err(RequestError::InvalidRequest(format!(
            "`{name}` must be a JSON object"
        ))),
        Err(err) => Err(RequestError::InvalidRequest(format!(
            "`{name}` is not valid JSON: {err}"
        ))),
    }
}

/// The type of the operation a GET request would run, if the document parses
/// and the operation can be picked; otherwise the executor reports the problem.
fn selected_operation_type(request: &GraphQLRequest) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    match &document.operations {
        DocumentOperations::Single(operation) => Some(operation.node.ty),
        DocumentOperations::Multiple(operations) => match &request.operation_name {
            Some(name) => operations.get(name.as_str()).map(|op| op.node.ty),
            None if operations.len() == 1 => operations.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}

async fn execute(
    shared: &Shared,
    service: Arc<dyn GraphQLService>,
    request: GraphQLRequest,
    context: RequestContext,
    media: ResponseMediaType,
) -> Response {
    let operation = request.operation_name.clone().map(LoggedOperation);
    let (status, body) = match service.answer(request, context).await {
        // Stored only for responses with data and no errors: always 200.
        Answer::Serialized(body) => (StatusCode::OK, Body::from(body)),
        Answer::Response(mut response) => {
            // Queued for the hub's fan-out task: subscribers never delay
            // the mutation's own response.
            let publications = std::mem::take(&mut response.publications);
            if !publications.is_empty() {
                shared.service.realtime().publish(publications);
            }
            let status = match media {
                ResponseMediaType::GraphQLResponseJson if response.data.is_none() => {
                    StatusCode::BAD_REQUEST
                }
                _ => StatusCode::OK,
            };
            match serde_json::to_vec(&response) {
                Ok(body) => (status, Body::from(body)),
                // Only a non-string map key could fail here, which `Json` cannot hold.
                Err(err) => {
                    tracing::error!("cannot serialize a GraphQL response: {err}");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
        }
    };
    let mut response =
        (status, [(header::CONTENT_TYPE, media.header_value())], body).into_response();
    if let Some(operation) = operation {
        response.extensions_mut().insert(operation);
    }
    response
}

/// Any method but GET and POST (HEAD is answered as GET).
pub async fn method_not_allowed(request: Request) -> Response {
    RequestError::MethodNotAllowed(request.method().to_string())
        .into_response(ResponseMediaType::negotiate(request.headers()))
}

/// `POST /` belongs to the DynamoDB JSON API (`X-Amz-Target`) when one is
/// mounted; AppSync itself only serves `/graphql`.
pub async fn root_post(State(shared): State<Shared>, request: Request) -> Response {
    match shared.amz_target_router {
        Some(router) if request.headers().contains_key("x-amz-target") => {
            match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        _ => {
            RequestError::NoRootRoute.into_response(ResponseMediaType::negotiate(request.headers()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        let cases = [
            (None, ResponseMediaType::Json),
            (Some("application/json"), ResponseMediaType::Json),
            (Some("*/*"), ResponseMediaType::Json),
            (
                Some("application/graphql-response+json"),
                ResponseMediaType::GraphQLResponseJson,
            ),
            (
                Some("application/graphql-response+json, application/json;q=0.9"),
                ResponseMediaType::GraphQLResponseJson,
            ),
            (
                Some("application/json, Application/GraphQL-Response+JSON; charset=utf-8"),
                ResponseMediaType::GraphQLResponseJson,
            ),
            (
                Some("application/graphql-response+json;q=0, application/json"),
                ResponseMediaType::Json,
            ),
        ];
        for (accept, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(accept) = accept {
                headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
            }
            assert_eq!(
                ResponseMediaType::negotiate(&headers),
                expected,
                "{accept:?}"
            );
        }
    }

    #[test]
    fn operation_type_of_get_requests() {
        let cases = [
            ("{ a }", None, Some(OperationType::Query)),
            ("mutation { a }", None, Some(OperationType::Mutation)),
            ("mutation M { a }", None, Some(OperationType::Mutation)),
            (
                "query Q { a } mutation M { a }",
                Some("M"),
                Some(OperationType::Mutation),
            ),
            (
                "query Q { a } mutation M { a }",
                Some("Q"),
                Some(OperationType::Query),
            ),
            ("query Q { a } mutation M { a }", None, None),
            ("mutation {", None, None),
        ];
        for (query, operation_name, expected) in cases {
            let request = GraphQLRequest {
                query: query.to_owned(),
                operation_name: operation_name.map(str::to_owned),
                ..GraphQLRequest::default()
            };
            assert_eq!(selected_operation_type(&request), expected, "{query}");
        }
    }

    #[test]
    fn get_parameters() {
        let request = parse_get_parameters(
            "query=%7B%20a%20%7D&operationName=Op&variables=%7B%22x%22%3A1%7D&extensions=",
        )
        .expect("valid parameters");
        assert_eq!(request.query, "{ a }");
        assert_eq!(request.operation_name.as_deref(), Some("Op"));
        assert_eq!(
            Json::Object(request.variables.unwrap_or_default()),
            serde_json::json!({"x": 1})
        );
        assert_eq!(request.extensions, None);

        for bad in [
            "operationName=Op",
            "query=x&variables=[1]",
            "query=x&variables=%7B",
        ] {
            assert!(
                matches!(
                    parse_get_parameters(bad),
                    Err(RequestError::InvalidRequest(_))
                ),
                "{bad}"
            );
        }
    }
}
