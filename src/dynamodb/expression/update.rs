//! Update actions applied to items.

use super::ast::{Operand, Path, PathElement, UpdateAction};
use super::eval::resolve;
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::{AttributeValue, Item};

const MISSING_OPERAND: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";

fn update_value(item: &Item, op: &Operand) -> Result<AttributeValue> {
    match op {
        Operand::Path(p) => resolve(item, p)
            .cloned()
            .ok_or_else(|| Error::validation(MISSING_OPERAND)),
        Operand::Value(v) => Ok(v.clone()),
        Operand::IfNotExists(p, alt) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => update_value(item, alt),
        },
        Operand::ListAppend(a, b) => match (update_value(item, a)?, update_value(item, b)?) {
            (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                x.extend(y);
                Ok(AttributeValue::L(x))
            }
            _ => Err(Error::validation(WRONG_TYPE)),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => {
            match (update_value(item, a)?, update_value(item, b)?) {
                (AttributeValue::N(x), AttributeValue::N(y)) => {
                    let r = if matches!(op, Operand::Plus(..)) {
                        x.add(&y)
                    } else {
                        x.sub(&y)
                    };
                    r.map(AttributeValue::N)
                        .map_err(|e| Error::validation(e.to_string()))
                }
                _ => Err(Error::validation(WRONG_TYPE)),
            }
        }
        Operand::Size(_) => Err(Error::validation(WRONG_TYPE)),
    }
}

fn parent_mut<'i>(item: &'i mut Item, path: &Path) -> Result<Option<&'i mut AttributeValue>> {
    let elems = &path.0[..path.0.len() - 1];
    let Some((PathElement::Attribute(head), rest)) = elems.split_first() else {
        return Ok(None);
    };
    let mut cur = item
        .get_mut(head)
        .ok_or_else(|| Error::validation(INVALID_PATH))?;
    for e in rest {
        cur = match (e, cur) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get_mut(a),
            (PathElement::Index(i), AttributeValue::L(l)) => l.get_mut(*i),
            _ => None,
        }
        .ok_or_else(|| Error::validation(INVALID_PATH))?;
    }
    Ok(Some(cur))
}

fn set_path(item: &mut Item, path: &Path, v: AttributeValue) -> Result<()> {
    let last = path
        .0
        .last()
        .ok_or_else(|| Error::validation(INVALID_PATH))?;
    match parent_mut(item, path)? {
        None => match last {
            PathElement::Attribute(a) => {
                item.insert(a.clone(), v);
                Ok(())
            }
            PathElement::Index(_) => Err(Error::validation(INVALID_PATH)),
        },
        Some(parent) => match (last, parent) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => {
                m.insert(a.clone(), v);
                Ok(())
            }
            (PathElement::Index(i), AttributeValue::L(l)) => {
                // Past the end appends, as DynamoDB does.
                if *i < l.len() {
                    l[*i] = v;
                } else {
                    l.push(v);
                }
                Ok(())
            }
            _ => Err(Error::validation(INVALID_PATH)),
        },
    }
}

fn remove_path(item: &mut Item, path: &Path) -> Result<()> {
    let Some(last) = path.0.last() else {
        return Ok(());
    };
    let parent = match parent_mut(item, path) {
        Ok(p) => p,
        // Removing below a missing attribute is a no-op.
        Err(_) => return Ok(()),
    };
    match (last, parent) {
        (PathElement::Attribute(a), None) => {
            item.remove(a);
        }
        (PathElement::Attribute(a), Some(AttributeValue::M(m))) => {
            m.remove(a);
        }
        (PathElement::Index(i), Some(AttributeValue::L(l))) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    Ok(())
}

fn path_mut<'i>(item: &'i mut Item, path: &Path) -> Option<&'i mut AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElement::Attribute(a) => item.get_mut(a)?,
        PathElement::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get_mut(a)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Applies update actions; right-hand sides see the item as it was before
/// the update, as in DynamoDB.
pub fn apply_update(item: &Item, actions: &[UpdateAction]) -> Result<Item> {
    let mut out = item.clone();
    let mut removes: Vec<&Path> = Vec::new();
    for action in actions {
        match action {
            UpdateAction::Set(path, op) => {
                let v = update_value(item, op)?;
                set_path(&mut out, path, v)?;
            }
            UpdateAction::Remove(path) => removes.push(path),
            UpdateAction::Add(path, v) => match path_mut(&mut out, path) {
                None => set_path(&mut out, path, v.clone())?,
                Some(cur) => {
                    let merged = match (&*cur, v) {
                        (AttributeValue::N(a), AttributeValue::N(b)) => AttributeValue::N(
                            a.add(b).map_err(|e| Error::validation(e.to_string()))?,
                        ),
                        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => {
                            AttributeValue::Ss(union(a, b))
                        }
                        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => {
                            AttributeValue::Ns(union(a, b))
                        }
                        (AttributeValue::Bs(a), AttributeValue::Bs(b)) => {
                            AttributeValue::Bs(union(a, b))
                        }
                        _ => return Err(Error::validation(WRONG_TYPE)),
                    };
                    *cur = merged;
                }
            },
            UpdateAction::Delete(path, v) => {
                let Some(cur) = path_mut(&mut out, path) else {
                    continue;
                };
                let (left, empty) = match (&*cur, v) {
                    (AttributeValue::Ss(a), AttributeValue::Ss(b)) => {
                        let r = difference(a, b);
                        (r.is_empty(), AttributeValue::Ss(r))
                    }
                    (AttributeValue::Ns(a), AttributeValue::Ns(b)) => {
                        let r = difference(a, b);
                        (r.is_empty(), AttributeValue::Ns(r))
                    }
                    (AttributeValue::Bs(a), AttributeValue::Bs(b)) => {
                        let r = difference(a, b);
                        (r.is_empty(), AttributeValue::Bs(r))
                    }
                    _ => return Err(Error::validation(WRONG_TYPE)),
                }
                .clone();
                if left {
                    // An emptied set disappears: DynamoDB has no empty sets.
                    remove_path(&mut out, path)?;
                } else {
                    *cur = empty;
                }
            }
        }
    }
    // Remove higher list indexes first so indexes refer to the original list.
    removes.sort_by(|a, b| b.cmp(a));
    for path in removes {
        remove_path(&mut out, path)?;
    }
    Ok(out)
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Top-level attributes an update writes or removes, for key checks.
pub fn updated_attributes(actions: &[UpdateAction]) -> Vec<&Path> {
    actions
        .iter()
        .map(|a| match a {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        })
        .collect()
}
