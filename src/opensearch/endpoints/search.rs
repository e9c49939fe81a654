//! `_search` and `_count` over one index or several (`a,b`, `logs-*`, `_all`).

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use crate::opensearch::dsl::glob_match;
use crate::opensearch::engine::Engine;
use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::SearchIndex;
use crate::opensearch::search::{self, SearchRequest};

impl Engine {
    /// Resolves `orders`, `a,b`, `orders-*`, `*` or `_all` to indexes. Wildcards that match
    /// nothing resolve to nothing (OpenSearch's `allow_no_indices`); missing names fail.
    fn resolve_indices(&self, expr: &str) -> Result<Vec<Arc<SearchIndex>>> {
        let mut out: Vec<Arc<SearchIndex>> = Vec::new();
        for part in expr.split(',').filter(|p| !p.is_empty()) {
            let found: Vec<Arc<SearchIndex>> = if part == "_all" || part.contains('*') {
                let pattern = if part == "_all" { "*" } else { part };
                self.read()
                    .iter()
                    .filter(|(name, _)| glob_match(pattern, name))
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

    pub(super) fn search(
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

    pub(super) fn count(
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
}
