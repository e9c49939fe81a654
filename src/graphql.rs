//! The boundary between the HTTP layer (`server`) and GraphQL execution.
//!
//! The HTTP layer decodes a request into a [`GraphQLRequest`] plus a
//! [`RequestContext`], checks authorization with [`GraphQLService::auth`], and
//! hands both to [`GraphQLService::execute`]. It never looks inside the schema;
//! the executor never sees HTTP framing. Later transports (AppSync's real-time
//! WebSocket protocol) reuse the same boundary.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A GraphQL request as sent over HTTP (POST body or GET query parameters).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    pub query: String,
    #[serde(default)]
    pub operation_name: Option<String>,
    /// JSON object, or null/absent.
    #[serde(default)]
    pub variables: Option<serde_json::Map<String, Json>>,
    #[serde(default)]
    pub extensions: Option<serde_json::Map<String, Json>>,
}

/// Who is calling and how, as far as templates (`$ctx.request`, `$ctx.identity`)
/// and caching keys are concerned.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// Request headers with lower-case names, in arrival order; a header sent
    /// several times appears several times. `cookie` is never exposed to templates.
    pub headers: Vec<(String, String)>,
    /// The verified caller: mode, `$ctx.identity`, groups (`crate::auth`).
    pub principal: Principal,
    /// The client address, for identities that carry `sourceIp`.
    pub source_ip: Option<String>,
}

/// AppSync's authorization modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthType {
    #[default]
    ApiKey,
    AwsIam,
    AmazonCognitoUserPools,
    OpenidConnect,
    AwsLambda,
}

impl AuthType {
    /// What `$util.authType()` returns for this mode.
    pub fn util_name(self) -> &'static str {
        match self {
            AuthType::ApiKey => "API Key Authorization",
            AuthType::AwsIam => "IAM Authorization",
            AuthType::AmazonCognitoUserPools => "User Pool Authorization",
            AuthType::OpenidConnect => "Open ID Connect Authorization",
            AuthType::AwsLambda => "Lambda Authorization",
        }
    }

    /// The mode an identity in AppSync's shape comes from, for contexts
    /// that carry an identity but no mode (`evaluate`'s context files).
    pub fn from_identity(identity: &Json) -> AuthType {
        let has = |key: &str| identity.get(key).is_some();
        if identity.is_null() {
            AuthType::ApiKey
        } else if has("resolverContext") {
            AuthType::AwsLambda
        } else if has("userArn") || has("accountId") {
            AuthType::AwsIam
        } else if has("defaultAuthStrategy") || has("username") {
            AuthType::AmazonCognitoUserPools
        } else {
            AuthType::OpenidConnect
        }
    }
}

pub use crate::auth::{ApiKey, AuthConfig, Principal};
pub use crate::realtime::hub::{Publication, StartError, SubscriptionPlan};

/// The response body of one GraphQL request.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GraphQLResponse {
    /// `None` when the request failed before execution (parse or validation
    /// error): the HTTP layer maps that to status 400 for
    /// `application/graphql-response+json`. `Some(Json::Null)` is a null result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Json>,
    /// Errors in AppSync's shape (`path`, `data`, `errorType`, `errorInfo`,
    /// `locations`, `message`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Json>,
    /// E.g. `{"apiCacheEntriesDeleted": N}`.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, Json>,
    /// What a mutation publishes to subscribers; the transport hands it to
    /// the real-time hub. Never serialized.
    #[serde(skip)]
    pub publications: Vec<Publication>,
}

/// What [`GraphQLService::answer`] gives the HTTP layer: a response to
/// serialize, or one already serialized (an operation-cache hit, sent as
/// stored without building a JSON value again).
#[derive(Debug, Clone)]
pub enum Answer {
    Response(GraphQLResponse),
    /// The JSON body of a response that has `data` and no errors, so its
    /// status is always 200.
    Serialized(Bytes),
}

impl Answer {
    /// The response as a value, parsing a serialized one back.
    pub fn into_response(self) -> GraphQLResponse {
        match self {
            Answer::Response(response) => response,
            Answer::Serialized(body) => {
                let data = serde_json::from_slice::<Json>(&body)
                    .ok()
                    .and_then(|mut v| v.get_mut("data").map(Json::take));
                GraphQLResponse {
                    data,
                    ..GraphQLResponse::default()
                }
            }
        }
    }
}

/// A boxed future, so [`GraphQLService`] stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A loaded API that can execute requests. Implemented by the executor; the
/// HTTP layer holds an `Arc<dyn GraphQLService>` and swaps it on reload.
pub trait GraphQLService: Send + Sync + 'static {
    fn auth(&self) -> &AuthConfig;
    fn execute(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> BoxFuture<'_, GraphQLResponse>;

    /// Like [`execute`](Self::execute), but may answer with bytes ready to
    /// send. The HTTP layer calls this one.
    fn answer(&self, request: GraphQLRequest, context: RequestContext) -> BoxFuture<'_, Answer> {
        let response = self.execute(request, context);
        Box::pin(async move { Answer::Response(response.await) })
    }

    /// Drops every cached result, like AppSync's FlushApiCache. Services
    /// without a cache have nothing to do.
    fn flush_cache(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    /// Resolves a real-time `start` into a subscription. Services without
    /// subscriptions refuse every request.
    fn subscribe(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> BoxFuture<'_, Result<SubscriptionPlan, StartError>> {
        let _ = (request, context);
        Box::pin(std::future::ready(Err(StartError::UnsupportedOperation(
            "subscription".to_owned(),
        ))))
    }

    /// The subscription fields of the schema: after a reload, subscriptions
    /// to other fields are closed.
    fn subscription_fields(&self) -> Vec<String> {
        Vec::new()
    }

    /// The Prometheus text for `GET /metrics`.
    fn metrics(&self) -> BoxFuture<'_, String> {
        Box::pin(std::future::ready(String::new()))
    }
}
