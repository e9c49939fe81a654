//! `$util.rds`: RDS Data API results as rows of `{column: value}`.

use base64::Engine as _;

use super::json::{parse_json, to_json_string};
use super::{Call, CallError};
use crate::vtl::value::{Map, Value};

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    match c.method {
        "toJsonObject" | "toJsonString" => {
            let sig = "(String)";
            c.arity(1, 1, sig)?;
            // The result arrives as text (`$ctx.result`); a parsed map works too.
            let result = match c.arg(0) {
                Value::Str(s) => {
                    parse_json(&s).map_err(|e| CallError::invalid(RdsError::Json(e)))?
                }
                v @ Value::Map(_) => v,
                _ => return Err(c.invalid(sig)),
            };
            let rows = statement_rows(&result.to_json()).map_err(CallError::invalid)?;
            Ok(if c.method == "toJsonString" {
                Value::str(to_json_string(&rows))
            } else {
                rows
            })
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Why an RDS result could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RdsError {
    #[error("Invalid RDS result: {0}")]
    Json(serde_json::Error),
    #[error("Invalid RDS result: no \"sqlStatementResults\" list")]
    NoStatements,
    #[error("Invalid RDS result: a record is not a list of fields")]
    BadRecord,
}

/// One list of row maps per statement in `sqlStatementResults`.
fn statement_rows(result: &serde_json::Value) -> Result<Value, RdsError> {
    let statements = result
        .get("sqlStatementResults")
        .and_then(serde_json::Value::as_array)
        .ok_or(RdsError::NoStatements)?;
    let mut out = Vec::with_capacity(statements.len());
    for statement in statements {
        let columns: Vec<String> = statement
            .pointer("/resultFrame/resultSetMetadata/columnMetadata")
            .or_else(|| statement.get("columnMetadata"))
            .and_then(serde_json::Value::as_array)
            .map(|cols| {
                cols.iter()
                    .map(|col| {
                        // The label carries `AS` aliases; the name is the fallback.
                        col.get("label")
                            .or_else(|| col.get("name"))
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let records = statement
            .pointer("/resultFrame/records")
            .or_else(|| statement.get("records"))
            .and_then(serde_json::Value::as_array);
        let mut rows = Vec::new();
        for record in records.into_iter().flatten() {
            let values = record
                .get("values")
                .or(Some(record))
                .and_then(serde_json::Value::as_array)
                .ok_or(RdsError::BadRecord)?;
            let mut row = Map::new();
            for (idx, field) in values.iter().enumerate() {
                let name = columns.get(idx).cloned().unwrap_or_else(|| idx.to_string());
                row.insert(name, field_value(field));
            }
            rows.push(Value::map(row));
        }
        out.push(Value::list(rows));
    }
    Ok(Value::list(out))
}

/// A Data API `Field` (`{"stringValue": "x"}`, `{"isNull": true}`, ...).
fn field_value(field: &serde_json::Value) -> Value {
    let Some(obj) = field.as_object() else {
        return Value::from_json(field);
    };
    if obj.get("isNull").and_then(serde_json::Value::as_bool) == Some(true) {
        return Value::Null;
    }
    for (key, v) in obj {
        match key.as_str() {
            "stringValue" | "longValue" | "doubleValue" | "booleanValue" => {
                return Value::from_json(v);
            }
            "blobValue" => {
                // Blobs arrive as base64 text or as a byte array.
                return match v {
                    serde_json::Value::Array(bytes) => {
                        let bytes: Vec<u8> = bytes
                            .iter()
                            .filter_map(|b| b.as_u64())
                            .map(|b| b as u8)
                            .collect();
                        Value::str(base64::engine::general_purpose::STANDARD.encode(bytes))
                    }
                    other => Value::from_json(other),
                };
            }
            "arrayValue" => return array_value(v),
            _ => {}
        }
    }
    Value::Null
}

/// A Data API `ArrayValue`: `{"stringValues": [...]}` or nested `{"arrayValues": [...]}`.
fn array_value(v: &serde_json::Value) -> Value {
    match v.as_object().and_then(|a| a.iter().next()) {
        Some((key, serde_json::Value::Array(items))) if key == "arrayValues" => {
            Value::list(items.iter().map(array_value).collect())
        }
        Some((_, items)) => Value::from_json(items),
        None => Value::list(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;

    const RESULT: &str = r#"{"sqlStatementResults":[{"numberOfRecordsUpdated":0,
        "records":[[{"stringValue":"Mark Twain"},{"longValue":1},{"isNull":true},{"doubleValue":1.5},{"booleanValue":true},
                    {"arrayValue":{"stringValues":["a","b"]}},
                    {"arrayValue":{"arrayValues":[{"longValues":[1,2]},{"longValues":[3]}]}}]],
        "columnMetadata":[{"name":"author","label":"author"},{"name":"id","label":"id"},{"name":"note"},
                          {"name":"score","label":"rating"},{"name":"ok"},{"name":"tags"},{"name":"grid"}]},
        {"numberOfRecordsUpdated":1,"records":[],"columnMetadata":[]}]}"#;

    #[test]
    fn rows_by_column() {
        let args = serde_json::json!([RESULT]).to_string();
        let rows = r#"[[{"author":"Mark Twain","id":1,"note":null,"rating":1.5,"ok":true,"tags":["a","b"],"grid":[[1,2],[3]]}],[]]"#;
        check("util.rds", "toJsonObject", &args, rows);
        check(
            "util.rds",
            "toJsonString",
            &args,
            &serde_json::to_string(rows).expect("json"),
        );
        check(
            "util.rds",
            "toJsonObject",
            r#"["{}"]"#,
            r#"!Invalid: Invalid RDS result: no "sqlStatementResults" list"#,
        );
        check(
            "util.rds",
            "toJsonObject",
            r#"["{"]"#,
            "!Invalid: Invalid RDS result: EOF while parsing an object at line 1 column 1",
        );
    }
}
