//! DynamoDB's error model: one variant per exception name the service returns.

use serde::Serialize;

use crate::dynamodb::types::{AttributeValueError, Item};

/// Why one action of a transaction was cancelled, as in `CancellationReasons`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, ...
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The current item, when `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

impl CancellationReason {
    pub fn none() -> Self {
        CancellationReason {
            code: "None".into(),
            message: None,
            item: None,
        }
    }
}

/// A failed DynamoDB operation; `type_name` is the AWS exception name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Validation(String),
    #[error("Requested resource not found")]
    ResourceNotFound,
    #[error("{0}")]
    ResourceInUse(String),
    #[error("The conditional request failed")]
    ConditionalCheckFailed {
        /// The current item, when `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
        item: Option<Item>,
    },
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
        .reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    TransactionCanceled { reasons: Vec<CancellationReason> },
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Internal(String),
}

/// Result alias for the DynamoDB module.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn validation(msg: impl Into<String>) -> Self {
        Error::Validation(msg.into())
    }

    /// The exception name, e.g. `ConditionalCheckFailedException`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Error::Validation(_) => "ValidationException",
            Error::ResourceNotFound => "ResourceNotFoundException",
            Error::ResourceInUse(_) => "ResourceInUseException",
            Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            Error::TransactionCanceled { .. } => "TransactionCanceledException",
            Error::Serialization(_) => "SerializationException",
            Error::UnknownOperation(_) => "UnknownOperationException",
            Error::Internal(_) => "InternalServerError",
        }
    }

    /// The `__type` namespace prefix, which differs between exception families.
    pub fn type_namespace(&self) -> &'static str {
        match self {
            Error::Validation(_) => "com.amazon.coral.validate",
            Error::Serialization(_) | Error::UnknownOperation(_) => "com.amazon.coral.service",
            _ => "com.amazonaws.dynamodb.v20120810",
        }
    }

    /// HTTP status code DynamoDB answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Internal(_) => 500,
            _ => 400,
        }
    }
}

impl From<AttributeValueError> for Error {
    fn from(e: AttributeValueError) -> Self {
        match e {
            AttributeValueError::Validation(m) => Error::Validation(m),
            AttributeValueError::Serialization(m) => Error::Serialization(m),
        }
    }
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Internal(format!("storage error: {e}"))
    }
}

impl From<sled::transaction::TransactionError<Error>> for Error {
    fn from(e: sled::transaction::TransactionError<Error>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => e.into(),
        }
    }
}
