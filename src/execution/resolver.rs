//! Unit and pipeline resolvers: templates, data sources and `$ctx`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::Positioned;
use async_graphql::parser::types::{Field, OperationType};
use serde_json::{Map, Value as Json, json};

use crate::cache::ApiCache;
use crate::datasource::{DataSource, DataSourceError, InvocationInfo};
use crate::execution::batch::{BatchCall, BatchSite, Batcher};
use crate::execution::coerce::coerce_arguments;
use crate::execution::errors::FieldError;
use crate::execution::executor::Execution;
use crate::execution::selection::{selection_set_graphql, selection_set_list};
use crate::metrics::DataSourceCalls;
use crate::model::schema::{FieldDef, ObjectDef, named_type};
use crate::runtime::{Context, Effect, Outcome, Phase, ResolverCode};

/// A resolver's or function's code, compiled at load by its runtime.
pub type CodeRef = Arc<dyn ResolverCode>;

/// A data source bound by name at load.
#[derive(Debug, Clone)]
pub struct BoundDataSource {
    pub name: String,
    pub source: Arc<dyn DataSource>,
}

/// One pipeline function.
#[derive(Debug)]
pub struct FunctionPlan {
    pub name: String,
    pub data_source: BoundDataSource,
    pub code: CodeRef,
    pub max_batch_size: Option<u32>,
}

#[derive(Debug)]
pub enum ResolverKindPlan {
    Unit {
        data_source: BoundDataSource,
        code: CodeRef,
    },
    /// The code's request and response steps are the before and after
    /// steps around the functions.
    Pipeline {
        code: CodeRef,
        functions: Vec<Arc<FunctionPlan>>,
    },
}

/// A resolver attached to a field, built once at load.
#[derive(Debug)]
pub struct ResolverPlan {
    pub type_name: String,
    pub field_name: String,
    pub kind: ResolverKindPlan,
    /// One series per data source the resolver (or its functions) calls,
    /// created here so a call records without allocating.
    pub calls: Vec<Arc<DataSourceCalls>>,
    /// A unit resolver's `maxBatchSize`.
    pub max_batch_size: Option<u32>,
}

/// The batch size of a `BatchInvoke` whose resolver sets none: AppSync's
/// fixed size before `maxBatchSize` existed.
const DEFAULT_BATCH_SIZE: usize = 5;

fn batch_size(configured: Option<u32>) -> usize {
    match configured {
        None => DEFAULT_BATCH_SIZE,
        Some(n) => (n as usize).max(1),
    }
}

impl ResolverPlan {
    pub fn new(type_name: String, field_name: String, kind: ResolverKindPlan) -> Self {
        let mut names: Vec<&str> = match &kind {
            ResolverKindPlan::Unit { data_source, .. } => vec![data_source.name.as_str()],
            ResolverKindPlan::Pipeline { functions, .. } => functions
                .iter()
                .map(|f| f.data_source.name.as_str())
                .collect(),
        };
        names.sort_unstable();
        names.dedup();
        let field = format!("{type_name}.{field_name}");
        let calls = names
            .into_iter()
            .map(|ds| Arc::new(DataSourceCalls::new(field.clone(), ds.to_owned())))
            .collect();
        ResolverPlan {
            type_name,
            field_name,
            kind,
            calls,
            max_batch_size: None,
        }
    }

    pub fn with_max_batch_size(mut self, max_batch_size: Option<u32>) -> Self {
        self.max_batch_size = max_batch_size;
        self
    }
}

/// The template versions AppSync knows; they differ in error and null handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V2017,
    V2018,
}

fn version_of(request: &Json) -> Version {
    // A missing or unknown version is treated as 2018-05-29, the only
    // version newer features accept; AppSync's own message for it is unknown.
    match request.get("version").and_then(Json::as_str) {
        Some("2017-02-28") => Version::V2017,
        _ => Version::V2018,
    }
}

/// What a step gave: a value, an early return, or an error (recorded).
enum Step {
    Value(Json),
    Return(Json),
    /// Skip the remaining pipeline functions and run the after step.
    SkipToEnd(Json),
    Failed,
}

struct Run<'r> {
    ctx: Context,
    errors: Vec<FieldError>,
    field_name: &'r str,
    parent_type: &'r str,
    calls: &'r [Arc<DataSourceCalls>],
    effects: &'r Mutex<Vec<Effect>>,
    batcher: &'r Batcher,
}

impl Run<'_> {
    fn step(&mut self, code: &CodeRef, phase: Phase) -> Step {
        let out = code.evaluate(phase, &mut self.ctx);
        // Field-level logs, like AppSync's: log lines at info, the step's
        // outcome at debug (target `appsync_local::resolver`).
        for line in &out.logs {
            tracing::info!(
                target: "appsync_local::resolver",
                field = %format_args!("{}.{}", self.parent_type, self.field_name),
                code = code.name(phase),
                "{line}"
            );
        }
        tracing::debug!(
            target: "appsync_local::resolver",
            field = %format_args!("{}.{}", self.parent_type, self.field_name),
            code = code.name(phase),
            "evaluated: {:?}",
            out.outcome
        );
        if !out.effects.is_empty()
            && let Ok(mut effects) = self.effects.lock()
        {
            effects.extend(out.effects);
        }
        for e in out.appended_errors {
            self.errors
                .push(FieldError::from_code(e, self.field_name, self.parent_type));
        }
        match out.outcome {
            Outcome::Failed(e) => {
                self.errors
                    .push(FieldError::from_code(e, self.field_name, self.parent_type));
                Step::Failed
            }
            Outcome::EarlyReturn(v) => Step::Return(v),
            Outcome::SkipToEnd(v) => Step::SkipToEnd(v),
            Outcome::Value(v) => Step::Value(v),
        }
    }

    /// Calls the data source; a request it can merge with its siblings'
    /// goes through the request's batcher, keyed by `site`.
    async fn invoke(
        &self,
        ds: &BoundDataSource,
        request: Json,
        site: BatchSite,
        max_batch_size: Option<u32>,
    ) -> Result<Json, DataSourceError> {
        let calls = self.calls.iter().find(|c| c.data_source == ds.name);
        let info = InvocationInfo {
            parent_type_name: self.parent_type,
            field_name: self.field_name,
        };
        if ds.source.batches(&request) {
            let call = BatchCall {
                site,
                max_batch_size: batch_size(max_batch_size),
                data_source: ds,
                info,
                calls: calls.map(|c| &**c),
            };
            return self.batcher.submit(call, request).await;
        }
        if let Some(calls) = calls {
            calls.started();
        }
        let started = Instant::now();
        let result = ds.source.invoke(request, info).await;
        if let Some(calls) = calls {
            calls.finished(started.elapsed());
        }
        result
    }

    fn set_error(&mut self, err: Option<&DataSourceError>) {
        self.ctx.error = match err {
            Some(e) => json!({"message": e.message, "type": e.error_type}),
            None => Json::Null,
        };
        if let Some(data) = err.and_then(|e| e.data.as_ref()) {
            self.ctx.result = data.clone();
        }
    }

    fn finish(self, value: Json) -> (Json, Vec<FieldError>) {
        (value, self.errors)
    }
}

impl ResolverPlan {
    /// Resolves one field; returns its value and the errors to report. A
    /// fatal error leaves the value null; appended errors keep it.
    pub(crate) async fn run(
        &self,
        exec: &Execution<'_>,
        obj: &ObjectDef,
        def: &FieldDef,
        fields: &[&Positioned<Field>],
        parent: &Json,
    ) -> (Json, Vec<FieldError>) {
        let field = &fields[0].node;
        let model = &exec.api.schema.model;
        let arguments = match coerce_arguments(model, &def.args, &field.arguments, &exec.variables)
        {
            Ok(args) => Json::Object(args),
            Err((arg, err)) => {
                return (
                    Json::Null,
                    vec![FieldError::new(err.argument_message(&arg), None)],
                );
            }
        };
        let return_type = named_type(&def.ty);
        let sets: Vec<_> = fields.iter().map(|f| &f.node.selection_set.node).collect();
        let info = json!({
            "fieldName": def.name,
            "parentTypeName": obj.name,
            "variables": Json::Object(exec.variables.clone()),
            "selectionSetList": selection_set_list(model, exec.doc, &exec.variables, return_type, &sets),
            "selectionSetGraphQL": selection_set_graphql(fields),
        });
        let ctx = Context {
            arguments,
            source: parent.clone(),
            result: Json::Null,
            identity: exec.context.principal.identity.clone(),
            stash: Map::new(),
            prev: Json::Null,
            request: exec.request_json.clone(),
            info,
            error: Json::Null,
            auth_type: Some(exec.context.principal.auth_type),
            env: exec.api.env.clone(),
        };
        let run = Run {
            ctx,
            errors: Vec::new(),
            field_name: &def.name,
            parent_type: &obj.name,
            calls: &self.calls,
            effects: &exec.effects,
            batcher: &exec.batcher,
        };
        // Only queries are cached: a mutation must always reach its data
        // source, and subscriptions never run resolvers over HTTP.
        if exec.operation.ty == OperationType::Query
            && let Some(cache) = &exec.api.cache
            && let Some(rule) = cache.resolver_rule(&obj.name, &def.name)
        {
            let key = ApiCache::resolver_key(
                &obj.name,
                &def.name,
                rule,
                &run.ctx.arguments,
                &run.ctx.source,
                &run.ctx.identity,
            );
            return cache.resolve(key, rule.ttl, self.execute(run)).await;
        }
        self.execute(run).await
    }

    async fn execute(&self, mut run: Run<'_>) -> (Json, Vec<FieldError>) {
        match &self.kind {
            ResolverKindPlan::Unit { data_source, code } => {
                let site = BatchSite(std::ptr::from_ref(self) as usize);
                run_unit(run, data_source, code, site, self.max_batch_size).await
            }
            ResolverKindPlan::Pipeline { code, functions } => {
                let (mut prev, mut skip) = match run.step(code, Phase::Request) {
                    Step::Value(v) => (v, false),
                    Step::Return(v) => return run.finish(v),
                    Step::SkipToEnd(v) => (v, true),
                    Step::Failed => return run.finish(Json::Null),
                };
                for function in functions {
                    if skip {
                        break;
                    }
                    run.ctx.prev = json!({ "result": prev });
                    run.ctx.result = Json::Null;
                    run.set_error(None);
                    let request = match run.step(&function.code, Phase::Request) {
                        Step::Value(v) => with_version(&function.code, v),
                        // An early return in a function skips its data
                        // source and response step; the pipeline moves on.
                        Step::Return(v) => {
                            prev = v;
                            continue;
                        }
                        Step::SkipToEnd(v) => {
                            prev = v;
                            skip = true;
                            continue;
                        }
                        Step::Failed => return run.finish(Json::Null),
                    };
                    // Functions support only 2018-05-29: the response
                    // step always runs and sees `ctx.error`.
                    let site = BatchSite(Arc::as_ptr(function) as usize);
                    let result = run
                        .invoke(
                            &function.data_source,
                            request,
                            site,
                            function.max_batch_size,
                        )
                        .await;
                    match result {
                        Ok(result) => run.ctx.result = result,
                        Err(e) => run.set_error(Some(&e)),
                    }
                    prev = match run.step(&function.code, Phase::Response) {
                        Step::Value(v) | Step::Return(v) | Step::SkipToEnd(v) => v,
                        Step::Failed => return run.finish(Json::Null),
                    };
                }
                run.ctx.prev = json!({ "result": prev.clone() });
                run.set_error(None);
                run.ctx.result = prev;
                match run.step(code, Phase::Response) {
                    Step::Value(v) | Step::Return(v) | Step::SkipToEnd(v) => run.finish(v),
                    Step::Failed => run.finish(Json::Null),
                }
            }
        }
    }
}

async fn run_unit(
    mut run: Run<'_>,
    data_source: &BoundDataSource,
    code: &CodeRef,
    site: BatchSite,
    max_batch_size: Option<u32>,
) -> (Json, Vec<FieldError>) {
    let rendered = match run.step(code, Phase::Request) {
        Step::Value(v) => with_version(code, v),
        // `#return` in a request template skips the data source and the
        // response template.
        Step::Return(v) | Step::SkipToEnd(v) => return run.finish(v),
        Step::Failed => return run.finish(Json::Null),
    };
    let version = version_of(&rendered);
    let result = run
        .invoke(data_source, rendered, site, max_batch_size)
        .await;
    match (version, result) {
        (Version::V2017, Err(e)) => {
            // 2017-02-28: the response template runs and its output becomes
            // the error's `data`; the field is null.
            run.set_error(Some(&e));
            match run.step(code, Phase::Response) {
                Step::Value(data) | Step::Return(data) | Step::SkipToEnd(data) => {
                    let mut err = FieldError::new(e.message, Some(&e.error_type));
                    err.data = Some(data).filter(|d| !d.is_null());
                    run.errors.push(err);
                }
                // The template raised its own error, which replaces the
                // data source's.
                Step::Failed => {}
            }
            run.finish(Json::Null)
        }
        // 2017-02-28: a null result skips the response template.
        (Version::V2017, Ok(Json::Null)) => run.finish(Json::Null),
        (_, result) => {
            match result {
                Ok(v) => run.ctx.result = v,
                Err(e) => run.set_error(Some(&e)),
            }
            match run.step(code, Phase::Response) {
                Step::Value(v) | Step::Return(v) | Step::SkipToEnd(v) => run.finish(v),
                Step::Failed => run.finish(Json::Null),
            }
        }
    }
}

/// A data-source request as the data sources read it: APPSYNC_JS requests
/// carry no `version` and mean 2018-05-29.
fn with_version(code: &CodeRef, mut request: Json) -> Json {
    if !code.requests_carry_version()
        && let Json::Object(fields) = &mut request
        && !fields.contains_key("version")
    {
        fields.insert("version".to_owned(), Json::String("2018-05-29".to_owned()));
    }
    request
}
