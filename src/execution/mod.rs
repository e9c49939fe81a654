//! GraphQL execution over a loaded project: the [`Api`] implements
//! [`GraphQLService`] for the HTTP layer.
//!
//! Architecture invariant: only `engine` touches async-graphql's request
//! pipeline, and only `errors` shapes GraphQL errors.

pub(crate) mod batch;
pub(crate) mod coerce;
pub(crate) mod engine;
pub(crate) mod errors;
pub(crate) mod executor;
pub(crate) mod guards;
pub(crate) mod lexer;
pub(crate) mod resolver;
pub mod schema;
#[cfg(test)]
mod scripted_tests;
pub(crate) mod selection;
pub(crate) mod subscribe;
#[cfg(test)]
mod validation_fixtures;

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::parser::types::OperationType;
use serde_json::{Map, Value as Json};

use crate::cache;
use crate::cache::ApiCache;
use crate::execution::coerce::{CoerceError, coerce_json, const_to_json};
use crate::execution::engine::{Engine, find_operation, introspection_keys};
use crate::execution::executor::Execution;
use crate::execution::guards::{GuardViolation, Guards};
use crate::graphql::{
    Answer, AuthConfig, BoxFuture, GraphQLRequest, GraphQLResponse, GraphQLService, RequestContext,
};
use crate::metrics::{self, Limit, Metrics, OperationKind};
use crate::model::manifest::Manifest;
use crate::stores::Stores;

use crate::vtl::runtime::Effect;
pub use schema::ExecutableSchema;

/// AppSync's per-request limits, and our gateway guards.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// 0 means unlimited.
    pub query_depth: usize,
    pub resolver_count: usize,
    pub guards: Guards,
}

/// A loaded, ready-to-serve API. Everything is parsed and built once.
#[derive(Debug)]
pub struct Api {
    pub name: String,
    pub auth: AuthConfig,
    pub schema: ExecutableSchema,
    pub engine: Engine,
    pub limits: Limits,
    pub introspection: bool,
    /// `environment`: the API's environment variables, `ctx.env`.
    pub env: Arc<Json>,
    /// The manifest as loaded, for the stores' sections (`tables`, `indexes`).
    pub manifest: Manifest,
    /// The tables and indexes the data sources run on.
    pub stores: Arc<Stores>,
    /// Local Lambda functions, for their `/metrics` series; their workers
    /// stop when the last request of this load lets go of it.
    pub functions: Arc<crate::lambda::Functions>,
    /// The server-side cache, when the manifest enables one.
    pub cache: Option<ApiCache>,
    /// Request and limit series for `/metrics`; the per-resolver series
    /// live on the resolver plans.
    pub metrics: Metrics,
}

pub(crate) fn request_json(context: &RequestContext) -> Json {
    let mut headers = Map::new();
    for (name, value) in &context.headers {
        if name == "cookie" {
            continue;
        }
        match headers.get_mut(name) {
            None => {
                headers.insert(name.clone(), Json::String(value.clone()));
            }
            Some(Json::Array(values)) => values.push(Json::String(value.clone())),
            Some(existing) => {
                let first = existing.take();
                *existing = Json::Array(vec![first, Json::String(value.clone())]);
            }
        }
    }
    let mut request = Map::new();
    request.insert("headers".into(), Json::Object(headers));
    // Null unless a custom domain is used, which a local server never has.
    request.insert("domainName".into(), Json::Null);
    Json::Object(request)
}

fn request_failure(errors: Vec<Json>) -> Answer {
    Answer::Response(GraphQLResponse {
        data: None,
        errors,
        ..GraphQLResponse::default()
    })
}

impl Api {
    /// How many fields have a resolver attached.
    pub fn resolver_count(&self) -> usize {
        self.schema.resolver_count()
    }

    pub async fn execute_request(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> GraphQLResponse {
        self.answer_request(request, context).await.into_response()
    }

    /// Answers one request, straight from the operation cache's memo when
    /// the same request (as received) was answered from a cached entry
    /// before: no parsing, validation or key normalization on that path.
    pub async fn answer_request(&self, request: GraphQLRequest, context: RequestContext) -> Answer {
        let started = Instant::now();
        // Mutations are never cached, so a text that may hold one skips the
        // memo.
        let may_be_cached = !lexer::may_hold_mutation(&request.query);
        let memo = match self
            .cache
            .as_ref()
            .filter(|c| c.caches_operations() && may_be_cached)
        {
            Some(cache) => {
                let memo = ApiCache::memo_key(
                    &request.query,
                    request.operation_name.as_deref(),
                    request.variables.as_ref(),
                    &context.principal.identity,
                    &context.headers,
                );
                if let Some(body) = cache.lookup_memo(&memo).await {
                    self.metrics
                        .record_request(OperationKind::Query, started.elapsed());
                    return Answer::Serialized(body);
                }
                Some(memo)
            }
            None => None,
        };
        let mut kind = OperationKind::Unknown;
        // The full pipeline's future is large; boxing it apart keeps this
        // one small, so starting a fast-path answer copies few bytes.
        let answer = Box::pin(self.respond(request, context, memo, &mut kind)).await;
        self.metrics.record_request(kind, started.elapsed());
        answer
    }

    fn reject(&self, violation: GuardViolation, positions: &[async_graphql::Pos]) -> Answer {
        self.metrics.record_rejection(violation.limit());
        request_failure(vec![errors::guard_error(&violation, positions)])
    }

    /// Answers one request; `kind` is set once the operation is known.
    /// `memo` is the request's memo key when operations are cached.
    async fn respond(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
        memo: Option<String>,
        kind: &mut OperationKind,
    ) -> Answer {
        if let Err(violation) = self.limits.guards.check_text(&request.query) {
            return self.reject(violation, &[]);
        }
        let validated = match self.engine.validate(&request).await {
            Ok(v) => v,
            Err(invalid) => {
                // Variable problems are reported in AppSync's words, ahead of
                // async-graphql's messages for the arguments they feed.
                if let Some(doc) = &invalid.doc
                    && let Some((_, op)) = find_operation(doc, request.operation_name.as_deref())
                    && let Err(errors) = self.coerce_variables(op, request.variables.as_ref())
                {
                    return request_failure(errors);
                }
                return request_failure(invalid.errors);
            }
        };
        let Some((doc, op)) = find_operation(&validated.doc, request.operation_name.as_deref())
        else {
            return request_failure(vec![errors::request_error("Unknown operation", &[])]);
        };
        *kind = op.ty.into();
        if op.ty == OperationType::Subscription {
            // Subscriptions need the real-time (WebSocket) endpoint.
            return request_failure(vec![errors::request_error(
                "Subscriptions are not supported over HTTP; use the real-time endpoint.",
                &[op.selection_set.pos],
            )]);
        }
        if let Err(violation) = self.limits.guards.check_operation(doc, op) {
            return self.reject(violation, &[op.selection_set.pos]);
        }
        let intro_keys = introspection_keys(doc, op);
        if !intro_keys.is_empty() && !self.introspection {
            self.metrics.record_rejection(Limit::Introspection);
            let root = match op.ty {
                OperationType::Mutation => {
                    self.schema.model.mutation.as_deref().unwrap_or("Mutation")
                }
                _ => self.schema.model.query.as_str(),
            };
            let name = intro_keys.first().map(String::as_str).unwrap_or("__schema");
            return request_failure(vec![errors::request_error(
                format!(
                    "Validation error of type FieldUndefined: Field '{name}' in type '{root}' is undefined @ '{name}'"
                ),
                &[op.selection_set.pos],
            )]);
        }
        let variables = match self.coerce_variables(op, request.variables.as_ref()) {
            Ok(v) => v,
            Err(errors) => return request_failure(errors),
        };
        let introspection = validated.introspection;
        if op.ty == OperationType::Query
            && let Some(cache) = self.cache.as_ref().filter(|c| c.caches_operations())
        {
            let key = ApiCache::operation_key(
                doc,
                op,
                request.operation_name.as_deref(),
                &variables,
                &context.principal.identity,
                &context.headers,
            );
            // Only a request with a memo needs the key again, to remember it.
            let memo = memo.map(|memo| (memo, Arc::<str>::from(key.as_str())));
            let run = async {
                let response = self
                    .run_operation(doc, op, variables, &context, &intro_keys, introspection)
                    .await;
                // Only complete, error-free responses are kept.
                match (&response.data, response.errors.is_empty()) {
                    (Some(data), true) => Ok(data.clone()),
                    _ => Err(Arc::new(response)),
                }
            };
            return match cache.resolve_operation(key, run).await {
                Ok(answer) => {
                    if let Some((memo, key)) = memo.filter(|_| answer.stored) {
                        cache.remember(memo, key).await;
                    }
                    Answer::Serialized(answer.body)
                }
                Err(response) => Answer::Response(Arc::unwrap_or_clone(response)),
            };
        }
        Answer::Response(
            self.run_operation(doc, op, variables, &context, &intro_keys, introspection)
                .await,
        )
    }

    async fn run_operation(
        &self,
        doc: &async_graphql::parser::types::ExecutableDocument,
        op: &async_graphql::parser::types::OperationDefinition,
        variables: Map<String, Json>,
        context: &RequestContext,
        intro_keys: &[String],
        introspection: Map<String, Json>,
    ) -> GraphQLResponse {
        let exec = Execution {
            api: self,
            doc,
            operation: op,
            variables,
            context,
            request_json: request_json(context),
            errors: Mutex::new(Vec::new()),
            resolver_count: AtomicUsize::new(0),
            effects: Mutex::new(Vec::new()),
            batcher: Default::default(),
        };
        let skip: Vec<&str> = intro_keys.iter().map(String::as_str).collect();
        let mut data = exec.run(&skip).await;
        if let Json::Object(map) = &mut data {
            for (k, v) in introspection {
                map.insert(k, v);
            }
        }
        let mut extensions = Map::new();
        let effects = std::mem::take(
            &mut *exec
                .effects
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut publications = Vec::new();
        // Only mutations publish, and AppSync honours evictFromApiCache only
        // in mutations.
        if op.ty == OperationType::Mutation {
            match exec.publications(op, &data, &effects) {
                Ok(found) => publications = found,
                Err(error) => exec.push_error(error),
            }
            let mut deleted = None;
            for effect in effects {
                if let Effect::EvictFromApiCache {
                    type_name,
                    field_name,
                    keys,
                } = effect
                {
                    let n = match &self.cache {
                        Some(cache) => cache.evict(&type_name, &field_name, &keys).await,
                        None => 0,
                    };
                    *deleted.get_or_insert(0) += n;
                }
            }
            if let Some(n) = deleted {
                extensions.insert("apiCacheEntriesDeleted".into(), Json::from(n));
            }
        }
        GraphQLResponse {
            data: Some(data),
            errors: exec.errors.into_inner().unwrap_or_default(),
            extensions,
            publications,
        }
    }

    /// The cache's counters, when the API has a cache.
    pub async fn cache_stats(&self) -> Option<crate::cache::CacheStats> {
        match &self.cache {
            Some(cache) => Some(cache.stats().await),
            None => None,
        }
    }

    fn coerce_variables(
        &self,
        op: &async_graphql::parser::types::OperationDefinition,
        given: Option<&Map<String, Json>>,
    ) -> Result<Map<String, Json>, Vec<Json>> {
        let mut out = Map::new();
        let mut problems = Vec::new();
        for def in &op.variable_definitions {
            let name = def.node.name.node.as_str();
            let ty = &def.node.var_type.node;
            let value = match given.and_then(|g| g.get(name)) {
                Some(v) => Some(v.clone()),
                None => def
                    .node
                    .default_value
                    .as_ref()
                    .map(|d| const_to_json(&d.node)),
            };
            let Some(value) = value else {
                if !ty.nullable {
                    problems.push(errors::request_error(
                        format!("Variable '{name}' has coerced Null value for NonNull type '{ty}'"),
                        &[def.pos],
                    ));
                }
                continue;
            };
            match coerce_json(&self.schema.model, ty, &value) {
                Ok(v) => {
                    out.insert(name.to_owned(), v);
                }
                Err(CoerceError::NullForNonNull { ty: inner }) => {
                    problems.push(errors::request_error(
                        format!(
                            "Variable '{name}' has coerced Null value for NonNull type '{inner}'"
                        ),
                        &[def.pos],
                    ))
                }
                Err(CoerceError::Invalid { detail, .. }) => {
                    // AppSync joins its scalar messages with ". " and
                    // graphql-java's own with ": ".
                    let sep = if detail.starts_with("Unable to parse") {
                        ". "
                    } else {
                        ": "
                    };
                    problems.push(errors::request_error(
                        format!("Variable '{name}' has an invalid value{sep}{detail}"),
                        &[def.pos],
                    ))
                }
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

impl GraphQLService for Api {
    fn auth(&self) -> &AuthConfig {
        &self.auth
    }

    fn execute(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> BoxFuture<'_, GraphQLResponse> {
        Box::pin(self.execute_request(request, context))
    }

    fn answer(&self, request: GraphQLRequest, context: RequestContext) -> BoxFuture<'_, Answer> {
        Box::pin(self.answer_request(request, context))
    }

    fn subscribe(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> BoxFuture<'_, Result<crate::graphql::SubscriptionPlan, crate::graphql::StartError>> {
        Box::pin(Api::subscribe(self, request, context))
    }

    fn subscription_fields(&self) -> Vec<String> {
        Api::subscription_fields(self)
    }

    fn flush_cache(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {
            if let Some(cache) = &self.cache {
                cache.flush().await;
            }
        })
    }

    fn metrics(&self) -> BoxFuture<'_, String> {
        Box::pin(async {
            let mut out = String::new();
            self.metrics.write(&mut out);
            let mut calls: Vec<&metrics::DataSourceCalls> = self
                .schema
                .resolvers()
                .flat_map(|plan| plan.calls.iter().map(|c| &**c))
                .collect();
            metrics::write_resolvers(&mut out, &mut calls);
            self.functions.write_metrics(&mut out);
            cache::metrics::render(self.cache_stats().await, &mut out);
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn request_headers_repeat_as_arrays_and_hide_cookies() {
        let context = RequestContext {
            headers: vec![
                ("x-custom".into(), "a".into()),
                ("cookie".into(), "secret=1".into()),
                ("x-custom".into(), "b".into()),
                ("x-custom".into(), "c".into()),
                ("accept".into(), "*/*".into()),
            ],
            ..Default::default()
        };
        assert_eq!(
            request_json(&context),
            json!({"headers": {"x-custom": ["a", "b", "c"], "accept": "*/*"}, "domainName": null})
        );
    }
}
