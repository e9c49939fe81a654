//! Applying planned writes: conditions, atomic sled batches, stream
//! records, and group-committed fsyncs.

use std::sync::{Arc, Mutex};

use super::stream::StreamRecord;
use super::table::Table;
use super::table::check_nesting;
use super::{Database, MAX_ITEM_SIZE};
use crate::dynamodb::codec::encode_item;
use crate::dynamodb::error::{CancellationReason, Error, Result};
use crate::dynamodb::expression::{self, Condition, UpdateAction};
use crate::dynamodb::types::{Item, item_size};

/// What a planned write does to its item.
pub(super) enum Mutation {
    Put(Item),
    Update(Vec<UpdateAction>),
    Delete,
    Check,
}

/// One validated item write, ready to commit.
pub(super) struct PlannedWrite {
    pub(super) table: Arc<Table>,
    pub(super) data_key: Vec<u8>,
    pub(super) key: Item,
    pub(super) mutation: Mutation,
    pub(super) condition: Option<Condition>,
    pub(super) return_old_on_failure: bool,
}

/// An item before and after a committed write.
#[derive(Default)]
pub(super) struct Applied {
    pub(super) old: Option<Item>,
    pub(super) new: Option<Item>,
}

/// A single-item write fails with its own error; a batch or transaction
/// fails as a whole with cancellation reasons.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum WriteMode {
    Single,
    Transaction,
}

/// Group-commit bookkeeping (see `Database::flush_through`).
#[derive(Default)]
pub(super) struct GroupCommit {
    pub(super) state: Mutex<FlushState>,
    pub(super) done: std::sync::Condvar,
}

#[derive(Default)]
pub(super) struct FlushState {
    /// Every write up to this number is on disk.
    pub(super) durable_seq: u64,
    pub(super) flushing: bool,
}

impl Database {
    /// Makes write number `seq` durable. One writer at a time flushes; the
    /// others wait, and a flush covers every write applied before it
    /// started, so concurrent writers share fsyncs (group commit).
    pub(super) fn flush_through(&self, seq: u64) -> Result<()> {
        if !self.durable {
            return Ok(());
        }
        let gc = &self.group_commit;
        let mut state = gc.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if state.durable_seq >= seq {
                return Ok(());
            }
            if !state.flushing {
                state.flushing = true;
                drop(state);
                let target = *self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
                let result = self.db.flush();
                state = gc.state.lock().unwrap_or_else(|e| e.into_inner());
                state.flushing = false;
                if result.is_ok() {
                    state.durable_seq = state.durable_seq.max(target);
                }
                gc.done.notify_all();
                result?;
                continue;
            }
            state = gc.done.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Applies planned writes atomically (see the module docs).
    pub(super) fn commit(
        &self,
        writes: Vec<PlannedWrite>,
        mode: WriteMode,
    ) -> Result<Vec<Applied>> {
        let mut guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut results = Vec::with_capacity(writes.len());
        let mut reasons = Vec::new();
        let mut failed = false;
        for w in &writes {
            let old = self.read(&w.data_key)?;
            if let Some(cond) = &w.condition {
                let empty = Item::new();
                if !expression::evaluate(cond, old.as_ref().unwrap_or(&empty)) {
                    let item = if w.return_old_on_failure {
                        old.clone()
                    } else {
                        None
                    };
                    if mode == WriteMode::Single {
                        return Err(Error::ConditionalCheckFailed { item });
                    }
                    failed = true;
                    reasons.push(CancellationReason {
                        code: "ConditionalCheckFailed".into(),
                        message: Some("The conditional request failed".into()),
                        item,
                    });
                    results.push(Applied { old, new: None });
                    continue;
                }
            }
            let new = match &w.mutation {
                Mutation::Put(item) => Ok(Some(item.clone())),
                Mutation::Delete => Ok(None),
                Mutation::Check => Ok(old.clone()),
                Mutation::Update(actions) => {
                    let base = old.clone().unwrap_or_else(|| w.key.clone());
                    updated_item(&w.table, &base, actions).map(Some)
                }
            };
            let new = match (new, mode) {
                (Ok(new), _) => new,
                // In a transaction a failing action cancels the whole
                // transaction with a reason, as DynamoDB reports it.
                (Err(Error::Validation(message)), WriteMode::Transaction) => {
                    failed = true;
                    reasons.push(CancellationReason {
                        code: "ValidationError".into(),
                        message: Some(message),
                        item: None,
                    });
                    results.push(Applied { old, new: None });
                    continue;
                }
                (Err(e), _) => return Err(e),
            };
            reasons.push(CancellationReason::none());
            results.push(Applied { old, new });
        }
        if failed {
            return Err(Error::TransactionCanceled { reasons });
        }
        // Each storage key written once: index entries that stay the same
        // are left alone, so updates of non-key attributes touch one key.
        let mut ops: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        let mut records = Vec::new();
        for (w, r) in writes.iter().zip(&results) {
            if matches!(w.mutation, Mutation::Check) {
                continue;
            }
            let old_entries = r
                .old
                .as_ref()
                .map(|i| w.table.index_entries(i, &w.data_key))
                .unwrap_or_default();
            let new_entries = r
                .new
                .as_ref()
                .map(|i| w.table.index_entries(i, &w.data_key))
                .unwrap_or_default();
            for k in &old_entries {
                if !new_entries.contains(k) {
                    ops.push((k.clone(), None));
                }
            }
            for k in new_entries {
                if !old_entries.contains(&k) {
                    ops.push((k, Some(w.data_key.clone())));
                }
            }
            match &r.new {
                Some(new) => ops.push((w.data_key.clone(), Some(encode_item(new)))),
                None if r.old.is_some() => ops.push((w.data_key.clone(), None)),
                None => {}
            }
            if r.old.is_some() || r.new.is_some() {
                records.push(StreamRecord {
                    table: w.table.def.table_name.clone(),
                    keys: w.key.clone(),
                    old_image: r.old.clone(),
                    new_image: r.new.clone(),
                });
            }
        }
        match ops.len() {
            0 => {}
            // A single-key write is atomic on its own and much cheaper than
            // a sled batch.
            1 => {
                let (k, v) = ops.pop().unwrap_or_default();
                match v {
                    Some(v) => self.items.insert(k, v).map(drop)?,
                    None => self.items.remove(k).map(drop)?,
                }
            }
            _ => {
                let mut batch = sled::Batch::default();
                for (k, v) in ops {
                    match v {
                        Some(v) => batch.insert(k, v),
                        None => batch.remove(k),
                    }
                }
                self.items.apply_batch(batch)?;
            }
        }
        *guard += 1;
        let seq = *guard;
        let consumers = if records.is_empty() {
            Vec::new()
        } else {
            let consumers = self
                .consumers
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let records: Arc<[StreamRecord]> = records.into();
            for consumer in &consumers {
                consumer.stage(seq, &records);
            }
            consumers
        };
        drop(guard);
        for consumer in &consumers {
            consumer.settle(seq);
        }
        self.flush_through(seq)?;
        Ok(results)
    }

    /// Commits one item write (PutItem, UpdateItem, DeleteItem) and returns
    /// the item before and after it.
    pub(super) fn commit_one(&self, write: PlannedWrite) -> Result<Applied> {
        let applied = self.commit(vec![write], WriteMode::Single)?;
        Ok(applied.into_iter().next().unwrap_or_default())
    }
}

fn updated_item(table: &Table, base: &Item, actions: &[UpdateAction]) -> Result<Item> {
    let updated = expression::apply_update(base, actions)?;
    table.validate_index_keys(&updated)?;
    check_nesting(&updated)?;
    if item_size(&updated) > MAX_ITEM_SIZE {
        return Err(Error::validation(
            "Item size to update has exceeded the maximum allowed size",
        ));
    }
    Ok(updated)
}
