//! AppSync request documents run against a database; the snapshot records
//! each `$ctx.result` or `$ctx.error` in order.

use appsync_local::dynamodb::Database;
use appsync_local::dynamodb::appsync::execute;
use serde_json::{Value, json};

fn flights() -> appsync_local::dynamodb::TableDefinition {
    serde_json::from_value(json!({
        "tableName": "Flights",
        "partitionKey": {"name": "id", "type": "S"},
        "globalSecondaryIndexes": [{
            "indexName": "byDeparture",
            "partitionKey": {"name": "departureAirportCode", "type": "S"},
            "sortKey": {"name": "departureDate", "type": "S"}
        }]
    }))
    .expect("definition")
}

/// Request IDs are random; everything else must match exactly.
fn redact(message: &str) -> String {
    match message.find("Request ID: ") {
        Some(i) => format!("{}Request ID: <id>)", &message[..i]),
        None => message.to_string(),
    }
}

#[test]
fn appsync_requests() {
    insta::glob!("dynamodb_appsync/*.json", |path| {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        // A fixture is a list of steps on the Flights table, or an object
        // with its own tables, table and steps.
        let (tables, table, steps) = match &fixture {
            Value::Array(steps) => (vec![flights()], "Flights".to_string(), steps.clone()),
            other => (
                serde_json::from_value(other["tables"].clone()).expect("tables"),
                other["table"].as_str().expect("table").to_string(),
                other["steps"].as_array().expect("steps").clone(),
            ),
        };
        let db = Database::temporary(&tables).expect("db");
        let mut out = String::new();
        if let Some(note) = fixture.get("note").and_then(Value::as_str) {
            out.push_str(&format!("## {note}\n"));
        }
        let mut next_token = Value::Null;
        for step in steps {
            let mut request = step["request"].clone();
            if request["nextToken"] == "$previousNextToken" {
                request["nextToken"] = next_token.clone();
            }
            let result = match execute(&db, &table, &request) {
                Ok(v) => {
                    if let Some(t) = v.get("nextToken") {
                        next_token = t.clone();
                    }
                    format!("result: {v}")
                }
                Err(e) => format!(
                    "error: {} {}{}",
                    e.error_type,
                    redact(&e.message),
                    e.data.map(|d| format!("\n  data: {d}")).unwrap_or_default()
                ),
            };
            if let Some(note) = step["note"].as_str() {
                out.push_str(&format!("# {note}\n"));
            }
            out.push_str(&format!(
                "{} {}\n  {result}\n",
                request["operation"].as_str().unwrap_or("?"),
                request["version"].as_str().unwrap_or("?")
            ));
        }
        insta::assert_snapshot!(out);
    });
}
