//! Executes queries against fixture projects through `GraphQLService::execute`
//! (the HTTP layer is tested separately, and tests/server_project.rs runs real
//! VTL resolvers through the HTTP server).
//!
//! Most fixture templates here are already the JSON they stand for, so these
//! cases test the executor rather than the template engine.

use std::path::PathBuf;
use std::time::Duration;

use appsync_local::graphql::{GraphQLRequest, GraphQLService, RequestContext};
use appsync_local::loader::Project;
use serde_json::{Value as Json, json};
use tokio::time::Instant;

fn project(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/projects")
        .join(name)
}

fn api(name: &str) -> appsync_local::execution::Api {
    match Project::load(&project(name)) {
        Ok(api) => api,
        Err(errors) => panic!("fixture project {name} failed to load:\n{errors}"),
    }
}

async fn run_on(api: &dyn GraphQLService, query: &str, variables: Json) -> Json {
    let request = GraphQLRequest {
        query: query.to_owned(),
        variables: variables.as_object().cloned(),
        ..Default::default()
    };
    let response = api.execute(request, RequestContext::default()).await;
    serde_json::to_value(&response).expect("responses serialize")
}

async fn run(query: &str) -> Json {
    run_on(&api("basic"), query, Json::Null).await
}

#[tokio::test]
async fn unit_resolver_over_none() {
    let res =
        run("{ getPost(id: \"1\") { id title body published status author { name } tags } }").await;
    assert_eq!(
        res,
        json!({"data": {"getPost": {
            "id": "1", "title": "Hello", "body": null, "published": "2024-02-29",
            "status": "DRAFT", "author": {"name": "Ann"}, "tags": ["x", null, "y"]
        }}})
    );
}

#[tokio::test]
async fn aliases_fragments_typename_and_directives() {
    let res = run(
        "query Q($no: Boolean = false) {
           first: getPost(id: \"1\") { ...F __typename }
           second: getPost(id: \"1\") { ... on Post { title } id @include(if: $no) body @skip(if: true) }
         }
         fragment F on Post { id author { __typename id } }",
    )
    .await;
    assert_eq!(
        res,
        json!({"data": {
            "first": {"id": "1", "author": {"__typename": "Author", "id": "a1"}, "__typename": "Post"},
            "second": {"title": "Hello"}
        }})
    );
}

#[tokio::test]
async fn list_with_a_missing_item_keeps_null_at_its_position() {
    let res = run("{ flights { id title } }").await;
    assert_eq!(
        res,
        json!({"data": {"flights": [
            {"id": "f1", "title": "One"}, null, {"id": "f3", "title": "Three"}
        ]}})
    );
}

#[tokio::test]
async fn null_in_a_non_null_list_item_nulls_the_list() {
    insta::assert_json_snapshot!(run("{ strictFlights { id } }").await);
}

#[tokio::test]
async fn missing_non_null_field_bubbles_to_the_nullable_parent() {
    insta::assert_json_snapshot!(
        run("{ partialPost { id title body } getPost(id: \"1\") { id } }").await
    );
}

#[tokio::test]
async fn bubbling_through_non_null_root_field_nulls_data() {
    let res = run("{ requiredPost { id title } }").await;
    assert_eq!(res["data"], Json::Null);
    insta::assert_json_snapshot!(res);
}

#[tokio::test]
async fn a_failed_non_null_field_reports_one_error() {
    // graphql-java (AppSync) reports at most one error per path: the
    // resolver's, not a second "Cannot return null" for the same field.
    let res = run("{ requiredBroken }").await;
    assert_eq!(res["data"], Json::Null);
    let errors = res["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{res:#}");
    assert_eq!(errors[0]["errorType"], "MappingTemplate", "{res:#}");
}

#[tokio::test]
async fn invalid_output_scalars_and_enums_are_field_errors() {
    insta::assert_json_snapshot!(run("{ badDate { id published status } }").await);
}

#[tokio::test]
async fn abstract_types_resolve_from_typename() {
    let res = run(
        "{ search { __typename ... on Post { id title } ... on Author { name } }
           nodes { id ... on Author { name } } }",
    )
    .await;
    assert_eq!(
        res,
        json!({"data": {
            "search": [
                {"__typename": "Post", "id": "p1", "title": "A post"},
                {"__typename": "Author", "name": "Ann"}
            ],
            "nodes": [{"id": "p1"}, {"id": "a1", "name": "Ann"}]
        }})
    );
}

#[tokio::test]
async fn abstract_value_without_typename_is_an_error() {
    insta::assert_json_snapshot!(run("{ untyped { __typename } }").await);
}

#[tokio::test]
async fn data_source_error_2017_puts_response_template_output_in_error_data() {
    insta::assert_json_snapshot!(run("{ failing2017 { id } }").await);
}

#[tokio::test]
async fn data_source_error_2018_runs_the_response_template() {
    let res = run("{ failing2018 }").await;
    assert_eq!(
        res,
        json!({"data": {"failing2018": "response template ran"}})
    );
}

#[tokio::test]
async fn invalid_template_output_is_a_mapping_template_error() {
    let res = run("{ broken getPost(id: \"1\") { id } }").await;
    assert_eq!(res["data"], json!({"broken": null, "getPost": {"id": "1"}}));
    let errors = res["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["errorType"], "MappingTemplate");
    assert_eq!(errors[0]["path"], json!(["broken"]));
    assert_eq!(
        errors[0]["locations"],
        json!([{"line": 1, "column": 3, "sourceName": null}])
    );
}

#[tokio::test]
async fn pipeline_resolvers_run_functions_then_after_template() {
    let res = run("{ pipelinePost { id title } pipelineDefault }").await;
    // Without before/after templates the pipeline returns the last function's result.
    assert_eq!(
        res,
        json!({"data": {
            "pipelinePost": {"id": "p", "title": "Pipelined"},
            "pipelineDefault": "{\"step\":2}"
        }})
    );
}

#[tokio::test]
async fn substitutions_are_applied_before_parsing() {
    assert_eq!(
        run("{ config }").await,
        json!({"data": {"config": "local"}})
    );
}

/// The SLEEP data source waits 300 ms per call. These run on a paused
/// clock that jumps to the next timer whenever every task waits, so the
/// elapsed (virtual) time counts how many delays ran one after the other,
/// however loaded the machine is.
const SLEEP: Duration = Duration::from_millis(300);

#[tokio::test(start_paused = true)]
async fn nested_sibling_fields_resolve_concurrently() {
    let api = api("basic");
    let start = Instant::now();
    let res = run_on(&api, "{ slow { a b } }", Json::Null).await;
    let elapsed = start.elapsed();
    assert_eq!(res, json!({"data": {"slow": {"a": "slept", "b": "slept"}}}));
    assert!(elapsed >= SLEEP, "took {elapsed:?}");
    assert!(
        elapsed < SLEEP * 2,
        "two 300 ms siblings took {elapsed:?}: they ran serially"
    );
}

#[tokio::test(start_paused = true)]
async fn mutation_root_fields_run_serially() {
    let api = api("basic");
    let start = Instant::now();
    let res = run_on(&api, "mutation { a: slowCreate b: slowCreate }", Json::Null).await;
    let elapsed = start.elapsed();
    assert_eq!(res, json!({"data": {"a": "slept", "b": "slept"}}));
    assert!(elapsed >= SLEEP * 2, "took {elapsed:?}: they overlapped");
}

#[tokio::test]
async fn validation_errors_have_appsync_shape() {
    let res = run("{ nope }").await;
    assert_eq!(
        res,
        json!({"errors": [{
            "path": null,
            "locations": [{"line": 1, "column": 3, "sourceName": null}],
            "message": "Validation error of type FieldUndefined: Field 'nope' in type 'Query' is undefined @ 'nope'"
        }]})
    );
}

#[tokio::test]
async fn unknown_operation_name_is_a_request_error() {
    let request = GraphQLRequest {
        query: "query A { config }".into(),
        operation_name: Some("B".into()),
        ..Default::default()
    };
    let res = api("basic")
        .execute(request, RequestContext::default())
        .await;
    assert!(res.data.is_none());
    assert_eq!(res.errors[0]["message"], "Unknown operation named 'B'.");
}

#[tokio::test]
async fn syntax_errors_are_request_errors() {
    let res = run("{ getPost(id: ").await;
    assert!(res.get("data").is_none(), "{res}");
    let message = res["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("Invalid Syntax"), "{message}");
}

#[tokio::test]
async fn input_scalars_are_validated() {
    let literal = run("{ echo(input: {title: \"t\"}, when: \"yesterday\") }").await;
    assert!(literal.get("data").is_none(), "{literal}");
    let api = api("basic");
    let query =
        "query Q($when: AWSDateTime, $input: PostInput!) { echo(input: $input, when: $when) }";
    let bad = run_on(
        &api,
        query,
        json!({"when": "2020-01-01", "input": {"title": "t"}}),
    )
    .await;
    assert!(bad.get("data").is_none(), "{bad}");
    assert_eq!(
        bad["errors"][0]["message"],
        "Variable 'when' has an invalid value. Unable to parse `2020-01-01` as a valid DateTime Object."
    );
    let wrong_enum = run_on(
        &api,
        query,
        json!({"input": {"title": "t", "status": "GONE"}}),
    )
    .await;
    assert_eq!(
        wrong_enum["errors"][0]["message"],
        "Variable 'input' has an invalid value: Invalid input for Enum 'Status'. No value found for name 'GONE'"
    );
    let good = run_on(
        &api,
        query,
        json!({"when": "2020-01-01T10:00:00Z", "input": {"title": "t", "meta": "{\"a\":1}"}}),
    )
    .await;
    assert_eq!(good, json!({"data": {"echo": null}}));
    let missing = run_on(&api, query, json!({"when": null, "input": null})).await;
    insta::assert_json_snapshot!(missing);
}

#[tokio::test]
async fn introspection_is_answered_alongside_our_fields() {
    let res = run(
        "{ __typename __schema { queryType { name } } t: __type(name: \"Status\") { enumValues(includeDeprecated: true) { name isDeprecated } } getPost(id: \"1\") { id } }",
    )
    .await;
    assert_eq!(
        res,
        json!({"data": {
            "__typename": "Query",
            "getPost": {"id": "1"},
            "__schema": {"queryType": {"name": "Query"}},
            "t": {"enumValues": [
                {"name": "DRAFT", "isDeprecated": false},
                {"name": "PUBLISHED", "isDeprecated": true}
            ]}
        }})
    );
}

#[tokio::test]
async fn introspection_can_be_disabled() {
    let api = api("no_introspection");
    let res = run_on(&api, "{ __schema { queryType { name } } }", Json::Null).await;
    assert_eq!(
        res["errors"][0]["message"],
        "Validation error of type FieldUndefined: Field '__schema' in type 'Query' is undefined @ '__schema'"
    );
    assert!(res.get("data").is_none());
    let ok = run_on(&api, "{ hello }", Json::Null).await;
    assert_eq!(ok, json!({"data": {"hello": "world"}}));
}

#[tokio::test]
async fn auth_config_comes_from_the_manifest() {
    let api = api("basic");
    let auth = api.auth();
    assert_eq!(auth.modes, vec![appsync_local::graphql::AuthType::ApiKey]);
    assert_eq!(auth.api_keys.len(), 1);
    assert_eq!(auth.api_keys[0].value, "da2-local");
    assert!(auth.api_keys[0].expires.is_some());
}

#[tokio::test]
async fn fields_deeper_than_query_depth_limit_fail_and_the_rest_returns() {
    let api = api("limits");
    let res = run_on(
        &api,
        "{ tree { name child { name child { name } } } }",
        Json::Null,
    )
    .await;
    insta::assert_json_snapshot!(res);
}

#[tokio::test]
async fn resolvers_past_resolver_count_limit_do_not_run() {
    let api = api("limits");
    let res = run_on(&api, "{ one two three }", Json::Null).await;
    assert_eq!(
        res["data"],
        json!({"one": "text", "two": "text", "three": null})
    );
    assert_eq!(
        res["errors"][0]["errorType"],
        "ResolverExecutionLimitReached"
    );
    assert_eq!(res["errors"][0]["path"], json!(["three"]));
}

#[tokio::test]
async fn validation_errors_name_the_nested_field_path() {
    let res = run("{ getPost(id: \"1\") { id nope } }").await;
    assert_eq!(
        res["errors"][0]["message"],
        "Validation error of type FieldUndefined: Field 'nope' in type 'Post' is undefined @ 'getPost/nope'"
    );
}

#[tokio::test]
async fn error_data_is_filtered_by_the_selection_set() {
    // 2017-02-28: the response template's output becomes the error's data,
    // and only the selected `id` survives.
    let res = run("{ failing2017 { ident: id } }").await;
    assert_eq!(res["errors"][0]["data"], json!({"ident": "partial"}));
}

#[tokio::test]
async fn repeated_queries_reuse_the_validated_document() {
    let api = api("basic");
    for _ in 0..3 {
        let res = run_on(&api, "{ getPost(id: \"1\") { id } }", Json::Null).await;
        assert_eq!(res, json!({"data": {"getPost": {"id": "1"}}}));
        // A cached document still gets its variables checked.
        let bad = run_on(
            &api,
            "query Q($id: ID!) { getPost(id: $id) { id } }",
            json!({"id": null}),
        )
        .await;
        assert_eq!(
            bad["errors"][0]["message"],
            "Variable 'id' has coerced Null value for NonNull type 'ID!'"
        );
        let good = run_on(
            &api,
            "query Q($id: ID!) { getPost(id: $id) { id } }",
            json!({"id": 7}),
        )
        .await;
        assert_eq!(good, json!({"data": {"getPost": {"id": "1"}}}));
    }
}

#[tokio::test]
async fn unused_and_undefined_variables_are_validation_errors() {
    let undefined = run("{ getPost(id: $nope) { id } }").await;
    assert_eq!(
        undefined["errors"][0]["message"],
        "Validation error of type UndefinedVariable: Undefined variable nope @ 'getPost'"
    );
    let unused = run("query Q($x: Int) { getPost(id: \"1\") { id } }").await;
    assert_eq!(
        unused["errors"][0]["message"],
        "Validation error of type UnusedVariable: Unused variable x"
    );
}

#[tokio::test]
async fn appsync_schema_features_load_and_execute() {
    let api = api("features");
    let res = run_on(
        &api,
        "{ thing { id kind createdAt meta } ping __schema { subscriptionType { name } } }",
        Json::Null,
    )
    .await;
    assert_eq!(
        res,
        json!({"data": {
            "thing": {"id": "t1", "kind": "LARGE", "createdAt": "2024-01-01T00:00:00Z", "meta": "{\"a\":[1,2]}"},
            "ping": null,
            "__schema": {"subscriptionType": {"name": "Subscription"}}
        }})
    );
    let auth = api.auth();
    assert_eq!(
        auth.modes,
        vec![
            appsync_local::graphql::AuthType::ApiKey,
            appsync_local::graphql::AuthType::AwsIam
        ]
    );
    // Without `value`, the key's name is the key.
    assert_eq!(auth.api_keys[0].value, "da2-plain");
    assert_eq!(auth.api_keys[0].expires, None);
    let sub = run_on(&api, "subscription { onPutThing { id } }", Json::Null).await;
    assert!(sub.get("data").is_none(), "{sub}");
}

#[tokio::test]
async fn validation_messages_follow_graphql_java() {
    let api = api("basic");
    let queries = [
        "{ getPost { id } }",
        "{ getPost(id: \"1\") }",
        "{ getPost(id: \"1\") { id { x } } }",
        "{ getPost(id: \"1\", x: 1) { id } }",
        "{ echo(input: {title: 1}) }",
        "{ echo(input: {title: \"x\"}, when: \"bad\") }",
        "{ getPost(id: \"1\") { ...F } }",
        "query A { config } query B { config }",
        "fragment F on Post { id } { config }",
        "{ search { ... on Nope { id } } }",
    ];
    let mut cases = Vec::new();
    for query in queries {
        let res = run_on(&api, query, Json::Null).await;
        assert!(res.get("data").is_none(), "{query}: {res}");
        cases.push(json!({"query": query, "errors": res["errors"]}));
    }
    insta::assert_json_snapshot!(cases);
}

#[tokio::test]
async fn introspection_shows_descriptions_defaults_and_aws_scalars() {
    let res = run(
        "{ post: __type(name: \"Post\") { description interfaces { name } }
           input: __type(name: \"PostInput\") { inputFields { name defaultValue type { kind name ofType { name } } } }
           date: __type(name: \"AWSDate\") { kind }
           echo: __type(name: \"Query\") { fields { name args { name defaultValue } } } }",
    )
    .await;
    assert_eq!(
        res["data"]["post"],
        json!({"description": "A blog post.", "interfaces": [{"name": "Node"}]})
    );
    assert_eq!(
        res["data"]["input"]["inputFields"],
        json!([
            {"name": "title", "defaultValue": null, "type": {"kind": "NON_NULL", "name": null, "ofType": {"name": "String"}}},
            {"name": "status", "defaultValue": "DRAFT", "type": {"kind": "ENUM", "name": "Status", "ofType": null}},
            {"name": "meta", "defaultValue": null, "type": {"kind": "SCALAR", "name": "AWSJSON", "ofType": null}}
        ])
    );
    assert_eq!(res["data"]["date"], json!({"kind": "SCALAR"}));
    let echo = res["data"]["echo"]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "echo"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        echo["args"],
        json!([
            {"name": "input", "defaultValue": null},
            {"name": "when", "defaultValue": null},
            {"name": "limit", "defaultValue": "10"}
        ])
    );
}

#[tokio::test]
async fn aws_auth_directives_guard_fields() {
    let api = api("features");
    // `owner` allows only Cognito user pools; the API key caller is denied.
    let res = run_on(&api, "{ thing { id owner { name } } ping }", Json::Null).await;
    assert_eq!(
        res["data"],
        json!({"thing": {"id": "t1", "owner": null}, "ping": null})
    );
    assert_eq!(res["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(res["errors"][0]["errorType"], "Unauthorized");
    assert_eq!(res["errors"][0]["path"], json!(["thing", "owner"]));
    assert_eq!(
        res["errors"][0]["message"],
        "Not Authorized to access owner on type Thing"
    );
    // An IAM caller may not read fields left to the default mode (API_KEY),
    // nor `Query.thing`, which names only @aws_api_key.
    let iam = RequestContext {
        principal: appsync_local::graphql::Principal {
            auth_type: appsync_local::graphql::AuthType::AwsIam,
            ..Default::default()
        },
        ..Default::default()
    };
    let request = GraphQLRequest {
        query: "{ thing { id } ping }".into(),
        ..Default::default()
    };
    let res = serde_json::to_value(api.execute(request, iam).await).unwrap_or_default();
    assert_eq!(res["data"], json!({"thing": null, "ping": null}));
    let messages: Vec<&str> = res["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["message"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        messages,
        vec![
            "Not Authorized to access thing on type Query",
            "Not Authorized to access ping on type Query"
        ]
    );
}
