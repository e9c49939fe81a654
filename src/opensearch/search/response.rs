//! The search response: hits with `_source`, highlights and sort values.

use std::time::Instant;

use serde_json::{Map, Value, json};
use tantivy::TantivyDocument;

use crate::opensearch::error::Result;
use crate::opensearch::index::Generation;
use crate::opensearch::search::highlight::Highlighter;
use crate::opensearch::search::{SearchOutcome, SearchRequest, compile_query};

/// The `hits.hits[]` entries with `_source` and highlights, and the whole response.
pub fn render(
    generation: &Generation,
    req: &SearchRequest,
    outcome: SearchOutcome,
    started: Instant,
) -> Result<Value> {
    let searcher = generation.searcher();
    let query = if req.highlight.is_some() {
        Some(compile_query(generation, req.query.as_ref())?)
    } else {
        None
    };
    let highlighter = match (&req.highlight, &query) {
        (Some(h), Some(q)) => Some(Highlighter::new(generation, &searcher, &**q, h)?),
        _ => None,
    };
    let mut hits = Vec::with_capacity(outcome.hits.len());
    for hit in outcome.hits {
        let doc: TantivyDocument = searcher.doc(hit.address)?;
        let stored = generation.stored(&doc);
        let mut entry = Map::new();
        entry.insert("_index".into(), json!(generation.definition.name));
        entry.insert("_id".into(), json!(stored.id));
        entry.insert("_score".into(), json!(hit.score));
        if let Some(source) = req.source.apply(&stored.source) {
            entry.insert("_source".into(), source);
        }
        if let Some(h) = &highlighter {
            let fragments = h.highlight(&stored.source);
            if !fragments.is_empty() {
                entry.insert("highlight".into(), Value::Object(fragments));
            }
        }
        if let Some(sort) = hit.sort {
            entry.insert("sort".into(), Value::Array(sort));
        }
        hits.push(Value::Object(entry));
    }
    let mut hits_obj = Map::new();
    if let Some((value, gte)) = outcome.total {
        hits_obj.insert(
            "total".into(),
            json!({"value": value, "relation": if gte { "gte" } else { "eq" }}),
        );
    }
    hits_obj.insert("max_score".into(), json!(outcome.max_score));
    hits_obj.insert("hits".into(), Value::Array(hits));
    let mut body = json!({
        "took": started.elapsed().as_millis() as u64,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": Value::Object(hits_obj),
    });
    if let Some(aggs) = outcome.aggregations {
        body["aggregations"] = aggs;
    }
    Ok(body)
}
