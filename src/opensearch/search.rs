//! `_search` and `_count`: request parsing, execution on one generation, response shaping.

use std::cmp::Ordering;
use std::ops::Bound;
use std::time::Instant;

use serde_json::{Map, Value, json};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{AllQuery, Query};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocId, Score, SegmentReader, TantivyDocument};

use crate::opensearch::dsl::{self, QueryContext, glob_match};
use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::Generation;
use crate::opensearch::mapping::{
    FieldType, bool_from_json, date_from_json, double_from_json, text_from_json,
};

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

/// `_source` filtering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFilter {
    pub disabled: bool,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
}

fn as_usize(key: &str, v: &Value) -> Result<usize> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| Error::parsing(format!("[{key}] must be a non-negative number, got [{v}]")))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split(',').map(|s| s.trim().to_string()).collect(),
        Value::Array(items) => items.iter().filter_map(text_from_json).collect(),
        _ => Vec::new(),
    }
}

impl SourceFilter {
    pub fn parse(v: &Value) -> Result<SourceFilter> {
        Ok(match v {
            Value::Bool(b) => SourceFilter {
                disabled: !b,
                ..SourceFilter::default()
            },
            Value::String(s) if s == "false" => SourceFilter {
                disabled: true,
                ..SourceFilter::default()
            },
            Value::String(s) if s == "true" => SourceFilter::default(),
            Value::String(_) | Value::Array(_) => SourceFilter {
                includes: strings(v),
                ..SourceFilter::default()
            },
            Value::Object(o) => SourceFilter {
                disabled: false,
                includes: o
                    .get("includes")
                    .or_else(|| o.get("include"))
                    .map(strings)
                    .unwrap_or_default(),
                excludes: o
                    .get("excludes")
                    .or_else(|| o.get("exclude"))
                    .map(strings)
                    .unwrap_or_default(),
            },
            _ => return Err(Error::parsing(format!("[_source] malformed: {v}"))),
        })
    }

    pub fn apply(&self, source: &Value) -> Option<Value> {
        if self.disabled {
            return None;
        }
        if self.includes.is_empty() && self.excludes.is_empty() {
            return Some(source.clone());
        }
        match source {
            Value::Object(map) => Some(Value::Object(self.filter_object(map, "", false))),
            v => Some(v.clone()),
        }
    }

    fn filter_object(
        &self,
        map: &Map<String, Value>,
        prefix: &str,
        parent_in: bool,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in map {
            let path = format!("{prefix}{k}");
            if self.excludes.iter().any(|p| glob_match(p, &path)) {
                continue;
            }
            let included = parent_in
                || self.includes.is_empty()
                || self.includes.iter().any(|p| glob_match(p, &path));
            // An include like `address.city` must keep walking into `address`.
            let may_descend = included
                || self
                    .includes
                    .iter()
                    .any(|p| p.starts_with(&format!("{path}.")) || p.starts_with('*'));
            match v {
                Value::Object(inner) if may_descend => {
                    let sub = self.filter_object(inner, &format!("{path}."), included);
                    if !sub.is_empty() || included {
                        out.insert(k.clone(), Value::Object(sub));
                    }
                }
                Value::Array(items) if may_descend && items.iter().any(Value::is_object) => {
                    let kept: Vec<Value> = items
                        .iter()
                        .filter_map(|item| match item {
                            Value::Object(inner) => {
                                let sub = self.filter_object(inner, &format!("{path}."), included);
                                (!sub.is_empty()).then_some(Value::Object(sub))
                            }
                            other => included.then(|| other.clone()),
                        })
                        .collect();
                    if !kept.is_empty() || included {
                        out.insert(k.clone(), Value::Array(kept));
                    }
                }
                _ if included => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
        out
    }
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

/// One value of a sort key. `Missing` sorts last (or first with `missing: _first`).
#[derive(Debug, Clone, PartialEq)]
enum KeyValue {
    Missing,
    Num(f64),
    Str(String),
    /// A string as its place in one segment's dictionary: 2·ord+1 for the
    /// segment's term `ord`, 2·ord for a `search_after` string that falls
    /// just before it. Only compared within the segment: [`SortedTopSegment`]
    /// turns it into `Str` before hits of different segments meet, so only
    /// the top hits pay for a dictionary lookup (each one decompresses a
    /// block), not every matching document.
    SegmentOrd(u64),
}

#[derive(Debug, Clone)]
struct SortKey {
    /// Documents at or before `search_after` compare lowest and are dropped afterwards.
    excluded: bool,
    values: Vec<(KeyValue, bool, bool)>,
    /// Raw score, reported in `_score` when sorting by score.
    score: Score,
}

/// Natural (ascending) order of two values, `None` when a side is missing.
fn natural(a: &KeyValue, b: &KeyValue) -> Option<Ordering> {
    match (a, b) {
        (KeyValue::Num(x), KeyValue::Num(y)) => x.partial_cmp(y),
        (KeyValue::Str(x), KeyValue::Str(y)) => Some(x.cmp(y)),
        (KeyValue::SegmentOrd(x), KeyValue::SegmentOrd(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// "Goodness" ordering: greater comes first in results (TopDocs keeps the greatest).
fn compare_values(a: &[(KeyValue, bool, bool)], b: &[(KeyValue, bool, bool)]) -> Ordering {
    for ((x, desc, missing_first), (y, _, _)) in a.iter().zip(b) {
        let ord = match (x, y) {
            (KeyValue::Missing, KeyValue::Missing) => Ordering::Equal,
            (KeyValue::Missing, _) => {
                if *missing_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (_, KeyValue::Missing) => {
                if *missing_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            _ => {
                let o = natural(x, y).unwrap_or(Ordering::Equal);
                if *desc { o } else { o.reverse() }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(
            other
                .excluded
                .cmp(&self.excluded)
                .then_with(|| compare_values(&self.values, &other.values)),
        )
    }
}

/// Reads one sort field of one segment.
enum Accessor {
    Score,
    Doc(u32),
    Long(Option<tantivy::columnar::Column<i64>>),
    Double(Option<tantivy::columnar::Column<f64>>),
    Date(Option<tantivy::columnar::Column<tantivy::DateTime>>),
    Bool(Option<tantivy::columnar::Column<bool>>),
    Str(Option<tantivy::columnar::StrColumn>),
}

fn pick<T: PartialOrd + Copy>(mut it: impl Iterator<Item = T>, desc: bool) -> Option<T> {
    let first = it.next()?;
    Some(it.fold(first, |acc, v| {
        let better = if desc { v > acc } else { v < acc };
        if better { v } else { acc }
    }))
}

impl Accessor {
    fn value(&self, doc: DocId, score: Score, desc: bool) -> KeyValue {
        let num = |v: Option<f64>| v.map_or(KeyValue::Missing, KeyValue::Num);
        match self {
            Accessor::Score => KeyValue::Num(score as f64),
            // 16 bits of segment and 32 of doc id stay exact in an f64.
            Accessor::Doc(segment) => {
                KeyValue::Num((((*segment & 0xffff) as u64) << 32 | doc as u64) as f64)
            }
            Accessor::Long(Some(c)) => num(pick(c.values_for_doc(doc), desc).map(|v| v as f64)),
            Accessor::Double(Some(c)) => num(pick(c.values_for_doc(doc), desc)),
            Accessor::Date(Some(c)) => {
                num(pick(c.values_for_doc(doc), desc).map(|d| d.into_timestamp_millis() as f64))
            }
            Accessor::Bool(Some(c)) => {
                num(pick(c.values_for_doc(doc).map(u8::from), desc).map(f64::from))
            }
            // Ords are sorted within a segment, so min/max ord is min/max string.
            Accessor::Str(Some(c)) => pick(c.term_ords(doc), desc)
                .map_or(KeyValue::Missing, |ord| KeyValue::SegmentOrd(ord * 2 + 1)),
            _ => KeyValue::Missing,
        }
    }

    /// A `search_after` value as this segment compares it.
    fn cursor(&self, value: &KeyValue) -> KeyValue {
        let (Accessor::Str(Some(c)), KeyValue::Str(s)) = (self, value) else {
            return value.clone();
        };
        let dictionary = c.dictionary();
        let exact = dictionary.term_ord(s).ok().flatten();
        let next = dictionary
            .term_bounds_to_ord(Bound::Included(s.as_bytes()), Bound::Unbounded)
            .ok()
            .and_then(|(lower, _)| match lower {
                Bound::Included(ord) | Bound::Excluded(ord) => Some(ord),
                Bound::Unbounded => None,
            });
        match (exact, next) {
            (Some(ord), _) => KeyValue::SegmentOrd(ord * 2 + 1),
            // Past the last term the dictionary answers u64::MAX: after them all.
            (None, Some(ord)) => KeyValue::SegmentOrd(ord.saturating_mul(2)),
            (None, None) => KeyValue::SegmentOrd(u64::MAX),
        }
    }
}

/// The `limit` documents with the greatest sort keys, as
/// `TopDocs::tweak_score` finds them, except that string sort values stay
/// segment-local (`KeyValue::SegmentOrd`) until a segment hands over its
/// hits, and only those are looked up.
struct SortedTopDocs<F> {
    limit: usize,
    /// Builds the key function of a segment (given its ordinal), with the
    /// string column each sort value reads, if any.
    segment_key: F,
}

/// Per sort value: the string column of a segment it reads, if any.
type StringColumns = Vec<Option<tantivy::columnar::StrColumn>>;

impl<F, K> Collector for SortedTopDocs<F>
where
    F: Fn(tantivy::SegmentOrdinal, &SegmentReader) -> (K, StringColumns) + Send + Sync,
    K: FnMut(DocId, Score) -> SortKey + 'static,
{
    type Fruit = Vec<(SortKey, DocAddress)>;
    type Child = SortedTopSegment<K>;

    fn for_segment(
        &self,
        segment_ord: tantivy::SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let (key, columns) = (self.segment_key)(segment_ord, segment);
        Ok(SortedTopSegment {
            key,
            segment_ord,
            top: BoundedTop::new(self.limit),
            columns,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut top = BoundedTop::new(self.limit);
        for (key, address) in fruits.into_iter().flatten() {
            top.push(key, address);
        }
        Ok(top.into_sorted())
    }
}

/// The `limit` best (key, doc) pairs seen: greater keys first, then lower
/// docs, as `TopDocs` ranks them. A min-heap compares each candidate with
/// the worst kept one by reference (tantivy's `TopNComputer` clones its
/// threshold key on every push: an allocation per matching document here).
struct BoundedTop<D> {
    limit: usize,
    heap: std::collections::BinaryHeap<std::cmp::Reverse<Ranked<D>>>,
}

struct Ranked<D> {
    key: SortKey,
    doc: D,
}

impl<D: Ord> Ord for Ranked<D> {
    /// Better is greater.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .partial_cmp(&other.key)
            .unwrap_or(Ordering::Equal)
            .then_with(|| other.doc.cmp(&self.doc))
    }
}

impl<D: Ord> PartialOrd for Ranked<D> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<D: Ord> PartialEq for Ranked<D> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<D: Ord> Eq for Ranked<D> {}

impl<D: Ord> BoundedTop<D> {
    fn new(limit: usize) -> Self {
        BoundedTop {
            limit,
            heap: std::collections::BinaryHeap::with_capacity(limit.min(1024) + 1),
        }
    }

    fn push(&mut self, key: SortKey, doc: D) {
        let candidate = Ranked { key, doc };
        if self.heap.len() < self.limit {
            self.heap.push(std::cmp::Reverse(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && candidate > worst.0
        {
            *worst = std::cmp::Reverse(candidate);
        }
    }

    /// Best first.
    fn into_sorted(self) -> Vec<(SortKey, D)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|std::cmp::Reverse(hit)| (hit.key, hit.doc))
            .collect()
    }
}

struct SortedTopSegment<K> {
    key: K,
    segment_ord: tantivy::SegmentOrdinal,
    top: BoundedTop<DocId>,
    columns: StringColumns,
}

impl<K> SegmentCollector for SortedTopSegment<K>
where
    K: FnMut(DocId, Score) -> SortKey + 'static,
{
    type Fruit = Vec<(SortKey, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let key = (self.key)(doc, score);
        self.top.push(key, doc);
    }

    fn harvest(self) -> Self::Fruit {
        let mut hits = Vec::new();
        for (mut key, doc) in self.top.into_sorted() {
            for ((value, _, _), column) in key.values.iter_mut().zip(&self.columns) {
                if let (KeyValue::SegmentOrd(place), Some(column)) = (&*value, column) {
                    let mut text = String::new();
                    *value = match column.ord_to_str(place / 2, &mut text) {
                        Ok(true) => KeyValue::Str(text),
                        _ => KeyValue::Missing,
                    };
                }
            }
            hits.push((key, DocAddress::new(self.segment_ord, doc)));
        }
        hits
    }
}

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

fn sort_value_to_key(v: &Value, ty: Option<FieldType>) -> KeyValue {
    match (v, ty) {
        (Value::Null, _) => KeyValue::Missing,
        (v, Some(FieldType::Date)) => date_from_json(v).map_or(KeyValue::Missing, |d| {
            KeyValue::Num(d.into_timestamp_millis() as f64)
        }),
        (v, Some(FieldType::Boolean)) => bool_from_json(v).map_or(KeyValue::Missing, |b| {
            KeyValue::Num(if b { 1.0 } else { 0.0 })
        }),
        (Value::Number(n), _) => KeyValue::Num(n.as_f64().unwrap_or(0.0)),
        (Value::String(s), Some(FieldType::Keyword) | None) => KeyValue::Str(s.clone()),
        (v, _) => double_from_json(v).map_or(KeyValue::Missing, KeyValue::Num),
    }
}

fn key_to_json(v: &KeyValue, ty: Option<FieldType>) -> Value {
    match (v, ty) {
        // A segment's place is resolved to `Str` before hits leave it.
        (KeyValue::Missing | KeyValue::SegmentOrd(_), _) => Value::Null,
        (KeyValue::Str(s), _) => json!(s),
        (KeyValue::Num(n), Some(FieldType::Long | FieldType::Date | FieldType::Boolean)) => {
            json!(*n as i64)
        }
        (KeyValue::Num(n), _) => json!(n),
    }
}

/// Runs a search on one generation.
pub fn execute(generation: &Generation, req: &SearchRequest) -> Result<SearchOutcome> {
    let searcher = generation.searcher();
    let query = compile_query(generation, req.query.as_ref())?;
    let limit = req.from + req.size;
    let scored_sort = req.sort.is_empty()
        || (req.sort.len() == 1 && req.sort[0].kind == SortKind::Score && req.sort[0].desc);
    let mut hits = Vec::new();
    let mut max_score = None;
    let total_count;
    if scored_sort && req.search_after.is_none() && req.min_score.is_none() {
        if limit == 0 {
            total_count = searcher.search(&query, &Count)?;
        } else {
            let (top, count) = searcher.search(&query, &(TopDocs::with_limit(limit), Count))?;
            total_count = count;
            max_score = top.first().map(|(s, _)| *s);
            for (score, address) in top.into_iter().skip(req.from) {
                hits.push(Hit {
                    address,
                    score: Some(score),
                    sort: (!req.sort.is_empty()).then(|| vec![json!(score)]),
                });
            }
        }
    } else {
        let mut sort = req.sort.clone();
        if sort.is_empty() {
            sort.push(SortSpec {
                kind: SortKind::Score,
                desc: true,
                missing_first: false,
                unmapped_ok: false,
            });
        }
        let mut types = Vec::with_capacity(sort.len());
        for spec in &sort {
            types.push(match &spec.kind {
                SortKind::Field(path)
                    if spec.unmapped_ok
                        && path != "_id"
                        && generation.compiled.field(path).is_none() =>
                {
                    None
                }
                SortKind::Field(path) => Some(check_sort_field(generation, path)?),
                _ => None,
            });
        }
        let after: Option<Vec<(KeyValue, bool, bool)>> = match &req.search_after {
            None => None,
            Some(values) if values.len() != sort.len() => {
                return Err(Error::illegal(format!(
                    "search_after has {} value(s) but sort has {}.",
                    values.len(),
                    sort.len()
                )));
            }
            Some(values) => Some(
                values
                    .iter()
                    .zip(&sort)
                    .zip(&types)
                    .map(|((v, s), ty)| (sort_value_to_key(v, *ty), s.desc, s.missing_first))
                    .collect(),
            ),
        };
        let min_score = req.min_score;
        let track_scores = req.track_scores || sort.iter().any(|s| s.kind == SortKind::Score);
        // `_doc` order is (segment ordinal, doc id), as the searcher lists segments.
        let tweak = |seg_num: tantivy::SegmentOrdinal, segment: &SegmentReader| {
            let ff = segment.fast_fields();
            let accessors: Vec<(Accessor, bool, bool)> = sort
                .iter()
                .zip(&types)
                .map(|(spec, ty)| {
                    let acc = match (&spec.kind, ty) {
                        (SortKind::Score, _) => Accessor::Score,
                        (SortKind::Doc, _) => Accessor::Doc(seg_num),
                        (SortKind::Field(p), Some(FieldType::Long)) => {
                            Accessor::Long(ff.i64(p).ok())
                        }
                        (SortKind::Field(p), Some(FieldType::Double)) => {
                            Accessor::Double(ff.f64(p).ok())
                        }
                        (SortKind::Field(p), Some(FieldType::Date)) => {
                            Accessor::Date(ff.date(p).ok())
                        }
                        (SortKind::Field(p), Some(FieldType::Boolean)) => {
                            Accessor::Bool(ff.bool(p).ok())
                        }
                        (SortKind::Field(p), _) => Accessor::Str(ff.str(p).ok().flatten()),
                    };
                    (acc, spec.desc, spec.missing_first)
                })
                .collect();
            let after: Option<Vec<(KeyValue, bool, bool)>> = after.as_ref().map(|after| {
                after
                    .iter()
                    .zip(&accessors)
                    .map(|((value, desc, mf), (acc, _, _))| (acc.cursor(value), *desc, *mf))
                    .collect()
            });
            let columns: StringColumns = accessors
                .iter()
                .map(|(acc, _, _)| match acc {
                    Accessor::Str(column) => column.clone(),
                    _ => None,
                })
                .collect();
            let key = move |doc: DocId, score: Score| {
                let values: Vec<(KeyValue, bool, bool)> = accessors
                    .iter()
                    .map(|(acc, desc, mf)| (acc.value(doc, score, *desc), *desc, *mf))
                    .collect();
                let before_cursor = after
                    .as_ref()
                    .is_some_and(|a| compare_values(&values, a) != Ordering::Less);
                let below_min = min_score.is_some_and(|m| score < m);
                SortKey {
                    excluded: before_cursor || below_min,
                    values,
                    score,
                }
            };
            (key, columns)
        };
        // `min_score` totals count only documents above it, so every match is ranked (local
        // indexes are small enough); otherwise the collector keeps from + size.
        let collect = if req.min_score.is_some() {
            limit.max(searcher.num_docs() as usize)
        } else {
            limit
        };
        let (top, matched) = if collect == 0 {
            (Vec::new(), searcher.search(&query, &Count)?)
        } else {
            let top = SortedTopDocs {
                limit: collect,
                segment_key: tweak,
            };
            searcher.search(&query, &(top, Count))?
        };
        // Totals count what the query matched, not what search_after skipped.
        total_count = if req.min_score.is_some() {
            top.iter().filter(|(k, _)| !k.excluded).count()
        } else {
            matched
        };
        let top: Vec<_> = top.into_iter().take(limit).collect();
        for (key, address) in top.into_iter().skip(req.from) {
            if key.excluded {
                continue;
            }
            if track_scores {
                max_score = Some(max_score.map_or(key.score, |m: f32| m.max(key.score)));
            }
            let sort_values = key
                .values
                .iter()
                .zip(&sort)
                .zip(&types)
                .map(|(((v, _, _), spec), ty)| {
                    let ty = if spec.kind == SortKind::Doc {
                        Some(FieldType::Long)
                    } else {
                        *ty
                    };
                    key_to_json(v, ty)
                })
                .collect();
            hits.push(Hit {
                address,
                score: track_scores.then_some(key.score),
                // Sort values are reported only for an explicit sort.
                sort: (!req.sort.is_empty()).then_some(sort_values),
            });
        }
    }
    let total = req.track_total_hits.map(|cap| {
        let n = total_count as u64;
        if n > cap { (cap, true) } else { (n, false) }
    });
    let aggregations = match &req.aggs {
        Some(aggs) => Some(run_aggs(generation, &*query, aggs)?),
        None => None,
    };
    Ok(SearchOutcome {
        total,
        hits,
        max_score,
        aggregations,
    })
}

fn run_aggs(generation: &Generation, query: &dyn Query, aggs: &Value) -> Result<Value> {
    check_agg_fields(generation, aggs)?;
    let mut aggs = aggs.clone();
    calendar_to_fixed(&mut aggs);
    let aggs: Aggregations = serde_json::from_value(aggs)
        .map_err(|e| Error::parsing(format!("failed to parse aggregations: {e}")))?;
    let collector = AggregationCollector::from_aggs(aggs, AggregationLimitsGuard::default());
    let result = generation
        .searcher()
        .search(query, &collector)
        .map_err(|e| Error::illegal(e.to_string()))?;
    let mut value = serde_json::to_value(result).map_err(|e| Error::Internal(e.to_string()))?;
    integral_date_keys(&mut value);
    Ok(value)
}

/// OpenSearch prints date bucket keys as integers (epoch millis); tantivy as floats.
fn integral_date_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("key_as_string")
                && let Some(key) = map.get("key").and_then(Value::as_f64)
                && key.fract() == 0.0
                && key.abs() < 9e15
            {
                map.insert("key".into(), json!(key as i64));
            }
            map.values_mut().for_each(integral_date_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(integral_date_keys),
        _ => {}
    }
}

/// tantivy only has fixed intervals, aligned on the epoch; calendar units that are fixed
/// and epoch-aligned in UTC translate exactly. Weeks (Monday-aligned in OpenSearch, while
/// the epoch is a Thursday), months, quarters and years report tantivy's error.
fn calendar_to_fixed(aggs: &mut Value) {
    match aggs {
        Value::Object(map) => {
            if let Some(Value::String(unit)) = map.get("calendar_interval") {
                let fixed = match unit.as_str() {
                    "minute" | "1m" => Some("1m"),
                    "hour" | "1h" => Some("1h"),
                    "day" | "1d" => Some("1d"),
                    _ => None,
                };
                if let Some(fixed) = fixed {
                    map.remove("calendar_interval");
                    map.insert("fixed_interval".into(), json!(fixed));
                }
            }
            for v in map.values_mut() {
                calendar_to_fixed(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(calendar_to_fixed),
        _ => {}
    }
}

/// Aggregations run on fast fields; text fields have none, as in OpenSearch without fielddata.
fn check_agg_fields(generation: &Generation, aggs: &Value) -> Result<()> {
    match aggs {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "field"
                    && let Some(path) = v.as_str()
                {
                    check_sort_field(generation, path)?;
                }
                check_agg_fields(generation, v)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                check_agg_fields(generation, item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

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

struct Highlighter {
    pre: String,
    post: String,
    fields: Vec<(String, String, SnippetGenerator, usize)>,
}

impl Highlighter {
    fn new(
        generation: &Generation,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        spec: &Value,
    ) -> Result<Highlighter> {
        let tag = |key: &str, default: &str| {
            spec.get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        let pre = tag("pre_tags", "<em>");
        let post = tag("post_tags", "</em>");
        let global_size = spec
            .get("fragment_size")
            .and_then(Value::as_u64)
            .unwrap_or(100);
        let mut fields = Vec::new();
        let requested: Vec<(String, Value)> = match spec.get("fields") {
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
                .collect(),
            _ => return Err(Error::parsing("[highlight] requires [fields]")),
        };
        for (pattern, opts) in requested {
            for f in generation.compiled.fields.values() {
                if !matches!(f.ty, FieldType::Text | FieldType::Keyword)
                    || !glob_match(&pattern, &f.path)
                {
                    continue;
                }
                let size = opts
                    .get("fragment_size")
                    .and_then(Value::as_u64)
                    .unwrap_or(global_size) as usize;
                let whole = opts.get("number_of_fragments").and_then(Value::as_u64) == Some(0);
                let mut generator = SnippetGenerator::create(searcher, query, f.field)?;
                let size = if whole { usize::MAX / 2 } else { size.max(1) };
                generator.set_max_num_chars(size);
                // Multi-fields read their parent's value from `_source`.
                let source_path = match f.path.rsplit_once('.') {
                    Some((parent, _)) if generation.compiled.field(parent).is_some() => {
                        parent.to_string()
                    }
                    _ => f.path.clone(),
                };
                fields.push((f.path.clone(), source_path, generator, size));
            }
        }
        Ok(Highlighter { pre, post, fields })
    }

    fn highlight(&self, source: &Value) -> Map<String, Value> {
        let mut out = Map::new();
        for (path, source_path, generator, _) in &self.fields {
            let mut fragments = Vec::new();
            for value in values_at(source, source_path) {
                let Some(text) = text_from_json(value) else {
                    continue;
                };
                let snippet = generator.snippet(&text);
                if snippet.highlighted().is_empty() {
                    continue;
                }
                let fragment = snippet.fragment();
                let mut html = String::new();
                let mut at = 0;
                for range in snippet.highlighted() {
                    html.push_str(&fragment[at..range.start]);
                    html.push_str(&self.pre);
                    html.push_str(&fragment[range.start..range.end]);
                    html.push_str(&self.post);
                    at = range.end;
                }
                html.push_str(&fragment[at..]);
                fragments.push(json!(html));
            }
            if !fragments.is_empty() {
                out.insert(path.clone(), Value::Array(fragments));
            }
        }
        out
    }
}

/// Scalars at a dotted path, walking through arrays.
pub fn values_at<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![value];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            match v {
                Value::Object(m) => {
                    if let Some(child) = m.get(part) {
                        next.push(child);
                    }
                }
                Value::Array(items) => {
                    for item in items {
                        if let Some(child) = item.get(part) {
                            next.push(child);
                        }
                    }
                }
                _ => {}
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect(),
            v => vec![v],
        })
        .collect()
}

/// Orders rendered hits of several indexes: by `_score` without a sort, else by the
/// `sort` values under each sort's direction (missing values last unless `_first`).
pub fn compare_hits(a: &Value, b: &Value, sort: &[SortSpec]) -> Ordering {
    if sort.is_empty() {
        let score = |h: &Value| h["_score"].as_f64().unwrap_or(f64::MIN);
        return score(b).partial_cmp(&score(a)).unwrap_or(Ordering::Equal);
    }
    for (i, spec) in sort.iter().enumerate() {
        let (x, y) = (&a["sort"][i], &b["sort"][i]);
        let ord = match (x, y) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) if spec.missing_first => Ordering::Less,
            (Value::Null, _) => Ordering::Greater,
            (_, Value::Null) if spec.missing_first => Ordering::Greater,
            (_, Value::Null) => Ordering::Less,
            (Value::String(x), Value::String(y)) => {
                let o = x.cmp(y);
                if spec.desc { o.reverse() } else { o }
            }
            (x, y) => {
                let o = x
                    .as_f64()
                    .partial_cmp(&y.as_f64())
                    .unwrap_or(Ordering::Equal);
                if spec.desc { o.reverse() } else { o }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
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
