//! AWS_LAMBDA: the authorizer function decides. It receives the token, the
//! operation and the headers, and answers `{isAuthorized, resolverContext,
//! deniedFields, ttlOverride}`; answers are cached per token for
//! `authorizerResultTtlInSeconds` (AppSync's default, 300 s) unless the
//! function overrides it.

use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::{AuthFailure, CredentialRequest, Principal};
use crate::graphql::AuthType;
use crate::lambda::{InvocationType, Invoker};

/// AppSync's default `authorizerResultTtlInSeconds`.
pub const DEFAULT_RESULT_TTL_SECONDS: u64 = 300;

/// Local ids the event carries where AppSync has real ones.
const LOCAL_API_ID: &str = "appsynclocalapiid";

/// An authorizer's answer for a token, and the epoch second it expires.
type CachedAnswer = (i64, Result<Principal, AuthFailure>);

/// The Lambda authorizer of an AWS_LAMBDA mode.
#[derive(Clone)]
pub struct LambdaAuthorizer {
    /// As configured: a name or an ARN.
    pub function: String,
    /// A regular expression the whole token must match before the function
    /// is called.
    pub identity_validation_expression: Option<fancy_regex::Regex>,
    pub result_ttl_seconds: u64,
    /// The function; `None` where only the configuration is read
    /// (`appsync-local token`).
    pub invoker: Option<Arc<dyn Invoker>>,
    /// Answers by token, with the epoch second they expire.
    cache: moka::sync::Cache<String, CachedAnswer>,
}

impl std::fmt::Debug for LambdaAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaAuthorizer")
            .field("function", &self.function)
            .field("result_ttl_seconds", &self.result_ttl_seconds)
            .finish_non_exhaustive()
    }
}

impl LambdaAuthorizer {
    pub fn new(
        function: String,
        identity_validation_expression: Option<fancy_regex::Regex>,
        result_ttl_seconds: u64,
    ) -> Self {
        LambdaAuthorizer {
            function,
            identity_validation_expression,
            result_ttl_seconds,
            invoker: None,
            // AppSync's TTL is at most an hour.
            cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(3600))
                .build(),
        }
    }

    /// Authorizes one request carrying `token`.
    pub async fn authorize(
        &self,
        token: &str,
        request: &CredentialRequest<'_>,
    ) -> Result<Principal, AuthFailure> {
        if let Some(pattern) = &self.identity_validation_expression
            && !pattern
                .find(token)
                .ok()
                .flatten()
                .is_some_and(|m| m.start() == 0 && m.end() == token.len())
        {
            return Err(AuthFailure::not_authorized());
        }
        let now = request.now_epoch_seconds;
        if let Some((expires, answer)) = self.cache.get(token)
            && expires > now
        {
            return answer;
        }
        let Some(invoker) = &self.invoker else {
            return Err(AuthFailure::Unauthorized(format!(
                "the Lambda authorizer `{}` cannot run here",
                self.function
            )));
        };
        let event = event(token, request);
        let answer = match invoker
            .invoke(
                bytes::Bytes::from(event.to_string()),
                InvocationType::RequestResponse,
            )
            .await
        {
            // A failing authorizer refuses the request, as AppSync does.
            Err(error) => {
                tracing::warn!(
                    target: "appsync_local::auth",
                    function = %self.function,
                    "the Lambda authorizer failed: {error}"
                );
                return Err(AuthFailure::not_authorized());
            }
            Ok(bytes) => serde_json::from_slice::<Json>(&bytes).unwrap_or_default(),
        };
        let ttl = answer
            .get("ttlOverride")
            .and_then(Json::as_u64)
            .unwrap_or(self.result_ttl_seconds);
        let result = principal(&answer);
        if ttl > 0 {
            let expires = now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
            self.cache
                .insert(token.to_owned(), (expires, result.clone()));
        }
        result
    }
}

/// The authorizer's event, as AppSync sends it.
fn event(token: &str, request: &CredentialRequest<'_>) -> Json {
    let body: Json = request
        .body
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    let mut headers = Map::new();
    for (name, value) in request.headers {
        if name == axum::http::header::COOKIE {
            continue;
        }
        headers.insert(
            name.as_str().to_owned(),
            Json::String(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        );
    }
    json!({
        "authorizationToken": token,
        "requestContext": {
            "apiId": LOCAL_API_ID,
            "accountId": crate::lambda::ACCOUNT,
            "requestId": uuid::Uuid::new_v4().to_string(),
            "queryString": body.get("query").cloned().unwrap_or_default(),
            "operationName": body.get("operationName").cloned().unwrap_or_default(),
            "variables": body.get("variables").filter(|v| !v.is_null()).cloned().unwrap_or_else(|| json!({})),
        },
        "requestHeaders": headers,
    })
}

/// The caller an authorizer's answer describes, or the refusal.
fn principal(answer: &Json) -> Result<Principal, AuthFailure> {
    if answer.get("isAuthorized").and_then(Json::as_bool) != Some(true) {
        return Err(AuthFailure::not_authorized());
    }
    let resolver_context = answer
        .get("resolverContext")
        .cloned()
        .filter(Json::is_object)
        .unwrap_or_else(|| json!({}));
    let denied_fields = answer
        .get("deniedFields")
        .and_then(Json::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Principal {
        auth_type: AuthType::AwsLambda,
        identity: Arc::new(json!({ "resolverContext": resolver_context })),
        groups: Vec::new(),
        default_provider: false,
        denied_fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_principals_or_refusals() {
        let allowed = principal(&json!({
            "isAuthorized": true,
            "resolverContext": {"userId": "u1"},
            "deniedFields": ["Post.secret", 3],
        }))
        .expect("authorized");
        assert_eq!(allowed.auth_type, AuthType::AwsLambda);
        assert_eq!(
            *allowed.identity,
            json!({"resolverContext": {"userId": "u1"}})
        );
        assert_eq!(allowed.denied_fields, ["Post.secret"]);
        assert!(principal(&json!({"isAuthorized": false})).is_err());
        assert!(principal(&json!({"resolverContext": {}})).is_err());
        assert!(principal(&json!("yes")).is_err());
    }
}
