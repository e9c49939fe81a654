//! `AMAZON_DYNAMODB`: AppSync's DynamoDB request documents against the
//! embedded tables.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::datasource::{DataSource, DataSourceError, InvocationInfo};
use crate::dynamodb::{Database, appsync};
use crate::graphql::BoxFuture;

#[derive(Debug)]
pub struct DynamoDbDataSource {
    pub database: Arc<Database>,
    /// `config.tableName`: the table that requests without a `table` name use.
    pub table_name: String,
}

impl DataSource for DynamoDbDataSource {
    fn invoke<'a>(
        &'a self,
        request: Json,
        _info: InvocationInfo<'a>,
    ) -> BoxFuture<'a, Result<Json, DataSourceError>> {
        let database = Arc::clone(&self.database);
        let table = self.table_name.clone();
        Box::pin(async move {
            let outcome = if is_small_read(&request) {
                Ok(appsync::execute(&database, &table, &request))
            } else {
                tokio::task::spawn_blocking(move || appsync::execute(&database, &table, &request))
                    .await
            };
            match outcome {
                Ok(Ok(result)) => Ok(result),
                Ok(Err(err)) => Err(DataSourceError {
                    error_type: err.error_type,
                    message: err.message,
                    data: err.data,
                }),
                Err(join) => Err(DataSourceError::new(
                    "InternalFailure",
                    format!("the DynamoDB operation failed: {join}"),
                )),
            }
        })
    }
}

/// A read of a few items, mostly from sled's cache: microseconds, less than
/// handing it to the blocking pool and back. Other operations may read a
/// megabyte or wait for an fsync, so they stay off the async workers.
fn is_small_read(request: &Json) -> bool {
    const SMALL_LIMIT: u64 = 100;
    match request.get("operation").and_then(Json::as_str) {
        Some("GetItem") => true,
        // `limit` bounds the items read, before any filter, as in DynamoDB.
        Some("Query" | "Scan") => request
            .get("limit")
            .and_then(Json::as_u64)
            .is_some_and(|limit| limit <= SMALL_LIMIT),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bounded_reads_run_inline() {
        assert!(is_small_read(&json!({"operation": "GetItem"})));
        assert!(is_small_read(&json!({"operation": "Query", "limit": 10})));
        assert!(!is_small_read(&json!({"operation": "Query"})));
        assert!(!is_small_read(&json!({"operation": "Scan", "limit": 1000})));
        assert!(!is_small_read(
            &json!({"operation": "Query", "limit": "10"})
        ));
        assert!(!is_small_read(&json!({"operation": "PutItem"})));
        assert!(!is_small_read(&json!({"operation": "BatchGetItem"})));
    }
}
