//! Conditions evaluated against items.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::{Comparator, Condition, Operand, Path, PathElement};
use crate::dynamodb::types::{AttributeValue, Item, compare_values};

/// Looks up a document path in an item.
pub fn resolve<'i>(item: &'i Item, path: &Path) -> Option<&'i AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElement::Attribute(a) => item.get(a)?,
        PathElement::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get(a)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn operand_value<'i>(item: &'i Item, op: &'i Operand) -> Option<Cow<'i, AttributeValue>> {
    match op {
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(inner) => {
            let v = operand_value(item, inner)?;
            let n = match v.as_ref() {
                AttributeValue::S(s) => s.len(),
                AttributeValue::B(b) => b.len(),
                AttributeValue::L(l) => l.len(),
                AttributeValue::M(m) => m.len(),
                AttributeValue::Ss(s) => s.len(),
                AttributeValue::Ns(s) => s.len(),
                AttributeValue::Bs(s) => s.len(),
                _ => return None,
            };
            Some(Cow::Owned(AttributeValue::N((n as i64).into())))
        }
        // Update-only operands never reach condition evaluation.
        _ => None,
    }
}

pub(super) fn compare(
    cmp: Comparator,
    a: Option<&AttributeValue>,
    b: Option<&AttributeValue>,
) -> bool {
    match cmp {
        Comparator::Eq => matches!((a, b), (Some(x), Some(y)) if x.same_as(y)),
        Comparator::Ne => !matches!((a, b), (Some(x), Some(y)) if x.same_as(y)),
        _ => {
            let (Some(x), Some(y)) = (a, b) else {
                return false;
            };
            match compare_values(x, y) {
                Some(o) => match cmp {
                    Comparator::Lt => o == Ordering::Less,
                    Comparator::Le => o != Ordering::Greater,
                    Comparator::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
                None => false,
            }
        }
    }
}

pub(super) fn begins_with(v: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (v, prefix) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
        (AttributeValue::B(s), AttributeValue::B(p)) => s.starts_with(p),
        _ => false,
    }
}

/// Evaluates a condition against an item (an absent item is an empty one).
pub fn evaluate(cond: &Condition, item: &Item) -> bool {
    let val = |op| operand_value(item, op);
    match cond {
        Condition::Compare(cmp, a, b) => compare(*cmp, val(a).as_deref(), val(b).as_deref()),
        Condition::Between(a, lo, hi) => {
            let a = val(a);
            compare(Comparator::Ge, a.as_deref(), val(lo).as_deref())
                && compare(Comparator::Le, a.as_deref(), val(hi).as_deref())
        }
        Condition::In(a, list) => {
            let a = val(a);
            list.iter()
                .any(|o| compare(Comparator::Eq, a.as_deref(), val(o).as_deref()))
        }
        Condition::And(a, b) => evaluate(a, item) && evaluate(b, item),
        Condition::Or(a, b) => evaluate(a, item) || evaluate(b, item),
        Condition::Not(a) => !evaluate(a, item),
        Condition::AttributeExists(p) => resolve(item, p).is_some(),
        Condition::AttributeNotExists(p) => resolve(item, p).is_none(),
        Condition::AttributeType(a, t) => match (val(a), val(t)) {
            (Some(v), Some(t)) => matches!(t.as_ref(), AttributeValue::S(t) if t == v.type_name()),
            _ => false,
        },
        Condition::BeginsWith(a, p) => match (val(a), val(p)) {
            (Some(v), Some(p)) => begins_with(&v, &p),
            _ => false,
        },
        Condition::Contains(a, x) => match (val(a), val(x)) {
            (Some(v), Some(x)) => contains(&v, &x),
            _ => false,
        },
    }
}

fn contains(v: &AttributeValue, x: &AttributeValue) -> bool {
    match (v, x) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.contains(p.as_str()),
        (AttributeValue::B(s), AttributeValue::B(p)) => {
            p.is_empty() || s.windows(p.len()).any(|w| w == p.as_slice())
        }
        (AttributeValue::Ss(s), AttributeValue::S(p)) => s.contains(p),
        (AttributeValue::Ns(s), AttributeValue::N(p)) => s.contains(p),
        (AttributeValue::Bs(s), AttributeValue::B(p)) => s.contains(p),
        (AttributeValue::L(l), x) => l.iter().any(|e| e.same_as(x)),
        _ => false,
    }
}
