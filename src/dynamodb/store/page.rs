//! One page of a Query or Scan: the key range, the walk over it with its
//! limits, filters and projections, and `LastEvaluatedKey`.

use std::collections::BTreeSet;
use std::ops::Bound;

use super::definition::{IndexProjection, ProjectionType};
use super::params::Select;
use super::table::{KeySchema, Table};
use super::{Database, MAX_PAGE_BYTES};
use crate::dynamodb::api::QueryOutput;
use crate::dynamodb::codec::decode_item;
use crate::dynamodb::error::Result;
use crate::dynamodb::expression::{self, Condition, Path, SortKeyCondition};
use crate::dynamodb::types::{AttributeValue, Item, encode_key_value, item_size};

/// What a Query or Scan reads, its parameters checked.
pub(super) struct Page<'a> {
    pub(super) table: &'a Table,
    pub(super) schema: &'a KeySchema<'a>,
    pub(super) filter: Option<&'a Condition>,
    pub(super) projection: Option<&'a [Path]>,
    pub(super) select: Select,
    pub(super) limit: Option<usize>,
    pub(super) segment: Option<(u64, u64)>,
}

impl Database {
    pub(super) fn collect_page<I>(&self, iter: I, page: Page<'_>) -> Result<QueryOutput>
    where
        I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    {
        let mut items = Vec::new();
        let mut count = 0;
        let mut scanned = 0;
        let mut bytes = 0;
        let mut last_evaluated_key = None;
        let is_index = page.schema.index != 0;
        for entry in iter {
            let (_, v) = entry?;
            let item = if is_index {
                match self.read(&v)? {
                    Some(i) => i,
                    None => continue,
                }
            } else {
                decode_item(&v)?
            };
            if let Some((segment, total)) = page.segment {
                let pk = item.get(&page.schema.partition.name);
                if pk.map(|pk| segment_of(pk, total)) != Some(segment) {
                    continue;
                }
            }
            scanned += 1;
            bytes += item_size(&item);
            let visible = match page.schema.projection {
                Some(p) if p.projection_type != ProjectionType::All => {
                    project_index(page.table, page.schema, p, &item)
                }
                _ => item,
            };
            let matched = page
                .filter
                .is_none_or(|f| expression::evaluate(f, &visible));
            let stop = page.limit == Some(scanned) || bytes >= MAX_PAGE_BYTES;
            if stop {
                let mut key = page.table.key_of(&visible);
                for attr in [Some(page.schema.partition), page.schema.sort]
                    .into_iter()
                    .flatten()
                {
                    if let Some(v) = visible.get(&attr.name) {
                        key.insert(attr.name.clone(), v.clone());
                    }
                }
                last_evaluated_key = Some(key);
            }
            if matched {
                count += 1;
                if page.select != Select::Count {
                    items.push(match page.projection {
                        Some(p) => expression::project(&visible, p),
                        None => visible,
                    });
                }
            }
            if stop {
                break;
            }
        }
        Ok(QueryOutput {
            items: (page.select != Select::Count).then_some(items),
            count,
            scanned_count: scanned,
            last_evaluated_key,
        })
    }
}

/// What a query on an index sees of an item, per the index projection.
pub(super) fn project_index(
    table: &Table,
    schema: &KeySchema<'_>,
    p: &IndexProjection,
    item: &Item,
) -> Item {
    if p.projection_type == ProjectionType::All {
        return item.clone();
    }
    let mut keep: BTreeSet<&str> = table.key_names().into_iter().collect();
    keep.insert(&schema.partition.name);
    if let Some(s) = schema.sort {
        keep.insert(&s.name);
    }
    if p.projection_type == ProjectionType::Include {
        keep.extend(p.non_key_attributes.iter().map(String::as_str));
    }
    item.iter()
        .filter(|(k, _)| keep.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(super) fn bound((k, inclusive): (Vec<u8>, bool)) -> Bound<Vec<u8>> {
    if inclusive {
        Bound::Included(k)
    } else {
        Bound::Excluded(k)
    }
}

/// Narrows the partition's key range by a sort-key condition.
pub(super) fn sort_bounds(
    sort: &SortKeyCondition,
    prefix: &[u8],
    lower: &mut (Vec<u8>, bool),
    upper: &mut (Vec<u8>, bool),
) {
    use expression::Comparator as C;
    let enc = |v: &AttributeValue| {
        let mut k = prefix.to_vec();
        encode_key_value(v, &mut k);
        k
    };
    match sort {
        SortKeyCondition::Compare(C::Eq, v) => {
            let k = enc(v);
            *upper = (prefix_successor(&k), false);
            *lower = (k, true);
        }
        SortKeyCondition::Compare(C::Lt, v) => *upper = (enc(v), false),
        SortKeyCondition::Compare(C::Le, v) => *upper = (prefix_successor(&enc(v)), false),
        SortKeyCondition::Compare(C::Gt, v) => *lower = (prefix_successor(&enc(v)), true),
        SortKeyCondition::Compare(C::Ge, v) => *lower = (enc(v), true),
        SortKeyCondition::Compare(C::Ne, _) => {}
        SortKeyCondition::Between(lo, hi) => {
            *lower = (enc(lo), true);
            *upper = (prefix_successor(&enc(hi)), false);
        }
        SortKeyCondition::BeginsWith(v) => {
            // The escaped bytes without the terminator are a prefix of every
            // encoded value that starts with `v`.
            let mut k = enc(v);
            k.truncate(k.len() - 2);
            *upper = (prefix_successor(&k), false);
            *lower = (k, true);
        }
    }
}

/// Stable segment of a partition key for parallel scans (FNV-1a).
pub(super) fn segment_of(pk: &AttributeValue, total: u64) -> u64 {
    let mut bytes = Vec::new();
    encode_key_value(pk, &mut bytes);
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h % total
}

/// The smallest byte string greater than every string with this prefix.
pub(super) fn prefix_successor(prefix: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    while let Some(&last) = v.last() {
        if last == 0xFF {
            v.pop();
        } else {
            let n = v.len();
            v[n - 1] += 1;
            return v;
        }
    }
    vec![0xFF; prefix.len() + 1]
}
