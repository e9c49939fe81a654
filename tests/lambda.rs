//! Lambda data sources running the user's handlers locally, through the
//! real server: Node (CommonJS, ES modules, callbacks), Python and a
//! `provided` runtime whose `bootstrap` is a shell script over curl.
//! `tests/projects/lambda` holds the handlers and the resolvers.

mod common;

use appsync_local::loader::LambdaOptions;
use appsync_local::testing::TestServer;
use common::{Client, project, start, wait_until};
use serde_json::{Value as Json, json};

fn parsed(data: &Json, field: &str) -> Json {
    let text = data[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {data}"));
    serde_json::from_str(text).expect("AWSJSON")
}

fn only_error(response: &Json) -> (&str, &str) {
    let errors = response["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors in {response}"));
    assert_eq!(errors.len(), 1, "{response}");
    (
        errors[0]["errorType"].as_str().unwrap_or_default(),
        errors[0]["message"].as_str().unwrap_or_default(),
    )
}

async fn lambda_metric(client: &Client, name: &str, function: &str) -> u64 {
    client
        .metric(&format!("appsync_lambda_{name}{{function=\"{function}\"}}"))
        .await
}

#[tokio::test]
async fn a_templated_invoke_sends_the_payload_and_returns_the_result() {
    let client = start("lambda").await;
    let data = client.data("{ echo(message: \"hi\") }", json!({})).await;
    let echoed = parsed(&data, "echo");
    assert_eq!(
        echoed["event"],
        json!({"arguments": {"message": "hi"}, "fieldName": "echo"})
    );
    assert_eq!(echoed["functionName"], "echo");
    assert_eq!(echoed["env"], "hello", "the function's environment");
    assert_eq!(echoed["remaining"], true, "getRemainingTimeInMillis");
    assert_eq!(echoed["requestId"].as_str().map(str::len), Some(36));
}

#[tokio::test]
async fn a_direct_resolver_receives_the_context() {
    let client = start("lambda").await;
    let data = client
        .data("query Q($id: ID) { context(id: $id) }", json!({"id": "7"}))
        .await;
    let event = parsed(&data, "context");
    let keys: Vec<&str> = event
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "arguments",
            "identity",
            "source",
            "request",
            "prev",
            "info",
            "stash"
        ]
    );
    assert_eq!(event["arguments"], json!({"id": "7"}));
    assert_eq!(event["identity"], Json::Null, "API keys have no identity");
    assert_eq!(event["request"]["headers"]["x-api-key"], "da2-lambda");
    assert_eq!(event["request"]["domainName"], Json::Null);
    assert_eq!(event["info"]["fieldName"], "context");
    assert_eq!(event["info"]["parentTypeName"], "Query");
    assert_eq!(event["info"]["variables"], json!({"id": "7"}));
    // An ES module handler, named by ARN.
    let data = client.data("{ echoEsm(message: \"m\") }", json!({})).await;
    let echoed = parsed(&data, "echoEsm");
    assert_eq!(echoed["module"], "esm");
    assert_eq!(echoed["event"]["arguments"], json!({"message": "m"}));
}

#[tokio::test]
async fn function_errors_reach_the_client_as_appsync_reports_them() {
    let client = start("lambda").await;
    // Direct: the function's own error type and message.
    for (kind, error_type, message) in [
        ("custom", "PaymentDeclined", "card declined"),
        ("type", "TypeError", "notAFunction is not a function"),
        ("reject", "Error", "rejected"),
        (
            "unauthorized",
            "UnauthorizedException",
            "You are not authorized to make this call.",
        ),
    ] {
        let response = client
            .graphql(
                "query Q($k: String!) { fail(kind: $k) }",
                json!({"k": kind}),
            )
            .await;
        assert_eq!(response["data"], json!({"fail": null}), "{kind}");
        assert_eq!(only_error(&response), (error_type, message), "{kind}");
    }
    let ok = client.data("{ fail(kind: \"none\") }", json!({})).await;
    assert_eq!(ok["fail"], "ok");
    // Templated: the response template sees `Lambda:Unhandled`.
    let response = client
        .graphql("{ failTemplated(kind: \"custom\") }", json!({}))
        .await;
    assert_eq!(response["data"], json!({"failTemplated": null}));
    assert_eq!(only_error(&response), ("Lambda:Unhandled", "card declined"));
    // APPSYNC_JS over a callback-style handler, both ways.
    let data = client.data("{ add(a: 2, b: 3) }", json!({})).await;
    assert_eq!(parsed(&data, "add"), json!({"sum": 5}));
    let response = client
        .graphql("{ add(a: 2, b: 3, fail: true) }", json!({}))
        .await;
    assert_eq!(only_error(&response), ("Lambda:Unhandled", "odd"));
    // A module that throws while loading fails with its error.
    let response = client.graphql("{ initError }", json!({})).await;
    assert_eq!(only_error(&response), ("Error", "boom at load"));
}

#[tokio::test]
async fn batched_fields_cost_one_invocation_per_max_batch_size() {
    let client = start("lambda").await;
    let data = client
        .data("{ items(count: 100) { id value } }", json!({}))
        .await;
    let items = data["items"].as_array().expect("items");
    assert_eq!(items.len(), 100);
    for item in items {
        assert_eq!(
            item["value"],
            format!("value-{}", item["id"].as_str().unwrap())
        );
    }
    // maxBatchSize 25: 100 items, 4 invocations, counted by the function
    // and by the resolver.
    assert_eq!(
        lambda_metric(&client, "invocations_total", "batch").await,
        4
    );
    assert_eq!(client.calls("Item.value", "batch").await, 4);

    // maxBatchSize 10: 23 items arrive in batches of 10, 10 and 3.
    let data = client
        .data("{ items(count: 23) { batchSize } }", json!({}))
        .await;
    let sizes: Vec<u64> = data["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["batchSize"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [vec![10; 20], vec![3; 3]].concat());
    assert_eq!(
        lambda_metric(&client, "invocations_total", "batchSizes").await,
        3
    );

    // A VTL BatchInvoke with no maxBatchSize goes in batches of 5.
    let before = lambda_metric(&client, "invocations_total", "batch").await;
    let data = client
        .data("{ items(count: 12) { templated } }", json!({}))
        .await;
    assert_eq!(data["items"][11]["templated"], "value-12");
    assert_eq!(
        lambda_metric(&client, "invocations_total", "batch").await - before,
        3
    );
}

#[tokio::test]
async fn one_batch_item_can_fail_alone() {
    let client = start("lambda").await;
    let response = client
        .graphql("{ items(count: 6, failEvery: 3) { id value } }", json!({}))
        .await;
    let values: Vec<&Json> = response["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["value"])
        .collect();
    assert_eq!(
        values,
        [
            &json!("value-1"),
            &json!("value-2"),
            &Json::Null,
            &json!("value-4"),
            &json!("value-5"),
            &Json::Null
        ]
    );
    let mut errors: Vec<(Json, String, String)> = response["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].clone(),
                e["errorType"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort_by_key(|e| e.0.to_string());
    assert_eq!(
        errors,
        [
            (
                json!(["items", 2, "value"]),
                "NotFound".into(),
                "no data for 3".into()
            ),
            (
                json!(["items", 5, "value"]),
                "NotFound".into(),
                "no data for 6".into()
            ),
        ]
    );
}

#[tokio::test]
async fn workers_stay_warm_and_a_timed_out_or_crashed_one_is_replaced() {
    let client = start("lambda").await;
    for _ in 0..3 {
        let data = client.data("{ slow(ms: 5) }", json!({})).await;
        assert_eq!(parsed(&data, "slow"), json!({"slept": 5}));
    }
    assert_eq!(lambda_metric(&client, "cold_starts_total", "slow").await, 1);
    assert_eq!(lambda_metric(&client, "workers", "slow").await, 1);

    // `timeout: 1`: the handler is killed after 1 s.
    let response = client.graphql("{ slow(ms: 3000) }", json!({})).await;
    let (error_type, message) = only_error(&response);
    assert_eq!(error_type, "Sandbox.Timedout");
    assert!(
        message.starts_with("RequestId: ")
            && message.ends_with("Task timed out after 1.00 seconds"),
        "{message}"
    );
    let data = client.data("{ slow(ms: 5) }", json!({})).await;
    assert_eq!(parsed(&data, "slow"), json!({"slept": 5}));
    assert_eq!(lambda_metric(&client, "cold_starts_total", "slow").await, 2);

    // A process that exits mid-invocation.
    let first = client.data("{ crash(crash: false) }", json!({})).await;
    let response = client.graphql("{ crash(crash: true) }", json!({})).await;
    let (error_type, message) = only_error(&response);
    assert_eq!(error_type, "Runtime.ExitError");
    assert!(
        message.ends_with("Error: Runtime exited with error: exit status 3"),
        "{message}"
    );
    let again = client.data("{ crash(crash: false) }", json!({})).await;
    assert_ne!(
        parsed(&first, "crash")["pid"],
        parsed(&again, "crash")["pid"],
        "a new process answers"
    );
    assert_eq!(lambda_metric(&client, "errors_total", "crash").await, 1);
}

#[tokio::test]
async fn python_handlers_run_like_node_ones() {
    let client = start("lambda").await;
    let data = client.data("{ pyEcho(message: \"py\") }", json!({})).await;
    let echoed = parsed(&data, "pyEcho");
    assert_eq!(echoed["event"]["arguments"], json!({"message": "py"}));
    assert_eq!(echoed["functionName"], "pyEcho");
    assert_eq!(echoed["remaining"], true);
    let response = client
        .graphql("{ pyFail(kind: \"custom\") }", json!({}))
        .await;
    assert_eq!(only_error(&response), ("PaymentDeclined", "card declined"));
    let response = client.graphql("{ pySlow(ms: 2500) }", json!({})).await;
    assert_eq!(only_error(&response).0, "Sandbox.Timedout");
}

#[tokio::test]
async fn a_provided_runtime_runs_the_users_bootstrap() {
    let client = start("lambda").await;
    let data = client
        .data("{ provided(message: \"sh\") }", json!({}))
        .await;
    let answer = parsed(&data, "provided");
    assert_eq!(answer["runtime"], "provided");
    assert_eq!(answer["echo"]["arguments"], json!({"message": "sh"}));
    // Warm: the second call reuses the script's loop.
    client
        .data("{ provided(message: \"again\") }", json!({}))
        .await;
    assert_eq!(
        lambda_metric(&client, "cold_starts_total", "provided").await,
        1
    );
}

#[tokio::test]
async fn event_invocations_return_at_once_and_run_in_the_background() {
    let client = start("lambda").await;
    let data = client.data("{ notify(name: \"n\") }", json!({})).await;
    assert_eq!(data["notify"], Json::Null);
    wait_until("the event invocation", async || {
        lambda_metric(&client, "invocations_total", "logs").await == 1
    })
    .await;
}

#[tokio::test]
async fn responses_over_lambdas_limit_fail_as_lambda_fails_them() {
    let client = start("lambda").await;
    let response = client.graphql("{ big(bytes: 7000000) }", json!({})).await;
    let (error_type, message) = only_error(&response);
    assert_eq!(error_type, "Function.ResponseSizeTooLarge");
    assert!(
        message.contains("exceeded maximum allowed payload size (6291556 bytes)"),
        "{message}"
    );
    let data = client.data("{ big(bytes: 12000) }", json!({})).await;
    assert_eq!(data["big"].as_str().map(str::len), Some(12000));
}

#[tokio::test]
async fn a_missing_interpreter_fails_only_its_fields() {
    let server = TestServer::builder(project("lambda"))
        .lambda(LambdaOptions {
            node: Some("/nonexistent/node".into()),
            ..LambdaOptions::default()
        })
        .start()
        .await
        .expect("the project loads without Node");
    let client = Client::new(server);
    let response = client
        .graphql(
            "{ echoEsm(message: \"x\") pyEcho(message: \"y\") }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"]["echoEsm"], Json::Null);
    assert!(response["data"]["pyEcho"].is_string(), "{response}");
    let (error_type, message) = only_error(&response);
    assert_eq!(error_type, "Lambda:ServiceException");
    assert!(
        message.contains("cannot start function `echoEsm` (nodejs20.x)"),
        "{message}"
    );
}

#[tokio::test]
async fn eventbridge_events_are_recorded_and_read_back() {
    let client = start("lambda").await;
    let emit = "mutation E($s: String, $t: String, $d: AWSJSON!) { emit(source: $s, detailType: $t, detail: $d) }";
    let data = client
        .data(
            emit,
            json!({"s": "app.bookings", "t": "BookingCreated", "d": "{\"bookingId\":\"b1\"}"}),
        )
        .await;
    let result = parsed(&data, "emit");
    assert_eq!(result["FailedEntryCount"], 0);
    let id = result["Entries"][0]["EventId"]
        .as_str()
        .expect("an event id");

    let (status, listed) = client.call(reqwest::Method::GET, "/admin/events", "").await;
    assert_eq!(status, 200, "{listed}");
    let events = listed["events"].as_array().expect("events");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["EventId"], id);
    assert_eq!(event["Source"], "app.bookings");
    assert_eq!(event["DetailType"], "BookingCreated");
    assert_eq!(event["Detail"], json!({"bookingId": "b1"}));
    assert_eq!(event["EventBusName"], "bookings");
    assert_eq!(event["Field"], "Mutation.emit");
    assert_eq!(client.events(), events.clone());

    // A failed entry is a result, not an error, and is not recorded.
    let data = client
        .data(emit, json!({"t": "BookingCreated", "d": "{}"}))
        .await;
    let result = parsed(&data, "emit");
    assert_eq!(result["FailedEntryCount"], 1);
    assert_eq!(result["Entries"][0]["ErrorCode"], "InvalidArgument");
    assert_eq!(client.events().len(), 1);

    client.reset().await.expect("reset");
    assert!(client.events().is_empty(), "reset clears the events");
}

#[tokio::test]
async fn provisioned_workers_start_with_the_server() {
    let client = start("lambda").await;
    // `context` has `provisionedConcurrency: 1`: its worker starts at load.
    wait_until("the provisioned worker", async || {
        lambda_metric(&client, "workers", "context").await == 1
    })
    .await;
    client.data("{ context }", json!({})).await;
    assert_eq!(
        lambda_metric(&client, "cold_starts_total", "context").await,
        1
    );
    assert_eq!(
        lambda_metric(&client, "invocations_total", "context").await,
        1
    );
    // Functions without it start nothing until called.
    assert_eq!(lambda_metric(&client, "workers", "echo").await, 0);
}

#[tokio::test]
async fn a_cold_start_takes_the_spare_worker_with_the_functions_environment() {
    let client = start("lambda").await;
    // The first Node.js cold start starts a spare for the next one.
    client.data("{ echoEsm }", json!({})).await;
    wait_until("a spare worker", async || {
        client.metric("appsync_lambda_spare_workers").await == 1
    })
    .await;
    let taken = client
        .metric("appsync_lambda_spare_workers_taken_total")
        .await;
    let data = client.data("{ echo(message: \"s\") }", json!({})).await;
    let echoed = parsed(&data, "echo");
    assert_eq!(echoed["functionName"], "echo");
    assert_eq!(echoed["env"], "hello", "the function's environment arrived");
    assert_eq!(lambda_metric(&client, "cold_starts_total", "echo").await, 1);
    assert_eq!(
        client
            .metric("appsync_lambda_spare_workers_taken_total")
            .await,
        taken + 1
    );
    // Another spare starts for the next cold start.
    wait_until("the next spare", async || {
        client.metric("appsync_lambda_spare_workers").await == 1
    })
    .await;
}

#[tokio::test]
async fn idle_workers_are_stopped() {
    let server = TestServer::builder(project("lambda"))
        .lambda(LambdaOptions {
            idle_timeout: Some(std::time::Duration::from_millis(300)),
            ..LambdaOptions::default()
        })
        .start()
        .await
        .expect("server");
    let client = Client::new(server);
    client.data("{ fail(kind: \"none\") }", json!({})).await;
    assert_eq!(lambda_metric(&client, "workers", "errors").await, 1);
    wait_until("the idle worker to stop", async || {
        lambda_metric(&client, "workers", "errors").await == 0
    })
    .await;
    // The next call starts a worker again.
    let data = client.data("{ fail(kind: \"none\") }", json!({})).await;
    assert_eq!(data["fail"], "ok");
    assert_eq!(
        lambda_metric(&client, "cold_starts_total", "errors").await,
        2
    );
}

#[tokio::test]
async fn python_cold_starts_take_a_python_spare() {
    let client = start("lambda").await;
    // `context`'s provisioned worker starts a Node.js spare; the first
    // Python cold start starts a Python one.
    client.data("{ pyEcho(message: \"a\") }", json!({})).await;
    wait_until("a Node.js and a Python spare", async || {
        client.metric("appsync_lambda_spare_workers").await == 2
    })
    .await;
    let taken = client
        .metric("appsync_lambda_spare_workers_taken_total")
        .await;
    let data = client.data("{ pyFail(kind: \"none\") }", json!({})).await;
    assert_eq!(data["pyFail"], "ok");
    let response = client.graphql("{ pySlow(ms: 1) }", json!({})).await;
    assert_eq!(parsed(&response["data"], "pySlow"), json!({"slept": 1}));
    assert!(
        client
            .metric("appsync_lambda_spare_workers_taken_total")
            .await
            > taken,
        "a Python cold start took the spare"
    );
}
