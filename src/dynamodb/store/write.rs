//! Writes: PutItem, DeleteItem, UpdateItem, BatchWriteItem,
//! TransactWriteItems, and the bulk loads of fixtures and seeds.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::commit::{Applied, Mutation, PlannedWrite, WriteMode};
use super::params::*;
use super::table::Table;
use super::{Database, MAX_BATCH_WRITE};
use crate::dynamodb::api::*;
use crate::dynamodb::codec::encode_item;
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::expression::{self, ExpressionContext, ExpressionKind, Path, UpdateAction};
use crate::dynamodb::types::{Item, item_to_json};

/// A validated put: its table, storage key and item.
pub(super) type PlannedPut<'a> = (Arc<Table>, Vec<u8>, &'a Item);

/// The parameters PutItem and DeleteItem share.
struct ItemWrite<'a> {
    table_name: &'a str,
    names: Option<&'a AttributeNames>,
    values: Option<&'a Item>,
    condition_expression: &'a Option<String>,
    return_values: &'a Option<String>,
    return_values_on_condition_check_failure: &'a Option<String>,
}

/// The [`ItemWrite`] of a PutItem or DeleteItem request: the two share
/// these fields, by name.
macro_rules! item_write {
    ($req:expr) => {
        ItemWrite {
            table_name: &$req.table_name,
            names: $req.expression_attribute_names.as_ref(),
            values: $req.expression_attribute_values.as_ref(),
            condition_expression: &$req.condition_expression,
            return_values: &$req.return_values,
            return_values_on_condition_check_failure: &$req
                .return_values_on_condition_check_failure,
        }
    };
}

/// What one item write does: its storage key, key attributes and mutation.
type ItemMutation = (Vec<u8>, Item, Mutation);

/// A put of a validated item.
fn put_of(table: &Table, item: &Item) -> Result<ItemMutation> {
    Ok((
        table.validate_item(item)?,
        table.key_of(item),
        Mutation::Put(item.clone()),
    ))
}

/// A delete of a validated key.
fn delete_of(table: &Table, key: &Item) -> Result<ItemMutation> {
    Ok((table.validate_key(key)?, key.clone(), Mutation::Delete))
}

/// The action of one TransactWriteItems entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TransactKind {
    ConditionCheck,
    Put,
    Delete,
    Update,
}

impl Database {
    pub fn put_item(&self, req: &PutItemRequest) -> Result<PutItemOutput> {
        self.write_item(item_write!(req), |table| put_of(table, &req.item))
    }

    pub fn delete_item(&self, req: &DeleteItemRequest) -> Result<DeleteItemOutput> {
        self.write_item(item_write!(req), |table| delete_of(table, &req.key))
    }

    /// PutItem and DeleteItem: the parameters are checked in DynamoDB's
    /// order (expressions, then `ReturnValues`, then the table and the item
    /// or key), and only `ALL_OLD` returns anything.
    fn write_item(
        &self,
        req: ItemWrite<'_>,
        mutation: impl FnOnce(&Table) -> Result<ItemMutation>,
    ) -> Result<WriteItemOutput> {
        let ctx = ExpressionContext::new(req.names, req.values);
        let condition = parse_condition(req.condition_expression, &ctx, ExpressionKind::Condition)?;
        ctx.check_unused(condition.is_some())?;
        let return_values = parse_return_values(req.return_values, false)?;
        let table = self.table(req.table_name)?;
        let (data_key, key, mutation) = mutation(&table)?;
        let applied = self.commit_one(PlannedWrite {
            table,
            data_key,
            key,
            mutation,
            condition,
            return_old_on_failure: on_failure_all_old(req.return_values_on_condition_check_failure),
        })?;
        Ok(WriteItemOutput {
            attributes: applied
                .old
                .filter(|_| return_values == ReturnValues::AllOld),
        })
    }

    pub fn update_item(&self, req: &UpdateItemRequest) -> Result<UpdateItemOutput> {
        let ctx = ExpressionContext::new(
            req.expression_attribute_names.as_ref(),
            req.expression_attribute_values.as_ref(),
        );
        let actions = match &req.update_expression {
            Some(src) => expression::parse_update(src, &ctx)?,
            None => Vec::new(),
        };
        let condition =
            parse_condition(&req.condition_expression, &ctx, ExpressionKind::Condition)?;
        ctx.check_unused(condition.is_some() || req.update_expression.is_some())?;
        let return_values = parse_return_values(&req.return_values, true)?;
        let table = self.table(&req.table_name)?;
        let data_key = table.validate_key(&req.key)?;
        check_update_keys(&table, &actions)?;
        let paths: Vec<Path> = expression::updated_attributes(&actions)
            .into_iter()
            .cloned()
            .collect();
        let applied = self.commit_one(PlannedWrite {
            table,
            data_key,
            key: req.key.clone(),
            mutation: Mutation::Update(actions),
            condition,
            return_old_on_failure: on_failure_all_old(
                &req.return_values_on_condition_check_failure,
            ),
        })?;
        let Applied { old, new } = applied;
        let attributes = match return_values {
            ReturnValues::None => None,
            ReturnValues::AllOld => old,
            ReturnValues::AllNew => new,
            ReturnValues::UpdatedOld => old.map(|i| expression::project(&i, &paths)),
            ReturnValues::UpdatedNew => new.map(|i| expression::project(&i, &paths)),
        };
        Ok(WriteItemOutput {
            attributes: attributes.filter(|a| !a.is_empty()),
        })
    }

    pub fn batch_write_item(&self, req: &BatchWriteItemRequest) -> Result<BatchWriteItemOutput> {
        let total: usize = req.request_items.values().map(Vec::len).sum();
        if total > MAX_BATCH_WRITE {
            return Err(Error::validation(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        if total == 0 {
            return Err(Error::validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null",
            ));
        }
        let mut writes = Vec::new();
        let mut seen = HashSet::new();
        for (name, requests) in &req.request_items {
            let table = self.table(name)?;
            for r in requests {
                let (data_key, key, mutation) = match (&r.put_request, &r.delete_request) {
                    (Some(p), None) => put_of(&table, &p.item)?,
                    (None, Some(d)) => delete_of(&table, &d.key)?,
                    _ => {
                        return Err(Error::validation(
                            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                        ));
                    }
                };
                if !seen.insert(data_key.clone()) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                writes.push(PlannedWrite {
                    table: table.clone(),
                    data_key,
                    key,
                    mutation,
                    condition: None,
                    return_old_on_failure: false,
                });
            }
        }
        self.commit(writes, WriteMode::Transaction)?;
        Ok(BatchWriteItemOutput::default())
    }

    /// Puts many items, across tables, in one atomic commit: fixtures,
    /// without BatchWriteItem's 25-item limit. Every item is validated
    /// before anything is written; the commit's stream records feed the
    /// sourced indexes like any write.
    pub fn put_items(&self, items: &[(String, Item)]) -> Result<usize> {
        let mut writes = Vec::with_capacity(items.len());
        for (table, data_key, item) in self.plan_puts(items.iter().map(|(t, i)| (t, i)))? {
            writes.push(PlannedWrite {
                key: table.key_of(item),
                table,
                data_key,
                mutation: Mutation::Put(item.clone()),
                condition: None,
                return_old_on_failure: false,
            });
        }
        let count = writes.len();
        if count > 0 {
            self.commit(writes, WriteMode::Transaction)?;
        }
        Ok(count)
    }

    /// Validates puts and finds their tables and storage keys; duplicates
    /// are an error, as in BatchWriteItem.
    pub(super) fn plan_puts<'a>(
        &self,
        items: impl Iterator<Item = (&'a String, &'a Item)>,
    ) -> Result<Vec<PlannedPut<'a>>> {
        let mut tables: HashMap<&str, Arc<Table>> = HashMap::new();
        let mut seen = HashSet::new();
        let mut planned = Vec::new();
        for (name, item) in items {
            let table = match tables.get(name.as_str()) {
                Some(table) => table.clone(),
                None => {
                    let table = self.table(name)?;
                    tables.insert(name, table.clone());
                    table
                }
            };
            let data_key = table.validate_item(item)?;
            if !seen.insert(data_key.clone()) {
                return Err(Error::validation(format!(
                    "Provided list of item keys contains duplicates: {} in table {name}",
                    item_to_json(&table.key_of(item))
                )));
            }
            planned.push((table, data_key, item));
        }
        Ok(planned)
    }

    /// Bulk loading for seeds: validates every item first, then writes the
    /// items and their index entries in large sled batches, without stream
    /// records (the caller builds the sourced indexes itself, in bulk) and
    /// with one flush at the end. Not atomic as a whole: the seed's marker
    /// file tells a finished load from an interrupted one. Items replace
    /// items with the same key, whose old index entries go.
    pub fn load_items(&self, items: &[(String, Item)]) -> Result<usize> {
        const ITEMS_PER_BATCH: usize = 10_000;
        let planned = self.plan_puts(items.iter().map(|(t, i)| (t, i)))?;
        let mut guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        // An empty table has no old items to read and replace.
        let mut empty: HashMap<u32, bool> = HashMap::new();
        for (table, _, _) in &planned {
            if let std::collections::hash_map::Entry::Vacant(slot) = empty.entry(table.id) {
                let first = self.items.scan_prefix(table.prefix(0)).next().transpose()?;
                slot.insert(first.is_none());
            }
        }
        for chunk in planned.chunks(ITEMS_PER_BATCH) {
            let mut batch = sled::Batch::default();
            for (table, data_key, item) in chunk {
                let new_entries = table.index_entries(item, data_key);
                if !empty[&table.id]
                    && let Some(old) = self.read(data_key)?
                {
                    for key in table.index_entries(&old, data_key) {
                        if !new_entries.contains(&key) {
                            batch.remove(key);
                        }
                    }
                }
                for key in new_entries {
                    batch.insert(key, data_key.as_slice());
                }
                batch.insert(data_key.as_slice(), encode_item(item));
            }
            self.items.apply_batch(batch)?;
        }
        *guard += 1;
        let seq = *guard;
        drop(guard);
        self.flush_through(seq)?;
        Ok(planned.len())
    }

    /// Deletes every item of a table with its index entries, keeping the
    /// table; returns how many items there were. No stream records: a
    /// reset empties the indexes itself.
    pub fn clear_table(&self, name: &str) -> Result<usize> {
        let table = self.table(name)?;
        let mut guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = sled::Batch::default();
        let mut items = 0;
        for entry in self.items.scan_prefix(table.id.to_be_bytes()) {
            let (key, _) = entry?;
            if key.get(4) == Some(&0) {
                items += 1;
            }
            batch.remove(key);
        }
        self.items.apply_batch(batch)?;
        *guard += 1;
        let seq = *guard;
        drop(guard);
        self.flush_through(seq)?;
        Ok(items)
    }

    pub fn transact_write_items(
        &self,
        req: &TransactWriteItemsRequest,
    ) -> Result<TransactWriteItemsOutput> {
        check_transact_len(req.transact_items.len())?;
        let mut writes = Vec::new();
        let mut seen = HashSet::new();
        for t in &req.transact_items {
            let (action, kind) = match (&t.condition_check, &t.put, &t.delete, &t.update) {
                (Some(a), None, None, None) => (a, TransactKind::ConditionCheck),
                (None, Some(a), None, None) => (a, TransactKind::Put),
                (None, None, Some(a), None) => (a, TransactKind::Delete),
                (None, None, None, Some(a)) => (a, TransactKind::Update),
                _ => {
                    return Err(Error::validation(
                        "TransactItems can only contain one of Check, Put, Update or Delete",
                    ));
                }
            };
            let ctx = ExpressionContext::new(
                action.expression_attribute_names.as_ref(),
                action.expression_attribute_values.as_ref(),
            );
            let actions = match (kind, &action.update_expression) {
                (TransactKind::Update, Some(src)) => expression::parse_update(src, &ctx)?,
                (TransactKind::Update, None) => {
                    return Err(Error::validation(
                        "1 validation error detected: Value null at 'transactItems.update.updateExpression' failed to satisfy constraint: Member must not be null",
                    ));
                }
                _ => Vec::new(),
            };
            let condition = parse_condition(
                &action.condition_expression,
                &ctx,
                ExpressionKind::Condition,
            )?;
            if kind == TransactKind::ConditionCheck && condition.is_none() {
                return Err(Error::validation(
                    "1 validation error detected: Value null at 'transactItems.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
                ));
            }
            ctx.check_unused(condition.is_some() || !actions.is_empty())?;
            let table = self.table(&action.table_name)?;
            let (data_key, key, mutation) = if kind == TransactKind::Put {
                let item = action.item.as_ref().ok_or_else(|| {
                    Error::validation(
                        "1 validation error detected: Value null at 'transactItems.put.item' failed to satisfy constraint: Member must not be null",
                    )
                })?;
                put_of(&table, item)?
            } else {
                let key = action.key.as_ref().ok_or_else(|| {
                    Error::validation("The provided key element does not match the schema")
                })?;
                let mutation = match kind {
                    TransactKind::Delete => Mutation::Delete,
                    TransactKind::Update => {
                        check_update_keys(&table, &actions)?;
                        Mutation::Update(actions)
                    }
                    TransactKind::ConditionCheck | TransactKind::Put => Mutation::Check,
                };
                (table.validate_key(key)?, key.clone(), mutation)
            };
            if !seen.insert(data_key.clone()) {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            writes.push(PlannedWrite {
                table,
                data_key,
                key,
                mutation,
                condition,
                return_old_on_failure: on_failure_all_old(
                    &action.return_values_on_condition_check_failure,
                ),
            });
        }
        self.commit(writes, WriteMode::Transaction)?;
        Ok(TransactWriteItemsOutput {})
    }
}

pub(super) fn check_update_keys(table: &Table, actions: &[UpdateAction]) -> Result<()> {
    for p in expression::updated_attributes(actions) {
        if table.key_names().contains(&p.head()) {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key",
                p.head()
            )));
        }
    }
    Ok(())
}
