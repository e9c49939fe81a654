//! `_bulk`: NDJSON actions, applied with one commit per run of actions on one index.

use std::time::Instant;

use serde_json::{Value, json};

use crate::opensearch::endpoints::documents::{update_op, write_body};
use crate::opensearch::endpoints::{Body, truncate};
use crate::opensearch::engine::Engine;
use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::{WriteOp, WriteResult};
use crate::opensearch::mapping::text_from_json;

impl Engine {
    pub(super) fn bulk(
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
        let id = meta.get("_id").and_then(text_from_json);
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
