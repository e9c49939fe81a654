//! Document APIs: index, create, get, `_source`, `_mget`, update, delete,
//! `_delete_by_query`.

use std::time::Instant;

use serde_json::{Value, json};

use crate::opensearch::endpoints::{missing_body, param};
use crate::opensearch::engine::Engine;
use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::{WriteOp, WriteResult};
use crate::opensearch::mapping::text_from_json;
use crate::opensearch::search::{SourceFilter, matching_ids};

impl Engine {
    /// `index`, or `create` when `create_only`.
    pub(super) fn write_doc(
        &self,
        index: &str,
        id: Option<&str>,
        body: Option<&Value>,
        query: &[(String, String)],
        create_only: bool,
    ) -> Result<(u16, Value)> {
        let source = body.cloned().ok_or_else(missing_body)?;
        let target = self.index_for_write(index)?;
        let res = single(target.write(vec![WriteOp::Index {
            id: id.map(str::to_string),
            source,
            create_only,
        }])?)?;
        let status = if res.result == "created" { 201 } else { 200 };
        Ok((status, write_body(index, &res, query)))
    }

    pub(super) fn get_doc(
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
        let mut filter = SourceFilter::default();
        for (k, v) in query {
            match k.as_str() {
                "_source" => filter = SourceFilter::parse(&json!(v))?,
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
    pub(super) fn mget(&self, index: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let body = body.ok_or_else(missing_body)?;
        let ids: Vec<String> = match (body.get("ids"), body.get("docs")) {
            (Some(Value::Array(ids)), _) => ids.iter().filter_map(text_from_json).collect(),
            (_, Some(Value::Array(docs))) => docs
                .iter()
                .filter_map(|d| d.get("_id").and_then(text_from_json))
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

    pub(super) fn delete_by_query(
        &self,
        index: &str,
        body: Option<&Value>,
        started: Instant,
    ) -> Result<(u16, Value)> {
        let target = self.index(index)?;
        let query = body
            .and_then(|b| b.get("query"))
            .ok_or_else(|| Error::illegal("Validation Failed: 1: query is missing;"))?;
        let ids = matching_ids(&target.current(), query)?;
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

    pub(super) fn update_doc(
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

    pub(super) fn delete_doc(
        &self,
        index: &str,
        id: &str,
        query: &[(String, String)],
    ) -> Result<(u16, Value)> {
        let target = self.index(index)?;
        let res = single(target.write(vec![WriteOp::Delete { id: id.to_string() }])?)?;
        let status = if res.result == "not_found" { 404 } else { 200 };
        Ok((status, write_body(index, &res, query)))
    }
}

pub(super) fn update_op(id: &str, body: &Value) -> Result<WriteOp> {
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

pub(super) fn write_body(index: &str, res: &WriteResult, query: &[(String, String)]) -> Value {
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
