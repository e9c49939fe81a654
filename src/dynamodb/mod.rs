//! DynamoDB-compatible tables on sled.
//!
//! - [`types`]: attribute values in DynamoDB JSON, the exact decimal `N`,
//!   item sizes and the order-preserving key encoding.
//! - [`expression`]: condition, key condition, update and projection
//!   expressions with DynamoDB's validation messages.
//! - [`Database`]: tables and their operations; its docs state the
//!   consistency and durability guarantees and the change stream.
//! - [`api`]: request and response shapes of DynamoDB's JSON API.
//! - [`http`]: DynamoDB's JSON protocol over axum.
//! - [`appsync`]: AppSync's DynamoDB request documents and result shapes.
//!
//! ```
//! use appsync_local::dynamodb::{Database, PutItemRequest, QueryRequest, TableDefinition};
//! use serde_json::json;
//!
//! let flights: TableDefinition = serde_json::from_value(json!({
//!     "tableName": "Flights",
//!     "partitionKey": {"name": "id", "type": "S"},
//!     "sortKey": {"name": "departureDate", "type": "S"}
//! }))?;
//! let db = Database::temporary(&[flights])?;
//! let put: PutItemRequest = serde_json::from_value(json!({
//!     "TableName": "Flights",
//!     "Item": {"id": {"S": "LGW-MAD"}, "departureDate": {"S": "2026-01-02"}, "seats": {"N": "180"}}
//! }))?;
//! db.put_item(&put)?;
//! let query: QueryRequest = serde_json::from_value(json!({
//!     "TableName": "Flights",
//!     "KeyConditionExpression": "id = :id AND begins_with(departureDate, :month)",
//!     "ExpressionAttributeValues": {":id": {"S": "LGW-MAD"}, ":month": {"S": "2026-01"}}
//! }))?;
//! assert_eq!(db.query(&query)?.count, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod api;
pub mod appsync;
mod codec;
pub mod error;
pub mod expression;
pub mod http;
mod number;
mod store;
pub mod types;

pub use api::*;
pub use store::{
    Database, DatabaseConfig, DeclarationError, GlobalSecondaryIndex, IndexProjection,
    KeyAttribute, MAX_ITEM_SIZE, OpenError, ProjectionType, StreamConsumer, StreamRecord,
    TableDefinition, items_equal_ignoring,
};

pub use error::{CancellationReason, Error, Result};
pub use types::{AttributeValue, AttributeValueError, Item, Number, NumberError, PlainValueError};
