//! OpenSearch-compatible full-text indexes on tantivy.
//!
//! An [`Engine`] holds named indexes; each is a tantivy index plus its OpenSearch mapping.
//! Requests in OpenSearch's REST dialect go through [`Engine::handle`] (in process, for the
//! `AMAZON_OPENSEARCH_SERVICE` data source) or [`router`] (HTTP under `/opensearch`).
//!
//! ```
//! use appsync_local::opensearch::Engine;
//! use serde_json::json;
//!
//! let engine = Engine::in_memory();
//! let (status, _) = engine.handle("PUT", "/orders/_doc/1", &[], Some(json!({"text": "blue shoes"})));
//! assert_eq!(status, 201);
//! let (_, res) = engine.handle(
//!     "POST",
//!     "/orders/_search",
//!     &[],
//!     Some(json!({"query": {"match": {"text": "shoes"}}})),
//! );
//! assert_eq!(res["hits"]["total"]["value"], 1);
//! ```
//!
//! **Architecture Invariant:** nothing here knows about VTL, GraphQL or DynamoDB; tables
//! feed indexes through [`Engine::apply_change`] and [`Engine::reconcile`].

mod dsl;
mod engine;
mod error;
mod index;
mod mapping;
mod rest;
mod search;

pub use engine::{
    Body, Engine, OPENSEARCH_VERSION, OpenSearchParams, OpenSearchRequest, ReconcileReport,
};
pub use error::{Error, Result};
pub use index::{Generation, SearchIndex, StoredDoc, WriteOp, WriteResult};
pub use mapping::{FieldType, IndexDefinition, IndexSource, Mapping, Property};
pub use rest::{PATH_PREFIX, router};
pub use search::{SearchRequest, SortKind, SortSpec, SourceFilter};
