//! The set of indexes and the REST request dispatcher shared by HTTP and the data source.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use serde_json::{Value, json};

use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::{SearchIndex, StoredDoc, WriteOp, WriteResult, project_fields};
use crate::opensearch::mapping::{IndexDefinition, Mapping};
use crate::opensearch::search::{self, SearchRequest};

/// The OpenSearch version we answer to `GET /`; clients check the major version.
pub const OPENSEARCH_VERSION: &str = "2.13.0";

/// Named indexes, on disk under a data directory or in RAM.
pub struct Engine {
    data_dir: Option<PathBuf>,
    indexes: RwLock<BTreeMap<String, Arc<SearchIndex>>>,
}

/// What [`Engine::reconcile`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub upserted: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Items the mapping refuses (e.g. text in a `long` field): left out,
    /// as a Streams → OpenSearch pipeline would skip them.
    pub refused: usize,
    /// Why the first refused item was refused.
    pub first_refusal: Option<String>,
}

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

/// A request body: JSON for most endpoints, NDJSON text for `_bulk`.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Ndjson(String),
}

impl Default for Engine {
    fn default() -> Self {
        Engine::in_memory()
    }
}

impl Engine {
    /// Indexes live in RAM and vanish with the engine (tests, `--in-memory`).
    pub fn in_memory() -> Engine {
        Engine {
            data_dir: None,
            indexes: RwLock::new(BTreeMap::new()),
        }
    }

    /// Opens every index persisted under `dir` (one sub-directory per index).
    pub fn open(dir: &Path) -> Result<Engine> {
        std::fs::create_dir_all(dir)?;
        let mut indexes = BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.path().join("index.json").exists() {
                let index = SearchIndex::open(entry.path())?;
                indexes.insert(index.name().to_string(), Arc::new(index));
            }
        }
        Ok(Engine {
            data_dir: Some(dir.to_path_buf()),
            indexes: RwLock::new(indexes),
        })
    }

    pub fn index_names(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<SearchIndex>>> {
        self.indexes.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<SearchIndex>>> {
        self.indexes.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn index(&self, name: &str) -> Result<Arc<SearchIndex>> {
        self.read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::IndexNotFound {
                index: name.to_string(),
            })
    }

    /// `PUT /{index}`: fails if the index exists.
    pub fn create_index(&self, definition: IndexDefinition) -> Result<Arc<SearchIndex>> {
        validate_index_name(&definition.name)?;
        definition.mappings.compile()?;
        let mut indexes = self.write();
        if indexes.contains_key(&definition.name) {
            return Err(Error::IndexAlreadyExists {
                index: definition.name,
            });
        }
        let dir = self.data_dir.as_ref().map(|d| d.join(&definition.name));
        let name = definition.name.clone();
        let index = Arc::new(SearchIndex::create(definition, dir)?);
        indexes.insert(name, index.clone());
        Ok(index)
    }

    /// For manifest-declared indexes: keeps an existing index and its documents, adding
    /// any newly declared fields to its mapping and taking the declared source table.
    pub fn ensure_index(&self, definition: IndexDefinition) -> Result<Arc<SearchIndex>> {
        if let Ok(index) = self.index(&definition.name) {
            index.put_mapping(&definition.mappings)?;
            index.set_source(definition.source)?;
            return Ok(index);
        }
        self.create_index(definition)
    }

    pub fn delete_index(&self, name: &str) -> Result<()> {
        let index = self
            .write()
            .remove(name)
            .ok_or_else(|| Error::IndexNotFound {
                index: name.to_string(),
            })?;
        index.delete_files()
    }

    /// Writes go to a missing index by creating it with dynamic mapping, as OpenSearch's
    /// `action.auto_create_index` default does.
    fn index_for_write(&self, name: &str) -> Result<Arc<SearchIndex>> {
        match self.index(name) {
            Ok(index) => Ok(index),
            Err(_) => match self.create_index(IndexDefinition {
                name: name.to_string(),
                ..IndexDefinition::default()
            }) {
                Err(Error::IndexAlreadyExists { .. }) => self.index(name),
                other => other,
            },
        }
    }

    /// An index and the fields its source table's items are cut down to
    /// (empty: all of them).
    fn with_source_fields(&self, index: &str) -> Result<(Arc<SearchIndex>, Vec<String>)> {
        let target = self.index(index)?;
        let fields = target
            .definition()
            .source
            .map(|s| s.fields)
            .unwrap_or_default();
        Ok((target, fields))
    }

    /// Streaming hook: mirrors one table change (upsert with the new item, or delete).
    /// Items are projected to the index's declared source fields.
    pub fn apply_change(&self, index: &str, id: &str, item: Option<Value>) -> Result<()> {
        self.apply_changes(index, [(id.to_string(), item)])
    }

    /// Mirrors several table changes with one commit (a `BatchWriteItem` or a transaction),
    /// in order. Fails on the first change the index rejects; the others still apply.
    pub fn apply_changes(
        &self,
        index: &str,
        changes: impl IntoIterator<Item = (String, Option<Value>)>,
    ) -> Result<()> {
        let (target, fields) = self.with_source_fields(index)?;
        let ops: Vec<WriteOp> = changes
            .into_iter()
            .map(|(id, item)| match item {
                Some(item) => WriteOp::Index {
                    id: Some(id),
                    source: project_fields(&item, &fields),
                    create_only: false,
                },
                None => WriteOp::Delete { id },
            })
            .collect();
        if ops.is_empty() {
            return Ok(());
        }
        for res in target.write(ops)? {
            res?;
        }
        Ok(())
    }

    /// Seeding: indexes table items (id, item) with one commit, projected to
    /// the index's source fields like streamed changes.
    pub fn bulk_load<'a>(
        &self,
        index: &str,
        docs: impl IntoIterator<Item = (String, &'a Value)>,
    ) -> Result<usize> {
        let (target, fields) = self.with_source_fields(index)?;
        let docs: Vec<(String, &Value)> = docs.into_iter().collect();
        target.bulk_index(&docs, &fields)
    }

    /// Deletes every document of an index, keeping its mapping.
    pub fn clear_index(&self, index: &str) -> Result<()> {
        self.index(index)?.clear()
    }

    /// Makes the index hold exactly `docs` (id, item): the start-up repair after a crash
    /// between a table write and its index write. Unchanged documents keep their version.
    pub fn reconcile(
        &self,
        index: &str,
        docs: impl IntoIterator<Item = (String, Value)>,
    ) -> Result<ReconcileReport> {
        let (target, fields) = self.with_source_fields(index)?;
        let existing: HashMap<String, StoredDoc> = target
            .current()
            .all_docs()?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut ops = Vec::new();
        let mut report = ReconcileReport::default();
        for (id, item) in docs {
            let source = project_fields(&item, &fields);
            match existing.get(&id) {
                Some(doc) if doc.source == source => report.unchanged += 1,
                _ => {
                    report.upserted += 1;
                    ops.push(WriteOp::Index {
                        id: Some(id.clone()),
                        source,
                        create_only: false,
                    });
                }
            }
            seen.insert(id);
        }
        for id in existing.keys() {
            if !seen.contains(id) {
                report.deleted += 1;
                ops.push(WriteOp::Delete { id: id.clone() });
            }
        }
        if !ops.is_empty() {
            // One refused item must not keep the rest out (nor stop a start).
            for res in target.write(ops)? {
                if let Err(err) = res {
                    report.upserted = report.upserted.saturating_sub(1);
                    report.refused += 1;
                    report.first_refusal.get_or_insert_with(|| err.to_string());
                }
            }
        }
        Ok(report)
    }

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
        let body = match body {
            None | Some(Value::Null) => Body::None,
            Some(Value::String(s)) if is_bulk_path(path) => Body::Ndjson(s),
            Some(Value::Array(lines)) if is_bulk_path(path) => Body::Ndjson(
                lines
                    .iter()
                    .map(|l| l.to_string() + "\n")
                    .collect::<String>(),
            ),
            Some(v) => Body::Json(v),
        };
        self.dispatch(method, path, query, body)
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
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            Body::None
        } else if is_bulk_path(path) {
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
        self.dispatch(method, path, query, body)
    }

    fn dispatch(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Body,
    ) -> (u16, Value) {
        let started = Instant::now();
        let method = method.to_ascii_uppercase();
        // In-process callers may put the query string in the path, as curl users do.
        let mut params: Vec<(String, String)> = query.to_vec();
        let path = match path.split_once('?') {
            Some((path, qs)) => {
                params.extend(form_urlencoded::parse(qs.as_bytes()).into_owned());
                path
            }
            None => path,
        };
        let query = params.as_slice();
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let res = self.route(&method, path, &segs, query, body, started);
        match res {
            Ok(ok) => ok,
            Err(e) => error(e),
        }
    }

    fn route(
        &self,
        method: &str,
        path: &str,
        segs: &[&str],
        query: &[(String, String)],
        body: Body,
        started: Instant,
    ) -> Result<(u16, Value)> {
        let no_handler = || Error::NoHandler {
            uri: path.to_string(),
            method: method.to_string(),
        };
        let json_body = match &body {
            Body::Json(v) => Some(v),
            _ => None,
        };
        match (method, segs) {
            ("GET" | "HEAD", []) => Ok((200, cluster_info())),
            ("POST" | "PUT", ["_bulk"]) => self.bulk(None, &body, query, started),
            ("POST" | "PUT", [index, "_bulk"]) => self.bulk(Some(index), &body, query, started),
            ("POST" | "GET", ["_refresh"]) => Ok((
                200,
                json!({"_shards": {"total": 1, "successful": 1, "failed": 0}}),
            )),
            ("GET" | "POST", ["_search"]) => self.search("_all", json_body, query, started),
            ("GET" | "POST", ["_count"]) => self.count("_all", json_body, query),
            ("PUT", [index]) => self.put_index(index, json_body),
            ("DELETE", [index]) => {
                self.delete_index(index)?;
                Ok((200, json!({"acknowledged": true})))
            }
            ("HEAD", [index]) => match self.index(index) {
                Ok(_) => Ok((200, Value::Null)),
                Err(_) => Ok((404, Value::Null)),
            },
            ("GET", [index]) => {
                let def = self.index(index)?.definition();
                Ok((
                    200,
                    json!({ *index: {"aliases": {}, "mappings": mapping_json(&def.mappings),
                        "settings": {"index": {"number_of_shards": "1", "number_of_replicas": "0",
                        "provided_name": index}}}}),
                ))
            }
            ("GET", [index, "_mapping"]) => {
                let def = self.index(index)?.definition();
                Ok((
                    200,
                    json!({ *index: {"mappings": mapping_json(&def.mappings)} }),
                ))
            }
            ("PUT" | "POST", [index, "_mapping"]) => {
                let target = self.index(index)?;
                let mapping = Mapping::from_json(json_body.unwrap_or(&json!({})))?;
                target.put_mapping(&mapping)?;
                Ok((200, json!({"acknowledged": true})))
            }
            ("POST" | "GET", [index, "_refresh"]) => {
                // Every write is already committed and visible.
                self.index(index)?;
                Ok((
                    200,
                    json!({"_shards": {"total": 1, "successful": 1, "failed": 0}}),
                ))
            }
            ("GET" | "POST", [index, "_search"]) | ("GET" | "POST", [index, _, "_search"]) => {
                self.search(index, json_body, query, started)
            }
            ("GET" | "POST", [index, "_count"]) | ("GET" | "POST", [index, _, "_count"]) => {
                self.count(index, json_body, query)
            }
            ("POST", [index, "_doc"]) => {
                let source = json_body.cloned().ok_or_else(missing_body)?;
                self.write_doc(index, None, source, query, false)
            }
            ("PUT" | "POST", [index, "_doc", id]) => {
                let source = json_body.cloned().ok_or_else(missing_body)?;
                let create = param(query, "op_type") == Some("create");
                self.write_doc(index, Some(id), source, query, create)
            }
            ("PUT" | "POST", [index, "_create", id]) => {
                let source = json_body.cloned().ok_or_else(missing_body)?;
                self.write_doc(index, Some(id), source, query, true)
            }
            ("GET" | "HEAD", [index, "_doc", id]) => self.get_doc(index, id, query, false),
            ("GET", [index, "_source", id]) => self.get_doc(index, id, query, true),
            ("DELETE", [index, "_doc", id]) => {
                let target = self.index(index)?;
                let res = single(target.write(vec![WriteOp::Delete { id: id.to_string() }])?)?;
                let status = if res.result == "not_found" { 404 } else { 200 };
                Ok((status, write_body(index, &res, query)))
            }
            ("POST", [index, "_update", id]) => self.update_doc(index, id, json_body, query),
            ("GET" | "POST", [index, "_mget"]) => self.mget(index, json_body),
            ("POST", [index, "_delete_by_query"]) => {
                self.delete_by_query(index, json_body, started)
            }
            // ES 6 typed paths (`/post/doc/1`) that AppSync's older examples still use.
            ("GET", [index, ty, id]) if !ty.starts_with('_') => {
                self.get_doc(index, id, query, false)
            }
            ("PUT" | "POST", [index, ty, id]) if !ty.starts_with('_') && !id.starts_with('_') => {
                let source = json_body.cloned().ok_or_else(missing_body)?;
                self.write_doc(index, Some(id), source, query, false)
            }
            ("DELETE", [index, ty, id]) if !ty.starts_with('_') => self.route(
                "DELETE",
                path,
                &[index, "_doc", id],
                query,
                Body::None,
                started,
            ),
            _ => Err(no_handler()),
        }
    }

    fn put_index(&self, index: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let mappings = match body.and_then(|b| b.get("mappings")) {
            Some(m) => Mapping::from_json(m)?,
            None => Mapping::default(),
        };
        if let Some(Value::Object(b)) = body {
            for key in b.keys() {
                if !matches!(key.as_str(), "mappings" | "settings" | "aliases") {
                    return Err(Error::parsing(format!(
                        "unknown key [{key}] for create index"
                    )));
                }
            }
        }
        self.create_index(IndexDefinition {
            name: index.to_string(),
            mappings,
            source: None,
        })?;
        Ok((
            200,
            json!({"acknowledged": true, "shards_acknowledged": true, "index": index}),
        ))
    }

    /// Resolves `orders`, `a,b`, `orders-*`, `*` or `_all` to indexes. Wildcards that match
    /// nothing resolve to nothing (OpenSearch's `allow_no_indices`); missing names fail.
    fn resolve_indices(&self, expr: &str) -> Result<Vec<Arc<SearchIndex>>> {
        let mut out: Vec<Arc<SearchIndex>> = Vec::new();
        for part in expr.split(',').filter(|p| !p.is_empty()) {
            let found: Vec<Arc<SearchIndex>> = if part == "_all" || part.contains('*') {
                let pattern = if part == "_all" { "*" } else { part };
                self.read()
                    .iter()
                    .filter(|(name, _)| crate::opensearch::dsl::glob_match(pattern, name))
                    .map(|(_, index)| index.clone())
                    .collect()
            } else {
                vec![self.index(part)?]
            };
            for index in found {
                if !out.iter().any(|i| i.name() == index.name()) {
                    out.push(index);
                }
            }
        }
        Ok(out)
    }

    fn search(
        &self,
        expr: &str,
        body: Option<&Value>,
        query: &[(String, String)],
        started: Instant,
    ) -> Result<(u16, Value)> {
        let targets = self.resolve_indices(expr)?;
        let req = SearchRequest::parse(body, query)?;
        if let [target] = targets.as_slice() {
            let generation = target.current();
            let outcome = search::execute(&generation, &req)?;
            return Ok((200, search::render(&generation, &req, outcome, started)?));
        }
        if req.aggs.is_some() && targets.len() > 1 {
            return Err(Error::illegal(
                "aggregations across several indices are not supported by appsync-local; search one index",
            ));
        }
        // Several indexes: each returns its best from + size hits, then they are merged.
        let mut sub = req.clone();
        sub.from = 0;
        sub.size = req.from + req.size;
        let mut hits: Vec<Value> = Vec::new();
        let (mut total, mut gte, mut max_score) = (0u64, false, None::<f64>);
        let mut tracked = req.track_total_hits.is_some();
        for target in &targets {
            let generation = target.current();
            let outcome = search::execute(&generation, &sub)?;
            let res = search::render(&generation, &sub, outcome, started)?;
            match res["hits"].get("total") {
                Some(t) => {
                    total += t["value"].as_u64().unwrap_or(0);
                    gte |= t["relation"] == "gte";
                }
                None => tracked = false,
            }
            if let Some(m) = res["hits"]["max_score"].as_f64() {
                max_score = Some(max_score.map_or(m, |x| x.max(m)));
            }
            if let Some(Value::Array(h)) = res["hits"].get("hits") {
                hits.extend(h.iter().cloned());
            }
        }
        hits.sort_by(|a, b| search::compare_hits(a, b, &req.sort));
        let hits: Vec<Value> = hits.into_iter().skip(req.from).take(req.size).collect();
        let mut hits_obj = serde_json::Map::new();
        if tracked {
            let cap = req.track_total_hits.unwrap_or(u64::MAX);
            let capped = total > cap;
            hits_obj.insert(
                "total".into(),
                json!({"value": total.min(cap), "relation": if gte || capped { "gte" } else { "eq" }}),
            );
        }
        hits_obj.insert("max_score".into(), json!(max_score));
        hits_obj.insert("hits".into(), Value::Array(hits));
        let n = targets.len();
        Ok((
            200,
            json!({
                "took": started.elapsed().as_millis() as u64, "timed_out": false,
                "_shards": {"total": n, "successful": n, "skipped": 0, "failed": 0},
                "hits": Value::Object(hits_obj),
            }),
        ))
    }

    fn count(
        &self,
        expr: &str,
        body: Option<&Value>,
        query: &[(String, String)],
    ) -> Result<(u16, Value)> {
        let targets = self.resolve_indices(expr)?;
        let mut q = body.and_then(|b| b.get("query")).cloned();
        if let Some((_, text)) = query.iter().find(|(k, _)| k == "q") {
            q = Some(json!({"query_string": {"query": text}}));
        }
        let mut n = 0;
        for target in &targets {
            n += search::count(&target.current(), q.as_ref())?;
        }
        let shards = targets.len();
        Ok((
            200,
            json!({"count": n, "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0}}),
        ))
    }

    fn write_doc(
        &self,
        index: &str,
        id: Option<&str>,
        source: Value,
        query: &[(String, String)],
        create_only: bool,
    ) -> Result<(u16, Value)> {
        let target = self.index_for_write(index)?;
        let res = single(target.write(vec![WriteOp::Index {
            id: id.map(str::to_string),
            source,
            create_only,
        }])?)?;
        let status = if res.result == "created" { 201 } else { 200 };
        Ok((status, write_body(index, &res, query)))
    }

    fn get_doc(
        &self,
        index: &str,
        id: &str,
        query: &[(String, String)],
        source_only: bool,
    ) -> Result<(u16, Value)> {
        let target = self.index(index)?;
        let Some(doc) = target.current().get(id)? else {
            if source_only {
                return Err(Error::DocumentMissing {
                    index: index.to_string(),
                    id: id.to_string(),
                });
            }
            return Ok((404, json!({"_index": index, "_id": id, "found": false})));
        };
        let mut filter = search::SourceFilter::default();
        for (k, v) in query {
            match k.as_str() {
                "_source" => filter = search::SourceFilter::parse(&json!(v))?,
                "_source_includes" => filter.includes = v.split(',').map(str::to_string).collect(),
                "_source_excludes" => filter.excludes = v.split(',').map(str::to_string).collect(),
                _ => {}
            }
        }
        let source = filter.apply(&doc.source);
        if source_only {
            return Ok((200, source.unwrap_or(Value::Null)));
        }
        let mut body = json!({
            "_index": index, "_id": id, "_version": doc.version, "_seq_no": doc.seq_no,
            "_primary_term": 1, "found": true,
        });
        if let Some(source) = source {
            body["_source"] = source;
        }
        Ok((200, body))
    }

    /// `_mget` with `{"ids": [...]}` or `{"docs": [{"_id": ...}]}`.
    fn mget(&self, index: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let body = body.ok_or_else(missing_body)?;
        let ids: Vec<String> = match (body.get("ids"), body.get("docs")) {
            (Some(Value::Array(ids)), _) => ids
                .iter()
                .filter_map(crate::opensearch::mapping::text_from_json)
                .collect(),
            (_, Some(Value::Array(docs))) => docs
                .iter()
                .filter_map(|d| {
                    d.get("_id")
                        .and_then(crate::opensearch::mapping::text_from_json)
                })
                .collect(),
            _ => {
                return Err(Error::illegal("Validation Failed: 1: no documents to get;"));
            }
        };
        let mut docs = Vec::with_capacity(ids.len());
        for id in ids {
            let (_, doc) = self.get_doc(index, &id, &[], false)?;
            docs.push(doc);
        }
        Ok((200, json!({ "docs": docs })))
    }

    fn delete_by_query(
        &self,
        index: &str,
        body: Option<&Value>,
        started: Instant,
    ) -> Result<(u16, Value)> {
        let target = self.index(index)?;
        let query = body
            .and_then(|b| b.get("query"))
            .ok_or_else(|| Error::illegal("Validation Failed: 1: query is missing;"))?;
        let ids = search::matching_ids(&target.current(), query)?;
        let total = ids.len();
        let ops = ids.into_iter().map(|id| WriteOp::Delete { id }).collect();
        let deleted = target
            .write(ops)?
            .into_iter()
            .filter(|r| {
                matches!(
                    r,
                    Ok(WriteResult {
                        result: "deleted",
                        ..
                    })
                )
            })
            .count();
        Ok((
            200,
            json!({
                "took": started.elapsed().as_millis() as u64, "timed_out": false, "total": total,
                "deleted": deleted, "batches": 1, "version_conflicts": 0, "noops": 0,
                "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0,
                "requests_per_second": -1.0, "throttled_until_millis": 0, "failures": [],
            }),
        ))
    }

    fn update_doc(
        &self,
        index: &str,
        id: &str,
        body: Option<&Value>,
        query: &[(String, String)],
    ) -> Result<(u16, Value)> {
        let op = update_op(id, body.ok_or_else(missing_body)?)?;
        let target = self.index(index)?;
        let res = single(target.write(vec![op])?)?;
        let status = if res.result == "created" { 201 } else { 200 };
        Ok((status, write_body(index, &res, query)))
    }

    fn bulk(
        &self,
        default_index: Option<&str>,
        body: &Body,
        query: &[(String, String)],
        started: Instant,
    ) -> Result<(u16, Value)> {
        let text = match body {
            Body::Ndjson(s) => s.as_str(),
            Body::Json(v) => {
                return Err(Error::illegal(format!(
                    "The bulk request must be newline-delimited JSON, got a single JSON value: {}",
                    truncate(&v.to_string())
                )));
            }
            Body::None => return Err(Error::illegal("request body is required")),
        };
        let actions = parse_bulk(text, default_index)?;
        let mut items: Vec<Value> = Vec::with_capacity(actions.len());
        let mut errors = false;
        // Consecutive actions on one index form one write batch (one commit).
        let mut start = 0;
        while start < actions.len() {
            let index = actions[start].index.clone();
            let mut end = start;
            while end < actions.len() && actions[end].index == index {
                end += 1;
            }
            let group = &actions[start..end];
            let target = if group.iter().all(|a| {
                a.op.is_err()
                    || matches!(
                        a.op,
                        Ok(WriteOp::Update { .. }) | Ok(WriteOp::Delete { .. })
                    )
            }) {
                self.index(&index)
            } else {
                self.index_for_write(&index)
            };
            let mut outcomes: Vec<Result<WriteResult>> = Vec::with_capacity(group.len());
            match target {
                Err(e) => outcomes.extend(group.iter().map(|_| Err(e.clone()))),
                Ok(target) => {
                    let ops: Vec<WriteOp> = group
                        .iter()
                        .filter_map(|a| a.op.as_ref().ok().cloned())
                        .collect();
                    let mut results = target.write(ops)?.into_iter();
                    for action in group {
                        outcomes.push(match &action.op {
                            Err(e) => Err(e.clone()),
                            Ok(_) => results.next().unwrap_or_else(|| {
                                Err(Error::Internal("missing bulk result".into()))
                            }),
                        });
                    }
                }
            }
            for (action, outcome) in group.iter().zip(outcomes) {
                let item = match outcome {
                    Ok(res) => {
                        let status = if res.result == "created" {
                            201
                        } else if res.result == "not_found" {
                            404
                        } else {
                            200
                        };
                        let mut body = write_body(&index, &res, query);
                        body["status"] = json!(status);
                        body
                    }
                    Err(e) => {
                        errors = true;
                        json!({"_index": index, "_id": action.id, "status": e.status(), "error": e.cause()})
                    }
                };
                items.push(json!({ action.kind.clone(): item }));
            }
            start = end;
        }
        Ok((
            200,
            json!({"took": started.elapsed().as_millis() as u64, "errors": errors, "items": items}),
        ))
    }
}

struct BulkAction {
    kind: String,
    index: String,
    id: Option<String>,
    op: Result<WriteOp>,
}

fn parse_bulk(text: &str, default_index: Option<&str>) -> Result<Vec<BulkAction>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut actions = Vec::new();
    while let Some((line_no, line)) = lines.next() {
        let header: Value = serde_json::from_str(line).map_err(|e| {
            Error::illegal(format!(
                "Malformed action/metadata line [{}], expected START_OBJECT but found [{}]",
                line_no + 1,
                truncate(&e.to_string())
            ))
        })?;
        let Some((kind, meta)) = header.as_object().and_then(|o| o.iter().next()) else {
            return Err(Error::illegal(format!(
                "Malformed action/metadata line [{}], expected START_OBJECT or END_OBJECT but found [VALUE]",
                line_no + 1
            )));
        };
        if !matches!(kind.as_str(), "index" | "create" | "update" | "delete") {
            return Err(Error::illegal(format!(
                "Malformed action/metadata line [{}], expected field [create], [delete], [index] or [update] but found [{kind}]",
                line_no + 1
            )));
        }
        let index = meta
            .get("_index")
            .and_then(Value::as_str)
            .or(default_index)
            .ok_or_else(|| Error::illegal("Validation Failed: 1: index is missing;"))?
            .to_string();
        let id = meta
            .get("_id")
            .and_then(crate::opensearch::mapping::text_from_json);
        let mut source_line = || -> Result<Value> {
            let (_, line) = lines.next().ok_or_else(|| {
                Error::illegal(format!(
                    "Validation Failed: 1: source is missing for the [{kind}] action at line [{}];",
                    line_no + 1
                ))
            })?;
            serde_json::from_str(line)
                .map_err(|e| Error::parsing(format!("failed to parse source: {e}")))
        };
        let op = match kind.as_str() {
            "index" | "create" => source_line().map(|source| WriteOp::Index {
                id: id.clone(),
                source,
                create_only: kind == "create",
            }),
            "update" => match &id {
                None => {
                    source_line()?;
                    Err(Error::illegal("Validation Failed: 1: id is missing;"))
                }
                Some(id) => source_line().and_then(|body| update_op(id, &body)),
            },
            _ => match &id {
                None => Err(Error::illegal("Validation Failed: 1: id is missing;")),
                Some(id) => Ok(WriteOp::Delete { id: id.clone() }),
            },
        };
        actions.push(BulkAction {
            kind: kind.clone(),
            index,
            id,
            op,
        });
    }
    Ok(actions)
}

fn update_op(id: &str, body: &Value) -> Result<WriteOp> {
    let Value::Object(obj) = body else {
        return Err(Error::parsing("request body must be an object"));
    };
    if obj.contains_key("script") {
        return Err(Error::illegal(
            "script updates are not supported by appsync-local; send a partial [doc]",
        ));
    }
    let doc = obj.get("doc").cloned();
    let upsert = obj.get("upsert").cloned();
    if doc.is_none() && upsert.is_none() {
        return Err(Error::illegal(
            "Validation Failed: 1: script or doc is missing;",
        ));
    }
    Ok(WriteOp::Update {
        id: id.to_string(),
        doc: doc.unwrap_or_else(|| json!({})),
        upsert,
        doc_as_upsert: obj
            .get("doc_as_upsert")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn single(results: Vec<Result<WriteResult>>) -> Result<WriteResult> {
    results
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(Error::Internal("write produced no result".into())))
}

fn write_body(index: &str, res: &WriteResult, query: &[(String, String)]) -> Value {
    let mut body = json!({
        "_index": index, "_id": res.id, "_version": res.version, "result": res.result,
        "_shards": {"total": 1, "successful": if res.result == "noop" { 0 } else { 1 }, "failed": 0},
        "_seq_no": res.seq_no, "_primary_term": 1,
    });
    if param(query, "refresh").is_some_and(|r| r.is_empty() || r == "true") {
        body["forced_refresh"] = json!(true);
    }
    body
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

fn is_bulk_path(path: &str) -> bool {
    path.trim_end_matches('/').ends_with("_bulk")
}

fn mapping_json(mapping: &Mapping) -> Value {
    serde_json::to_value(mapping).unwrap_or_else(|_| json!({}))
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

/// OpenSearch's index name rules.
fn validate_index_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(Error::InvalidIndexName {
            index: name.to_string(),
            reason: format!("Invalid index name [{name}], {reason}"),
        })
    };
    if name.is_empty() || name == "." || name == ".." {
        return invalid("must not be '.' or '..'");
    }
    if name.to_lowercase() != name {
        return invalid("must be lowercase");
    }
    if name.starts_with(['_', '-', '+']) {
        return invalid("must not start with '_', '-', or '+'");
    }
    if name.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']) {
        return invalid(
            "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]",
        );
    }
    if name.len() > 255 {
        return invalid("index name is too long");
    }
    Ok(())
}

/// Decodes `%XX` escapes in one path segment.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
