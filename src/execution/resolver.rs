//! Unit and pipeline resolvers: templates, data sources and `$ctx`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::Positioned;
use async_graphql::parser::types::{Field, OperationType};
use serde_json::{Map, Value as Json, json};

use crate::cache::ApiCache;
use crate::datasource::{DataSource, DataSourceError, InvocationInfo};
use crate::execution::coerce::{CoerceError, coerce_arguments};
use crate::execution::errors::FieldError;
use crate::execution::executor::Execution;
use crate::execution::selection::{selection_set_graphql, selection_set_list};
use crate::metrics::DataSourceCalls;
use crate::project::schema::{FieldDef, ObjectDef, named_type};
use crate::vtl::{Context, Effect, RenderOutput, Rendered, Template, parse_json_output};

/// AppSync's limit on an evaluated template.
const MAX_EVALUATED_TEMPLATE_BYTES: usize = 5 * 1024 * 1024;

/// A mapping template as the resolver sees it: rendered against `$ctx`.
/// Implemented by [`Template`]; tests substitute scripted templates.
pub trait MappingTemplate: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &str;
    fn render(&self, ctx: &mut Context) -> RenderOutput;
}

impl MappingTemplate for Template {
    fn name(&self) -> &str {
        Template::name(self)
    }

    fn render(&self, ctx: &mut Context) -> RenderOutput {
        Template::render(self, ctx)
    }
}

/// A parsed template shared by every request.
pub type TemplateRef = Arc<dyn MappingTemplate>;

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
    pub request: TemplateRef,
    pub response: TemplateRef,
}

#[derive(Debug)]
pub enum ResolverKindPlan {
    Unit {
        data_source: BoundDataSource,
        request: TemplateRef,
        response: TemplateRef,
    },
    /// `before`/`after` are `None` when the project gives no template: the
    /// before step then passes `{}` on and the after step returns
    /// `$ctx.prev.result`, as the plugin's default pipeline templates do.
    Pipeline {
        before: Option<TemplateRef>,
        functions: Vec<Arc<FunctionPlan>>,
        after: Option<TemplateRef>,
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
        }
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

/// What a render gave: a value to parse, an early `#return`, or an error.
enum Step {
    Value(Json),
    Return(Json),
    Failed,
}

struct Run<'r> {
    ctx: Context,
    errors: Vec<FieldError>,
    field_name: &'r str,
    parent_type: &'r str,
    calls: &'r [Arc<DataSourceCalls>],
    effects: &'r Mutex<Vec<Effect>>,
}

impl Run<'_> {
    fn render(&mut self, template: &TemplateRef) -> Step {
        let out = template.render(&mut self.ctx);
        // Field-level logs, like AppSync's: `$util.log.*` lines at info, the
        // evaluated template at debug (target `appsync_local::resolver`).
        for line in &out.logs {
            tracing::info!(
                target: "appsync_local::resolver",
                field = %format_args!("{}.{}", self.parent_type, self.field_name),
                template = template.name(),
                "{line}"
            );
        }
        if tracing::enabled!(target: "appsync_local::resolver", tracing::Level::DEBUG) {
            let evaluated = match &out.result {
                Ok(Rendered::Text(t)) => t.clone(),
                Ok(Rendered::Return(v)) => format!("#return {v}"),
                Err(e) => format!("error: {e:?}"),
            };
            tracing::debug!(
                target: "appsync_local::resolver",
                field = %format_args!("{}.{}", self.parent_type, self.field_name),
                template = template.name(),
                "evaluated template:\n{evaluated}"
            );
        }
        if !out.effects.is_empty()
            && let Ok(mut effects) = self.effects.lock()
        {
            effects.extend(out.effects);
        }
        for e in out.appended_errors {
            self.errors.push(FieldError::from_template(
                e,
                self.field_name,
                self.parent_type,
            ));
        }
        match out.result {
            Err(e) => {
                self.errors.push(FieldError::from_template(
                    e,
                    self.field_name,
                    self.parent_type,
                ));
                Step::Failed
            }
            Ok(Rendered::Return(v)) => Step::Return(v),
            Ok(Rendered::Text(text)) => {
                if text.len() > MAX_EVALUATED_TEMPLATE_BYTES {
                    self.errors
                        .push(FieldError::mapping_template("Transformation too large"));
                    return Step::Failed;
                }
                // An empty template output is a null result.
                if text.trim().is_empty() {
                    return Step::Value(Json::Null);
                }
                match parse_json_output(template.name(), &text) {
                    Ok(v) => Step::Value(v),
                    Err(e) => {
                        self.errors.push(FieldError::from_template(
                            e,
                            self.field_name,
                            self.parent_type,
                        ));
                        Step::Failed
                    }
                }
            }
        }
    }

    async fn invoke(&self, ds: &BoundDataSource, request: Json) -> Result<Json, DataSourceError> {
        let calls = self.calls.iter().find(|c| c.data_source == ds.name);
        if let Some(calls) = calls {
            calls.started();
        }
        let started = Instant::now();
        let result = ds
            .source
            .invoke(
                request,
                InvocationInfo {
                    parent_type_name: self.parent_type,
                    field_name: self.field_name,
                },
            )
            .await;
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
        let model = &exec.api.model;
        let arguments = match coerce_arguments(model, &def.args, &field.arguments, &exec.variables)
        {
            Ok(args) => Json::Object(args),
            Err((arg, err)) => {
                let message = match err {
                    CoerceError::NullForNonNull { ty } => format!(
                        "Validation error of type WrongType: argument '{arg}' has null value for NonNull type '{ty}'"
                    ),
                    CoerceError::Invalid { detail, .. } => {
                        format!("Validation error of type WrongType: argument '{arg}' {detail}")
                    }
                };
                return (Json::Null, vec![FieldError::new(message, None)]);
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
            identity: exec.context.identity.clone(),
            stash: Map::new(),
            prev: Json::Null,
            request: exec.request_json.clone(),
            info,
            error: Json::Null,
        };
        let run = Run {
            ctx,
            errors: Vec::new(),
            field_name: &def.name,
            parent_type: &obj.name,
            calls: &self.calls,
            effects: &exec.effects,
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
            ResolverKindPlan::Unit {
                data_source,
                request,
                response,
            } => run_unit(run, data_source, request, response).await,
            ResolverKindPlan::Pipeline {
                before,
                functions,
                after,
            } => {
                let mut prev = match before {
                    Some(t) => match run.render(t) {
                        Step::Value(v) => v,
                        Step::Return(v) => return run.finish(v),
                        Step::Failed => return run.finish(Json::Null),
                    },
                    None => json!({}),
                };
                for function in functions {
                    run.ctx.prev = json!({ "result": prev });
                    run.ctx.result = Json::Null;
                    run.set_error(None);
                    let request = match run.render(&function.request) {
                        Step::Value(v) => v,
                        // `#return` in a function skips its data source and
                        // response template; the pipeline moves on.
                        Step::Return(v) => {
                            prev = v;
                            continue;
                        }
                        Step::Failed => return run.finish(Json::Null),
                    };
                    // Functions support only 2018-05-29: the response
                    // template always runs and sees `$ctx.error`.
                    match run.invoke(&function.data_source, request).await {
                        Ok(result) => run.ctx.result = result,
                        Err(e) => run.set_error(Some(&e)),
                    }
                    prev = match run.render(&function.response) {
                        Step::Value(v) | Step::Return(v) => v,
                        Step::Failed => return run.finish(Json::Null),
                    };
                }
                run.ctx.prev = json!({ "result": prev.clone() });
                run.set_error(None);
                match after {
                    Some(t) => {
                        run.ctx.result = prev;
                        match run.render(t) {
                            Step::Value(v) | Step::Return(v) => run.finish(v),
                            Step::Failed => run.finish(Json::Null),
                        }
                    }
                    None => run.finish(prev),
                }
            }
        }
    }
}

async fn run_unit(
    mut run: Run<'_>,
    data_source: &BoundDataSource,
    request: &TemplateRef,
    response: &TemplateRef,
) -> (Json, Vec<FieldError>) {
    let rendered = match run.render(request) {
        Step::Value(v) => v,
        // `#return` in a request template skips the data source and the
        // response template.
        Step::Return(v) => return run.finish(v),
        Step::Failed => return run.finish(Json::Null),
    };
    let version = version_of(&rendered);
    let result = run.invoke(data_source, rendered).await;
    match (version, result) {
        (Version::V2017, Err(e)) => {
            // 2017-02-28: the response template runs and its output becomes
            // the error's `data`; the field is null.
            run.set_error(Some(&e));
            match run.render(response) {
                Step::Value(data) | Step::Return(data) => {
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
            match run.render(response) {
                Step::Value(v) | Step::Return(v) => run.finish(v),
                Step::Failed => run.finish(Json::Null),
            }
        }
    }
}
