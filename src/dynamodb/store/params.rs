//! Request parameters the operations share: expressions, `ReturnValues`,
//! `Select`, limits.

use super::MAX_TRANSACT_ITEMS;
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::expression::{self, Condition, ExpressionContext, ExpressionKind, Path};
use crate::dynamodb::types::Item;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Select {
    All,
    Count,
    Specific,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ReturnValues {
    None,
    AllOld,
    AllNew,
    UpdatedOld,
    UpdatedNew,
}

pub(super) fn parse_return_values(v: &Option<String>, update: bool) -> Result<ReturnValues> {
    let rv = match v.as_deref() {
        None | Some("NONE") => ReturnValues::None,
        Some("ALL_OLD") => ReturnValues::AllOld,
        Some("ALL_NEW") => ReturnValues::AllNew,
        Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
        Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
        Some(other) => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{other}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
            )));
        }
    };
    if !update && !matches!(rv, ReturnValues::None | ReturnValues::AllOld) {
        return Err(Error::validation("Return values set to invalid value"));
    }
    Ok(rv)
}

pub(super) fn on_failure_all_old(v: &Option<String>) -> bool {
    v.as_deref() == Some("ALL_OLD")
}

pub(super) fn parse_select(v: &Option<String>, has_projection: bool) -> Result<Select> {
    let s = match v.as_deref() {
        None => {
            if has_projection {
                Select::Specific
            } else {
                Select::All
            }
        }
        Some("ALL_ATTRIBUTES") | Some("ALL_PROJECTED_ATTRIBUTES") => Select::All,
        Some("COUNT") => Select::Count,
        Some("SPECIFIC_ATTRIBUTES") => Select::Specific,
        Some(other) => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )));
        }
    };
    if has_projection && s != Select::Specific {
        return Err(Error::validation(format!(
            "Cannot specify the ProjectionExpression when choosing to get {}",
            v.as_deref().unwrap_or_default()
        )));
    }
    Ok(s)
}

pub(super) fn check_limit(limit: Option<i64>) -> Result<()> {
    match limit {
        Some(l) if l < 1 => Err(Error::validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        _ => Ok(()),
    }
}

pub(super) fn check_transact_len(n: usize) -> Result<()> {
    if n == 0 || n > MAX_TRANSACT_ITEMS {
        return Err(Error::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length {} {}",
            if n == 0 {
                "greater than or equal to"
            } else {
                "less than or equal to"
            },
            if n == 0 { 1 } else { MAX_TRANSACT_ITEMS }
        )));
    }
    Ok(())
}

pub(super) fn parse_condition(
    src: &Option<String>,
    ctx: &ExpressionContext<'_>,
    kind: ExpressionKind,
) -> Result<Option<Condition>> {
    src.as_deref()
        .map(|s| expression::parse_condition(s, ctx, kind))
        .transpose()
}

pub(super) fn parse_projection(
    src: &Option<String>,
    ctx: &ExpressionContext<'_>,
) -> Result<Option<Vec<Path>>> {
    src.as_deref()
        .map(|s| expression::parse_projection(s, ctx))
        .transpose()
}

pub(super) fn apply_projection(item: &Item, projection: Option<&[Path]>) -> Item {
    match projection {
        Some(p) => expression::project(item, p),
        None => item.clone(),
    }
}
