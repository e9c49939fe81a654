//! The `_search` body and URL parameters, parsed into a [`SearchRequest`].

use serde_json::{Value, json};

use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::double_from_json;
use crate::opensearch::search::source::{SourceFilter, strings};

/// OpenSearch's default for `track_total_hits`.
const DEFAULT_TRACK_TOTAL_HITS: u64 = 10_000;
/// `index.max_result_window`.
const MAX_RESULT_WINDOW: usize = 10_000;

/// A parsed search body (plus URL parameters merged in).
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Option<Value>,
    pub from: usize,
    pub size: usize,
    pub sort: Vec<SortSpec>,
    pub search_after: Option<Vec<Value>>,
    pub source: SourceFilter,
    /// `None` means `track_total_hits: false`.
    pub track_total_hits: Option<u64>,
    pub highlight: Option<Value>,
    pub aggs: Option<Value>,
    pub min_score: Option<f32>,
    pub track_scores: bool,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: None,
            from: 0,
            size: 10,
            sort: Vec::new(),
            search_after: None,
            source: SourceFilter::default(),
            track_total_hits: Some(DEFAULT_TRACK_TOTAL_HITS),
            highlight: None,
            aggs: None,
            min_score: None,
            track_scores: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SortKind {
    Score,
    Doc,
    Field(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    pub kind: SortKind,
    pub desc: bool,
    /// `missing: _first`.
    pub missing_first: bool,
    /// `unmapped_type` was given: an unmapped field sorts as missing instead of failing.
    pub unmapped_ok: bool,
}

fn as_usize(key: &str, v: &Value) -> Result<usize> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| Error::parsing(format!("[{key}] must be a non-negative number, got [{v}]")))
}

fn parse_sort_entry(entry: &Value, out: &mut Vec<SortSpec>) -> Result<()> {
    let spec = |name: &str,
                order: Option<&str>,
                missing_first: bool,
                unmapped_ok: bool|
     -> Result<SortSpec> {
        let kind = match name {
            "_score" => SortKind::Score,
            "_doc" => SortKind::Doc,
            f => SortKind::Field(f.to_string()),
        };
        let desc = match order {
            None => kind == SortKind::Score,
            Some("desc") => true,
            Some("asc") => false,
            Some(o) => {
                return Err(Error::illegal(format!("Unknown SortOrder [{o}]")));
            }
        };
        Ok(SortSpec {
            kind,
            desc,
            missing_first,
            unmapped_ok,
        })
    };
    match entry {
        Value::String(s) => {
            // URL form `field:desc`.
            let (name, order) = match s.rsplit_once(':') {
                Some((n, o)) => (n, Some(o)),
                None => (s.as_str(), None),
            };
            out.push(spec(name, order, false, false)?);
        }
        Value::Object(o) => {
            for (name, opts) in o {
                let (order, missing_first, unmapped_ok) = match opts {
                    Value::String(order) => (Some(order.as_str()), false, false),
                    Value::Object(opts) => (
                        opts.get("order").and_then(Value::as_str),
                        opts.get("missing").and_then(Value::as_str) == Some("_first"),
                        opts.contains_key("unmapped_type"),
                    ),
                    _ => {
                        return Err(Error::parsing(format!(
                            "[sort] malformed entry for [{name}]"
                        )));
                    }
                };
                out.push(spec(name, order, missing_first, unmapped_ok)?);
            }
        }
        Value::Array(items) => {
            for item in items {
                parse_sort_entry(item, out)?;
            }
        }
        _ => return Err(Error::parsing("[sort] malformed")),
    }
    Ok(())
}

impl SearchRequest {
    /// Parses a search body and the URL parameters that override it.
    pub fn parse(body: Option<&Value>, params: &[(String, String)]) -> Result<SearchRequest> {
        let mut req = SearchRequest::default();
        if let Some(body) = body {
            let Value::Object(obj) = body else {
                return Err(Error::parsing("request body must be an object"));
            };
            for (key, v) in obj {
                match key.as_str() {
                    "query" => req.query = Some(v.clone()),
                    "from" => req.from = as_usize(key, v)?,
                    "size" => req.size = as_usize(key, v)?,
                    "sort" => parse_sort_entry(v, &mut req.sort)?,
                    "search_after" => {
                        req.search_after = Some(
                            v.as_array()
                                .cloned()
                                .ok_or_else(|| Error::parsing("[search_after] must be an array"))?,
                        )
                    }
                    "_source" => req.source = SourceFilter::parse(v)?,
                    "track_total_hits" => {
                        req.track_total_hits = match v {
                            Value::Bool(true) => Some(u64::MAX),
                            Value::Bool(false) => None,
                            v => Some(as_usize(key, v)? as u64),
                        }
                    }
                    "highlight" => req.highlight = Some(v.clone()),
                    "aggs" | "aggregations" => req.aggs = Some(v.clone()),
                    "min_score" => req.min_score = double_from_json(v).map(|f| f as f32),
                    "track_scores" => req.track_scores = v.as_bool().unwrap_or(false),
                    // Accepted and ignored: they change nothing on a single local shard.
                    "timeout"
                    | "explain"
                    | "version"
                    | "seq_no_primary_term"
                    | "stored_fields"
                    | "profile"
                    | "terminate_after"
                    | "docvalue_fields"
                    | "fields" => {}
                    other => {
                        let token = match v {
                            Value::Object(_) => "START_OBJECT",
                            Value::Array(_) => "START_ARRAY",
                            Value::String(_) => "VALUE_STRING",
                            Value::Number(_) => "VALUE_NUMBER",
                            Value::Bool(_) => "VALUE_BOOLEAN",
                            Value::Null => "VALUE_NULL",
                        };
                        return Err(Error::parsing(format!(
                            "Unknown key for a {token} in [{other}]."
                        )));
                    }
                }
            }
        }
        for (key, value) in params {
            match key.as_str() {
                "q" => {
                    req.query = Some(json!({"query_string": {"query": value}}));
                }
                "from" => req.from = as_usize(key, &json!(value))?,
                "size" => req.size = as_usize(key, &json!(value))?,
                "sort" => {
                    req.sort.clear();
                    for part in value.split(',') {
                        parse_sort_entry(&json!(part), &mut req.sort)?;
                    }
                }
                "_source" => req.source = SourceFilter::parse(&json!(value))?,
                "_source_includes" => req.source.includes = strings(&json!(value)),
                "_source_excludes" => req.source.excludes = strings(&json!(value)),
                "track_total_hits" => {
                    req.track_total_hits = match value.as_str() {
                        "true" => Some(u64::MAX),
                        "false" => None,
                        n => Some(as_usize(key, &json!(n))? as u64),
                    }
                }
                _ => {}
            }
        }
        if req.from.saturating_add(req.size) > MAX_RESULT_WINDOW {
            return Err(Error::illegal(format!(
                "Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{}]. See the scroll api for a more efficient way to request large data sets.",
                req.from.saturating_add(req.size)
            )));
        }
        Ok(req)
    }
}
