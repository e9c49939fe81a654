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
        if let Some(names) = self.names {
            if !any_expression {
                return Err(Error::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            if names.is_empty() {
                return Err(Error::validation(
                    "ExpressionAttributeNames must not be empty",
                ));
            }
            let used = self.used_names.borrow();
            let unused: Vec<&str> = names
                .keys()
                .filter(|k| !used.contains(*k))
                .map(|k| k.as_str())
                .collect();
            if !unused.is_empty() {
                return Err(Error::validation(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        if let Some(values) = self.values {
            if !any_expression {
                return Err(Error::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
            }
            if values.is_empty() {
                return Err(Error::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            let used = self.used_values.borrow();
            let unused: Vec<&str> = values
                .keys()
                .filter(|k| !used.contains(*k))
                .map(|k| k.as_str())
                .collect();
            if !unused.is_empty() {
                return Err(Error::validation(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        Ok(())
    }
}
