//! Sorted searches: sort keys, the `SortedTopDocs` collector, and the order of
//! hits merged from several indexes.

use std::cmp::Ordering;
use std::ops::Bound;

use serde_json::{Value, json};
use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::query::Query;
use tantivy::{DocAddress, DocId, Score, SegmentReader};

use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::Generation;
use crate::opensearch::mapping::{FieldType, bool_from_json, date_from_json, double_from_json};
use crate::opensearch::search::request::{SearchRequest, SortKind, SortSpec};
use crate::opensearch::search::{Hit, TopHits, check_sort_field};

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

/// Ranks by `req.sort` (by score when it is empty: a `search_after` or
/// `min_score` search) with [`SortedTopDocs`].
pub(super) fn sorted_top(
    generation: &Generation,
    query: &dyn Query,
    req: &SearchRequest,
) -> Result<TopHits> {
    let searcher = generation.searcher();
    let limit = req.from + req.size;
    let mut hits = Vec::new();
    let mut max_score = None;
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
                    (SortKind::Field(p), Some(FieldType::Long)) => Accessor::Long(ff.i64(p).ok()),
                    (SortKind::Field(p), Some(FieldType::Double)) => {
                        Accessor::Double(ff.f64(p).ok())
                    }
                    (SortKind::Field(p), Some(FieldType::Date)) => Accessor::Date(ff.date(p).ok()),
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
        (Vec::new(), searcher.search(query, &Count)?)
    } else {
        let top = SortedTopDocs {
            limit: collect,
            segment_key: tweak,
        };
        searcher.search(query, &(top, Count))?
    };
    // Totals count what the query matched, not what search_after skipped.
    let total_count = if req.min_score.is_some() {
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
    Ok(TopHits {
        hits,
        total: total_count,
        max_score,
    })
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
