//! The expression attribute names and values of one request.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::Item;

/// `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request,
/// with the bookkeeping of which were used.
#[derive(Debug, Default)]
pub struct ExpressionContext<'a> {
    pub(super) names: Option<&'a BTreeMap<String, String>>,
    pub(super) values: Option<&'a Item>,
    pub(super) used_names: RefCell<BTreeSet<String>>,
    pub(super) used_values: RefCell<BTreeSet<String>>,
}

impl<'a> ExpressionContext<'a> {
    pub fn new(names: Option<&'a BTreeMap<String, String>>, values: Option<&'a Item>) -> Self {
        ExpressionContext {
            names,
            values,
            ..Default::default()
        }
    }

    /// DynamoDB rejects empty maps before looking at any expression.
    pub(super) fn check_empty(&self) -> Result<()> {
        if self.names.is_some_and(|n| n.is_empty()) {
            return Err(Error::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if self.values.is_some_and(|v| v.is_empty()) {
            return Err(Error::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        Ok(())
    }

    /// Fails when names or values were supplied but not used by any
    /// expression of the request, as DynamoDB does.
    pub fn check_unused(&self, any_expression: bool) -> Result<()> {
        let names = self.names.map(|n| n.keys());
        check_all_used(
            "ExpressionAttributeNames",
            names,
            &self.used_names,
            any_expression,
        )?;
        let values = self.values.map(|v| v.keys());
        check_all_used(
            "ExpressionAttributeValues",
            values,
            &self.used_values,
            any_expression,
        )
    }
}

/// One parameter's part of [`ExpressionContext::check_unused`]; `parameter`
/// names it in DynamoDB's messages.
fn check_all_used<'k>(
    parameter: &str,
    supplied: Option<impl ExactSizeIterator<Item = &'k String>>,
    used: &RefCell<BTreeSet<String>>,
    any_expression: bool,
) -> Result<()> {
    let Some(keys) = supplied else {
        return Ok(());
    };
    if !any_expression {
        return Err(Error::validation(format!(
            "{parameter} can only be specified when using expressions"
        )));
    }
    if keys.len() == 0 {
        return Err(Error::validation(format!("{parameter} must not be empty")));
    }
    let used = used.borrow();
    let unused: Vec<&str> = keys
        .filter(|k| !used.contains(*k))
        .map(|k| k.as_str())
        .collect();
    if !unused.is_empty() {
        return Err(Error::validation(format!(
            "Value provided in {parameter} unused in expressions: keys: {{{}}}",
            unused.join(", ")
        )));
    }
    Ok(())
}
