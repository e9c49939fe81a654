//! The change stream: committed changes, as DynamoDB Streams records them.

use std::sync::Arc;

use crate::dynamodb::types::Item;

/// One committed change to one item.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub table: String,
    pub keys: Item,
    pub old_image: Option<Item>,
    pub new_image: Option<Item>,
}

impl StreamRecord {
    /// `INSERT`, `MODIFY` or `REMOVE`, as in DynamoDB Streams.
    pub fn event_name(&self) -> &'static str {
        match (&self.old_image, &self.new_image) {
            (None, _) => "INSERT",
            (Some(_), Some(_)) => "MODIFY",
            (Some(_), None) => "REMOVE",
        }
    }
}

/// A consumer of the change stream (see "Change stream" on [`Database`]).
/// It gets the records of one commit together (a batch or a transaction
/// commits many), so it can apply them at once.
pub trait StreamConsumer: Send + Sync {
    /// The records of commit number `seq`, in commit order, while the writer
    /// mutex is held: must be quick and must not touch the database.
    fn stage(&self, seq: u64, records: &Arc<[StreamRecord]>);

    /// Runs for a commit that staged records, after the writer mutex is
    /// released and before the write is acknowledged: the place for slow
    /// work such as applying the records, shared by concurrent writers.
    fn settle(&self, seq: u64);
}
