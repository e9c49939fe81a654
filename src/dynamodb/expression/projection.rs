//! ProjectionExpressions applied to items.

use std::collections::BTreeMap;

use super::ast::{Path, PathElement};
use crate::dynamodb::types::{AttributeValue, Item};

/// Which parts of a value a projection keeps.
#[derive(Debug, Default)]
enum Selection {
    #[default]
    Nothing,
    All,
    Fields(BTreeMap<String, Selection>),
    Indexes(BTreeMap<usize, Selection>),
}

impl Selection {
    fn add(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            *self = Selection::All;
            return;
        };
        if matches!(self, Selection::All) {
            return;
        }
        let child = match (first, &mut *self) {
            (PathElement::Attribute(a), Selection::Fields(m)) => m.entry(a.clone()).or_default(),
            (PathElement::Index(i), Selection::Indexes(m)) => m.entry(*i).or_default(),
            (PathElement::Attribute(a), slot) => {
                *slot = Selection::Fields(BTreeMap::new());
                match slot {
                    Selection::Fields(m) => m.entry(a.clone()).or_default(),
                    _ => return,
                }
            }
            (PathElement::Index(i), slot) => {
                *slot = Selection::Indexes(BTreeMap::new());
                match slot {
                    Selection::Indexes(m) => m.entry(*i).or_default(),
                    _ => return,
                }
            }
        };
        child.add(rest);
    }

    fn apply(&self, v: &AttributeValue) -> Option<AttributeValue> {
        match (self, v) {
            (Selection::All, v) => Some(v.clone()),
            (Selection::Fields(sel), AttributeValue::M(m)) => {
                let kept = select_fields(sel, m);
                (!kept.is_empty()).then_some(AttributeValue::M(kept))
            }
            // Kept list elements are compacted, in their original order.
            (Selection::Indexes(sel), AttributeValue::L(l)) => {
                let kept: Vec<AttributeValue> = sel
                    .iter()
                    .filter_map(|(i, s)| l.get(*i).and_then(|e| s.apply(e)))
                    .collect();
                (!kept.is_empty()).then_some(AttributeValue::L(kept))
            }
            _ => None,
        }
    }
}

fn select_fields(sel: &BTreeMap<String, Selection>, m: &Item) -> Item {
    sel.iter()
        .filter_map(|(k, s)| Some((k.clone(), s.apply(m.get(k)?)?)))
        .collect()
}

/// Builds the item holding only the projected paths, keeping the item's
/// structure and list order, as DynamoDB returns projections.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut top: BTreeMap<String, Selection> = BTreeMap::new();
    for path in paths {
        if let Some((PathElement::Attribute(head), rest)) = path.0.split_first() {
            top.entry(head.clone()).or_default().add(rest);
        }
    }
    select_fields(&top, item)
}
