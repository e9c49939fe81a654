//! DynamoDB's JSON protocol: `POST /` with `X-Amz-Target:
//! DynamoDB_20120810.<Operation>`. Signatures are not checked, so any
//! credentials (or none) work, as with DynamoDB Local.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::store::Database;
use crate::dynamodb::types::AttributeValueError;

const TARGET_PREFIX: &str = "DynamoDB_20120810.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// DynamoDB accepts requests of up to 16 MB (a full BatchWriteItem).
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The DynamoDB endpoint, to be mounted at the root of a server.
pub fn router(db: Arc<Database>) -> Router {
    Router::new()
        .route("/", post(handle).get(health))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(db)
}

/// DynamoDB answers a plain GET with this line; tools use it as a probe.
async fn health() -> &'static str {
    "healthy: dynamodb.us-east-1.amazonaws.com "
}

async fn handle(State(db): State<Arc<Database>>, headers: HeaderMap, body: Bytes) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .map(str::to_string);
    let Some(operation) = operation else {
        return error_response(&Error::UnknownOperation(String::new()));
    };
    // Writes wait for fsyncs and scans may read a megabyte, so they run off
    // the async workers; a GetItem (one item, mostly cached) costs less than
    // the trip to the blocking pool and back.
    let result = if operation == "GetItem" {
        Ok(dispatch(&db, &operation, &body))
    } else {
        tokio::task::spawn_blocking(move || dispatch(&db, &operation, &body)).await
    };
    match result {
        Ok(Ok(v)) => json_response(StatusCode::OK, &v),
        Ok(Err(e)) => error_response(&e),
        Err(e) => error_response(&Error::Internal(format!("request task failed: {e}"))),
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    res.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .unwrap_or(HeaderValue::from_static("local")),
    );
    res
}

/// DynamoDB's error body: `{"__type": "<namespace>#<Exception>", "message": ...}`.
pub fn error_body(e: &Error) -> Value {
    let mut body = serde_json::json!({
        "__type": format!("{}#{}", e.type_namespace(), e.type_name()),
    });
    let message = e.to_string();
    if !message.is_empty() {
        body["message"] = Value::String(message);
    }
    match e {
        Error::TransactionCanceled { reasons } => {
            body["CancellationReasons"] = serde_json::to_value(reasons).unwrap_or(Value::Null);
        }
        Error::ConditionalCheckFailed { item: Some(item) } => {
            body["Item"] = serde_json::to_value(item).unwrap_or(Value::Null);
        }
        _ => {}
    }
    body
}

fn error_response(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &error_body(e))
}

fn parse<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        if let Some(e) = AttributeValueError::from_serde_message(&msg) {
            return e.into();
        }
        if let Some(field) = msg
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            let mut camel = field.to_string();
            if let Some(first) = camel.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            return Error::Validation(format!(
                "1 validation error detected: Value null at '{camel}' failed to satisfy constraint: Member must not be null"
            ));
        }
        Error::Serialization(msg)
    })
}

fn to_value<T: Serialize>(v: T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(e.to_string()))
}

/// Pre-expression parameters that are not implemented. Rejecting them beats
/// silently ignoring a condition.
const LEGACY_PARAMETERS: &[&str] = &[
    "AttributesToGet",
    "AttributeUpdates",
    "ConditionalOperator",
    "Expected",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
];

fn reject_legacy_parameters(body: &Value) -> Result<()> {
    let mut objects = vec![body];
    if let Some(Value::Object(tables)) = body.get("RequestItems") {
        objects.extend(tables.values());
    }
    for obj in objects {
        for name in LEGACY_PARAMETERS {
            if obj.get(name).is_some_and(|v| !v.is_null()) {
                return Err(Error::Validation(format!(
                    "The legacy parameter {name} is not supported by appsync-local; use the expression parameters (ConditionExpression, ProjectionExpression, KeyConditionExpression, FilterExpression, UpdateExpression) instead"
                )));
            }
        }
    }
    Ok(())
}

/// Runs one operation on a JSON body; the core of the endpoint, usable
/// without HTTP.
pub fn dispatch(db: &Database, operation: &str, body: &[u8]) -> Result<Value> {
    let body: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|_| {
            Error::Serialization("Start of structure or map found where not expected.".into())
        })?
    };
    if !body.is_object() {
        return Err(Error::Serialization(
            "Start of structure or map found where not expected.".into(),
        ));
    }
    reject_legacy_parameters(&body)?;
    match operation {
        "GetItem" => to_value(db.get_item(&parse(body)?)?),
        "PutItem" => to_value(db.put_item(&parse(body)?)?),
        "UpdateItem" => to_value(db.update_item(&parse(body)?)?),
        "DeleteItem" => to_value(db.delete_item(&parse(body)?)?),
        "Query" => to_value(db.query(&parse(body)?)?),
        "Scan" => to_value(db.scan(&parse(body)?)?),
        "BatchGetItem" => to_value(db.batch_get_item(&parse(body)?)?),
        "BatchWriteItem" => to_value(db.batch_write_item(&parse(body)?)?),
        "TransactGetItems" => to_value(db.transact_get_items(&parse(body)?)?),
        "TransactWriteItems" => to_value(db.transact_write_items(&parse(body)?)?),
        "CreateTable" => to_value(db.create_table(&parse(body)?)?),
        "DeleteTable" => to_value(db.delete_table(&parse(body)?)?),
        "DescribeTable" => to_value(db.describe_table(&parse(body)?)?),
        "ListTables" => to_value(db.list_tables(&parse(body)?)?),
        _ => Err(Error::UnknownOperation(String::new())),
    }
}
