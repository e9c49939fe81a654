//! The DynamoDB JSON endpoint over real HTTP, with requests shaped as the
//! AWS SDKs send them (signed headers are accepted and ignored).

mod common;

use std::sync::Arc;

use appsync_local::dynamodb::{Database, http::router};
use serde_json::{Value, json};

struct Endpoint {
    url: String,
    client: reqwest::Client,
}

impl Endpoint {
    async fn start() -> Endpoint {
        let db = Arc::new(Database::temporary(&[]).expect("db"));
        let addr = common::serve(router(db)).await;
        Endpoint {
            url: format!("http://{addr}/"),
            client: reqwest::Client::new(),
        }
    }

    /// Sends one call the way the AWS SDKs do.
    async fn call_raw(&self, operation: &str, body: &str) -> (u16, Value) {
        let res = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/x-amz-json-1.0")
            .header("X-Amz-Target", format!("DynamoDB_20120810.{operation}"))
            .header("X-Amz-Date", "20260101T000000Z")
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000",
            )
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        let raw = common::Raw::read(res).await;
        assert_eq!(raw.content_type, "application/x-amz-json-1.0");
        (raw.status, raw.json())
    }

    async fn call(&self, operation: &str, body: Value) -> (u16, Value) {
        self.call_raw(operation, &body.to_string()).await
    }
}

#[tokio::test]
async fn sdk_shaped_requests() {
    let ep = Endpoint::start().await;
    let (status, body) = ep
        .call(
            "CreateTable",
            json!({
                "TableName": "Flights",
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "departureAirportCode", "AttributeType": "S"},
                    {"AttributeName": "departureDate", "AttributeType": "S"}
                ],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "byDeparture",
                    "KeySchema": [
                        {"AttributeName": "departureAirportCode", "KeyType": "HASH"},
                        {"AttributeName": "departureDate", "KeyType": "RANGE"}
                    ],
                    "Projection": {"ProjectionType": "ALL"}
                }],
                "BillingMode": "PAY_PER_REQUEST"
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["TableDescription"]["TableStatus"], "ACTIVE");
    assert_eq!(
        body["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexName"],
        "byDeparture"
    );

    for (id, date) in [
        ("f1", "2026-01-02"),
        ("f2", "2026-01-01"),
        ("f3", "2026-01-03"),
    ] {
        let (status, body) = ep
            .call(
                "PutItem",
                json!({"TableName": "Flights", "Item": {
                    "id": {"S": id}, "departureAirportCode": {"S": "LGW"}, "departureDate": {"S": date},
                    "price": {"N": "120.50"}, "tags": {"SS": ["direct"]}, "raw": {"B": "AAEC"}
                }}),
            )
            .await;
        assert_eq!((status, body), (200, json!({})));
    }

    let (status, body) = ep
        .call(
            "GetItem",
            json!({"TableName": "Flights", "Key": {"id": {"S": "f1"}}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["Item"]["price"], json!({"N": "120.5"}));
    assert_eq!(body["Item"]["raw"], json!({"B": "AAEC"}));

    let (status, body) = ep
        .call(
            "Query",
            json!({
                "TableName": "Flights", "IndexName": "byDeparture",
                "KeyConditionExpression": "#d = :d AND #date >= :from",
                "ExpressionAttributeNames": {"#d": "departureAirportCode", "#date": "departureDate"},
                "ExpressionAttributeValues": {":d": {"S": "LGW"}, ":from": {"S": "2026-01-02"}},
                "ProjectionExpression": "id", "Limit": 1
            }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["Items"], json!([{"id": {"S": "f1"}}]));
    assert_eq!(
        (body["Count"].clone(), body["ScannedCount"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        body["LastEvaluatedKey"],
        json!({"id": {"S": "f1"}, "departureAirportCode": {"S": "LGW"}, "departureDate": {"S": "2026-01-02"}})
    );

    let (status, body) = ep
        .call("Scan", json!({"TableName": "Flights", "Select": "COUNT"}))
        .await;
    assert_eq!((status, body["Count"].clone()), (200, json!(3)));

    let (status, body) = ep
        .call(
            "UpdateItem",
            json!({
                "TableName": "Flights", "Key": {"id": {"S": "f1"}},
                "UpdateExpression": "SET price = price + :d ADD tags :t",
                "ExpressionAttributeValues": {":d": {"N": "-0.5"}, ":t": {"SS": ["cheap"]}},
                "ReturnValues": "UPDATED_NEW"
            }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["Attributes"]["price"], json!({"N": "120"}));

    // Unsigned requests (no Authorization, no X-Amz-Date) work too.
    let res = ep
        .client
        .post(&ep.url)
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("X-Amz-Target", "DynamoDB_20120810.GetItem")
        .body(json!({"TableName": "Flights", "Key": {"id": {"S": "f2"}}, "ProjectionExpression": "id"}).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body, json!({"Item": {"id": {"S": "f2"}}}));
    let (status, body) = ep.call("ListTables", json!({})).await;
    assert_eq!((status, body), (200, json!({"TableNames": ["Flights"]})));
    let (status, body) = ep
        .call("DescribeTable", json!({"TableName": "Flights"}))
        .await;
    assert_eq!(
        (status, body["Table"]["ItemCount"].clone()),
        (200, json!(3))
    );
}

#[tokio::test]
async fn errors_use_dynamodb_bodies_and_status_codes() {
    let ep = Endpoint::start().await;
    ep.call(
        "CreateTable",
        json!({
            "TableName": "Accounts",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]
        }),
    )
    .await;
    let cases = [
        (
            "GetItem",
            json!({"TableName": "Missing", "Key": {"id": {"S": "x"}}}),
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "Requested resource not found"}),
        ),
        (
            "PutItem",
            json!({"TableName": "Accounts", "Item": {"id": {"S": "x"}}, "ConditionExpression": "attribute_exists(id)"}),
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message": "The conditional request failed"}),
        ),
        (
            "PutItem",
            json!({"TableName": "Accounts", "Item": {"id": {"S": "x"}}, "ConditionExpression": "id = :v"}),
            json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v"}),
        ),
        (
            "PutItem",
            json!({"TableName": "Accounts", "Item": {"id": {"N": "not a number"}}}),
            json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "The parameter cannot be converted to a numeric value: not a number"}),
        ),
        (
            "PutItem",
            json!({"Item": {"id": {"S": "x"}}}),
            json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"}),
        ),
        (
            "TransactWriteItems",
            json!({"TransactItems": [
                {"Put": {"TableName": "Accounts", "Item": {"id": {"S": "a"}}}},
                {"ConditionCheck": {"TableName": "Accounts", "Key": {"id": {"S": "b"}}, "ConditionExpression": "attribute_exists(id)"}}
            ]}),
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
                "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}]
            }),
        ),
        (
            "PutItem",
            json!({"TableName": "Accounts", "Item": {"id": {"S": "x"}}, "Expected": {"id": {"Exists": false}}}),
            json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "The legacy parameter Expected is not supported by appsync-local; use the expression parameters (ConditionExpression, ProjectionExpression, KeyConditionExpression, FilterExpression, UpdateExpression) instead"}),
        ),
        (
            "FlyToTheMoon",
            json!({}),
            json!({"__type": "com.amazon.coral.service#UnknownOperationException"}),
        ),
    ];
    for (operation, body, want) in cases {
        let (status, got) = ep.call(operation, body).await;
        assert_eq!((status, got), (400, want), "{operation}");
    }
    let (status, got) = ep.call_raw("GetItem", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(
        got["__type"],
        "com.amazon.coral.service#SerializationException"
    );
    // Nothing of the cancelled transaction was written.
    let (_, got) = ep
        .call(
            "GetItem",
            json!({"TableName": "Accounts", "Key": {"id": {"S": "a"}}}),
        )
        .await;
    assert_eq!(got, json!({}));
}
