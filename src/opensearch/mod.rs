//! OpenSearch-compatible full-text indexes on tantivy.
