//! An acknowledged write survives `kill -9`: a child process (this test
//! binary in writer mode) writes from several threads and prints each key
//! once `put_item` has returned; the parent kills it mid-stream, reopens the
//! data directory and checks every printed key.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use appsync_local::dynamodb::{Database, DatabaseConfig, TableDefinition};
use serde_json::json;

const WRITER_ENV: &str = "APPSYNC_LOCAL_DURABILITY_WRITER_DIR";
const THREADS: usize = 4;

fn table() -> TableDefinition {
    serde_json::from_value(json!({
        "tableName": "Durable",
        "partitionKey": {"name": "pk", "type": "S"},
        "globalSecondaryIndexes": [{"indexName": "byThread", "partitionKey": {"name": "thread", "type": "N"}, "sortKey": {"name": "pk", "type": "S"}}]
    }))
    .expect("definition")
}

fn config(dir: &std::path::Path) -> DatabaseConfig {
    DatabaseConfig {
        path: Some(dir.to_path_buf()),
        durable: true,
    }
}

fn writer(dir: &str) {
    let db = Database::open(&config(std::path::Path::new(dir)), &[table()]).expect("open");
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let db = &db;
            s.spawn(move || {
                // Bounded so an orphaned writer cannot run forever.
                for i in 0..100_000 {
                    let key = format!("t{t}-{i}");
                    let req = serde_json::from_value(json!({
                        "TableName": "Durable",
                        "Item": {"pk": {"S": key}, "thread": {"N": t.to_string()}, "payload": {"S": "x".repeat(200)}}
                    }))
                    .expect("request");
                    db.put_item(&req).expect("put");
                    println!("ACK {key}");
                }
            });
        }
    });
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if let Ok(dir) = std::env::var(WRITER_ENV) {
        writer(&dir);
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "acknowledged_writes_survive_kill_9",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("stdout");
    let mut acked = Vec::new();
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(key) = line.strip_prefix("ACK ") {
            acked.push(key.to_string());
        }
        if acked.len() == 400 && !killed {
            // SIGKILL: no destructors, no flush on exit.
            child.kill().expect("kill -9");
            killed = true;
        }
    }
    let status = child.wait().expect("wait");
    assert!(
        killed && !status.success(),
        "writer must die by the kill, status {status:?}"
    );
    assert!(acked.len() >= 400);

    let db = Database::open(&config(dir.path()), &[table()]).expect("reopen after kill");
    for key in &acked {
        let req =
            serde_json::from_value(json!({"TableName": "Durable", "Key": {"pk": {"S": key}}}))
                .expect("request");
        let got = db.get_item(&req).expect("get");
        assert!(got.item.is_some(), "acknowledged write {key} was lost");
    }
    // Index entries were committed with their items.
    let mut indexed = 0;
    for t in 0..THREADS {
        let req = serde_json::from_value(json!({
            "TableName": "Durable", "IndexName": "byThread", "Select": "COUNT",
            "KeyConditionExpression": "thread = :t", "ExpressionAttributeValues": {":t": {"N": t.to_string()}}
        }))
        .expect("request");
        indexed += db.query(&req).expect("query").count;
    }
    let all =
        serde_json::from_value(json!({"TableName": "Durable", "Select": "COUNT"})).expect("scan");
    assert_eq!(indexed, db.scan(&all).expect("scan").count);
}
