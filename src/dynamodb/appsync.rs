//! AppSync's `AMAZON_DYNAMODB` request documents (versions `2017-02-28` and
//! `2018-05-29`) turned into DynamoDB operations, and results shaped as
//! AppSync hands them to response templates. Pure apart from the database
//! calls: no HTTP, no VTL. Writes block until durable (see the store's
//! docs), so async callers should run [`execute`] on a blocking thread.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use crate::dynamodb::api::*;
use crate::dynamodb::error::Error;
use crate::dynamodb::store::{Database, items_equal_ignoring};
use crate::dynamodb::types::{Item, item_from_json, item_to_plain_json};

/// An error as AppSync reports it in `$ctx.error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct AppSyncDynamoError {
    /// `DynamoDB:<Exception>`, or `MappingTemplate` for a malformed request.
    pub error_type: String,
    pub message: String,
    /// What `$ctx.result` holds alongside the error (transactions).
    pub data: Option<Value>,
}

type Result<T> = std::result::Result<T, AppSyncDynamoError>;

fn template_error(message: impl Into<String>) -> AppSyncDynamoError {
    AppSyncDynamoError {
        error_type: "MappingTemplate".into(),
        message: message.into(),
        data: None,
    }
}

/// AppSync calls DynamoDB through the AWS SDK for Java 2.x and shows that
/// SDK's exception: the message ends with its service details, `(Service:
/// DynamoDb, Status Code: 400, Request ID: ...)`, without the error code
/// (aws/aws-appsync-community#343), and the error type is `DynamoDB:` and
/// the exception class. Exceptions the SDK does not model
/// (ValidationException among them) are its base class, `DynamoDbException`.
fn dynamo_error(e: &Error) -> AppSyncDynamoError {
    let class = match e {
        Error::Validation(_) | Error::Serialization(_) | Error::UnknownOperation(_) => {
            "DynamoDbException"
        }
        Error::Internal(_) => "InternalServerErrorException",
        _ => e.type_name(),
    };
    let request_id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    AppSyncDynamoError {
        error_type: format!("DynamoDB:{class}"),
        message: format!(
            "{e} (Service: DynamoDb, Status Code: {}, Request ID: {request_id})",
            e.status()
        ),
        data: None,
    }
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn typed_item(v: Option<&Value>, what: &str) -> Result<Item> {
    match v {
        None => Ok(Item::new()),
        Some(Value::Object(m)) => {
            item_from_json(m, true).map_err(|e| template_error(format!("Invalid {what}: {e}")))
        }
        Some(_) => Err(template_error(format!("{what} must be an object"))),
    }
}

fn required_item(obj: &Map<String, Value>, name: &str) -> Result<Item> {
    match field(obj, name) {
        Some(v) => typed_item(Some(v), name),
        None => Err(template_error(format!("Missing required field: {name}"))),
    }
}

fn string(obj: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(template_error(format!("{name} must be a string"))),
    }
}

/// An `{expression, expressionNames, expressionValues}` block.
#[derive(Default)]
struct ExpressionBlock {
    expression: Option<String>,
    names: BTreeMap<String, String>,
    values: Item,
}

fn expression_block(v: Option<&Value>, what: &str) -> Result<ExpressionBlock> {
    let Some(v) = v else {
        return Ok(ExpressionBlock::default());
    };
    let obj = v
        .as_object()
        .ok_or_else(|| template_error(format!("{what} must be an object")))?;
    let names = match field(obj, "expressionNames") {
        None => BTreeMap::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
            template_error(format!("{what}.expressionNames must map names to strings"))
        })?,
    };
    Ok(ExpressionBlock {
        expression: string(obj, "expression")?,
        names,
        values: typed_item(field(obj, "expressionValues"), "expressionValues")?,
    })
}

/// Merges the blocks of one request, as AppSync sends one name and value
/// map per DynamoDB call.
fn merged(blocks: &[&ExpressionBlock]) -> (Option<AttributeNames>, Option<Item>) {
    let mut names = BTreeMap::new();
    let mut values = Item::new();
    for b in blocks {
        names.extend(b.names.clone());
        values.extend(b.values.clone());
    }
    (
        (!names.is_empty()).then_some(names),
        (!values.is_empty()).then_some(values),
    )
}

fn plain(item: Option<Item>) -> Value {
    item.map(|i| item_to_plain_json(&i)).unwrap_or(Value::Null)
}

fn encode_token(key: &Item) -> String {
    BASE64.encode(serde_json::to_vec(key).unwrap_or_default())
}

fn decode_token(token: &str) -> Result<Item> {
    let bytes = BASE64
        .decode(token)
        .map_err(|_| template_error("Invalid nextToken"))?;
    serde_json::from_slice(&bytes).map_err(|_| template_error("Invalid nextToken"))
}

fn limit(obj: &Map<String, Value>) -> Result<Option<i64>> {
    match field(obj, "limit") {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| template_error("limit must be an integer")),
    }
}

/// Runs one AppSync DynamoDB request document against the data source's
/// table and returns `$ctx.result`.
pub fn execute(db: &Database, table: &str, request: &Value) -> Result<Value> {
    let obj = request
        .as_object()
        .ok_or_else(|| template_error("The request must be a JSON object"))?;
    let version = string(obj, "version")?.unwrap_or_default();
    if version != "2017-02-28" && version != "2018-05-29" {
        return Err(template_error(format!(
            "Unsupported or missing version: '{version}'; use 2017-02-28 or 2018-05-29"
        )));
    }
    let operation = string(obj, "operation")?
        .ok_or_else(|| template_error("Missing required field: operation"))?;
    let batch_or_transact = operation.starts_with("Batch") || operation.starts_with("Transact");
    if batch_or_transact && version != "2018-05-29" {
        return Err(template_error(format!(
            "{operation} requires version 2018-05-29"
        )));
    }
    match operation.as_str() {
        "GetItem" => get_item(db, table, obj),
        "PutItem" => put_item(db, table, obj),
        "UpdateItem" => update_item(db, table, obj),
        "DeleteItem" => delete_item(db, table, obj),
        "Query" => query(db, table, obj),
        "Scan" => scan(db, table, obj),
        "BatchGetItem" => batch_get_item(db, obj),
        "BatchPutItem" => batch_put_item(db, obj),
        "BatchDeleteItem" => batch_delete_item(db, obj),
        "TransactGetItems" => transact_get_items(db, obj),
        "TransactWriteItems" => transact_write_items(db, obj),
        other => Err(template_error(format!("Unsupported operation '{other}'"))),
    }
}

fn get_item(db: &Database, table: &str, obj: &Map<String, Value>) -> Result<Value> {
    let projection = expression_block(field(obj, "projection"), "projection")?;
    let out = db
        .get_item(&GetItemRequest {
            table_name: table.into(),
            key: required_item(obj, "key")?,
            projection_expression: projection.expression.clone(),
            expression_attribute_names: merged(&[&projection]).0,
            consistent_read: field(obj, "consistentRead").and_then(Value::as_bool),
        })
        .map_err(|e| dynamo_error(&e))?;
    Ok(plain(out.item))
}

struct ConditionSpec {
    block: ExpressionBlock,
    equals_ignore: Vec<String>,
}

fn condition(obj: &Map<String, Value>) -> Result<Option<ConditionSpec>> {
    let Some(c) = field(obj, "condition") else {
        return Ok(None);
    };
    let block = expression_block(Some(c), "condition")?;
    let equals_ignore = c
        .get("equalsIgnore")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    Ok(block.expression.is_some().then_some(ConditionSpec {
        block,
        equals_ignore,
    }))
}

fn current_item(db: &Database, table: &str, key: &Item) -> Result<Option<Item>> {
    db.get_item(&GetItemRequest {
        table_name: table.into(),
        key: key.clone(),
        ..Default::default()
    })
    .map(|o| o.item)
    .map_err(|e| dynamo_error(&e))
}

fn put_item(db: &Database, table: &str, obj: &Map<String, Value>) -> Result<Value> {
    let key = required_item(obj, "key")?;
    let mut item = typed_item(field(obj, "attributeValues"), "attributeValues")?;
    item.extend(key.clone());
    let cond = condition(obj)?;
    let empty = ExpressionBlock::default();
    let block = cond.as_ref().map(|c| &c.block).unwrap_or(&empty);
    let (names, values) = merged(&[block]);
    let res = db.put_item(&PutItemRequest {
        table_name: table.into(),
        item: item.clone(),
        condition_expression: block.expression.clone(),
        expression_attribute_names: names,
        expression_attribute_values: values,
        ..Default::default()
    });
    match res {
        Ok(_) => Ok(item_to_plain_json(&item)),
        Err(e @ Error::ConditionalCheckFailed { .. }) => {
            // AppSync rereads the item: an identical one means the put
            // already happened, which counts as success.
            let ignore = cond.map(|c| c.equals_ignore).unwrap_or_default();
            match current_item(db, table, &key)? {
                Some(current) if items_equal_ignoring(&current, &item, &ignore) => {
                    Ok(item_to_plain_json(&current))
                }
                _ => Err(dynamo_error(&e)),
            }
        }
        Err(e) => Err(dynamo_error(&e)),
    }
}

fn update_item(db: &Database, table: &str, obj: &Map<String, Value>) -> Result<Value> {
    let key = required_item(obj, "key")?;
    let update = expression_block(field(obj, "update"), "update")?;
    let cond = condition(obj)?;
    let empty = ExpressionBlock::default();
    let block = cond.as_ref().map(|c| &c.block).unwrap_or(&empty);
    let (names, values) = merged(&[&update, block]);
    let out = db
        .update_item(&UpdateItemRequest {
            table_name: table.into(),
            key,
            update_expression: update.expression.clone(),
            condition_expression: block.expression.clone(),
            expression_attribute_names: names,
            expression_attribute_values: values,
            return_values: Some("ALL_NEW".into()),
            ..Default::default()
        })
        .map_err(|e| dynamo_error(&e))?;
    Ok(plain(out.attributes))
}

fn delete_item(db: &Database, table: &str, obj: &Map<String, Value>) -> Result<Value> {
    let key = required_item(obj, "key")?;
    let cond = condition(obj)?;
    let empty = ExpressionBlock::default();
    let block = cond.as_ref().map(|c| &c.block).unwrap_or(&empty);
    let (names, values) = merged(&[block]);
    let res = db.delete_item(&DeleteItemRequest {
        table_name: table.into(),
        key: key.clone(),
        condition_expression: block.expression.clone(),
        expression_attribute_names: names,
        expression_attribute_values: values,
        return_values: Some("ALL_OLD".into()),
        ..Default::default()
    });
    match res {
        Ok(out) => Ok(plain(out.attributes)),
        Err(e @ Error::ConditionalCheckFailed { .. }) => {
            // Deleting an item that is already gone counts as success.
            match current_item(db, table, &key)? {
                None => Ok(Value::Null),
                Some(_) => Err(dynamo_error(&e)),
            }
        }
        Err(e) => Err(dynamo_error(&e)),
    }
}

fn page_result(out: QueryOutput) -> Value {
    json!({
        "items": out.items.unwrap_or_default().iter().map(item_to_plain_json).collect::<Vec<_>>(),
        "nextToken": out.last_evaluated_key.as_ref().map(encode_token),
        "scannedCount": out.scanned_count,
    })
}

fn query(db: &Database, table: &str, obj: &Map<String, Value>) -> Result<Value> {
    let q = expression_block(field(obj, "query"), "query")?;
    if q.expression.is_none() {
        return Err(template_error("Missing required field: query.expression"));
    }
    let filter = expression_block(field(obj, "filter"), "filter")?;
    let projection = expression_block(field(obj, "projection"), "projection")?;
    let (names, values) = merged(&[&q, &filter, &projection]);
    let out = db
        .query(&QueryRequest {
            table_name: table.into(),
            index_name: string(obj, "index")?,
            key_condition_expression: q.expression.clone(),
            filter_expression: filter.expression.clone(),
            projection_expression: projection.expression.clone(),
            expression_attribute_names: names,
            expression_attribute_values: values,
            scan_index_forward: field(obj, "scanIndexForward").and_then(Value::as_bool),
            limit: limit(obj)?,
            exclusive_start_key: string(obj, "nextToken")?
                .map(|t| decode_token(&t))
                .transpose()?,
            select: select(obj)?,
            consistent_read: field(obj, "consistentRead").and_then(Value::as_bool),
        })
        .map_err(|e| dynamo_error(&e))?;
    Ok(page_result(out))
}

/// AppSync's `select` maps onto DynamoDB's, except that asking for specific
/// attributes without a projection means all of them.
fn select(obj: &Map<String, Value>) -> Result<Option<String>> {
    let s = string(obj, "select")?;
    let has_projection = field(obj, "projection").is_some();
    Ok(match s.as_deref() {
        Some("SPECIFIC_ATTRIBUTES") if !has_projection => None,
        Some("ALL_ATTRIBUTES") | Some("ALL_PROJECTED_ATTRIBUTES") if has_projection => None,
        _ => s,
    })
}

fn scan(db: &Database, table: &str, obj: &Map<String, Value>) -> Result<Value> {
    let filter = expression_block(field(obj, "filter"), "filter")?;
    let projection = expression_block(field(obj, "projection"), "projection")?;
    let (names, values) = merged(&[&filter, &projection]);
    let out = db
        .scan(&ScanRequest {
            table_name: table.into(),
            index_name: string(obj, "index")?,
            filter_expression: filter.expression.clone(),
            projection_expression: projection.expression.clone(),
            expression_attribute_names: names,
            expression_attribute_values: values,
            limit: limit(obj)?,
            exclusive_start_key: string(obj, "nextToken")?
                .map(|t| decode_token(&t))
                .transpose()?,
            select: select(obj)?,
            segment: field(obj, "segment").and_then(Value::as_i64),
            total_segments: field(obj, "totalSegments").and_then(Value::as_i64),
            consistent_read: field(obj, "consistentRead").and_then(Value::as_bool),
        })
        .map_err(|e| dynamo_error(&e))?;
    Ok(page_result(out))
}

fn tables(obj: &Map<String, Value>) -> Result<&Map<String, Value>> {
    field(obj, "tables")
        .and_then(Value::as_object)
        .ok_or_else(|| template_error("Missing required field: tables"))
}

fn batch_get_item(db: &Database, obj: &Map<String, Value>) -> Result<Value> {
    let tables = tables(obj)?;
    let mut total = 0;
    let mut data = Map::new();
    let mut unprocessed = Map::new();
    for (name, spec) in tables {
        let spec = spec
            .as_object()
            .ok_or_else(|| template_error(format!("tables.{name} must be an object")))?;
        let keys = field(spec, "keys")
            .and_then(Value::as_array)
            .ok_or_else(|| template_error(format!("Missing required field: tables.{name}.keys")))?;
        total += keys.len();
        if total > 100 {
            return Err(dynamo_error(&Error::validation(
                "Too many items requested for the BatchGetItem call",
            )));
        }
        let projection = expression_block(field(spec, "projection"), "projection")?;
        let mut found = Vec::new();
        // One read per key keeps results aligned with the keys, as AppSync
        // returns them (null where an item is missing).
        for key in keys {
            let out = db
                .get_item(&GetItemRequest {
                    table_name: name.clone(),
                    key: typed_item(Some(key), "key")?,
                    projection_expression: projection.expression.clone(),
                    expression_attribute_names: merged(&[&projection]).0,
                    consistent_read: None,
                })
                .map_err(|e| dynamo_error(&e))?;
            found.push(plain(out.item));
        }
        data.insert(name.clone(), Value::Array(found));
        unprocessed.insert(name.clone(), json!([]));
    }
    Ok(json!({"data": data, "unprocessedKeys": unprocessed}))
}

fn batch_write(db: &Database, obj: &Map<String, Value>, delete: bool) -> Result<Value> {
    let tables = tables(obj)?;
    let mut request_items = BTreeMap::new();
    let mut data = Map::new();
    let mut unprocessed = Map::new();
    for (name, list) in tables {
        let list = list
            .as_array()
            .ok_or_else(|| template_error(format!("tables.{name} must be a list")))?;
        let mut writes = Vec::new();
        let mut shown = Vec::new();
        for entry in list {
            let item = typed_item(Some(entry), if delete { "key" } else { "item" })?;
            shown.push(item_to_plain_json(&item));
            writes.push(if delete {
                WriteRequest {
                    delete_request: Some(DeleteRequest { key: item }),
                    ..Default::default()
                }
            } else {
                WriteRequest {
                    put_request: Some(PutRequest { item }),
                    ..Default::default()
                }
            });
        }
        request_items.insert(name.clone(), writes);
        data.insert(name.clone(), Value::Array(shown));
        unprocessed.insert(name.clone(), json!([]));
    }
    db.batch_write_item(&BatchWriteItemRequest { request_items })
        .map_err(|e| dynamo_error(&e))?;
    let unprocessed_name = if delete {
        "unprocessedKeys"
    } else {
        "unprocessedItems"
    };
    Ok(json!({"data": data, unprocessed_name: unprocessed}))
}

fn batch_put_item(db: &Database, obj: &Map<String, Value>) -> Result<Value> {
    batch_write(db, obj, false)
}

fn batch_delete_item(db: &Database, obj: &Map<String, Value>) -> Result<Value> {
    batch_write(db, obj, true)
}

fn transact_items(obj: &Map<String, Value>) -> Result<&Vec<Value>> {
    field(obj, "transactItems")
        .and_then(Value::as_array)
        .ok_or_else(|| template_error("Missing required field: transactItems"))
}

fn transact_get_items(db: &Database, obj: &Map<String, Value>) -> Result<Value> {
    let mut items = Vec::new();
    for t in transact_items(obj)? {
        let t = t
            .as_object()
            .ok_or_else(|| template_error("transactItems entries must be objects"))?;
        let projection = expression_block(field(t, "projection"), "projection")?;
        items.push(TransactGetItem {
            get: Get {
                table_name: string(t, "table")?
                    .ok_or_else(|| template_error("Missing required field: table"))?,
                key: required_item(t, "key")?,
                projection_expression: projection.expression.clone(),
                expression_attribute_names: merged(&[&projection]).0,
            },
        });
    }
    let out = db
        .transact_get_items(&TransactGetItemsRequest {
            transact_items: items,
        })
        .map_err(|e| dynamo_error(&e))?;
    let items: Vec<Value> = out.responses.into_iter().map(|r| plain(r.item)).collect();
    Ok(json!({"items": items, "cancellationReasons": null}))
}

fn transact_write_items(db: &Database, obj: &Map<String, Value>) -> Result<Value> {
    let mut actions = Vec::new();
    let mut keys = Vec::new();
    for t in transact_items(obj)? {
        let t = t
            .as_object()
            .ok_or_else(|| template_error("transactItems entries must be objects"))?;
        let table_name =
            string(t, "table")?.ok_or_else(|| template_error("Missing required field: table"))?;
        let key = required_item(t, "key")?;
        let cond = condition(t)?;
        let return_old = field(t, "condition")
            .and_then(|c| c.get("returnValuesOnConditionCheckFailure"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let update = expression_block(field(t, "update"), "update")?;
        let empty = ExpressionBlock::default();
        let block = cond.as_ref().map(|c| &c.block).unwrap_or(&empty);
        let (names, values) = merged(&[&update, block]);
        let mut action = TransactWriteAction {
            table_name,
            key: Some(key.clone()),
            condition_expression: block.expression.clone(),
            expression_attribute_names: names,
            expression_attribute_values: values,
            return_values_on_condition_check_failure: return_old.then(|| "ALL_OLD".into()),
            ..Default::default()
        };
        let operation = string(t, "operation")?.unwrap_or_default();
        let mut item = TransactWriteItem::default();
        match operation.as_str() {
            "PutItem" => {
                let mut full = typed_item(field(t, "attributeValues"), "attributeValues")?;
                full.extend(key.clone());
                action.key = None;
                action.item = Some(full);
                item.put = Some(action);
            }
            "UpdateItem" => {
                action.update_expression = update.expression.clone();
                item.update = Some(action);
            }
            "DeleteItem" => item.delete = Some(action),
            "ConditionCheck" => item.condition_check = Some(action),
            other => {
                return Err(template_error(format!(
                    "Unsupported transaction operation '{other}'"
                )));
            }
        }
        actions.push(item);
        keys.push(item_to_plain_json(&key));
    }
    match db.transact_write_items(&TransactWriteItemsRequest {
        transact_items: actions,
        client_request_token: None,
    }) {
        Ok(_) => Ok(json!({"keys": keys, "cancellationReasons": null})),
        Err(Error::TransactionCanceled { reasons }) => {
            let shaped: Vec<Value> = reasons
                .iter()
                .map(|r| {
                    // AppSync renames DynamoDB's code and message (documented
                    // TransactWriteItems response).
                    let mut v = if r.code == "ConditionalCheckFailed" {
                        json!({"type": "ConditionCheckFailed", "message": "The condition check failed."})
                    } else {
                        json!({"type": r.code, "message": r.message.clone().unwrap_or_else(|| r.code.clone())})
                    };
                    if let Some(item) = &r.item {
                        v["item"] = item_to_plain_json(item);
                    }
                    v
                })
                .collect();
            let e = Error::TransactionCanceled { reasons };
            let mut err = dynamo_error(&e);
            err.data = Some(json!({"keys": null, "cancellationReasons": shaped}));
            Err(err)
        }
        Err(e) => Err(dynamo_error(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message without its random request ID, which must look like one.
    fn without_request_id(message: &str) -> &str {
        let (head, id) = message.rsplit_once(", Request ID: ").expect("a request ID");
        let id = id.strip_suffix(')').expect("closing parenthesis");
        assert!(
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{id}"
        );
        head
    }

    #[test]
    fn dynamodb_errors_read_as_the_java_sdk_v2_prints_them() {
        let failed = dynamo_error(&Error::ConditionalCheckFailed { item: None });
        assert_eq!(
            failed.error_type,
            "DynamoDB:ConditionalCheckFailedException"
        );
        assert_eq!(
            without_request_id(&failed.message),
            "The conditional request failed (Service: DynamoDb, Status Code: 400"
        );
        let invalid = dynamo_error(&Error::validation(
            "The provided key element does not match the schema",
        ));
        assert_eq!(invalid.error_type, "DynamoDB:DynamoDbException");
        assert_eq!(
            without_request_id(&invalid.message),
            "The provided key element does not match the schema (Service: DynamoDb, Status Code: 400"
        );
        let missing = dynamo_error(&Error::ResourceNotFound);
        assert_eq!(missing.error_type, "DynamoDB:ResourceNotFoundException");
        let internal = dynamo_error(&Error::Internal("disk".into()));
        assert_eq!(
            without_request_id(&internal.message),
            "disk (Service: DynamoDb, Status Code: 500"
        );
    }
}
