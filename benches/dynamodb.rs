//! In-process DynamoDB store benchmarks: GetItem, durable PutItem, a
//! 100-item Query from a 100k-item table, and the same through a GSI.
//!
//! Run: `cargo bench --bench dynamodb`

use std::hint::black_box;

use appsync_local::dynamodb::{
    BatchWriteItemRequest, Database, DatabaseConfig, GetItemRequest, PutItemRequest, QueryRequest,
    TableDefinition,
};
use criterion::{Criterion, criterion_group, criterion_main};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const PARTITIONS: usize = 1_000;
const PER_PARTITION: usize = 100;

fn req<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("request")
}

fn table() -> TableDefinition {
    req(json!({
        "tableName": "Bench",
        "partitionKey": {"name": "pk", "type": "S"},
        "sortKey": {"name": "sk", "type": "N"},
        "globalSecondaryIndexes": [{
            "indexName": "byGroup",
            "partitionKey": {"name": "group", "type": "S"},
            "sortKey": {"name": "date", "type": "S"}
        }]
    }))
}

fn item(p: usize, s: usize) -> Value {
    json!({
        "pk": {"S": format!("partition-{p}")},
        "sk": {"N": s.to_string()},
        // Each GSI partition also gathers 100 items, spread over the table.
        "group": {"S": format!("group-{}", (p * PER_PARTITION + s) % PARTITIONS)},
        "date": {"S": format!("2026-01-{:02}#{p}-{s}", s % 28 + 1)},
        "name": {"S": "a flight with a realistic amount of text"},
        "price": {"N": "123.45"},
        "seats": {"N": "180"}
    })
}

fn populated() -> Database {
    let db = Database::temporary(&[table()]).expect("db");
    let items: Vec<Value> = (0..PARTITIONS)
        .flat_map(|p| (0..PER_PARTITION).map(move |s| item(p, s)))
        .collect();
    for chunk in items.chunks(25) {
        let writes: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"PutRequest": {"Item": i}}))
            .collect();
        db.batch_write_item(&req::<BatchWriteItemRequest>(
            json!({"RequestItems": {"Bench": writes}}),
        ))
        .expect("seed");
    }
    db
}

fn benches(c: &mut Criterion) {
    let db = populated();
    let get: GetItemRequest = req(
        json!({"TableName": "Bench", "Key": {"pk": {"S": "partition-500"}, "sk": {"N": "42"}}}),
    );
    c.bench_function("dynamodb/GetItem (100k items)", |b| {
        b.iter(|| black_box(db.get_item(&get).expect("get")))
    });
    let query: QueryRequest = req(json!({
        "TableName": "Bench", "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "partition-500"}}
    }));
    c.bench_function("dynamodb/Query 100 of 100k items", |b| {
        b.iter(|| {
            let out = db.query(&query).expect("query");
            assert_eq!(out.count, PER_PARTITION);
            black_box(out)
        })
    });
    let gsi: QueryRequest = req(json!({
        "TableName": "Bench", "IndexName": "byGroup", "KeyConditionExpression": "#g = :g",
        "ExpressionAttributeNames": {"#g": "group"},
        "ExpressionAttributeValues": {":g": {"S": "group-7"}}
    }));
    c.bench_function("dynamodb/GSI Query 100 of 100k items", |b| {
        b.iter(|| {
            let out = db.query(&gsi).expect("query");
            assert_eq!(out.count, PER_PARTITION);
            black_box(out)
        })
    });

    let mut m = 0usize;
    c.bench_function("dynamodb/PutItem not durable", |b| {
        b.iter(|| {
            m += 1;
            let put: PutItemRequest =
                req(json!({"TableName": "Bench", "Item": item(m % PARTITIONS, 1_000_000 + m)}));
            black_box(db.put_item(&put).expect("put"))
        })
    });

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let durable = Database::open(
        &DatabaseConfig {
            path: Some(dir.path().to_path_buf()),
            durable: true,
        },
        &[table()],
    )
    .expect("durable db");
    let mut n = 0usize;
    c.bench_function("dynamodb/PutItem durable (fsync)", |b| {
        b.iter(|| {
            n += 1;
            let put: PutItemRequest =
                req(json!({"TableName": "Bench", "Item": item(n % PARTITIONS, n)}));
            black_box(durable.put_item(&put).expect("put"))
        })
    });
    // Concurrent writers share flushes: time per batch of 4 × 16 puts.
    let mut round = 0usize;
    c.bench_function("dynamodb/PutItem durable, 4 threads x 16 puts", |b| {
        b.iter(|| {
            round += 1;
            std::thread::scope(|s| {
                for t in 0..4 {
                    let durable = &durable;
                    s.spawn(move || {
                        for i in 0..16 {
                            let put: PutItemRequest = req(json!({"TableName": "Bench", "Item": item(t, 1_000_000 + round * 64 + t * 16 + i)}));
                            durable.put_item(&put).expect("put");
                        }
                    });
                }
            });
        })
    });
}

criterion_group! {
    name = dynamodb;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(dynamodb);
