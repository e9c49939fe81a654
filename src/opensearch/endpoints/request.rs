//! AppSync's OpenSearch request mapping document.

use serde_json::Value;

use crate::opensearch::endpoints::routes::{self, Endpoint};
use crate::opensearch::error::{Error, Result};

/// AppSync's OpenSearch request mapping document:
/// `{"version", "operation", "path", "params": {"headers", "queryString", "body"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenSearchRequest {
    pub operation: String,
    pub path: String,
    pub params: OpenSearchParams,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenSearchParams {
    pub headers: Vec<(String, String)>,
    pub query_string: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl OpenSearchRequest {
    /// Reads a rendered request template. AppSync does not document its wording for bad
    /// templates, so the messages name the field and the problem.
    pub fn from_json(doc: &Value) -> Result<OpenSearchRequest> {
        let field = |name: &str| -> Result<String> {
            doc.get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::illegal(format!(
                        "Request template is missing the '{name}' field or it is not a string"
                    ))
                })
        };
        let operation = field("operation")?.to_ascii_uppercase();
        if !matches!(
            operation.as_str(),
            "GET" | "POST" | "PUT" | "HEAD" | "DELETE"
        ) {
            return Err(Error::illegal(format!(
                "Unsupported operation '{operation}': expected GET, POST, PUT, HEAD or DELETE"
            )));
        }
        let path = field("path")?;
        if !path.starts_with('/') {
            return Err(Error::illegal(format!("path '{path}' must start with '/'")));
        }
        let params = doc.get("params").cloned().unwrap_or(Value::Null);
        let pairs = |v: Option<&Value>| -> Vec<(String, String)> {
            v.and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let v = match v {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            (k.clone(), v)
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(OpenSearchRequest {
            operation,
            path,
            params: OpenSearchParams {
                headers: pairs(params.get("headers")),
                query_string: pairs(params.get("queryString")),
                body: params.get("body").cloned().filter(|b| !b.is_null()),
            },
        })
    }
}

impl OpenSearchRequest {
    /// `GET /{index}/_doc/{id}`: one stored document, cheaper to read inline than on
    /// the blocking pool.
    pub fn is_document_get(&self) -> bool {
        let path = self
            .path
            .split_once('?')
            .map_or(&*self.path, |(path, _)| path);
        self.operation.eq_ignore_ascii_case("GET")
            && routes::resolve(path).is_some_and(|r| r.endpoint == Endpoint::Document)
    }
}
