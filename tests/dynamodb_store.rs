//! Operation semantics on a temporary database.

use std::sync::{Arc, Mutex};

use appsync_local::dynamodb::{
    Database, DatabaseConfig, Error, Item, OpenError, QueryOutput, StreamConsumer, StreamRecord,
    TableDefinition,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn req<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("request")
}

fn item(v: Value) -> Item {
    serde_json::from_value(v).expect("item")
}

fn flights() -> TableDefinition {
    req(json!({
        "tableName": "Flights",
        "partitionKey": {"name": "id", "type": "S"},
        "globalSecondaryIndexes": [{
            "indexName": "byArrival",
            "partitionKey": {"name": "departureAirportCode", "type": "S"},
            "sortKey": {"name": "arrivalAirportDate", "type": "S"}
        }, {
            "indexName": "byPrice",
            "partitionKey": {"name": "carrier", "type": "S"},
            "sortKey": {"name": "price", "type": "N"},
            "projection": {"type": "KEYS_ONLY"}
        }]
    }))
}

fn events() -> TableDefinition {
    req(json!({
        "tableName": "Events",
        "partitionKey": {"name": "pk", "type": "S"},
        "sortKey": {"name": "n", "type": "N"}
    }))
}

fn db() -> Database {
    Database::temporary(&[flights(), events()]).expect("db")
}

fn put(db: &Database, table: &str, it: Value) {
    db.put_item(&req(json!({"TableName": table, "Item": it})))
        .expect("put");
}

fn numbers(out: &QueryOutput) -> Vec<String> {
    out.items
        .as_ref()
        .expect("items")
        .iter()
        .map(|i| {
            serde_json::to_value(&i["n"]).expect("n")["N"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn put_get_delete_with_return_values() {
    let db = db();
    let first = json!({"id": {"S": "f1"}, "price": {"N": "100"}});
    let out = db
        .put_item(&req(
            json!({"TableName": "Flights", "Item": first, "ReturnValues": "ALL_OLD"}),
        ))
        .expect("put");
    assert_eq!(out.attributes, None);
    let out = db
        .put_item(&req(json!({"TableName": "Flights", "Item": {"id": {"S": "f1"}, "price": {"N": "1.50"}}, "ReturnValues": "ALL_OLD"})))
        .expect("put");
    assert_eq!(out.attributes, Some(item(first)));
    let got = db
        .get_item(&req(
            json!({"TableName": "Flights", "Key": {"id": {"S": "f1"}}}),
        ))
        .expect("get");
    assert_eq!(
        got.item,
        Some(item(json!({"id": {"S": "f1"}, "price": {"N": "1.5"}})))
    );
    let del = db
        .delete_item(&req(
            json!({"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "ReturnValues": "ALL_OLD"}),
        ))
        .expect("delete");
    assert!(del.attributes.is_some());
    let got = db
        .get_item(&req(
            json!({"TableName": "Flights", "Key": {"id": {"S": "f1"}}}),
        ))
        .expect("get");
    assert_eq!(got.item, None);
}

#[test]
fn validation_errors_use_dynamodb_messages() {
    let db = db();
    let cases = [
        (
            json!({"TableName": "Nope", "Item": {"id": {"S": "x"}}}),
            "Requested resource not found",
        ),
        (
            json!({"TableName": "Flights", "Item": {"price": {"N": "1"}}}),
            "One or more parameter values were invalid: Missing the key id in the item",
        ),
        (
            json!({"TableName": "Flights", "Item": {"id": {"N": "1"}}}),
            "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N",
        ),
        (
            json!({"TableName": "Flights", "Item": {"id": {"S": ""}}}),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id",
        ),
        (
            json!({"TableName": "Flights", "Item": {"id": {"S": "x"}, "carrier": {"N": "1"}}}),
            "One or more parameter values were invalid: Type mismatch for Index Key carrier Expected: S Actual: N IndexName: byPrice",
        ),
        (
            json!({"TableName": "Flights", "Item": {"id": {"S": "x"}}, "ReturnValues": "ALL_NEW"}),
            "Return values set to invalid value",
        ),
        (
            json!({"TableName": "Flights", "Item": {"id": {"S": "x"}, "big": {"S": "a".repeat(410_000)}}}),
            "Item size has exceeded the maximum allowed size",
        ),
    ];
    for (body, want) in cases {
        let err = db.put_item(&req(body)).expect_err("must fail");
        assert_eq!(err.to_string(), want);
    }
    let mut deep = json!({"S": "leaf"});
    for _ in 0..33 {
        deep = json!({"L": [deep]});
    }
    let err = db
        .put_item(&req(
            json!({"TableName": "Flights", "Item": {"id": {"S": "x"}, "deep": deep}}),
        ))
        .expect_err("too deep");
    assert_eq!(
        err.to_string(),
        "One or more parameter values were invalid: Nesting Levels have exceeded supported limits"
    );
    let err = db
        .get_item(&req(
            json!({"TableName": "Flights", "Key": {"id": {"S": "x"}, "extra": {"S": "y"}}}),
        ))
        .expect_err("extra key attribute");
    assert_eq!(
        err.to_string(),
        "The provided key element does not match the schema"
    );
    let err = db
        .update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "x"}}, "UpdateExpression": "SET id = :v", "ExpressionAttributeValues": {":v": {"S": "y"}}})))
        .expect_err("key update");
    assert_eq!(
        err.to_string(),
        "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key"
    );
}

#[test]
fn conditional_writes() {
    let db = db();
    let body = json!({"TableName": "Flights", "Item": {"id": {"S": "f1"}, "seats": {"N": "3"}}, "ConditionExpression": "attribute_not_exists(id)"});
    db.put_item(&req(body.clone())).expect("first put");
    let err = db.put_item(&req(body)).expect_err("second put");
    assert!(matches!(err, Error::ConditionalCheckFailed { item: None }));
    assert_eq!(err.to_string(), "The conditional request failed");
    let err = db
        .delete_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "ConditionExpression": "seats > :n", "ExpressionAttributeValues": {":n": {"N": "5"}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})))
        .expect_err("condition false");
    match err {
        Error::ConditionalCheckFailed { item: Some(i) } => assert_eq!(
            i["seats"],
            appsync_local::dynamodb::AttributeValue::n("3").expect("n")
        ),
        other => panic!("unexpected {other:?}"),
    }
    // Seat booking: decrement only while seats remain.
    for _ in 0..3 {
        db.update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "UpdateExpression": "SET seats = seats - :one", "ConditionExpression": "seats > :zero", "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}}})))
            .expect("book");
    }
    let err = db
        .update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "UpdateExpression": "SET seats = seats - :one", "ConditionExpression": "seats > :zero", "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}}})))
        .expect_err("sold out");
    assert_eq!(err.type_name(), "ConditionalCheckFailedException");
}

#[test]
fn update_return_values_and_upsert() {
    let db = db();
    let out = db
        .update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "new"}}, "UpdateExpression": "SET price = :p, tags = :t ADD hits :one", "ExpressionAttributeValues": {":p": {"N": "10"}, ":t": {"SS": ["a"]}, ":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"})))
        .expect("upsert");
    assert_eq!(
        out.attributes,
        Some(item(
            json!({"id": {"S": "new"}, "price": {"N": "10"}, "tags": {"SS": ["a"]}, "hits": {"N": "1"}})
        ))
    );
    let out = db
        .update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "new"}}, "UpdateExpression": "ADD hits :one", "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "UPDATED_OLD"})))
        .expect("update");
    assert_eq!(out.attributes, Some(item(json!({"hits": {"N": "1"}}))));
    let out = db
        .update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "new"}}, "UpdateExpression": "REMOVE price", "ReturnValues": "UPDATED_NEW"})))
        .expect("remove");
    assert_eq!(out.attributes, None);
}

#[test]
fn query_orders_numbers_numerically_and_pages() {
    let db = db();
    for n in ["10", "-1.5", "2", "0", "-100", "1e3", "0.001", "9"] {
        put(
            &db,
            "Events",
            json!({"pk": {"S": "a"}, "n": {"N": n}, "odd": {"BOOL": n == "9"}}),
        );
    }
    put(&db, "Events", json!({"pk": {"S": "b"}, "n": {"N": "1"}}));
    let q = |extra: Value| {
        let mut body = json!({"TableName": "Events", "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "a"}}});
        for (k, v) in extra.as_object().expect("object") {
            if k == "values" {
                for (vk, vv) in v.as_object().expect("values") {
                    body["ExpressionAttributeValues"][vk] = vv.clone();
                }
            } else {
                body[k] = v.clone();
            }
        }
        db.query(&req(body)).expect("query")
    };
    let all = q(json!({}));
    assert_eq!(
        numbers(&all),
        ["-100", "-1.5", "0", "0.001", "2", "9", "10", "1000"]
    );
    assert_eq!(
        (
            all.count,
            all.scanned_count,
            all.last_evaluated_key.is_none()
        ),
        (8, 8, true)
    );
    let back = q(json!({"ScanIndexForward": false, "Limit": 3}));
    assert_eq!(numbers(&back), ["1000", "10", "9"]);
    let lek = back.last_evaluated_key.expect("more pages");
    let next = q(json!({"ScanIndexForward": false, "Limit": 3, "ExclusiveStartKey": lek}));
    assert_eq!(numbers(&next), ["2", "0.001", "0"]);
    let range = q(
        json!({"KeyConditionExpression": "pk = :pk AND n BETWEEN :lo AND :hi", "values": {":lo": {"N": "-1.5"}, ":hi": {"N": "2"}}}),
    );
    assert_eq!(numbers(&range), ["-1.5", "0", "0.001", "2"]);
    let lt =
        q(json!({"KeyConditionExpression": "pk = :pk AND n < :v", "values": {":v": {"N": "0"}}}));
    assert_eq!(numbers(&lt), ["-100", "-1.5"]);
    let gt =
        q(json!({"KeyConditionExpression": "pk = :pk AND n > :v", "values": {":v": {"N": "9"}}}));
    assert_eq!(numbers(&gt), ["10", "1000"]);
    // The filter runs after Limit: 4 items read, 1 returned.
    let filtered =
        q(json!({"Limit": 6, "FilterExpression": "odd = :t", "values": {":t": {"BOOL": true}}}));
    assert_eq!((filtered.count, filtered.scanned_count), (1, 6));
    assert!(filtered.last_evaluated_key.is_some());
    // A start key past the partition's range yields an empty page.
    let past = q(json!({"ExclusiveStartKey": {"pk": {"S": "a"}, "n": {"N": "5000"}}}));
    assert_eq!(past.count, 0);
    let past = q(
        json!({"ScanIndexForward": false, "ExclusiveStartKey": {"pk": {"S": "a"}, "n": {"N": "-5000"}}}),
    );
    assert_eq!(past.count, 0);
    let count = q(json!({"Select": "COUNT"}));
    assert_eq!((count.items.is_none(), count.count), (true, 8));
    let err = db
        .query(&req(json!({"TableName": "Events", "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"N": "1"}}})))
        .expect_err("type mismatch");
    assert_eq!(
        err.to_string(),
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    );
    let err = db
        .query(&req(json!({"TableName": "Events", "KeyConditionExpression": "pk = :pk", "FilterExpression": "n > :pk", "ExpressionAttributeValues": {":pk": {"S": "a"}}})))
        .expect_err("key in filter");
    assert_eq!(
        err.to_string(),
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: n"
    );
}

#[test]
fn gsi_query_with_composite_sort_key_stays_in_sync() {
    let db = db();
    let flight = |id: &str, dep: &str, arr: &str, date: &str, price: &str| json!({"id": {"S": id}, "departureAirportCode": {"S": dep}, "arrivalAirportDate": {"S": format!("{arr}#{date}")}, "carrier": {"S": "XX"}, "price": {"N": price}});
    put(
        &db,
        "Flights",
        flight("1", "LGW", "MAD", "2026-01-02", "90"),
    );
    put(
        &db,
        "Flights",
        flight("2", "LGW", "MAD", "2026-01-01", "120"),
    );
    put(
        &db,
        "Flights",
        flight("3", "LGW", "CDG", "2026-01-01", "80"),
    );
    put(
        &db,
        "Flights",
        flight("4", "MAN", "MAD", "2026-01-01", "70"),
    );
    put(&db, "Flights", json!({"id": {"S": "sparse"}}));
    let q = |prefix: &str| {
        db.query(&req(json!({"TableName": "Flights", "IndexName": "byArrival", "KeyConditionExpression": "departureAirportCode = :d AND begins_with(arrivalAirportDate, :p)", "ExpressionAttributeValues": {":d": {"S": "LGW"}, ":p": {"S": prefix}}})))
            .expect("query")
    };
    let ids = |out: &QueryOutput| -> Vec<String> {
        out.items
            .as_ref()
            .expect("items")
            .iter()
            .map(|i| {
                serde_json::to_value(&i["id"]).expect("id")["S"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(ids(&q("MAD#")), ["2", "1"]);
    // Moving the item in the index removes its old entry atomically.
    db.update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "2"}}, "UpdateExpression": "SET arrivalAirportDate = :a", "ExpressionAttributeValues": {":a": {"S": "CDG#2026-01-03"}}})))
        .expect("update");
    assert_eq!(ids(&q("MAD#")), ["1"]);
    assert_eq!(ids(&q("CDG#")), ["3", "2"]);
    // Updating a non-key attribute keeps the index entry and shows the new value.
    db.update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "1"}}, "UpdateExpression": "SET note = :n", "ExpressionAttributeValues": {":n": {"S": "late"}}})))
        .expect("update");
    let mad = q("MAD#");
    assert_eq!(ids(&mad), ["1"]);
    assert_eq!(
        mad.items.as_ref().expect("items")[0]["note"],
        appsync_local::dynamodb::AttributeValue::s("late")
    );
    db.delete_item(&req(
        json!({"TableName": "Flights", "Key": {"id": {"S": "3"}}}),
    ))
    .expect("delete");
    assert_eq!(ids(&q("CDG#")), ["2"]);
    // KEYS_ONLY index: only table and index keys come back, sorted by price.
    let cheap = db
        .query(&req(json!({"TableName": "Flights", "IndexName": "byPrice", "KeyConditionExpression": "carrier = :c AND price < :p", "ExpressionAttributeValues": {":c": {"S": "XX"}, ":p": {"N": "100"}}})))
        .expect("query");
    assert_eq!(ids(&cheap), ["4", "1"]);
    assert_eq!(cheap.items.as_ref().expect("items")[0].len(), 3);
    let page = db
        .query(&req(json!({"TableName": "Flights", "IndexName": "byPrice", "KeyConditionExpression": "carrier = :c", "ExpressionAttributeValues": {":c": {"S": "XX"}}, "Limit": 1})))
        .expect("query");
    let lek = page.last_evaluated_key.expect("lek");
    assert_eq!(
        lek.keys().cloned().collect::<Vec<_>>(),
        ["carrier", "id", "price"]
    );
    let next = db
        .query(&req(json!({"TableName": "Flights", "IndexName": "byPrice", "KeyConditionExpression": "carrier = :c", "ExpressionAttributeValues": {":c": {"S": "XX"}}, "ExclusiveStartKey": lek})))
        .expect("query");
    assert_eq!(ids(&next), ["1", "2"]);
    let err = db
        .query(&req(json!({"TableName": "Flights", "IndexName": "byPrice", "KeyConditionExpression": "carrier = :c", "ExpressionAttributeValues": {":c": {"S": "XX"}}, "ConsistentRead": true})))
        .expect_err("consistent GSI read");
    assert_eq!(
        err.to_string(),
        "Consistent reads are not supported on global secondary indexes"
    );
    let err = db
        .query(&req(json!({"TableName": "Flights", "IndexName": "byPrice", "KeyConditionExpression": "carrier = :c", "ExpressionAttributeValues": {":c": {"S": "XX"}}, "Select": "ALL_ATTRIBUTES"})))
        .expect_err("all attributes of a KEYS_ONLY index");
    assert!(err.to_string().contains(
        "Select type ALL_ATTRIBUTES is not supported for global secondary index byPrice"
    ));
    let err = db
        .query(&req(json!({"TableName": "Flights", "IndexName": "nope", "KeyConditionExpression": "id = :c", "ExpressionAttributeValues": {":c": {"S": "XX"}}})))
        .expect_err("no index");
    assert_eq!(
        err.to_string(),
        "The table does not have the specified index: nope"
    );
}

#[test]
fn page_stops_at_one_megabyte() {
    let db = db();
    let blob = "x".repeat(300 * 1024);
    for n in 0..6 {
        put(
            &db,
            "Events",
            json!({"pk": {"S": "big"}, "n": {"N": n.to_string()}, "blob": {"S": blob}}),
        );
    }
    let out = db
        .query(&req(json!({"TableName": "Events", "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "big"}}})))
        .expect("query");
    assert_eq!(out.count, 4);
    assert!(out.last_evaluated_key.is_some());
}

#[test]
fn parallel_scan_segments_partition_the_table() {
    let db = db();
    for i in 0..50 {
        put(&db, "Flights", json!({"id": {"S": format!("f{i}")}}));
    }
    let mut seen = Vec::new();
    for segment in 0..4 {
        let out = db
            .scan(&req(
                json!({"TableName": "Flights", "Segment": segment, "TotalSegments": 4}),
            ))
            .expect("scan");
        seen.extend(out.items.expect("items"));
    }
    assert_eq!(seen.len(), 50);
    let all = db
        .scan(&req(json!({"TableName": "Flights", "Limit": 20})))
        .expect("scan");
    assert_eq!(all.count, 20);
    let rest = db
        .scan(&req(json!({"TableName": "Flights", "ExclusiveStartKey": all.last_evaluated_key.expect("lek")})))
        .expect("scan");
    assert_eq!(rest.count, 30);
    let err = db
        .scan(&req(
            json!({"TableName": "Flights", "Segment": 4, "TotalSegments": 4}),
        ))
        .expect_err("bad segment");
    assert_eq!(err.type_name(), "ValidationException");
}

#[test]
fn batches() {
    let db = db();
    let writes: Vec<Value> = (0..25)
        .map(|i| json!({"PutRequest": {"Item": {"id": {"S": format!("b{i}")}}}}))
        .collect();
    db.batch_write_item(&req(json!({"RequestItems": {"Flights": writes}})))
        .expect("batch write");
    let got = db
        .batch_get_item(&req(json!({"RequestItems": {"Flights": {"Keys": [{"id": {"S": "b1"}}, {"id": {"S": "b24"}}, {"id": {"S": "absent"}}]}}})))
        .expect("batch get");
    assert_eq!(got.responses["Flights"].len(), 2);
    let too_many: Vec<Value> = (0..26)
        .map(|i| json!({"DeleteRequest": {"Key": {"id": {"S": format!("b{i}")}}}}))
        .collect();
    let err = db
        .batch_write_item(&req(json!({"RequestItems": {"Flights": too_many}})))
        .expect_err("26 writes");
    assert_eq!(
        err.to_string(),
        "Too many items requested for the BatchWriteItem call"
    );
    let err = db
        .batch_get_item(&req(json!({"RequestItems": {"Flights": {"Keys": [{"id": {"S": "b1"}}, {"id": {"S": "b1"}}]}}})))
        .expect_err("duplicates");
    assert_eq!(
        err.to_string(),
        "Provided list of item keys contains duplicates"
    );
}

#[test]
fn transactions_are_all_or_nothing() {
    let db = db();
    put(
        &db,
        "Flights",
        json!({"id": {"S": "f1"}, "seats": {"N": "1"}}),
    );
    let book = |booking: &str| {
        db.transact_write_items(&req(json!({"TransactItems": [
            {"Update": {"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "UpdateExpression": "SET seats = seats - :one", "ConditionExpression": "seats >= :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": "Events", "Item": {"pk": {"S": booking}, "n": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}}
        ]})))
    };
    book("booking1").expect("first booking");
    let err = book("booking2").expect_err("no seats left");
    match &err {
        Error::TransactionCanceled { reasons } => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            assert_eq!(codes, ["ConditionalCheckFailed", "None"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]"
    );
    let booking2 = db
        .get_item(&req(
            json!({"TableName": "Events", "Key": {"pk": {"S": "booking2"}, "n": {"N": "1"}}}),
        ))
        .expect("get");
    assert_eq!(
        booking2.item, None,
        "nothing of a cancelled transaction is written"
    );
    let got = db
        .transact_get_items(&req(json!({"TransactItems": [
            {"Get": {"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "ProjectionExpression": "seats"}},
            {"Get": {"TableName": "Events", "Key": {"pk": {"S": "booking1"}, "n": {"N": "1"}}}}
        ]})))
        .expect("transact get");
    assert_eq!(
        got.responses[0].item,
        Some(item(json!({"seats": {"N": "0"}})))
    );
    assert!(got.responses[1].item.is_some());
    // A failing update expression cancels the transaction with a reason.
    let err = db
        .transact_write_items(&req(json!({"TransactItems": [
            {"Put": {"TableName": "Events", "Item": {"pk": {"S": "booking3"}, "n": {"N": "1"}}}},
            {"Update": {"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "UpdateExpression": "SET seats = nothing + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}
        ]})))
        .expect_err("type error");
    match err {
        Error::TransactionCanceled { reasons } => {
            assert_eq!(reasons[1].code, "ValidationError");
            assert_eq!(
                reasons[1].message.as_deref(),
                Some(
                    "The provided expression refers to an attribute that does not exist in the item"
                )
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = db
        .transact_write_items(&req(json!({"TransactItems": [
            {"ConditionCheck": {"TableName": "Flights", "Key": {"id": {"S": "f1"}}, "ConditionExpression": "attribute_exists(id)"}},
            {"Delete": {"TableName": "Flights", "Key": {"id": {"S": "f1"}}}}
        ]})))
        .expect_err("same item twice");
    assert_eq!(
        err.to_string(),
        "Transaction request cannot include multiple operations on one item"
    );
}

/// Records what the database stages and settles.
#[derive(Default)]
struct StreamLog {
    staged: Mutex<Vec<(u64, StreamRecord)>>,
    settled: Mutex<Vec<u64>>,
}

impl StreamConsumer for StreamLog {
    fn stage(&self, seq: u64, records: &Arc<[StreamRecord]>) {
        let mut staged = self.staged.lock().expect("lock");
        staged.extend(records.iter().map(|r| (seq, r.clone())));
    }

    fn settle(&self, seq: u64) {
        self.settled.lock().expect("lock").push(seq);
    }
}

#[test]
fn stream_records_follow_commits() {
    let db = db();
    let log = Arc::new(StreamLog::default());
    db.subscribe(log.clone());
    put(&db, "Flights", json!({"id": {"S": "s1"}, "v": {"N": "1"}}));
    db.update_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "s1"}}, "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}})))
        .expect("update");
    db.delete_item(&req(
        json!({"TableName": "Flights", "Key": {"id": {"S": "s1"}}}),
    ))
    .expect("delete");
    db.delete_item(&req(
        json!({"TableName": "Flights", "Key": {"id": {"S": "absent"}}}),
    ))
    .expect("delete absent");
    let _ = db.put_item(&req(json!({"TableName": "Flights", "Item": {"id": {"S": "s2"}}, "ConditionExpression": "attribute_exists(id)"})));
    let staged = log.staged.lock().expect("lock");
    let shape: Vec<(bool, bool)> = staged
        .iter()
        .map(|(_, r)| (r.old_image.is_some(), r.new_image.is_some()))
        .collect();
    assert_eq!(shape, [(false, true), (true, true), (true, false)]);
    assert_eq!(staged[1].1.keys, item(json!({"id": {"S": "s1"}})));
    assert_eq!(staged[1].1.table, "Flights");
    // Each commit that staged records is settled once, in commit order;
    // writes that changed nothing stage and settle nothing.
    let seqs: Vec<u64> = staged.iter().map(|(seq, _)| *seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(*log.settled.lock().expect("lock"), seqs);
}

#[test]
fn declarations_persist_and_changes_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = DatabaseConfig {
        path: Some(dir.path().to_path_buf()),
        durable: true,
    };
    {
        let db = Database::open(&config, &[events()]).expect("open");
        put(&db, "Events", json!({"pk": {"S": "a"}, "n": {"N": "1"}}));
    }
    {
        let db = Database::open(&config, &[events()]).expect("reopen");
        let got = db
            .get_item(&req(
                json!({"TableName": "Events", "Key": {"pk": {"S": "a"}, "n": {"N": "1"}}}),
            ))
            .expect("get");
        assert!(got.item.is_some());
    }
    let mut changed = events();
    changed.sort_key = None;
    let err = Database::open(&config, &[changed]).expect_err("changed declaration");
    assert!(matches!(err, OpenError::ChangedDeclaration { ref table, .. } if table == "Events"));
    assert!(err.to_string().contains("the declaration differs"));
}

#[test]
fn table_management() {
    let db = Database::temporary(&[]).expect("db");
    let create = json!({"TableName": "Table1", "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"});
    let out = db.create_table(&req(create.clone())).expect("create");
    assert_eq!(out.table_description.table_status, "ACTIVE");
    let err = db.create_table(&req(create)).expect_err("exists");
    assert_eq!(
        (err.type_name(), err.to_string().as_str()),
        ("ResourceInUseException", "Table already exists: Table1")
    );
    put(&db, "Table1", json!({"k": {"S": "x"}}));
    assert_eq!(
        db.describe_table(&req(json!({"TableName": "Table1"})))
            .expect("describe")
            .table
            .item_count,
        1
    );
    assert_eq!(
        db.list_tables(&req(json!({}))).expect("list").table_names,
        ["Table1"]
    );
    db.delete_table(&req(json!({"TableName": "Table1"})))
        .expect("delete");
    let err = db
        .describe_table(&req(json!({"TableName": "Table1"})))
        .expect_err("gone");
    assert_eq!(err.type_name(), "ResourceNotFoundException");
    let err = db
        .create_table(&req(json!({"TableName": "Table3", "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}], "LocalSecondaryIndexes": [{"IndexName": "l"}]})))
        .expect_err("LSI");
    assert!(
        err.to_string()
            .starts_with("LocalSecondaryIndexes are not supported")
    );
    let err = db
        .create_table(&req(json!({"TableName": "T2", "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]})))
        .expect_err("short name");
    assert_eq!(
        err.to_string(),
        "1 validation error detected: Value 'T2' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"
    );
    let err = db
        .create_table(&req(json!({"TableName": "Table2", "AttributeDefinitions": [], "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]})))
        .expect_err("undefined key attribute");
    assert!(err.to_string().starts_with("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions"));
}

#[test]
fn concurrent_conditional_updates_do_not_lose_writes() {
    let db = db();
    put(
        &db,
        "Flights",
        json!({"id": {"S": "counter"}, "n": {"N": "0"}}),
    );
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..50 {
                    // Read-modify-write through a condition: only succeeds
                    // when nobody changed the value in between.
                    loop {
                        let current = db
                            .get_item(&req(json!({"TableName": "Flights", "Key": {"id": {"S": "counter"}}})))
                            .expect("get")
                            .item
                            .expect("item");
                        let n = serde_json::to_value(&current["n"]).expect("n")["N"].clone();
                        let res = db.update_item(&req(json!({
                            "TableName": "Flights", "Key": {"id": {"S": "counter"}},
                            "UpdateExpression": "SET n = n + :one", "ConditionExpression": "n = :seen",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":seen": {"N": n}}
                        })));
                        match res {
                            Ok(_) => break,
                            Err(Error::ConditionalCheckFailed { .. }) => continue,
                            Err(e) => panic!("unexpected {e}"),
                        }
                    }
                }
            });
        }
    });
    let got = db
        .get_item(&req(
            json!({"TableName": "Flights", "Key": {"id": {"S": "counter"}}}),
        ))
        .expect("get");
    assert_eq!(
        got.item.expect("item")["n"],
        appsync_local::dynamodb::AttributeValue::n("400").expect("n")
    );
}

#[test]
fn include_projection_keeps_listed_attributes() {
    let def: TableDefinition = req(json!({
        "tableName": "Bookings",
        "partitionKey": {"name": "id", "type": "S"},
        "globalSecondaryIndexes": [{
            "indexName": "byCustomer",
            "partitionKey": {"name": "customer", "type": "S"},
            "projection": {"type": "INCLUDE", "nonKeyAttributes": ["status"]}
        }]
    }));
    let db = Database::temporary(&[def]).expect("db");
    put(
        &db,
        "Bookings",
        json!({"id": {"S": "b1"}, "customer": {"S": "c1"}, "status": {"S": "CONFIRMED"}, "secret": {"S": "x"}}),
    );
    let out = db
        .query(&req(json!({"TableName": "Bookings", "IndexName": "byCustomer", "KeyConditionExpression": "customer = :c", "ExpressionAttributeValues": {":c": {"S": "c1"}}})))
        .expect("query");
    assert_eq!(
        out.items.expect("items"),
        [item(
            json!({"id": {"S": "b1"}, "customer": {"S": "c1"}, "status": {"S": "CONFIRMED"}})
        )]
    );
    let out = db
        .scan(&req(
            json!({"TableName": "Bookings", "IndexName": "byCustomer"}),
        ))
        .expect("scan");
    assert_eq!(out.items.expect("items")[0].len(), 3);
}
