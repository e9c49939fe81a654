//! Query DSL: OpenSearch query JSON compiled to tantivy queries against one mapping.
//!
//! Parsing is hand-written over `serde_json::Value` rather than a serde enum: OpenSearch puts
//! the field name in key position (`{"match": {"title": {...}}}`), accepts short and long
//! forms, and clients rely on its exact error wording (`unknown query [foo]`).

mod compound;
mod dates;
mod full_text;
mod patterns;
mod query_string;
mod term_level;

use serde_json::{Map, Value};
use tantivy::Index;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery, Query, TermQuery,
    TermSetQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::{CompiledMapping, double_from_json, text_from_json};

pub use patterns::glob_match;

use compound::{clauses, compile_bool};
use full_text::{MatchKind, compile_match, compile_multi_match};
use query_string::compile_query_string;
use term_level::{
    Pattern, compile_fuzzy, compile_pattern, compile_range, compile_term, compile_terms,
};

/// What a query compiles against.
pub struct QueryContext<'a> {
    pub index_name: &'a str,
    pub index: &'a Index,
    pub mapping: &'a CompiledMapping,
}

type BoxQuery = Box<dyn Query>;

/// Compiles one query object (`{"match": {...}}`).
pub fn compile(ctx: &QueryContext, query: &Value) -> Result<BoxQuery> {
    let Value::Object(obj) = query else {
        return Err(Error::parsing(
            "[_na] query malformed, must start with start_object".to_string(),
        ));
    };
    let mut entries = obj.iter();
    let Some((kind, body)) = entries.next() else {
        // An empty query object matches everything, as OpenSearch's search body does.
        return Ok(Box::new(AllQuery));
    };
    if let Some((next, _)) = entries.next() {
        return Err(Error::parsing(format!(
            "[{kind}] malformed query, expected [END_OBJECT] but found [FIELD_NAME] ([{next}])"
        )));
    }
    match kind.as_str() {
        "match_all" => {
            let params = object(kind, body)?;
            Ok(boosted(Box::new(AllQuery), boost_of(kind, params)?))
        }
        "match_none" => Ok(Box::new(EmptyQuery)),
        "match" => compile_match(ctx, kind, body, MatchKind::Match),
        "match_phrase" => compile_match(ctx, kind, body, MatchKind::Phrase),
        "match_phrase_prefix" => compile_match(ctx, kind, body, MatchKind::PhrasePrefix),
        "match_bool_prefix" => compile_match(ctx, kind, body, MatchKind::BoolPrefix),
        "multi_match" => compile_multi_match(ctx, object(kind, body)?),
        "query_string" => compile_query_string(ctx, kind, object(kind, body)?, false),
        "simple_query_string" => compile_query_string(ctx, kind, object(kind, body)?, true),
        "term" => compile_term(ctx, kind, body),
        "terms" => compile_terms(ctx, object(kind, body)?),
        "range" => compile_range(ctx, kind, body),
        "exists" => {
            let params = object(kind, body)?;
            let field = params
                .get("field")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::parsing("[exists] must be provided with a [field]"))?;
            let term = Term::from_field_text(ctx.mapping.meta.field_names, field);
            let q = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
            Ok(Box::new(ConstScoreQuery::new(q, boost_of(kind, params)?)))
        }
        "prefix" => compile_pattern(ctx, kind, body, Pattern::Prefix),
        "wildcard" => compile_pattern(ctx, kind, body, Pattern::Wildcard),
        "regexp" => compile_pattern(ctx, kind, body, Pattern::Regexp),
        "fuzzy" => compile_fuzzy(ctx, kind, body),
        "ids" => {
            let params = object(kind, body)?;
            let values = params
                .get("values")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    Error::parsing("[ids] query malformed, [values] must be an array")
                })?;
            let terms = values
                .iter()
                .filter_map(text_from_json)
                .map(|id| Term::from_field_text(ctx.mapping.meta.id, &id));
            let q = Box::new(TermSetQuery::new(terms));
            Ok(Box::new(ConstScoreQuery::new(q, boost_of(kind, params)?)))
        }
        "bool" => compile_bool(ctx, object(kind, body)?),
        "constant_score" => {
            let params = object(kind, body)?;
            let filter = params
                .get("filter")
                .ok_or_else(|| Error::parsing("[constant_score] requires a 'filter' element"))?;
            Ok(Box::new(ConstScoreQuery::new(
                compile(ctx, filter)?,
                boost_of(kind, params)?,
            )))
        }
        "dis_max" => {
            let params = object(kind, body)?;
            let queries = clauses(ctx, params.get("queries"))?;
            let tie = params
                .get("tie_breaker")
                .and_then(Value::as_f64)
                .unwrap_or(0.0) as f32;
            let q = Box::new(DisjunctionMaxQuery::with_tie_breaker(queries, tie));
            Ok(boosted(q, boost_of(kind, params)?))
        }
        // Nested documents are flattened into their parent, so the inner query applies as is.
        "nested" => {
            let params = object(kind, body)?;
            let inner = params
                .get("query")
                .ok_or_else(|| Error::parsing("[nested] requires 'query' field"))?;
            compile(ctx, inner)
        }
        _ => Err(Error::parsing(format!("unknown query [{kind}]"))),
    }
}

fn object<'a>(kind: &str, body: &'a Value) -> Result<&'a Map<String, Value>> {
    body.as_object().ok_or_else(|| {
        Error::parsing(format!(
            "[{kind}] query malformed, no start_object after query name"
        ))
    })
}

fn boost_of(kind: &str, params: &Map<String, Value>) -> Result<f32> {
    match params.get("boost") {
        None => Ok(1.0),
        Some(v) => double_from_json(v).map(|b| b as f32).ok_or_else(|| {
            Error::parsing(format!(
                "[{kind}] query malformed, [boost] must be a number"
            ))
        }),
    }
}

fn boosted(q: BoxQuery, boost: f32) -> BoxQuery {
    if boost == 1.0 {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

/// `{"match": {"field": "text"}}` or `{"match": {"field": {"query": "text", ...}}}`.
fn field_params<'a>(
    kind: &str,
    body: &'a Value,
    value_key: &str,
) -> Result<(&'a str, Map<String, Value>)> {
    let obj = object(kind, body)?;
    let mut field = None;
    let mut params = Map::new();
    for (key, value) in obj {
        // Some queries (terms, range in old clients) put `boost` beside the field.
        if key == "boost" || key == "_name" {
            params.insert(key.clone(), value.clone());
            continue;
        }
        if let Some(first) = field {
            return Err(Error::parsing(format!(
                "[{kind}] query doesn't support multiple fields, found [{first}] and [{key}]"
            )));
        }
        field = Some(key.as_str());
        match value {
            Value::Object(long_form) => {
                for (k, v) in long_form {
                    params.insert(k.clone(), v.clone());
                }
            }
            short => {
                params.insert(value_key.to_string(), short.clone());
            }
        }
    }
    let field = field
        .ok_or_else(|| Error::parsing(format!("[{kind}] query malformed, no field specified")))?;
    Ok((field, params))
}

fn check_params(kind: &str, params: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    for key in params.keys() {
        if !allowed.contains(&key.as_str()) && key != "boost" && key != "_name" {
            return Err(Error::parsing(format!(
                "[{kind}] query does not support [{key}]"
            )));
        }
    }
    Ok(())
}
