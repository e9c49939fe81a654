//! `_search` and `_count` on one index generation: the request, its execution, and the
//! response.

mod aggs;
mod highlight;
mod request;
mod response;
mod sort;
mod source;

use serde_json::{Value, json};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, Query};
use tantivy::{DocAddress, TantivyDocument};

use crate::opensearch::dsl::{self, QueryContext};
use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::Generation;
use crate::opensearch::mapping::FieldType;

pub use request::{SearchRequest, SortKind, SortSpec};
pub use response::render;
pub use sort::compare_hits;
pub use source::SourceFilter;

/// The executed search, before shaping into JSON.
pub struct SearchOutcome {
    pub total: Option<(u64, bool)>,
    pub hits: Vec<Hit>,
    pub max_score: Option<f32>,
    pub aggregations: Option<Value>,
}

pub struct Hit {
    pub address: DocAddress,
    pub score: Option<f32>,
    pub sort: Option<Vec<Value>>,
}

/// The hits of one page, with the number of matches and the best score.
struct TopHits {
    hits: Vec<Hit>,
    total: usize,
    max_score: Option<f32>,
}

pub fn compile_query(generation: &Generation, query: Option<&Value>) -> Result<Box<dyn Query>> {
    let ctx = QueryContext {
        index_name: &generation.definition.name,
        index: &generation.index,
        mapping: &generation.compiled,
    };
    match query {
        Some(q) => dsl::compile(&ctx, q),
        None => Ok(Box::new(AllQuery)),
    }
}

/// The type of a field that sorts and aggregations read; text fields have no fast column.
fn check_sort_field(generation: &Generation, path: &str) -> Result<FieldType> {
    // `_id` is a fast keyword column, so sorting on it is cheap (OpenSearch allows it too).
    if path == "_id" {
        return Ok(FieldType::Keyword);
    }
    let index = generation.definition.name.clone();
    let field = generation
        .compiled
        .field(path)
        .ok_or_else(|| Error::QueryShard {
            index: index.clone(),
            reason: format!("No mapping found for [{path}] in order to sort on"),
        })?;
    if field.ty == FieldType::Text {
        return Err(Error::illegal(format!(
            "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [{path}] in order to load field data by uninverting the inverted index. Note that this can use significant memory."
        )));
    }
    Ok(field.ty)
}

/// Runs a search on one generation.
pub fn execute(generation: &Generation, req: &SearchRequest) -> Result<SearchOutcome> {
    let query = compile_query(generation, req.query.as_ref())?;
    let scored_sort = req.sort.is_empty()
        || (req.sort.len() == 1 && req.sort[0].kind == SortKind::Score && req.sort[0].desc);
    let top = if scored_sort && req.search_after.is_none() && req.min_score.is_none() {
        by_score(generation, &*query, req)?
    } else {
        sort::sorted_top(generation, &*query, req)?
    };
    let total = req.track_total_hits.map(|cap| {
        let n = top.total as u64;
        if n > cap { (cap, true) } else { (n, false) }
    });
    let aggregations = match &req.aggs {
        Some(aggs) => Some(aggs::run(generation, &*query, aggs)?),
        None => None,
    };
    Ok(SearchOutcome {
        total,
        hits: top.hits,
        max_score: top.max_score,
        aggregations,
    })
}

/// The common case, by descending score: tantivy's own `TopDocs`.
fn by_score(generation: &Generation, query: &dyn Query, req: &SearchRequest) -> Result<TopHits> {
    let searcher = generation.searcher();
    let limit = req.from + req.size;
    if limit == 0 {
        return Ok(TopHits {
            hits: Vec::new(),
            total: searcher.search(query, &Count)?,
            max_score: None,
        });
    }
    let (top, total) =
        searcher.search(query, &(TopDocs::with_limit(limit).order_by_score(), Count))?;
    let max_score = top.first().map(|(s, _)| *s);
    let hits = top
        .into_iter()
        .skip(req.from)
        .map(|(score, address)| Hit {
            address,
            score: Some(score),
            sort: (!req.sort.is_empty()).then(|| vec![json!(score)]),
        })
        .collect();
    Ok(TopHits {
        hits,
        total,
        max_score,
    })
}

/// Ids of every document matching `query` (`_delete_by_query`).
pub fn matching_ids(generation: &Generation, query: &Value) -> Result<Vec<String>> {
    let query = compile_query(generation, Some(query))?;
    let searcher = generation.searcher();
    let docs = searcher.search(&*query, &tantivy::collector::DocSetCollector)?;
    let mut ids = Vec::with_capacity(docs.len());
    for address in docs {
        let doc: TantivyDocument = searcher.doc(address)?;
        ids.push(generation.stored(&doc).id);
    }
    Ok(ids)
}

/// `_count`.
pub fn count(generation: &Generation, query: Option<&Value>) -> Result<usize> {
    let query = compile_query(generation, query)?;
    Ok(generation.searcher().search(&*query, &Count)?)
}
