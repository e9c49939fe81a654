//! The project model: the manifest (`appsync.yaml`), the schema and
//! AppSync's scalars, as plain data.
//!
//! Architecture invariant: the model does no IO and knows nothing of
//! execution: nothing here imports `execution`, `server`, `stores`,
//! `datasource` or `loader` (enforced by `tests/architecture.rs`). The loader
//! reads the files and turns the model into an executable schema.

pub mod manifest;
pub mod plugin_forms;
pub mod scalars;
pub mod schema;
pub mod source;
