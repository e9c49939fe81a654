//! Tables and search indexes behind GraphQL resolvers, through the real HTTP
//! server: DynamoDB-backed fields beside a field resolved through the search
//! index, table writes (from GraphQL and from the DynamoDB API) streaming into
//! the index, GSI queries, transactions, and reconciliation after a crash
//! between a table write and its index write.

mod common;

use appsync_local::dynamodb::{
    Database, DatabaseConfig, DeleteItemRequest, PutItemRequest, TableDefinition,
};
use appsync_local::opensearch::IndexDefinition;
use appsync_local::stores::Stores;
use common::Client;
use serde_json::{Value, json};

async fn put_order(server: &Client, id: &str, customer: &str, created: &str, text: &str) {
    let res = server
        .graphql(
            "mutation($i: OrderInput!) { putOrder(input: $i) { id } }",
            json!({"i": {"id": id, "customer": customer, "status": "NEW", "total": 12.5,
                     "createdAt": created, "orderDescription": text}}),
        )
        .await;
    assert_eq!(res, json!({"data": {"putOrder": {"id": id}}}), "{res}");
}

#[tokio::test]
async fn search_field_beside_table_fields() {
    let server = common::start("orders").await;
    put_order(&server, "o1", "ann", "2026-01-01", "Two blue umbrellas").await;
    put_order(&server, "o2", "ann", "2026-01-02", "A red kettle and cups").await;

    // `orderDescription` comes from the index, its siblings from the table.
    let res = server
        .graphql(
            "{ getOrder(id: \"o2\") { id customer total orderDescription } }",
            json!({}),
        )
        .await;
    assert_eq!(
        res,
        json!({"data": {"getOrder": {"id": "o2", "customer": "ann", "total": 12.5,
                                     "orderDescription": "A red kettle and cups"}}})
    );

    let res = server
        .graphql(
            "{ searchOrders(text: \"umbrella\") { id highlight } }",
            json!({}),
        )
        .await;
    // The standard analyzer does not stem: "umbrella" does not match "umbrellas".
    assert_eq!(res, json!({"data": {"searchOrders": []}}));
    let res = server
        .graphql(
            "{ searchOrders(text: \"BLUE kettle\") { id highlight } }",
            json!({}),
        )
        .await;
    let hits = res["data"]["searchOrders"].as_array().expect("hits");
    let mut ids: Vec<&str> = hits.iter().map(|h| h["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["o1", "o2"], "{res}");
    let o1 = hits.iter().find(|h| h["id"] == "o1").unwrap();
    assert_eq!(o1["highlight"], json!(["Two <em>blue</em> umbrellas"]));

    // GSI query, newest first.
    let res = server
        .graphql(
            "{ ordersByCustomer(customer: \"ann\") { items { id createdAt } nextToken } }",
            json!({}),
        )
        .await;
    assert_eq!(
        res,
        json!({"data": {"ordersByCustomer": {"items": [
            {"id": "o2", "createdAt": "2026-01-02"},
            {"id": "o1", "createdAt": "2026-01-01"}], "nextToken": null}}})
    );

    // A delete leaves the index too.
    let res = server
        .graphql("mutation { deleteOrder(id: \"o1\") { id } }", json!({}))
        .await;
    assert_eq!(res, json!({"data": {"deleteOrder": {"id": "o1"}}}));
    let res = server
        .graphql("{ searchOrders(text: \"blue\") { id } }", json!({}))
        .await;
    assert_eq!(res, json!({"data": {"searchOrders": []}}));
}

#[tokio::test]
async fn paginates_with_opaque_next_token() {
    let server = common::start("orders").await;
    for day in 1..=5 {
        let id = format!("p{day}");
        put_order(&server, &id, "bob", &format!("2026-02-0{day}"), "pens").await;
    }
    let query = "query($t: String) { ordersByCustomer(customer: \"bob\", limit: 2, nextToken: $t) { items { id } nextToken } }";
    let mut seen = Vec::new();
    let mut token = Value::Null;
    for _ in 0..5 {
        let res = server.graphql(query, json!({"t": token})).await;
        let page = &res["data"]["ordersByCustomer"];
        for item in page["items"].as_array().expect("items") {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        token = page["nextToken"].clone();
        if token.is_null() {
            break;
        }
    }
    assert_eq!(seen, ["p5", "p4", "p3", "p2", "p1"]);
}

#[tokio::test]
async fn dynamodb_api_writes_reach_the_index_and_graphql() {
    let server = common::start("orders").await;
    // Shaped as the AWS SDKs send it.
    let (status, _) = server
        .dynamodb(
            "PutItem",
            json!({"TableName": "Orders", "Item": {
                "id": {"S": "d1"}, "customer": {"S": "cy"}, "status": {"S": "NEW"},
                "createdAt": {"S": "2026-03-01"}, "orderDescription": {"S": "Garden hose"}}}),
        )
        .await;
    assert_eq!(status, 200);

    let res = server
        .graphql(
            "{ getOrder(id: \"d1\") { customer orderDescription } }",
            json!({}),
        )
        .await;
    assert_eq!(
        res,
        json!({"data": {"getOrder": {"customer": "cy", "orderDescription": "Garden hose"}}})
    );

    // The OpenSearch REST API sees the streamed document under the item's key.
    let doc = server.opensearch_get("/orders/_doc/d1").await;
    assert_eq!(doc["found"], json!(true));
    assert_eq!(doc["_source"]["orderDescription"], json!("Garden hose"));
}

#[tokio::test]
async fn transactions_are_all_or_nothing() {
    let server = common::start("orders").await;
    put_order(&server, "t1", "dee", "2026-04-01", "first").await;
    let order = |id: &str| {
        json!({"id": id, "customer": "dee", "status": "NEW", "createdAt": "2026-04-02",
               "orderDescription": "batch"})
    };
    let mutation = "mutation($o: [OrderInput!]!) { placeOrders(inputs: $o) }";

    let res = server
        .graphql(mutation, json!({"o": [order("t2"), order("t1")]}))
        .await;
    assert_eq!(res["data"], json!({"placeOrders": null}), "{res}");
    let error = &res["errors"][0];
    assert_eq!(error["errorType"], "DynamoDB:TransactionCanceledException");
    let reasons: Vec<&str> = error["data"]
        .as_array()
        .expect("cancellation reasons")
        .iter()
        .map(|r| r["type"].as_str().unwrap_or_default())
        .collect();
    // AppSync spells the reason `ConditionCheckFailed`, unlike DynamoDB's own
    // `ConditionalCheckFailed` (AppSync's TransactWriteItems reference).
    assert_eq!(reasons, ["None", "ConditionCheckFailed"]);
    let res = server
        .graphql("{ getOrder(id: \"t2\") { id } }", json!({}))
        .await;
    assert_eq!(res, json!({"data": {"getOrder": null}}));

    let res = server
        .graphql(mutation, json!({"o": [order("t2"), order("t3")]}))
        .await;
    assert_eq!(res, json!({"data": {"placeOrders": ["t2", "t3"]}}));
    let res = server
        .graphql("{ searchOrders(text: \"batch\") { id } }", json!({}))
        .await;
    assert_eq!(
        res["data"]["searchOrders"].as_array().map(Vec::len),
        Some(2)
    );
}

fn orders_table() -> Vec<TableDefinition> {
    vec![
        serde_json::from_value(
            json!({"tableName": "Orders", "partitionKey": {"name": "id", "type": "S"}}),
        )
        .expect("table"),
    ]
}

fn orders_index(source: Value) -> Vec<IndexDefinition> {
    vec![serde_json::from_value(json!({"name": "orders", "source": source})).expect("index")]
}

fn put(id: &str, text: &str) -> PutItemRequest {
    serde_json::from_value(json!({"TableName": "Orders",
        "Item": {"id": {"S": id}, "text": {"S": text}}}))
    .expect("request")
}

/// The ids in the `orders` index, sorted.
fn indexed_ids(stores: &Stores) -> Vec<String> {
    let (status, body) = stores.opensearch.handle(
        "POST",
        "/orders/_search",
        &[],
        Some(json!({"query": {"match_all": {}}, "sort": [{"_id": "asc"}], "size": 1000})),
    );
    assert_eq!(status, 200, "{body}");
    body["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A data directory of the Orders table and the `orders` index it feeds.
struct DataDir {
    dir: tempfile::TempDir,
    tables: Vec<TableDefinition>,
    indexes: Vec<IndexDefinition>,
}

impl DataDir {
    fn new(indexes: Vec<IndexDefinition>) -> DataDir {
        DataDir {
            dir: tempfile::tempdir().expect("temp dir"),
            tables: orders_table(),
            indexes,
        }
    }

    /// Fed from the whole Orders table.
    fn orders() -> DataDir {
        DataDir::new(orders_index(json!({"table": "Orders"})))
    }

    fn open(&self) -> Stores {
        self.open_with(&self.indexes)
    }

    fn open_with(&self, indexes: &[IndexDefinition]) -> Stores {
        match Stores::open(Some(self.dir.path()), &self.tables, indexes) {
            Ok(stores) => stores,
            Err(err) => panic!("opening the stores failed: {err}"),
        }
    }

    /// The table alone, as a crash between a table write and its index
    /// write leaves it.
    fn table_only(&self) -> Database {
        let config = DatabaseConfig {
            path: Some(self.dir.path().join("tables")),
            durable: true,
        };
        Database::open(&config, &self.tables).expect("database")
    }

    fn put_behind_the_index(&self, id: &str) {
        self.table_only()
            .put_item(&put(id, "table only"))
            .expect("put");
    }

    /// The clean-close record.
    fn record(&self) -> std::path::PathBuf {
        self.dir.path().join("closed-cleanly.json")
    }

    fn read_record(&self) -> Value {
        let text = std::fs::read_to_string(self.record()).expect("record");
        serde_json::from_str(&text).expect("JSON")
    }
}

#[test]
fn reconciles_index_after_a_crash_between_table_and_index_writes() {
    let data = DataDir::orders();
    {
        let stores = data.open();
        stores
            .dynamodb
            .put_item(&put("kept", "stays"))
            .expect("put");
        stores
            .dynamodb
            .put_item(&put("gone", "removed later"))
            .expect("put");
    }
    // The "crash": table writes committed while nothing fed the index.
    {
        let db = data.table_only();
        db.put_item(&put("new", "written before the crash"))
            .expect("put");
        let delete: DeleteItemRequest =
            serde_json::from_value(json!({"TableName": "Orders", "Key": {"id": {"S": "gone"}}}))
                .expect("request");
        db.delete_item(&delete).expect("delete");
    }
    assert_eq!(indexed_ids(&data.open()), ["kept", "new"]);
}

/// A clean close records that the indexes are in step, so the next open
/// skips reading every item and document; the record is used once, and a
/// changed index declaration is reconciled whatever it says.
#[test]
fn a_clean_close_skips_the_reconciliation_once() {
    let data = DataDir::orders();
    {
        let stores = data.open();
        stores.dynamodb.put_item(&put("a", "first")).expect("put");
        stores.close().expect("close");
    }
    assert!(data.record().exists());
    // Only something outside the stores can put the table ahead of a
    // cleanly closed index: it shows which opens reconcile.
    data.put_behind_the_index("b");
    {
        let stores = data.open();
        assert!(!data.record().exists(), "the record is consumed at open");
        assert_eq!(indexed_ids(&stores), ["a"], "no reconciliation");
        // Dropped without close, as a crash would.
    }
    {
        let stores = data.open();
        assert_eq!(indexed_ids(&stores), ["a", "b"], "reconciled");
        stores.close().expect("close");
    }
    data.put_behind_the_index("c");
    let narrowed = orders_index(json!({"table": "Orders", "fields": ["text"]}));
    let stores = data.open_with(&narrowed);
    assert_eq!(indexed_ids(&stores), ["a", "b", "c"], "new declaration");
}

/// An item the index's mapping refuses is left out of the index, by the
/// stream and by the reconciliation at open alike: it never stops the
/// other items, nor a start.
#[test]
fn items_the_mapping_refuses_stop_neither_the_stream_nor_a_start() {
    let data = DataDir::new(vec![
        serde_json::from_value(json!({"name": "orders", "source": {"table": "Orders"},
            "mappings": {"properties": {"total": {"type": "long"}}}}))
        .expect("index"),
    ]);
    let refused: PutItemRequest = serde_json::from_value(json!({"TableName": "Orders",
        "Item": {"id": {"S": "b"}, "total": {"S": "not a number"}}}))
    .expect("request");
    {
        let stores = data.open();
        stores.dynamodb.put_item(&put("a", "fine")).expect("put");
        stores
            .dynamodb
            .put_item(&refused)
            .expect("the table takes it");
        assert_eq!(indexed_ids(&stores), ["a"]);
    }
    // A crash (no clean close): the next open reconciles, item `b` included.
    data.put_behind_the_index("c");
    assert_eq!(indexed_ids(&data.open()), ["a", "c"]);
}

/// An index the engine failed to write (here its files vanished) is left
/// out of the clean-close record, so the next open reconciles it.
#[test]
fn an_index_that_missed_a_write_is_reconciled_after_a_clean_close() {
    let data = DataDir::orders();
    {
        let stores = data.open();
        stores.dynamodb.put_item(&put("a", "first")).expect("put");
        std::fs::remove_dir_all(data.dir.path().join("indexes").join("orders")).expect("rm");
        stores
            .dynamodb
            .put_item(&put("b", "the index cannot take it"))
            .expect("the table takes it");
        stores.close().expect("close");
        assert_eq!(data.read_record()["indexes"], json!({}));
    }
    let stores = data.open();
    assert_eq!(indexed_ids(&stores), ["a", "b"], "reconciled");
    stores.close().expect("close");
    assert!(data.read_record()["indexes"]["orders"].is_object());
}

/// Concurrent writers share index commits, and each one finds its own
/// write in the index as soon as the write returns.
#[test]
fn concurrent_writers_read_their_writes_in_the_index() {
    let stores = Stores::open(
        None,
        &orders_table(),
        &orders_index(json!({"table": "Orders"})),
    )
    .expect("stores");
    std::thread::scope(|scope| {
        for writer in 0..8 {
            let stores = &stores;
            scope.spawn(move || {
                for n in 0..12 {
                    let id = format!("w{writer}-{n:02}");
                    stores
                        .dynamodb
                        .put_item(&put(&id, "concurrent"))
                        .expect("put");
                    let (status, body) =
                        stores
                            .opensearch
                            .handle("GET", &format!("/orders/_doc/{id}"), &[], None);
                    assert_eq!((status, &body["found"]), (200, &json!(true)), "{body}");
                }
            });
        }
    });
    assert_eq!(indexed_ids(&stores).len(), 96);
}

#[tokio::test]
async fn updates_and_batches_from_the_dynamodb_api_reach_the_index() {
    let server = common::start("orders").await;
    let item = |id: &str, text: &str| {
        json!({"PutRequest": {"Item": {"id": {"S": id}, "customer": {"S": "eve"},
            "status": {"S": "NEW"}, "createdAt": {"S": "2026-05-01"},
            "orderDescription": {"S": text}}}})
    };
    server
        .dynamodb_ok(
            "BatchWriteItem",
            json!({"RequestItems": {"Orders": [item("b1", "Copper pans"), item("b2", "Linen towels")]}}),
        )
        .await;
    server
        .dynamodb_ok(
            "UpdateItem",
            json!({"TableName": "Orders", "Key": {"id": {"S": "b1"}},
                   "UpdateExpression": "SET orderDescription = :d",
                   "ExpressionAttributeValues": {":d": {"S": "Cast iron skillet"}}}),
        )
        .await;
    server
        .dynamodb_ok(
            "BatchWriteItem",
            json!({"RequestItems": {"Orders": [{"DeleteRequest": {"Key": {"id": {"S": "b2"}}}}]}}),
        )
        .await;

    let search = |text: &'static str| {
        server.graphql(
            "query($t: String!) { searchOrders(text: $t) { id } }",
            json!({"t": text}),
        )
    };
    assert_eq!(
        search("skillet").await,
        json!({"data": {"searchOrders": [{"id": "b1"}]}})
    );
    assert_eq!(search("pans").await, json!({"data": {"searchOrders": []}}));
    assert_eq!(
        search("towels").await,
        json!({"data": {"searchOrders": []}})
    );
}
