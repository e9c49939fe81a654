//! Resolver semantics with scripted templates standing in for VTL, so
//! `$util.error`, `appendError`, `unauthorized`, `#return`, template
//! versions, the stash and `$ctx` contents are tested without the engine.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value as Json, json};

use crate::datasource::{NoneDataSource, UnsupportedDataSource};
use crate::execution::Api;
use crate::execution::resolver::{
    BoundDataSource, CodeRef, FunctionPlan, ResolverKindPlan, ResolverPlan,
};
use crate::graphql::{GraphQLRequest, RequestContext};
use crate::loader::Project;
use crate::model::manifest::DataSourceType;
use crate::runtime::{
    CodeError as TemplateError, Context, Evaluation, Outcome, Phase, ResolverCode,
};

type Script = dyn Fn(&mut Context) -> Evaluation + Send + Sync;

/// One scripted step, standing in for a template.
struct Step {
    name: &'static str,
    script: Box<Script>,
}

/// Scripted resolver code; a missing step behaves as the pipeline default.
struct Scripted {
    request: Option<Step>,
    response: Option<Step>,
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scripted")
    }
}

impl Scripted {
    fn step(&self, phase: Phase) -> Option<&Step> {
        match phase {
            Phase::Request => self.request.as_ref(),
            Phase::Response => self.response.as_ref(),
        }
    }
}

impl ResolverCode for Scripted {
    fn name(&self, phase: Phase) -> &str {
        self.step(phase).map_or("", |s| s.name)
    }

    fn evaluate(&self, phase: Phase, ctx: &mut Context) -> Evaluation {
        match (self.step(phase), phase) {
            (Some(step), _) => (step.script)(ctx),
            (None, Phase::Request) => Evaluation::of(Outcome::Value(json!({}))),
            (None, Phase::Response) => Evaluation::of(Outcome::Value(ctx.prev["result"].clone())),
        }
    }
}

fn t(
    name: &'static str,
    script: impl Fn(&mut Context) -> Evaluation + Send + Sync + 'static,
) -> Step {
    Step {
        name,
        script: Box::new(script),
    }
}

fn code(request: Option<Step>, response: Option<Step>) -> CodeRef {
    Arc::new(Scripted { request, response })
}

fn function(name: &str, request: Step, response: Step) -> Arc<FunctionPlan> {
    Arc::new(FunctionPlan {
        name: name.into(),
        data_source: none(),
        code: code(Some(request), Some(response)),
        max_batch_size: None,
    })
}

fn pipeline(
    before: Option<Step>,
    functions: Vec<Arc<FunctionPlan>>,
    after: Option<Step>,
) -> ResolverKindPlan {
    ResolverKindPlan::Pipeline {
        code: code(before, after),
        functions,
    }
}

/// A step whose output is JSON text, as a template's would be.
fn text(s: impl Into<String>) -> Evaluation {
    let s = s.into();
    match serde_json::from_str(&s) {
        Ok(v) => Evaluation::of(Outcome::Value(v)),
        Err(e) => panic!("scripted text is not JSON: {e}: {s}"),
    }
}

fn ret(v: Json) -> Evaluation {
    Evaluation::of(Outcome::EarlyReturn(v))
}

fn raise(e: TemplateError) -> Evaluation {
    Evaluation::of(Outcome::Failed(e))
}

fn none() -> BoundDataSource {
    BoundDataSource {
        name: "none".into(),
        source: Arc::new(NoneDataSource),
    }
}

fn failing() -> BoundDataSource {
    BoundDataSource {
        name: "lambda".into(),
        source: Arc::new(UnsupportedDataSource {
            kind: DataSourceType::AwsLambda,
        }),
    }
}

fn unit(data_source: BoundDataSource, request: Step, response: Step) -> ResolverKindPlan {
    ResolverKindPlan::Unit {
        data_source,
        code: code(Some(request), Some(response)),
    }
}

fn api_with(resolvers: Vec<(&str, &str, ResolverKindPlan)>) -> Api {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/projects/basic");
    let mut api = match Project::load(&dir) {
        Ok(api) => api,
        Err(e) => panic!("{e}"),
    };
    for (type_name, field_name, kind) in resolvers {
        let plan = ResolverPlan::new(type_name.to_owned(), field_name.to_owned(), kind);
        assert!(api.schema.attach(plan), "no field {type_name}.{field_name}");
    }
    api
}

async fn run_with(api: &Api, query: &str, context: RequestContext) -> Json {
    let request = GraphQLRequest {
        query: query.to_owned(),
        ..Default::default()
    };
    let response = api.execute_request(request, context).await;
    serde_json::to_value(&response).unwrap_or_default()
}

async fn run(api: &Api, query: &str) -> Json {
    run_with(api, query, RequestContext::default()).await
}

fn payload(v: Json) -> Evaluation {
    text(json!({"version": "2018-05-29", "payload": v}).to_string())
}

fn result_as_text(ctx: &mut Context) -> Evaluation {
    Evaluation::of(Outcome::Value(ctx.result.clone()))
}

#[tokio::test]
async fn util_error_nulls_the_field_with_type_data_and_info() {
    let api = api_with(vec![(
        "Query",
        "getPost",
        unit(
            none(),
            t("req", |_| payload(json!({}))),
            t("res", |_| {
                let mut e = TemplateError::new("Nope", Some("Custom"));
                e.data = Some(json!({"id": "1", "title": "t", "secret": "s"}));
                e.error_info = Some(json!({"secret": "kept"}));
                raise(e)
            }),
        ),
    )]);
    let res = run(&api, "{ getPost(id: \"1\") { id } }").await;
    assert_eq!(
        res,
        json!({"data": {"getPost": null}, "errors": [{
            "path": ["getPost"], "data": {"id": "1"}, "errorType": "Custom",
            "errorInfo": {"secret": "kept"},
            "locations": [{"line": 1, "column": 3, "sourceName": null}],
            "message": "Nope"
        }]})
    );
}

#[tokio::test]
async fn append_error_keeps_the_data() {
    let api = api_with(vec![(
        "Query",
        "getPost",
        unit(
            none(),
            t("req", |_| payload(json!({"id": "1", "title": "T"}))),
            t("res", |ctx| {
                let mut out = result_as_text(ctx);
                out.appended_errors
                    .push(TemplateError::new("careful", Some("Warning")));
                out
            }),
        ),
    )]);
    let res = run(&api, "{ getPost(id: \"1\") { id title } }").await;
    assert_eq!(res["data"], json!({"getPost": {"id": "1", "title": "T"}}));
    assert_eq!(res["errors"][0]["errorType"], "Warning");
    assert_eq!(res["errors"][0]["message"], "careful");
}

#[tokio::test]
async fn unauthorized_names_field_and_type() {
    let api = api_with(vec![(
        "Query",
        "getPost",
        unit(
            none(),
            t("req", |_| raise(TemplateError::unauthorized())),
            t("res", result_as_text),
        ),
    )]);
    let res = run(&api, "{ getPost(id: \"1\") { id } }").await;
    assert_eq!(res["data"], json!({"getPost": null}));
    assert_eq!(res["errors"][0]["errorType"], "Unauthorized");
    assert_eq!(
        res["errors"][0]["message"],
        "Not Authorized to access getPost on type Query"
    );
}

#[tokio::test]
async fn return_in_request_template_skips_data_source_and_response() {
    let api = api_with(vec![(
        "Query",
        "getPost",
        unit(
            failing(),
            t("req", |_| ret(json!({"id": "r", "title": "Returned"}))),
            t("res", |_| raise(TemplateError::new("must not run", None))),
        ),
    )]);
    let res = run(&api, "{ getPost(id: \"1\") { id title } }").await;
    assert_eq!(
        res,
        json!({"data": {"getPost": {"id": "r", "title": "Returned"}}})
    );
}

#[tokio::test]
async fn null_result_skips_the_response_template_only_in_2017() {
    let res_2017 = api_with(vec![(
        "Query",
        "getPost",
        unit(
            none(),
            t("req", |_| {
                text(r#"{"version":"2017-02-28","payload":null}"#)
            }),
            t("res", |_| raise(TemplateError::new("ran", None))),
        ),
    )]);
    assert_eq!(
        run(&res_2017, "{ getPost(id: \"1\") { id } }").await,
        json!({"data": {"getPost": null}})
    );
    let res_2018 = api_with(vec![(
        "Query",
        "getPost",
        unit(
            none(),
            t("req", |_| payload(Json::Null)),
            t("res", |_| raise(TemplateError::new("ran", None))),
        ),
    )]);
    let res = run(&res_2018, "{ getPost(id: \"1\") { id } }").await;
    assert_eq!(res["errors"][0]["message"], "ran");
}

#[tokio::test]
async fn data_source_errors_reach_ctx_error_in_2018() {
    let api = api_with(vec![(
        "Query",
        "getPost",
        unit(
            failing(),
            t("req", |_| {
                text(r#"{"version":"2018-05-29","operation":"Invoke"}"#)
            }),
            t("res", |ctx| {
                // `#if($ctx.error) $util.error($ctx.error.message, $ctx.error.type) #end`
                let message = ctx.error["message"].as_str().unwrap_or("").to_owned();
                let kind = ctx.error["type"].as_str().map(str::to_owned);
                raise(TemplateError::new(message, kind.as_deref()))
            }),
        ),
    )]);
    let res = run(&api, "{ getPost(id: \"1\") { id } }").await;
    assert_eq!(res["errors"][0]["errorType"], "UnsupportedDataSource");
}

fn push_trail(ctx: &mut Context, step: &str) {
    let trail = ctx
        .stash
        .entry("trail")
        .or_insert_with(|| Json::Array(Vec::new()));
    if let Json::Array(items) = trail {
        items.push(Json::String(step.to_owned()));
    }
}

#[tokio::test]
async fn pipeline_shares_stash_and_passes_prev_result() {
    let first = function(
        "first",
        t("first.req", |ctx| {
            push_trail(ctx, "first");
            payload(json!({"n": 1}))
        }),
        t("first.res", result_as_text),
    );
    let second = function(
        "second",
        t("second.req", |ctx| {
            push_trail(ctx, "second");
            let n = ctx.prev["result"]["n"].as_i64().unwrap_or(-100);
            payload(json!({"n": n + 1}))
        }),
        t("second.res", result_as_text),
    );
    let api = api_with(vec![(
        "Query",
        "pipelinePost",
        pipeline(
            Some(t("before", |ctx| {
                push_trail(ctx, "before");
                text("{}")
            })),
            vec![first, second],
            Some(t("after", |ctx| {
                push_trail(ctx, "after");
                let trail = ctx.stash["trail"].to_string();
                let same = ctx.result == ctx.prev["result"];
                text(
                    json!({"id": trail, "title": format!("{} {same}", ctx.result["n"])})
                        .to_string(),
                )
            })),
        ),
    )]);
    let res = run(&api, "{ pipelinePost { id title } }").await;
    assert_eq!(
        res,
        json!({"data": {"pipelinePost": {
            "id": "[\"before\",\"first\",\"second\",\"after\"]",
            "title": "2 true"
        }}})
    );
}

#[tokio::test]
async fn error_in_a_function_stops_the_pipeline() {
    let first = function(
        "first",
        t("first.req", |_| {
            raise(TemplateError::new("stop", Some("Stop")))
        }),
        t("first.res", result_as_text),
    );
    let api = api_with(vec![(
        "Query",
        "pipelinePost",
        pipeline(
            None,
            vec![first],
            Some(t("after", |_| raise(TemplateError::new("after ran", None)))),
        ),
    )]);
    let res = run(&api, "{ pipelinePost { id } }").await;
    assert_eq!(res["data"], json!({"pipelinePost": null}));
    assert_eq!(res["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(res["errors"][0]["errorType"], "Stop");
}

#[tokio::test]
async fn ctx_is_filled_completely() {
    let seen: Arc<Mutex<Vec<Context>>> = Arc::default();
    let capture = seen.clone();
    let api = api_with(vec![
        (
            "Query",
            "getPost",
            unit(
                none(),
                t("req", |_| payload(json!({"id": "1", "title": "T"}))),
                t("res", result_as_text),
            ),
        ),
        (
            "Post",
            "author",
            unit(
                none(),
                t("req", move |ctx| {
                    if let Ok(mut s) = capture.lock() {
                        s.push(ctx.clone());
                    }
                    payload(json!({"id": "a", "name": ctx.source["title"]}))
                }),
                t("res", result_as_text),
            ),
        ),
    ]);
    let context = RequestContext {
        headers: vec![
            ("x-trace".into(), "1".into()),
            ("x-trace".into(), "2".into()),
            ("cookie".into(), "session=1".into()),
        ],
        ..Default::default()
    };
    let res = run_with(
        &api,
        "{ getPost(id: \"1\") { id writer: author { name ... on Author { id } } } }",
        context,
    )
    .await;
    assert_eq!(
        res,
        json!({"data": {"getPost": {"id": "1", "writer": {"name": "T", "id": "a"}}}})
    );
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let ctx = &seen[0];
    assert_eq!(ctx.source, json!({"id": "1", "title": "T"}));
    assert_eq!(ctx.arguments, json!({}));
    assert_eq!(*ctx.identity, Json::Null);
    assert_eq!(
        ctx.request,
        json!({"headers": {"x-trace": ["1", "2"]}, "domainName": null})
    );
    assert_eq!(
        ctx.info,
        json!({
            "fieldName": "author",
            "parentTypeName": "Post",
            "variables": {},
            "selectionSetList": ["name", "id"],
            "selectionSetGraphQL": "{\n  name\n  ... on Author {\n    id\n  }\n}"
        })
    );
}

#[tokio::test]
async fn arguments_are_coerced_with_defaults() {
    let seen: Arc<Mutex<Vec<Json>>> = Arc::default();
    let capture = seen.clone();
    let api = api_with(vec![(
        "Query",
        "echo",
        unit(
            none(),
            t("req", move |ctx| {
                if let Ok(mut s) = capture.lock() {
                    s.push(ctx.arguments.clone());
                    s.push(ctx.info["variables"].clone());
                }
                payload(json!("ok"))
            }),
            t("res", result_as_text),
        ),
    )]);
    let request = GraphQLRequest {
        query: "query Q($meta: AWSJSON) { echo(input: {title: \"t\", meta: $meta}) }".into(),
        variables: json!({"meta": "{\"a\":[1]}"}).as_object().cloned(),
        ..Default::default()
    };
    let response = api
        .execute_request(request, RequestContext::default())
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    // AWSJSON arrives parsed; omitted arguments with defaults are filled in.
    assert_eq!(
        seen[0],
        json!({"input": {"title": "t", "status": "DRAFT", "meta": {"a": [1]}}, "limit": 10})
    );
    assert_eq!(seen[1], json!({"meta": {"a": [1]}}));
}

#[tokio::test]
async fn error_raised_by_a_2017_response_template_replaces_the_data_source_error() {
    let api = api_with(vec![(
        "Query",
        "getPost",
        unit(
            failing(),
            t("req", |_| {
                text(r#"{"version":"2017-02-28","operation":"Invoke"}"#)
            }),
            t("res", |_| raise(TemplateError::new("mine", Some("Mine")))),
        ),
    )]);
    let res = run(&api, "{ getPost(id: \"1\") { id } }").await;
    assert_eq!(res["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(res["errors"][0]["errorType"], "Mine");
}
