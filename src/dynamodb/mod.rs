//! DynamoDB-compatible tables on sled.
//!
//! - [`types`]: attribute values in DynamoDB JSON, the exact decimal `N`,
//!   item sizes and the order-preserving key encoding.
//! - [`expression`]: condition, key condition, update and projection
//!   expressions with DynamoDB's validation messages.
//! - `store`: the [`Database`] and its operations (see its docs for the
//!   durability guarantee).
//! - [`http`]: DynamoDB's JSON protocol over axum.
//! - [`appsync`]: AppSync's DynamoDB request documents and result shapes.

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
    Database, DatabaseConfig, GlobalSecondaryIndex, IndexProjection, KeyAttribute, Listener,
    MAX_ITEM_SIZE, OpenError, ProjectionType, StreamRecord, TableDefinition, items_equal_ignoring,
};

pub use error::{CancellationReason, Error, Result};
pub use types::{AttributeValue, Item, Number, NumberError};
