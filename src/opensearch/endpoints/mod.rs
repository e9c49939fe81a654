//! The OpenSearch REST API on an [`Engine`]: one entry for HTTP and the data source,
//! routed by [`routes`], answered by the module of each API family.

mod bulk;
mod documents;
mod indices;
mod request;
pub(crate) mod routes;
mod search;

use std::time::Instant;

use serde_json::{Value, json};

use crate::opensearch::engine::Engine;
use crate::opensearch::error::{Error, Result};
use routes::{Endpoint, Route};

pub use request::{OpenSearchParams, OpenSearchRequest};

/// The OpenSearch version we answer to `GET /`; clients check the major version.
pub const OPENSEARCH_VERSION: &str = "2.13.0";

/// A request body: JSON for most endpoints, NDJSON text for `_bulk`.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Ndjson(String),
}

/// A path and the query string in it, if any: in-process callers may put the query
/// string in the path, as curl users do.
fn split_query<'a>(path: &'a str, query: &[(String, String)]) -> (&'a str, Vec<(String, String)>) {
    let mut params = query.to_vec();
    match path.split_once('?') {
        Some((path, qs)) => {
            params.extend(form_urlencoded::parse(qs.as_bytes()).into_owned());
            (path, params)
        }
        None => (path, params),
    }
}

fn is_bulk(route: Option<&Route>) -> bool {
    route.is_some_and(|r| r.endpoint == Endpoint::Bulk)
}

impl Engine {
    /// In-process REST entry point (the AppSync data source): JSON in, (status, JSON) out.
    /// For `_bulk`, `body` is the NDJSON text as a string, or an array of action/source
    /// objects.
    pub fn handle(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let (path, query) = split_query(path, query);
        let route = routes::resolve(path);
        let body = match body {
            None | Some(Value::Null) => Body::None,
            Some(Value::String(s)) if is_bulk(route.as_ref()) => Body::Ndjson(s),
            Some(Value::Array(lines)) if is_bulk(route.as_ref()) => Body::Ndjson(
                lines
                    .iter()
                    .map(|l| l.to_string() + "\n")
                    .collect::<String>(),
            ),
            Some(v) => Body::Json(v),
        };
        self.dispatch(method, path, route, &query, body)
    }

    /// Runs an `AMAZON_OPENSEARCH_SERVICE` data source request (the rendered request
    /// template). `$ctx.result` is the returned body, whatever the status.
    pub fn handle_data_source_request(&self, request: &OpenSearchRequest) -> (u16, Value) {
        self.handle(
            &request.operation,
            &request.path,
            &request.params.query_string,
            request.params.body.clone(),
        )
    }

    /// HTTP entry point: raw body bytes, parsed per endpoint.
    pub fn handle_bytes(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: &[u8],
    ) -> (u16, Value) {
        let (path, query) = split_query(path, query);
        let route = routes::resolve(path);
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            Body::None
        } else if is_bulk(route.as_ref()) {
            match std::str::from_utf8(body) {
                Ok(s) => Body::Ndjson(s.to_string()),
                Err(_) => return error(Error::parsing("request body is not valid UTF-8")),
            }
        } else {
            match serde_json::from_slice(body) {
                Ok(v) => Body::Json(v),
                Err(e) => {
                    return error(Error::parsing(format!("Failed to parse request body: {e}")));
                }
            }
        };
        self.dispatch(method, path, route, &query, body)
    }

    fn dispatch(
        &self,
        method: &str,
        path: &str,
        route: Option<Route>,
        query: &[(String, String)],
        body: Body,
    ) -> (u16, Value) {
        let started = Instant::now();
        let method = method.to_ascii_uppercase();
        let no_handler = || Error::NoHandler {
            uri: path.to_string(),
            method: method.clone(),
        };
        let res = match route {
            Some(route) => self
                .serve(&method, &route, query, body, started)
                .unwrap_or_else(|| Err(no_handler())),
            None => Err(no_handler()),
        };
        res.unwrap_or_else(error)
    }

    /// Answers a routed request; `None` when the endpoint does not take the method.
    fn serve(
        &self,
        method: &str,
        route: &Route,
        query: &[(String, String)],
        body: Body,
        started: Instant,
    ) -> Option<Result<(u16, Value)>> {
        let index = route.index.as_deref();
        let id = route.id.as_deref();
        let json_body = match &body {
            Body::Json(v) => Some(v),
            _ => None,
        };
        // Routes that name an index or an id always carry it.
        let (index_name, id_name) = (index.unwrap_or_default(), id.unwrap_or_default());
        // ES 6 types are any name but a reserved one.
        let typed = route
            .doc_type
            .as_deref()
            .is_some_and(|t| !t.starts_with('_'));
        Some(match (method, route.endpoint) {
            ("GET" | "HEAD", Endpoint::Root) => Ok((200, cluster_info())),
            ("POST" | "PUT", Endpoint::Bulk) => self.bulk(index, &body, query, started),
            ("POST" | "GET", Endpoint::Refresh) => self.refresh(index),
            ("GET" | "POST", Endpoint::Search) => {
                self.search(index.unwrap_or("_all"), json_body, query, started)
            }
            ("GET" | "POST", Endpoint::Count) => {
                self.count(index.unwrap_or("_all"), json_body, query)
            }
            ("PUT", Endpoint::Index) => self.put_index(index_name, json_body),
            ("DELETE", Endpoint::Index) => self
                .delete_index(index_name)
                .map(|()| (200, json!({"acknowledged": true}))),
            ("HEAD", Endpoint::Index) => match self.index(index_name) {
                Ok(_) => Ok((200, Value::Null)),
                Err(_) => Ok((404, Value::Null)),
            },
            ("GET", Endpoint::Index) => self.get_index(index_name),
            ("GET", Endpoint::Mapping) => self.get_mapping(index_name),
            ("PUT" | "POST", Endpoint::Mapping) => self.put_mapping(index_name, json_body),
            ("POST", Endpoint::NewDocument) => {
                self.write_doc(index_name, None, json_body, query, false)
            }
            ("PUT" | "POST", Endpoint::Document) => {
                let create = param(query, "op_type") == Some("create");
                self.write_doc(index_name, Some(id_name), json_body, query, create)
            }
            ("PUT" | "POST", Endpoint::Create) => {
                self.write_doc(index_name, Some(id_name), json_body, query, true)
            }
            ("GET" | "HEAD", Endpoint::Document) => self.get_doc(index_name, id_name, query, false),
            ("GET", Endpoint::Source) => self.get_doc(index_name, id_name, query, true),
            ("DELETE", Endpoint::Document) => self.delete_doc(index_name, id_name, query),
            ("POST", Endpoint::Update) => self.update_doc(index_name, id_name, json_body, query),
            ("GET" | "POST", Endpoint::Mget) => self.mget(index_name, json_body),
            ("POST", Endpoint::DeleteByQuery) => {
                self.delete_by_query(index_name, json_body, started)
            }
            ("GET", Endpoint::TypedDocument) if typed => {
                self.get_doc(index_name, id_name, query, false)
            }
            ("PUT" | "POST", Endpoint::TypedDocument) if typed && !id_name.starts_with('_') => {
                self.write_doc(index_name, Some(id_name), json_body, query, false)
            }
            ("DELETE", Endpoint::TypedDocument) if typed => {
                self.delete_doc(index_name, id_name, query)
            }
            _ => return None,
        })
    }
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn missing_body() -> Error {
    Error::parsing("request body is required")
}

fn error(e: Error) -> (u16, Value) {
    (e.status(), e.to_body())
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

fn cluster_info() -> Value {
    json!({
        "name": "appsync-local",
        "cluster_name": "appsync-local",
        "cluster_uuid": "appsync-local",
        "version": {
            "distribution": "opensearch",
            "number": OPENSEARCH_VERSION,
            "lucene_version": "9.10.0",
            "minimum_wire_compatibility_version": "7.10.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "The OpenSearch Project: https://opensearch.org/",
    })
}
