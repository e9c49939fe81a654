//! A parsed KeyConditionExpression checked against a key schema.

use super::ast::{Comparator, Condition, Operand};
use super::eval::{begins_with, compare};
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::AttributeValue;

/// The sort-key part of a key condition.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKeyCondition {
    Compare(Comparator, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// A validated KeyConditionExpression.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub partition_value: AttributeValue,
    pub sort: Option<SortKeyCondition>,
}

/// Checks that a parsed condition is a valid key condition for the schema.
pub fn key_condition(
    cond: &Condition,
    partition_key: &str,
    sort_key: Option<&str>,
) -> Result<KeyCondition> {
    let invalid = |msg: String| Error::validation(format!("Invalid KeyConditionExpression: {msg}"));
    let mut parts = Vec::new();
    fn flatten<'c>(
        c: &'c Condition,
        out: &mut Vec<&'c Condition>,
    ) -> std::result::Result<(), &'static str> {
        match c {
            Condition::And(a, b) => {
                flatten(a, out)?;
                flatten(b, out)
            }
            Condition::Or(..) => Err("OR"),
            Condition::Not(..) => Err("NOT"),
            Condition::In(..) => Err("IN"),
            Condition::Compare(Comparator::Ne, ..) => Err("<>"),
            Condition::AttributeExists(_) => Err("attribute_exists"),
            Condition::AttributeNotExists(_) => Err("attribute_not_exists"),
            Condition::AttributeType(..) => Err("attribute_type"),
            Condition::Contains(..) => Err("contains"),
            other => {
                out.push(other);
                Ok(())
            }
        }
    }
    flatten(cond, &mut parts).map_err(|op| {
        invalid(format!(
            "Invalid operator used in KeyConditionExpression: {op}"
        ))
    })?;
    if parts.len() > 2 {
        return Err(invalid("Conditions can be of length 1 or 2 only".into()));
    }
    let mut partition = None;
    let mut sort = None;
    let key_of = |op: &Operand| -> Result<String> {
        match op {
            Operand::Path(p) if p.0.len() == 1 => Ok(p.head().to_string()),
            Operand::Path(_) => Err(invalid(
                "Nested attributes are not supported in KeyConditionExpression".into(),
            )),
            _ => Err(Error::validation("Query key condition not supported")),
        }
    };
    let literal = |op: &Operand| -> Result<AttributeValue> {
        match op {
            Operand::Value(v) => Ok(v.clone()),
            _ => Err(Error::validation("Query key condition not supported")),
        }
    };
    for part in parts {
        let (name, cond) = match part {
            Condition::Compare(cmp, a, b) => {
                let (path, value, cmp) = match (a, b) {
                    (Operand::Path(_), _) => (a, b, *cmp),
                    (_, Operand::Path(_)) => (b, a, flip(*cmp)),
                    _ => (a, b, *cmp),
                };
                (
                    key_of(path)?,
                    SortKeyCondition::Compare(cmp, literal(value)?),
                )
            }
            Condition::Between(a, lo, hi) => (
                key_of(a)?,
                SortKeyCondition::Between(literal(lo)?, literal(hi)?),
            ),
            Condition::BeginsWith(a, b) => (key_of(a)?, SortKeyCondition::BeginsWith(literal(b)?)),
            _ => return Err(Error::validation("Query key condition not supported")),
        };
        if name == partition_key {
            if partition.is_some() {
                return Err(invalid(
                    "KeyConditionExpressions must only contain one condition per key".into(),
                ));
            }
            match cond {
                SortKeyCondition::Compare(Comparator::Eq, v) => partition = Some(v),
                _ => return Err(Error::validation("Query key condition not supported")),
            }
        } else if Some(name.as_str()) == sort_key {
            if sort.is_some() {
                return Err(invalid(
                    "KeyConditionExpressions must only contain one condition per key".into(),
                ));
            }
            sort = Some(cond);
        } else {
            // DynamoDB names the key element it expected instead.
            let expected = if name != partition_key && partition.is_none() {
                partition_key
            } else {
                sort_key.unwrap_or(partition_key)
            };
            return Err(Error::validation(format!(
                "Query condition missed key schema element: {expected}"
            )));
        }
    }
    let partition_value = partition.ok_or_else(|| {
        Error::validation(format!(
            "Query condition missed key schema element: {partition_key}"
        ))
    })?;
    Ok(KeyCondition {
        partition_value,
        sort,
    })
}

fn flip(c: Comparator) -> Comparator {
    match c {
        Comparator::Lt => Comparator::Gt,
        Comparator::Le => Comparator::Ge,
        Comparator::Gt => Comparator::Lt,
        Comparator::Ge => Comparator::Le,
        other => other,
    }
}

impl SortKeyCondition {
    pub fn matches(&self, v: &AttributeValue) -> bool {
        match self {
            SortKeyCondition::Compare(cmp, x) => compare(*cmp, Some(v), Some(x)),
            SortKeyCondition::Between(lo, hi) => {
                compare(Comparator::Ge, Some(v), Some(lo))
                    && compare(Comparator::Le, Some(v), Some(hi))
            }
            SortKeyCondition::BeginsWith(p) => begins_with(v, p),
        }
    }

    /// Literal values of the condition, for type checks against the schema.
    pub fn values(&self) -> Vec<&AttributeValue> {
        match self {
            SortKeyCondition::Compare(_, v) | SortKeyCondition::BeginsWith(v) => vec![v],
            SortKeyCondition::Between(a, b) => vec![a, b],
        }
    }
}
