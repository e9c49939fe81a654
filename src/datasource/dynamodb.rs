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
            // A GetItem reads one item of at most 400 KB, mostly from sled's
            // cache: microseconds, less than handing it to the blocking pool
            // and back. Everything else may scan a megabyte or wait for an
            // fsync, so it stays off the async workers.
            let outcome = if request.get("operation").and_then(Json::as_str) == Some("GetItem") {
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
