//! Data sources that call out over HTTP, against a local axum server the
//! test starts: the HTTP data source (methods, headers, query, body,
//! non-2xx answers, timeouts) and Lambda's Invoke API at an `endpoint`.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{Client, serve, start_at};
use serde_json::{Value as Json, json};

/// What the upstream received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: String,
}

type Log = Arc<Mutex<Vec<Received>>>;

async fn upstream(log: Log, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    log.lock().unwrap().push(Received {
        method: method.to_string(),
        uri: uri.to_string(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let path = uri.path();
    if headers
        .get("x-amz-target")
        .is_some_and(|t| t == "AWSEvents.PutEvents")
    {
        let request: Json = serde_json::from_str(&body).unwrap_or_default();
        let entries: Vec<Json> = request["Entries"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, _)| json!({"EventId": format!("remote-{i}")}))
            .collect();
        return axum::Json(json!({"Entries": entries, "FailedEntryCount": 0})).into_response();
    }
    if let Some(code) = path.strip_prefix("/status/") {
        let status = StatusCode::from_u16(code.parse().unwrap()).unwrap();
        return (status, [("x-reply", "yes")], format!("status {code}")).into_response();
    }
    if path == "/hang" {
        // Never answers: the data source's timeout must end the call.
        std::future::pending::<()>().await;
    }
    if let Some(rest) = path.strip_prefix("/2015-03-31/functions/") {
        // A name, or an ARN (percent-encoded) whose last part is the name.
        let function = rest.trim_end_matches("/invocations");
        let function = function.rsplit("%3A").next().unwrap_or(function);
        let kind = headers
            .get("x-amz-invocation-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        return match function {
            "remoteFn" => {
                let event: Json = serde_json::from_str(&body).unwrap_or_default();
                axum::Json(json!({"remote": event, "invocationType": kind})).into_response()
            }
            "failingFn" => (
                [("x-amz-function-error", "Unhandled")],
                axum::Json(json!({"errorMessage": "remote boom", "errorType": "Error"})),
            )
                .into_response(),
            other => (
                StatusCode::NOT_FOUND,
                [(
                    "x-amzn-errortype",
                    "ResourceNotFoundException:http://internal",
                )],
                axum::Json(
                    json!({"Type": "User", "message": format!("Function not found: {other}")}),
                ),
            )
                .into_response(),
        };
    }
    axum::Json(json!({"path": path, "query": uri.query(), "body": body})).into_response()
}

const SCHEMA: &str = r#"
type Query {
  call(method: String!, path: String!, query: AWSJSON, headers: AWSJSON, body: String, jsonBody: AWSJSON): AWSJSON
  hang: AWSJSON
  vtlItem(id: ID!): AWSJSON
  remote(message: String): AWSJSON
  remoteFailing: AWSJSON
  remoteMissing: AWSJSON
}

type Mutation {
  emit(detail: AWSJSON!): AWSJSON
}
"#;

const CALL_JS: &str = r#"
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const { method, path, query, headers, body, jsonBody } = ctx.args;
  const params = {};
  if (query) params.query = query;
  if (headers) params.headers = headers;
  if (body) params.body = body;
  if (jsonBody) params.body = jsonBody;
  return { method, resourcePath: path, params };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
"#;

/// A project whose data sources point at `address`.
fn project(address: std::net::SocketAddr) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{address}");
    let manifest = format!(
        r#"name: outbound
authentication: {{ type: API_KEY }}
apiKeys: [{{ name: da2-outbound }}]
dataSources:
  api: {{ type: HTTP, config: {{ endpoint: "{endpoint}" }} }}
  hanging: {{ type: HTTP, config: {{ endpoint: "{endpoint}", timeout: 0.3 }} }}
  remoteFn: {{ type: AWS_LAMBDA, config: {{ functionName: remoteFn, endpoint: "{endpoint}" }} }}
  failingFn: {{ type: AWS_LAMBDA, config: {{ functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:failingFn", endpoint: "{endpoint}" }} }}
  missingFn: {{ type: AWS_LAMBDA, config: {{ functionName: missingFn, endpoint: "{endpoint}" }} }}
  bus: {{ type: AMAZON_EVENTBRIDGE, config: {{ eventBusArn: "arn:aws:events:us-east-1:000000000000:event-bus/fwd", endpoint: "{endpoint}" }} }}
resolvers:
  Query.call: {{ dataSource: api, code: call.js }}
  Query.hang: {{ dataSource: hanging, code: hang.js }}
  Query.vtlItem: {{ dataSource: api }}
  Query.remote: {{ dataSource: remoteFn }}
  Query.remoteFailing: {{ dataSource: failingFn }}
  Query.remoteMissing: {{ dataSource: missingFn }}
  Mutation.emit: {{ dataSource: bus, code: emit.js }}
"#
    );
    let write = |path: &str, text: &str| {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write("appsync.yaml", &manifest);
    write("schema.graphql", SCHEMA);
    write("call.js", CALL_JS);
    write(
        "emit.js",
        "export function request(ctx) {\n  return { operation: 'PutEvents', events: [{ source: 'app', detailType: 'Done', detail: ctx.args.detail }] };\n}\nexport function response(ctx) {\n  return ctx.result;\n}\n",
    );
    write(
        "hang.js",
        &CALL_JS.replace(
            "const { method, path, query, headers, body, jsonBody } = ctx.args;",
            "const method = 'GET'; const path = '/hang'; const query = null, headers = null, body = null, jsonBody = null;",
        ),
    );
    write(
        "resolvers/Query.vtlItem.req.vtl",
        r#"{"version": "2018-05-29", "method": "GET", "resourcePath": "/items/$ctx.args.id", "params": {"headers": {"x-trace": "vtl"}}}"#,
    );
    write(
        "resolvers/Query.vtlItem.res.vtl",
        "#if($ctx.result.statusCode != 200)\n  $util.error($ctx.result.body, \"$ctx.result.statusCode\")\n#end\n$ctx.result.body",
    );
    dir
}

async fn setup() -> (Client, Log, tempfile::TempDir) {
    let log: Log = Arc::default();
    let handler_log = log.clone();
    let router = Router::new().fallback(move |method, uri, headers, body| {
        upstream(handler_log.clone(), method, uri, headers, body)
    });
    let address = serve(router).await;
    let dir = project(address);
    let client = start_at(dir.path()).await;
    (client, log, dir)
}

fn parsed(data: &Json, field: &str) -> Json {
    serde_json::from_str(
        data[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {data}")),
    )
    .unwrap()
}

#[tokio::test]
async fn requests_carry_method_path_query_headers_and_body() {
    let (client, log, _dir) = setup().await;
    let call = "query C($m: String!, $p: String!, $q: AWSJSON, $h: AWSJSON, $b: String, $j: AWSJSON) { call(method: $m, path: $p, query: $q, headers: $h, body: $b, jsonBody: $j) }";
    let data = client
        .data(
            call,
            json!({
                "m": "POST",
                "p": "/orders/42",
                "q": "{\"tag\":[\"a b\",\"c\"],\"limit\":5}",
                "h": "{\"content-type\":\"text/plain\",\"x-trace\":\"t1\"}",
                "b": "hello body",
            }),
        )
        .await;
    let result = parsed(&data, "call");
    assert_eq!(result["statusCode"], 200);
    assert_eq!(result["headers"]["content-type"], "application/json");
    // The body is a string, as AppSync gives it.
    let body: Json = serde_json::from_str(result["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["path"], "/orders/42");
    let seen = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.uri, "/orders/42?tag=a%20b&tag=c&limit=5");
    assert_eq!(seen.headers["x-trace"], "t1");
    assert_eq!(seen.headers["content-type"], "text/plain");
    assert_eq!(seen.body, "hello body");

    // An object body is sent as JSON.
    client
        .data(
            call,
            json!({"m": "PUT", "p": "/orders/42", "j": "{\"qty\":2}"}),
        )
        .await;
    let seen = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Json>(&seen.body).unwrap(),
        json!({"qty": 2})
    );

    for method in ["GET", "PATCH", "DELETE"] {
        client.data(call, json!({"m": method, "p": "/x"})).await;
        assert_eq!(log.lock().unwrap().last().unwrap().method, method);
    }
}

#[tokio::test]
async fn non_2xx_answers_are_results_and_bad_requests_are_errors() {
    let (client, _log, _dir) = setup().await;
    let call = "query C($m: String!, $p: String!, $h: AWSJSON) { call(method: $m, path: $p, headers: $h) }";
    let data = client
        .data(call, json!({"m": "GET", "p": "/status/404"}))
        .await;
    let result = parsed(&data, "call");
    assert_eq!(result["statusCode"], 404);
    assert_eq!(result["body"], "status 404");
    assert_eq!(result["headers"]["x-reply"], "yes");

    // A VTL response template decides what a status means.
    let response = client.graphql("{ vtlItem(id: \"7\") }", json!({})).await;
    assert_eq!(parsed(&response["data"], "vtlItem")["path"], "/items/7");

    // Forbidden headers and methods are mapping errors.
    let response = client
        .graphql(
            call,
            json!({"m": "GET", "p": "/x", "h": "{\"Host\":\"evil\"}"}),
        )
        .await;
    assert_eq!(response["errors"][0]["errorType"], "MappingTemplate");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`Host`")
    );
    let response = client.graphql(call, json!({"m": "TRACE", "p": "/x"})).await;
    assert_eq!(response["errors"][0]["errorType"], "MappingTemplate");
}

#[tokio::test]
async fn an_upstream_that_never_answers_times_out() {
    let (client, _log, _dir) = setup().await;
    let response = client.graphql("{ hang }", json!({})).await;
    assert_eq!(response["data"], json!({"hang": null}));
    assert_eq!(response["errors"][0]["errorType"], "HttpRequestException");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("did not answer within 300 ms"),
        "{message}"
    );
}

#[tokio::test]
async fn remote_functions_are_called_through_the_invoke_api() {
    let (client, log, _dir) = setup().await;
    let data = client.data("{ remote(message: \"r\") }", json!({})).await;
    let result = parsed(&data, "remote");
    assert_eq!(result["invocationType"], "RequestResponse");
    assert_eq!(result["remote"]["arguments"], json!({"message": "r"}));
    assert_eq!(
        log.lock().unwrap().last().unwrap().uri,
        "/2015-03-31/functions/remoteFn/invocations"
    );

    // A function error, named by ARN.
    let response = client.graphql("{ remoteFailing }", json!({})).await;
    assert_eq!(response["errors"][0]["errorType"], "Error");
    assert_eq!(response["errors"][0]["message"], "remote boom");
    assert!(
        log.lock().unwrap().last().unwrap().uri.starts_with(
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3AfailingFn/"
        )
    );

    // A service error keeps Lambda's exception name.
    let response = client.graphql("{ remoteMissing }", json!({})).await;
    assert_eq!(
        response["errors"][0]["errorType"],
        "Lambda:ResourceNotFoundException"
    );
    assert_eq!(
        response["errors"][0]["message"],
        "Function not found: missingFn"
    );
}

#[tokio::test]
async fn eventbridge_forwards_to_an_endpoint_and_records_what_it_accepted() {
    let (client, log, _dir) = setup().await;
    let data = client
        .data(
            "mutation E($d: AWSJSON!) { emit(detail: $d) }",
            json!({"d": "{\"n\":1}"}),
        )
        .await;
    let result = parsed(&data, "emit");
    assert_eq!(
        result,
        json!({"Entries": [{"EventId": "remote-0"}], "FailedEntryCount": 0})
    );
    let seen = log.lock().unwrap().last().cloned().unwrap();
    assert_eq!(seen.headers["content-type"], "application/x-amz-json-1.1");
    let sent: Json = serde_json::from_str(&seen.body).unwrap();
    let entry = &sent["Entries"][0];
    assert_eq!(entry["Source"], "app");
    assert_eq!(entry["DetailType"], "Done");
    assert_eq!(entry["EventBusName"], "fwd");
    // PutEvents takes the detail as a JSON string.
    assert_eq!(
        serde_json::from_str::<Json>(entry["Detail"].as_str().unwrap()).unwrap(),
        json!({"n": 1})
    );
    let events = client.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["EventId"], "remote-0");
}
