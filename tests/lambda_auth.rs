//! AWS_LAMBDA authorization with the user's authorizer running locally
//! (`tests/projects/lambda_auth`): the event it receives, refusals, the
//! identity validation expression, the result cache and `deniedFields`.

mod common;

use common::{Client, start};
use serde_json::{Value as Json, json};

async fn post(client: &Client, token: &str, body: Json) -> common::Raw {
    client
        .post_with_auth(body, &[("authorization", token), ("x-trace", "t-1")])
        .await
}

fn resolver_context(raw: &common::Raw) -> Json {
    assert_eq!(raw.status, 200, "{}", raw.body);
    let json = raw.json();
    let text = json["data"]["whoami"]
        .as_str()
        .unwrap_or_else(|| panic!("{json}"));
    let whoami: Json = serde_json::from_str(text).expect("AWSJSON");
    assert_eq!(whoami["authType"], "Lambda Authorization");
    whoami["identity"]["resolverContext"].clone()
}

fn assert_refused(raw: &common::Raw) {
    assert_eq!(raw.status, 401, "{}", raw.body);
    let json = raw.json();
    assert_eq!(
        json["errors"][0]["errorType"], "UnauthorizedException",
        "{json}"
    );
    assert_eq!(
        json["errors"][0]["message"],
        "You are not authorized to make this call."
    );
}

#[tokio::test]
async fn the_authorizer_receives_the_operation_and_shapes_the_identity() {
    let client = start("lambda_auth").await;
    let raw = post(
        &client,
        "alice",
        json!({
            "query": "query Who($v: Boolean!) { whoami @include(if: $v) }",
            "operationName": "Who",
            "variables": {"v": true},
        }),
    )
    .await;
    let context = resolver_context(&raw);
    assert_eq!(context["user"], "alice");
    assert_eq!(context["operationName"], "Who");
    assert_eq!(
        context["queryString"],
        "query Who($v: Boolean!) { whoami @include(if: $v) }"
    );
    assert_eq!(context["variables"], "{\"v\":true}");
    assert_eq!(context["header"], "t-1");
}

#[tokio::test]
async fn refusals_failures_and_malformed_tokens_are_401() {
    let client = start("lambda_auth").await;
    let body = json!({"query": "{ whoami }"});
    assert_refused(&post(&client, "deny", body.clone()).await);
    assert_refused(&post(&client, "boom", body.clone()).await);
    // identityValidationExpression `^[a-z-]+$`: refused before the call.
    assert_refused(&post(&client, "Alice1", body.clone()).await);
    assert_eq!(
        client
            .metric("appsync_lambda_invocations_total{function=\"authorizer\"}")
            .await,
        2
    );
}

#[tokio::test]
async fn answers_are_cached_per_token_unless_the_function_overrides_the_ttl() {
    let client = start("lambda_auth").await;
    let body = json!({"query": "{ whoami }"});
    let first = resolver_context(&post(&client, "bob", body.clone()).await);
    let second = resolver_context(&post(&client, "bob", body.clone()).await);
    assert_eq!(
        first["calls"], second["calls"],
        "the second answer is cached"
    );
    let first = resolver_context(&post(&client, "no-cache", body.clone()).await);
    let second = resolver_context(&post(&client, "no-cache", body.clone()).await);
    assert_ne!(
        first["calls"], second["calls"],
        "ttlOverride: 0 is not cached"
    );
}

#[tokio::test]
async fn denied_fields_are_null_with_unauthorized_errors() {
    let client = start("lambda_auth").await;
    let raw = post(&client, "limited", json!({"query": "{ whoami secret }"})).await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let json = raw.json();
    assert!(json["data"]["whoami"].is_string(), "{json}");
    assert_eq!(json["data"]["secret"], Json::Null);
    assert_eq!(json["errors"][0]["errorType"], "Unauthorized");
    assert_eq!(json["errors"][0]["path"], json!(["secret"]));
    let raw = post(&client, "carol", json!({"query": "{ secret }"})).await;
    assert_eq!(raw.json()["data"]["secret"], "s3cret");
}

#[tokio::test]
async fn the_api_key_still_reaches_its_fields() {
    let client = start("lambda_auth").await;
    let data = client.data("{ open }", json!({})).await;
    assert_eq!(data["open"], "open");
}

#[tokio::test]
async fn a_get_request_gives_the_authorizer_its_operation() {
    let client = start("lambda_auth").await;
    let url = format!(
        "{}?query=query%20Who%20%7B%20whoami%20%7D&operationName=Who",
        client.graphql_url()
    );
    let response = reqwest::Client::new()
        .get(url)
        .header("authorization", "dave")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let body: Json = response.json().await.expect("JSON");
    let whoami: Json =
        serde_json::from_str(body["data"]["whoami"].as_str().expect("whoami")).expect("AWSJSON");
    let context = &whoami["identity"]["resolverContext"];
    assert_eq!(context["operationName"], "Who");
    assert_eq!(context["queryString"], "query Who { whoami }");
}
