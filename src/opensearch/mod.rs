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
//! # Design
//!
//! - Each index is a tantivy index (a directory per mapping generation under
//!   `<data dir>/<index>/`, or RAM) with its [`IndexDefinition`] persisted beside it in
//!   `index.json`. Every mapped leaf path is its own typed tantivy field named by its dotted
//!   path (`customer.city`, `title.keyword`), so queries, sorts and aggregations use the
//!   user's field names directly. `_source` is stored JSON; `_id` is a raw keyword.
//! - tantivy schemas are fixed, so dynamic mapping that adds a field builds the next
//!   generation and reindexes the stored `_source` of every document (once per new field;
//!   `_bulk` pays it at most once per new field, not per document).
//! - One `IndexWriter` per index behind a mutex. Every write call ends with a commit and a
//!   reader reload (`ReloadPolicy::Manual`): read-your-writes whatever `?refresh` says.
//!   `_bulk`, `reconcile` and `_delete_by_query` commit once per batch.
//! - `_seq_no` counts writes per index and never goes back, across deletes and restarts:
//!   each commit carries the next one as its payload, so opening an index reads it from
//!   the last commit instead of from the documents.
//! - Paths are routed by one `matchit` table (`endpoints/routes.rs`), for HTTP and the
//!   data source alike; each API family has its module under `endpoints/`.
//! - The query DSL compiles straight from JSON to tantivy queries (`dsl/`), with
//!   OpenSearch's error wording; `search/` runs them and shapes the response.
//!
//! # Differences from OpenSearch (deliberate simplifications)
//!
//! - One shard, no replicas, no aliases, no scripts (`_update` with `script` is rejected),
//!   no `_msearch`, no optimistic concurrency (`if_seq_no`). Searches over several indexes
//!   (`a,b`, `logs-*`, `_all`) merge per-index results; aggregations need a single index.
//! - Scores are tantivy's BM25 on one shard: close to, not equal to, OpenSearch's. Fuzzy
//!   and prefix-style queries score a constant, like OpenSearch's rewritten constant-score
//!   queries.
//! - Analyzers: `standard` (tokenise on non-alphanumerics, lowercase), `english` (plus stop
//!   words and Porter stemming), `whitespace`, `keyword`. No custom analysis settings.
//! - `query_string` and `simple_query_string` are parsed with tantivy's query grammar
//!   (fields, AND/OR/NOT, `+`/`-`, phrases with slop, `"phrase"*`, wildcards, ranges, `IN`
//!   sets, boosts, `field:*`, `/regex/`) and translated to the DSL above; no fuzzy
//!   `term~2` terms.
//! - `nested` fields are flattened like objects; `nested` queries apply their inner query.
//! - Aggregations are tantivy's Elasticsearch-compatible ones: `date_histogram` accepts
//!   `fixed_interval` and the calendar units minute, hour and day, not weeks, months or
//!   years (tantivy has no calendar-aligned buckets).
//! - Highlighting returns one fragment per value (tantivy's `SnippetGenerator`).
//!
//! **Architecture Invariant:** nothing here knows about VTL, GraphQL or DynamoDB; tables
//! feed indexes through [`Engine::apply_change`] and [`Engine::reconcile`].

mod dsl;
mod endpoints;
mod engine;
mod error;
mod index;
mod mapping;
mod rest;
mod search;

pub use endpoints::{Body, OPENSEARCH_VERSION, OpenSearchParams, OpenSearchRequest};
pub use engine::{Engine, ReconcileReport};
pub use error::{Error, Result};
pub use index::{Generation, SearchIndex, StoredDoc, WriteOp, WriteResult};
pub use mapping::{FieldType, IndexDefinition, IndexSource, Mapping, Property};
pub use rest::{PATH_PREFIX, router};
pub use search::{SearchRequest, SortKind, SortSpec, SourceFilter};
