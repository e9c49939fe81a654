//! OpenSearch's error shape: `{"error": {"root_cause": [..], "type", "reason"}, "status"}`.

use serde_json::{Value, json};

/// An error reported to OpenSearch clients with OpenSearch's `type` names.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// `GET /missing/_search` and friends.
    #[error("no such index [{index}]")]
    IndexNotFound { index: String },
    /// `PUT /existing`.
    #[error("index [{index}] already exists")]
    IndexAlreadyExists { index: String },
    /// Malformed query DSL or request body: wording follows OpenSearch (`unknown query [foo]`).
    #[error("{reason}")]
    Parsing { reason: String },
    /// A request OpenSearch rejects before parsing the query (bad parameters, body shape).
    #[error("{reason}")]
    IllegalArgument { reason: String },
    /// A mapping or a document value that does not fit its mapping.
    #[error("{reason}")]
    MapperParsing { reason: String },
    /// A query that parsed but cannot run against this mapping (e.g. `"abc"` on a long field).
    #[error("{reason}")]
    QueryShard { index: String, reason: String },
    /// `PUT /Bad_Name`.
    #[error("{reason}")]
    InvalidIndexName { index: String, reason: String },
    /// A field not in a `"dynamic": "strict"` mapping.
    #[error(
        "mapping set to strict, dynamic introduction of [{field}] within [_doc] is not allowed"
    )]
    StrictDynamicMapping { field: String },
    /// `_update` on a missing document.
    #[error("[{id}]: document missing")]
    DocumentMissing { index: String, id: String },
    /// `_create` (or `op_type=create`) on an existing document.
    #[error("[{id}]: version conflict, document already exists (current version [{version}])")]
    VersionConflict {
        index: String,
        id: String,
        version: u64,
    },
    /// Unknown path or method.
    #[error("no handler found for uri [{uri}] and method [{method}]")]
    NoHandler { uri: String, method: String },
    /// The search engine itself failed (IO, tantivy).
    #[error("{0}")]
    Internal(String),
}

/// Result alias for the OpenSearch module.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn parsing(reason: impl Into<String>) -> Self {
        Error::Parsing {
            reason: reason.into(),
        }
    }

    pub fn illegal(reason: impl Into<String>) -> Self {
        Error::IllegalArgument {
            reason: reason.into(),
        }
    }

    pub fn mapper(reason: impl Into<String>) -> Self {
        Error::MapperParsing {
            reason: reason.into(),
        }
    }

    /// The engine itself failed, rather than refusing the request.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Internal(_))
    }

    /// OpenSearch's exception type name.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::IndexNotFound { .. } => "index_not_found_exception",
            Error::IndexAlreadyExists { .. } => "resource_already_exists_exception",
            Error::Parsing { .. } => "parsing_exception",
            Error::IllegalArgument { .. } => "illegal_argument_exception",
            Error::MapperParsing { .. } => "mapper_parsing_exception",
            Error::QueryShard { .. } => "query_shard_exception",
            Error::InvalidIndexName { .. } => "invalid_index_name_exception",
            Error::StrictDynamicMapping { .. } => "strict_dynamic_mapping_exception",
            Error::DocumentMissing { .. } => "document_missing_exception",
            Error::VersionConflict { .. } => "version_conflict_engine_exception",
            Error::NoHandler { .. } => "no_handler_found_exception",
            Error::Internal(_) => "exception",
        }
    }

    /// HTTP status OpenSearch uses for this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::IndexNotFound { .. } | Error::DocumentMissing { .. } => 404,
            Error::VersionConflict { .. } => 409,
            Error::NoHandler { .. } => 400,
            Error::Internal(_) => 500,
            _ => 400,
        }
    }

    fn index(&self) -> Option<&str> {
        match self {
            Error::IndexNotFound { index }
            | Error::IndexAlreadyExists { index }
            | Error::InvalidIndexName { index, .. }
            | Error::QueryShard { index, .. }
            | Error::DocumentMissing { index, .. }
            | Error::VersionConflict { index, .. } => Some(index),
            _ => None,
        }
    }

    /// The error object OpenSearch puts under `error` (also used per item in `_bulk`).
    pub fn cause(&self) -> Value {
        let mut cause = json!({ "type": self.error_type(), "reason": self.to_string() });
        if let Some(index) = self.index() {
            cause["index"] = json!(index);
            cause["index_uuid"] = json!("_na_");
        }
        if let Error::IndexNotFound { index } | Error::IndexAlreadyExists { index } = self {
            cause["resource.type"] = json!("index_or_alias");
            cause["resource.id"] = json!(index);
        }
        if let Error::DocumentMissing { id, .. } | Error::VersionConflict { id, .. } = self {
            cause["shard"] = json!("0");
            let _ = id;
        }
        cause
    }

    /// The full response body: `{"error": {..., "root_cause": [...]}, "status": N}`.
    pub fn to_body(&self) -> Value {
        let cause = self.cause();
        let mut error = json!({ "root_cause": [cause.clone()] });
        if let (Value::Object(error), Value::Object(cause)) = (&mut error, cause) {
            error.extend(cause);
        }
        json!({ "error": error, "status": self.status() })
    }
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(e.to_string())
    }
}
