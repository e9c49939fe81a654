//! The table store: DynamoDB operations over one sled database.
//!
//! (The layout, consistency and durability guarantees are documented on
//! [`Database`].)

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::dynamodb::api::*;
use crate::dynamodb::codec::{decode_item, encode_item};
use crate::dynamodb::error::{CancellationReason, Error, Result};
use crate::dynamodb::expression::{
    self, Condition, ExpressionContext, ExpressionKind, Path, SortKeyCondition, UpdateAction,
};
use crate::dynamodb::types::{
    AttributeValue, Item, ScalarType, encode_key_value, item_size, item_to_json, items_equal,
};

/// DynamoDB's maximum item size.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
/// Query and Scan stop after reading this much data.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
const MAX_TRANSACT_ITEMS: usize = 100;
const MAX_BATCH_GET: usize = 100;
const MAX_BATCH_WRITE: usize = 25;
/// Region and account in ARNs; local tables belong to no real account.
const ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/";

// ---------------------------------------------------------------- declarations

/// A key attribute: name and scalar type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub attribute_type: ScalarType,
}

/// Which attributes a global secondary index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectionType {
    #[default]
    All,
    KeysOnly,
    Include,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexProjection {
    #[serde(rename = "type", default)]
    pub projection_type: ProjectionType,
    /// For `INCLUDE`: the non-key attributes copied into the index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_key_attributes: Vec<String>,
}

/// A global secondary index declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub partition_key: KeyAttribute,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttribute>,
    #[serde(default)]
    pub projection: IndexProjection,
}

/// A table declaration, as written in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableDefinition {
    pub table_name: String,
    pub partition_key: KeyAttribute,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttribute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
}

impl TableDefinition {
    /// Checks names and that each attribute has one type everywhere.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.table_name.len() < 3
            || self.table_name.len() > 255
            || !self
                .table_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(format!(
                "invalid table name {:?}: 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'",
                self.table_name
            ));
        }
        let mut types: BTreeMap<String, ScalarType> = BTreeMap::new();
        let mut check = |k: &KeyAttribute| -> std::result::Result<(), String> {
            if k.name.is_empty() {
                return Err("key attribute names cannot be empty".into());
            }
            match types.insert(k.name.clone(), k.attribute_type) {
                Some(t) if t != k.attribute_type => Err(format!(
                    "attribute {} is declared as both {} and {}",
                    k.name,
                    t.as_str(),
                    k.attribute_type.as_str()
                )),
                _ => Ok(()),
            }
        };
        check(&self.partition_key)?;
        if let Some(s) = &self.sort_key {
            check(s)?;
            if s.name == self.partition_key.name {
                return Err("the sort key must differ from the partition key".into());
            }
        }
        let mut names = HashSet::new();
        for gsi in &self.global_secondary_indexes {
            if !names.insert(&gsi.index_name) {
                return Err(format!("duplicate index name {}", gsi.index_name));
            }
            check(&gsi.partition_key)?;
            if let Some(s) = &gsi.sort_key {
                check(s)?;
            }
        }
        if self.global_secondary_indexes.len() > 20 {
            return Err("a table can have at most 20 global secondary indexes".into());
        }
        Ok(())
    }
}

/// Where and how the database keeps its data.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Data directory; `None` keeps everything in a temporary directory that
    /// is removed on drop (tests).
    pub path: Option<PathBuf>,
    /// Flush to disk before acknowledging each write.
    pub durable: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: None,
            durable: true,
        }
    }
}

/// Why the database could not be opened with the declared tables.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the DynamoDB data directory: {0}")]
    Storage(#[from] sled::Error),
    #[error(
        "table {table}: the declaration differs from the one the stored data was created with\n  stored:   {stored}\n  declared: {declared}\nrestore the declaration, or delete the table's data (DeleteTable) or the data directory"
    )]
    ChangedDeclaration {
        table: String,
        stored: String,
        declared: String,
    },
    #[error("table {table}: {message}")]
    InvalidDeclaration { table: String, message: String },
    #[error("corrupt table metadata in the data directory: {0}")]
    CorruptMetadata(String),
}

// ---------------------------------------------------------------- change stream

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

/// Opens sled, waiting briefly for a directory lock held by this same
/// process: after the last handle to a database is dropped, sled's background
/// IO threads can keep the lock for a moment, so a prompt reopen in-process
/// (tests, embedders) would otherwise fail. Another process holding the lock
/// still fails, after the wait, with sled's error.
fn open_sled(config: &sled::Config) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.to_string().contains("could not acquire lock") =>
            {
                if std::time::Instant::now() >= deadline {
                    return Err(sled::Error::Io(e));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
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

// ---------------------------------------------------------------- tables

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TableMeta {
    id: u32,
    created: f64,
    definition: TableDefinition,
}

#[derive(Debug)]
struct Table {
    id: u32,
    created: f64,
    def: TableDefinition,
}

/// The key schema of the table or of one of its indexes.
struct KeySchema<'a> {
    index: u8,
    partition: &'a KeyAttribute,
    sort: Option<&'a KeyAttribute>,
    projection: Option<&'a IndexProjection>,
}

impl Table {
    fn prefix(&self, index: u8) -> Vec<u8> {
        let mut p = self.id.to_be_bytes().to_vec();
        p.push(index);
        p
    }

    fn schema(&self) -> KeySchema<'_> {
        KeySchema {
            index: 0,
            partition: &self.def.partition_key,
            sort: self.def.sort_key.as_ref(),
            projection: None,
        }
    }

    fn index_schema(&self, name: &str) -> Result<KeySchema<'_>> {
        let (i, gsi) = self
            .def
            .global_secondary_indexes
            .iter()
            .enumerate()
            .find(|(_, g)| g.index_name == name)
            .ok_or_else(|| {
                Error::validation(format!(
                    "The table does not have the specified index: {name}"
                ))
            })?;
        Ok(KeySchema {
            index: i as u8 + 1,
            partition: &gsi.partition_key,
            sort: gsi.sort_key.as_ref(),
            projection: Some(&gsi.projection),
        })
    }

    fn key_names(&self) -> Vec<&str> {
        let mut v = vec![self.def.partition_key.name.as_str()];
        if let Some(s) = &self.def.sort_key {
            v.push(&s.name);
        }
        v
    }

    /// The table key attributes of an item.
    fn key_of(&self, item: &Item) -> Item {
        self.key_names()
            .into_iter()
            .filter_map(|k| item.get(k).map(|v| (k.to_string(), v.clone())))
            .collect()
    }

    /// Encoded table key of an item whose key attributes were validated.
    fn key_suffix(&self, item: &Item) -> Vec<u8> {
        let mut out = Vec::new();
        for k in self.key_names() {
            if let Some(v) = item.get(k) {
                encode_key_value(v, &mut out);
            }
        }
        out
    }

    fn data_key(&self, item: &Item) -> Vec<u8> {
        let mut k = self.prefix(0);
        k.extend(self.key_suffix(item));
        k
    }

    /// DynamoDB's key size limits: 2048 bytes for the partition key, 1024
    /// for the sort key (messages as the service words them).
    fn check_key_sizes(&self, item: &Item) -> Result<()> {
        if item
            .get(&self.def.partition_key.name)
            .is_some_and(|v| v.size() > 2048)
        {
            return Err(Error::validation(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
            ));
        }
        if let Some(sk) = &self.def.sort_key
            && item.get(&sk.name).is_some_and(|v| v.size() > 1024)
        {
            return Err(Error::validation(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
            ));
        }
        Ok(())
    }

    /// Validates a `Key` parameter and returns its storage key.
    fn validate_key(&self, key: &Item) -> Result<Vec<u8>> {
        let names = self.key_names();
        let mismatch = || Error::validation("The provided key element does not match the schema");
        if key.len() != names.len() {
            return Err(mismatch());
        }
        let attrs = [Some(&self.def.partition_key), self.def.sort_key.as_ref()];
        for attr in attrs.into_iter().flatten() {
            let v = key.get(&attr.name).ok_or_else(mismatch)?;
            if v.scalar_type() != Some(attr.attribute_type) {
                return Err(mismatch());
            }
            check_not_empty(&attr.name, v)?;
        }
        self.check_key_sizes(key)?;
        Ok(self.data_key(key))
    }

    /// Validates a full item for writing: key attributes, index key types
    /// and size.
    fn validate_item(&self, item: &Item) -> Result<Vec<u8>> {
        let attrs = [Some(&self.def.partition_key), self.def.sort_key.as_ref()];
        for attr in attrs.into_iter().flatten() {
            let v = item.get(&attr.name).ok_or_else(|| {
                Error::validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    attr.name
                ))
            })?;
            if v.scalar_type() != Some(attr.attribute_type) {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    attr.name,
                    attr.attribute_type.as_str(),
                    v.type_name()
                )));
            }
            check_not_empty(&attr.name, v)?;
        }
        self.check_key_sizes(item)?;
        self.validate_index_keys(item)?;
        check_nesting(item)?;
        if item_size(item) > MAX_ITEM_SIZE {
            return Err(Error::validation(
                "Item size has exceeded the maximum allowed size",
            ));
        }
        Ok(self.data_key(item))
    }

    fn validate_index_keys(&self, item: &Item) -> Result<()> {
        for gsi in &self.def.global_secondary_indexes {
            let attrs = [Some(&gsi.partition_key), gsi.sort_key.as_ref()];
            for attr in attrs.into_iter().flatten() {
                let Some(v) = item.get(&attr.name) else {
                    continue;
                };
                if v.scalar_type() != Some(attr.attribute_type) {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                        attr.name,
                        attr.attribute_type.as_str(),
                        v.type_name(),
                        gsi.index_name
                    )));
                }
                if is_empty_scalar(v) {
                    return Err(Error::validation(format!(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {}",
                        gsi.index_name, attr.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Index entries (key, value) an item produces; sparse indexes skip
    /// items without the index keys.
    fn index_entries(&self, item: &Item, data_key: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for (i, gsi) in self.def.global_secondary_indexes.iter().enumerate() {
            let Some(pk) = item.get(&gsi.partition_key.name) else {
                continue;
            };
            let mut k = self.prefix(i as u8 + 1);
            encode_key_value(pk, &mut k);
            if let Some(sk) = &gsi.sort_key {
                let Some(v) = item.get(&sk.name) else {
                    continue;
                };
                encode_key_value(v, &mut k);
            }
            k.extend_from_slice(&data_key[5..]);
            out.push(k);
        }
        out
    }

    fn description(&self, item_count: u64, size: u64, status: &str) -> TableDescription {
        let key_schema = |p: &KeyAttribute, s: Option<&KeyAttribute>| {
            let mut v = vec![KeySchemaElement {
                attribute_name: p.name.clone(),
                key_type: "HASH".into(),
            }];
            if let Some(s) = s {
                v.push(KeySchemaElement {
                    attribute_name: s.name.clone(),
                    key_type: "RANGE".into(),
                });
            }
            v
        };
        let mut defs: BTreeMap<String, ScalarType> = BTreeMap::new();
        let mut add = |k: &KeyAttribute| {
            defs.insert(k.name.clone(), k.attribute_type);
        };
        add(&self.def.partition_key);
        if let Some(s) = &self.def.sort_key {
            add(s);
        }
        for g in &self.def.global_secondary_indexes {
            add(&g.partition_key);
            if let Some(s) = &g.sort_key {
                add(s);
            }
        }
        let arn = format!("{ARN_PREFIX}{}", self.def.table_name);
        let gsis: Vec<GlobalSecondaryIndexDescription> = self
            .def
            .global_secondary_indexes
            .iter()
            .map(|g| GlobalSecondaryIndexDescription {
                index_name: g.index_name.clone(),
                key_schema: key_schema(&g.partition_key, g.sort_key.as_ref()),
                projection: ProjectionSpec {
                    projection_type: Some(
                        match g.projection.projection_type {
                            ProjectionType::All => "ALL",
                            ProjectionType::KeysOnly => "KEYS_ONLY",
                            ProjectionType::Include => "INCLUDE",
                        }
                        .into(),
                    ),
                    non_key_attributes: (g.projection.projection_type == ProjectionType::Include)
                        .then(|| g.projection.non_key_attributes.clone()),
                },
                index_status: "ACTIVE".into(),
                index_size_bytes: 0,
                item_count: 0,
                index_arn: format!("{arn}/index/{}", g.index_name),
            })
            .collect();
        TableDescription {
            table_name: self.def.table_name.clone(),
            table_status: status.into(),
            attribute_definitions: defs
                .into_iter()
                .map(|(attribute_name, attribute_type)| AttributeDefinition {
                    attribute_name,
                    attribute_type,
                })
                .collect(),
            key_schema: key_schema(&self.def.partition_key, self.def.sort_key.as_ref()),
            global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
            creation_date_time: self.created,
            item_count,
            table_size_bytes: size,
            table_arn: arn,
            table_id: format!("00000000-0000-0000-0000-{:012}", self.id),
            billing_mode_summary: serde_json::json!({"BillingMode": "PAY_PER_REQUEST"}),
            provisioned_throughput: serde_json::json!({
                "NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0
            }),
        }
    }
}

/// DynamoDB allows 32 levels of nested lists and maps.
fn check_nesting(item: &Item) -> Result<()> {
    fn depth(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::L(l) => 1 + l.iter().map(depth).max().unwrap_or(0),
            AttributeValue::M(m) => 1 + m.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    if item.values().map(depth).max().unwrap_or(0) > 32 {
        return Err(Error::validation(
            "One or more parameter values were invalid: Nesting Levels have exceeded supported limits",
        ));
    }
    Ok(())
}

fn is_empty_scalar(v: &AttributeValue) -> bool {
    matches!(v, AttributeValue::S(s) if s.is_empty())
        || matches!(v, AttributeValue::B(b) if b.is_empty())
}

fn check_not_empty(name: &str, v: &AttributeValue) -> Result<()> {
    if is_empty_scalar(v) {
        let kind = if matches!(v, AttributeValue::B(_)) {
            "binary"
        } else {
            "string"
        };
        return Err(Error::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
        )));
    }
    Ok(())
}

/// The smallest byte string greater than every string with this prefix.
fn prefix_successor(prefix: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    while let Some(&last) = v.last() {
        if last == 0xFF {
            v.pop();
        } else {
            let n = v.len();
            v[n - 1] += 1;
            return v;
        }
    }
    vec![0xFF; prefix.len() + 1]
}

fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64 / 1000.0)
        .unwrap_or(0.0)
}

// ---------------------------------------------------------------- writes

enum Mutation {
    Put(Item),
    Update(Vec<UpdateAction>),
    Delete,
    Check,
}

struct PlannedWrite {
    table: Arc<Table>,
    data_key: Vec<u8>,
    key: Item,
    mutation: Mutation,
    condition: Option<Condition>,
    return_old_on_failure: bool,
}

#[derive(Default)]
struct Applied {
    old: Option<Item>,
    new: Option<Item>,
}

/// A validated put: its table, storage key and item.
type PlannedPut<'a> = (Arc<Table>, Vec<u8>, &'a Item);

#[derive(Clone, Copy, PartialEq)]
enum WriteMode {
    Single,
    Transaction,
}

/// The DynamoDB-compatible database.
///
/// # Layout
///
/// All tables share one sled tree, `items`. A key is the table's numeric id
/// (4 bytes, big endian), an index byte (0 for the table, 1.. for its global
/// secondary indexes in declaration order) and the order-preserving encoding
/// of the key values (see [`crate::dynamodb::types::encode_key_value`]), so a
/// Query is one sled range scan. Index entries append the table key and
/// store the table's item key as value. Table metadata lives in the `tables`
/// tree.
///
/// # Consistency
///
/// Writers are serialised by one mutex; each write (a single item, a batch or
/// a transaction, with every index entry it touches) is applied atomically:
/// one `sled::Batch`, or a plain insert when only one storage key changes.
/// So indexes never disagree with their items and a transaction is
/// all-or-nothing, including across tables. Reads do not take the mutex;
/// TransactGetItems does, to read a consistent snapshot.
///
/// # Durability
///
/// With `DatabaseConfig::durable` (the default), a write returns only after
/// `sled::Db::flush` (which fsyncs) has covered it, so a write that returned
/// `Ok` survives `kill -9` and power loss. Writes are group-committed: the
/// flush runs after the writer mutex is released, one writer flushes at a
/// time and each flush covers every write applied before it started, so
/// concurrent writers share fsyncs instead of queueing one fsync each.
/// Readers may see a write a moment before it is durable; a crash in that
/// window loses a write that nobody was told had succeeded.
///
/// # Change stream
///
/// Consumers registered with [`Database::subscribe`] are staged the
/// [`StreamRecord`]s of each commit (one per changed item) together, in
/// commit order, while the writer mutex is held; staging must be quick and
/// must not write to the database or call TransactGetItems (that would
/// deadlock). Then, with the mutex released, the writer settles its commit
/// with each consumer before it returns, so a consumer can make the
/// records visible before the write is acknowledged (read-your-writes)
/// without holding up other writers.
pub struct Database {
    db: sled::Db,
    items: sled::Tree,
    meta: sled::Tree,
    tables: RwLock<BTreeMap<String, Arc<Table>>>,
    /// Serialises writers; holds the number of the last applied write.
    write_lock: Mutex<u64>,
    group_commit: GroupCommit,
    consumers: RwLock<Vec<Arc<dyn StreamConsumer>>>,
    durable: bool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("durable", &self.durable)
            .finish()
    }
}

const NEXT_ID_KEY: &[u8] = b"\0next_table_id";

/// Group-commit bookkeeping (see `Database::flush_through`).
#[derive(Default)]
struct GroupCommit {
    state: Mutex<FlushState>,
    done: std::sync::Condvar,
}

#[derive(Default)]
struct FlushState {
    /// Every write up to this number is on disk.
    durable_seq: u64,
    flushing: bool,
}

impl Database {
    /// Opens (or creates) the database and makes sure every declared table
    /// exists with exactly this declaration.
    pub fn open(
        config: &DatabaseConfig,
        tables: &[TableDefinition],
    ) -> std::result::Result<Database, OpenError> {
        let sled_config = match &config.path {
            Some(p) => sled::Config::new().path(p),
            None => sled::Config::new().temporary(true),
        };
        let db = open_sled(&sled_config)?;
        let items = db.open_tree("items")?;
        let meta = db.open_tree("tables")?;
        let mut loaded = BTreeMap::new();
        for entry in meta.iter() {
            let (k, v) = entry?;
            if k.as_ref() == NEXT_ID_KEY {
                continue;
            }
            let m: TableMeta = serde_json::from_slice(&v)
                .map_err(|e| OpenError::CorruptMetadata(e.to_string()))?;
            loaded.insert(
                m.definition.table_name.clone(),
                Arc::new(Table {
                    id: m.id,
                    created: m.created,
                    def: m.definition,
                }),
            );
        }
        let database = Database {
            db,
            items,
            meta,
            tables: RwLock::new(loaded),
            write_lock: Mutex::new(0),
            group_commit: GroupCommit::default(),
            consumers: RwLock::new(Vec::new()),
            durable: config.durable,
        };
        for def in tables {
            def.validate()
                .map_err(|message| OpenError::InvalidDeclaration {
                    table: def.table_name.clone(),
                    message,
                })?;
            let existing = database.table(&def.table_name).ok();
            match existing {
                Some(t) if &t.def == def => {}
                Some(t) => {
                    return Err(OpenError::ChangedDeclaration {
                        table: def.table_name.clone(),
                        stored: serde_json::to_string(&t.def).unwrap_or_default(),
                        declared: serde_json::to_string(def).unwrap_or_default(),
                    });
                }
                None => {
                    database.insert_table(def.clone()).map_err(|e| match e {
                        Error::Internal(m) => OpenError::CorruptMetadata(m),
                        other => OpenError::CorruptMetadata(other.to_string()),
                    })?;
                }
            }
        }
        database.db.flush()?;
        Ok(database)
    }

    /// A throwaway database for tests: temporary directory, no fsync.
    pub fn temporary(tables: &[TableDefinition]) -> std::result::Result<Database, OpenError> {
        Database::open(
            &DatabaseConfig {
                path: None,
                durable: false,
            },
            tables,
        )
    }

    /// Makes every applied write durable (`durable: false` databases too).
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// Registers a change-stream consumer (see "Change stream" on [`Database`]).
    pub fn subscribe(&self, consumer: Arc<dyn StreamConsumer>) {
        self.consumers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(consumer);
    }

    /// Declared and created tables, by name.
    pub fn table_definitions(&self) -> Vec<TableDefinition> {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|t| t.def.clone())
            .collect()
    }

    fn table(&self, name: &str) -> Result<Arc<Table>> {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or(Error::ResourceNotFound)
    }

    fn insert_table(&self, def: TableDefinition) -> Result<Arc<Table>> {
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut tables = self.tables.write().unwrap_or_else(|e| e.into_inner());
        if tables.contains_key(&def.table_name) {
            return Err(Error::ResourceInUse(format!(
                "Table already exists: {}",
                def.table_name
            )));
        }
        let id = match self.meta.get(NEXT_ID_KEY)? {
            Some(v) => u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4])),
            None => 1,
        };
        let meta = TableMeta {
            id,
            created: now_epoch(),
            definition: def,
        };
        let mut batch = sled::Batch::default();
        batch.insert(NEXT_ID_KEY, &(id + 1).to_be_bytes());
        batch.insert(
            meta.definition.table_name.as_bytes(),
            serde_json::to_vec(&meta).unwrap_or_default(),
        );
        self.meta.apply_batch(batch)?;
        let table = Arc::new(Table {
            id,
            created: meta.created,
            def: meta.definition,
        });
        tables.insert(table.def.table_name.clone(), table.clone());
        Ok(table)
    }

    /// Makes write number `seq` durable. One writer at a time flushes; the
    /// others wait, and a flush covers every write applied before it
    /// started, so concurrent writers share fsyncs (group commit).
    fn flush_through(&self, seq: u64) -> Result<()> {
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

    fn read(&self, key: &[u8]) -> Result<Option<Item>> {
        self.items.get(key)?.map(|v| decode_item(&v)).transpose()
    }

    /// Applies planned writes atomically (see the module docs).
    fn commit(&self, writes: Vec<PlannedWrite>, mode: WriteMode) -> Result<Vec<Applied>> {
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
    fn commit_one(&self, write: PlannedWrite) -> Result<Applied> {
        let applied = self.commit(vec![write], WriteMode::Single)?;
        Ok(applied.into_iter().next().unwrap_or_default())
    }

    // ------------------------------------------------------------ item operations

    pub fn get_item(&self, req: &GetItemRequest) -> Result<GetItemOutput> {
        let ctx = ExpressionContext::new(req.expression_attribute_names.as_ref(), None);
        let projection = parse_projection(&req.projection_expression, &ctx)?;
        ctx.check_unused(req.projection_expression.is_some())?;
        let table = self.table(&req.table_name)?;
        let key = table.validate_key(&req.key)?;
        let item = self.read(&key)?;
        Ok(GetItemOutput {
            item: item.map(|i| apply_projection(&i, projection.as_deref())),
        })
    }

    pub fn put_item(&self, req: &PutItemRequest) -> Result<PutItemOutput> {
        let ctx = ExpressionContext::new(
            req.expression_attribute_names.as_ref(),
            req.expression_attribute_values.as_ref(),
        );
        let condition =
            parse_condition(&req.condition_expression, &ctx, ExpressionKind::Condition)?;
        ctx.check_unused(condition.is_some())?;
        let return_old = parse_return_values(&req.return_values, false)?;
        let table = self.table(&req.table_name)?;
        let data_key = table.validate_item(&req.item)?;
        let applied = self.commit_one(PlannedWrite {
            key: table.key_of(&req.item),
            table,
            data_key,
            mutation: Mutation::Put(req.item.clone()),
            condition,
            return_old_on_failure: on_failure_all_old(
                &req.return_values_on_condition_check_failure,
            ),
        })?;
        let old = applied.old;
        Ok(WriteItemOutput {
            attributes: if return_old == ReturnValues::AllOld {
                old
            } else {
                None
            },
        })
    }

    pub fn delete_item(&self, req: &DeleteItemRequest) -> Result<DeleteItemOutput> {
        let ctx = ExpressionContext::new(
            req.expression_attribute_names.as_ref(),
            req.expression_attribute_values.as_ref(),
        );
        let condition =
            parse_condition(&req.condition_expression, &ctx, ExpressionKind::Condition)?;
        ctx.check_unused(condition.is_some())?;
        let return_values = parse_return_values(&req.return_values, false)?;
        let table = self.table(&req.table_name)?;
        let data_key = table.validate_key(&req.key)?;
        let applied = self.commit_one(PlannedWrite {
            table,
            data_key,
            key: req.key.clone(),
            mutation: Mutation::Delete,
            condition,
            return_old_on_failure: on_failure_all_old(
                &req.return_values_on_condition_check_failure,
            ),
        })?;
        let old = applied.old;
        Ok(WriteItemOutput {
            attributes: if return_values == ReturnValues::AllOld {
                old
            } else {
                None
            },
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

    // ------------------------------------------------------------ reads

    pub fn query(&self, req: &QueryRequest) -> Result<QueryOutput> {
        let ctx = ExpressionContext::new(
            req.expression_attribute_names.as_ref(),
            req.expression_attribute_values.as_ref(),
        );
        let key_src = req.key_condition_expression.as_ref().ok_or_else(|| {
            Error::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            )
        })?;
        let key_cond = expression::parse_condition(key_src, &ctx, ExpressionKind::KeyCondition)?;
        let filter = parse_condition(&req.filter_expression, &ctx, ExpressionKind::Filter)?;
        let projection = parse_projection(&req.projection_expression, &ctx)?;
        ctx.check_unused(true)?;
        let select = parse_select(&req.select, req.projection_expression.is_some())?;
        check_limit(req.limit)?;
        let table = self.table(&req.table_name)?;
        let schema = match &req.index_name {
            Some(name) => table.index_schema(name)?,
            None => table.schema(),
        };
        check_index_read(
            &schema,
            req.index_name.as_deref(),
            req.consistent_read,
            &req.select,
        )?;
        if let Some(filter) = &filter {
            check_filter_keys(filter, &schema)?;
        }
        let kc = expression::key_condition(
            &key_cond,
            &schema.partition.name,
            schema.sort.map(|s| s.name.as_str()),
        )?;
        let type_mismatch = || {
            Error::validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            )
        };
        if kc.partition_value.scalar_type() != Some(schema.partition.attribute_type) {
            return Err(type_mismatch());
        }
        check_not_empty(&schema.partition.name, &kc.partition_value)?;
        let mut prefix = table.prefix(schema.index);
        encode_key_value(&kc.partition_value, &mut prefix);
        let mut lower = (prefix.clone(), true);
        let mut upper = (prefix_successor(&prefix), false);
        if let (Some(sort), Some(sk)) = (&kc.sort, schema.sort) {
            for v in sort.values() {
                if v.scalar_type() != Some(sk.attribute_type) {
                    return Err(type_mismatch());
                }
            }
            if let SortKeyCondition::BeginsWith(v) = sort
                && sk.attribute_type == ScalarType::N
            {
                return Err(Error::validation(format!(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: {}",
                    v.type_name()
                )));
            }
            sort_bounds(sort, &prefix, &mut lower, &mut upper);
        }
        let forward = req.scan_index_forward.unwrap_or(true);
        if let Some(esk) = &req.exclusive_start_key {
            let k = self.start_key(&table, &schema, esk)?;
            if forward && k >= lower.0 {
                lower = (k, false);
            } else if !forward && k <= upper.0 {
                upper = (k, false);
            }
        }
        let range = (bound(lower), bound(upper));
        let iter = self.items.range(range);
        let page = Page {
            table: &table,
            schema: &schema,
            filter: filter.as_ref(),
            projection: projection.as_deref(),
            select,
            limit: req.limit.map(|l| l as usize),
            segment: None,
        };
        if forward {
            self.collect_page(iter, page)
        } else {
            self.collect_page(iter.rev(), page)
        }
    }

    pub fn scan(&self, req: &ScanRequest) -> Result<ScanOutput> {
        let ctx = ExpressionContext::new(
            req.expression_attribute_names.as_ref(),
            req.expression_attribute_values.as_ref(),
        );
        let filter = parse_condition(&req.filter_expression, &ctx, ExpressionKind::Filter)?;
        let projection = parse_projection(&req.projection_expression, &ctx)?;
        ctx.check_unused(filter.is_some() || projection.is_some())?;
        let select = parse_select(&req.select, req.projection_expression.is_some())?;
        check_limit(req.limit)?;
        let segment = match (req.segment, req.total_segments) {
            (None, None) => None,
            (Some(s), Some(t)) => {
                if !(1..=1_000_000).contains(&t) {
                    return Err(Error::validation(format!(
                        "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"
                    )));
                }
                if s < 0 || s >= t {
                    return Err(Error::validation(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                    )));
                }
                Some((s as u64, t as u64))
            }
            (Some(_), None) => {
                return Err(Error::validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
        };
        let table = self.table(&req.table_name)?;
        let schema = match &req.index_name {
            Some(name) => table.index_schema(name)?,
            None => table.schema(),
        };
        check_index_read(
            &schema,
            req.index_name.as_deref(),
            req.consistent_read,
            &req.select,
        )?;
        let prefix = table.prefix(schema.index);
        let mut lower = (prefix.clone(), true);
        if let Some(esk) = &req.exclusive_start_key {
            lower = (self.start_key(&table, &schema, esk)?, false);
        }
        let iter = self
            .items
            .range((bound(lower), Bound::Excluded(prefix_successor(&prefix))));
        self.collect_page(
            iter,
            Page {
                table: &table,
                schema: &schema,
                filter: filter.as_ref(),
                projection: projection.as_deref(),
                select,
                limit: req.limit.map(|l| l as usize),
                segment,
            },
        )
    }

    /// Storage key of an `ExclusiveStartKey`.
    fn start_key(&self, table: &Table, schema: &KeySchema<'_>, esk: &Item) -> Result<Vec<u8>> {
        let invalid = || {
            Error::validation(
                "The provided starting key is invalid: The provided key element does not match the schema",
            )
        };
        let base = table.key_of(esk);
        if base.len() != table.key_names().len() {
            return Err(invalid());
        }
        let data_key = table.validate_key(&base).map_err(|_| invalid())?;
        if schema.index == 0 {
            if esk.len() != base.len() {
                return Err(invalid());
            }
            return Ok(data_key);
        }
        let mut k = table.prefix(schema.index);
        let attrs = [Some(schema.partition), schema.sort];
        for attr in attrs.into_iter().flatten() {
            let v = esk.get(&attr.name).ok_or_else(invalid)?;
            if v.scalar_type() != Some(attr.attribute_type) {
                return Err(invalid());
            }
            encode_key_value(v, &mut k);
        }
        k.extend_from_slice(&data_key[5..]);
        Ok(k)
    }

    fn collect_page<I>(&self, iter: I, page: Page<'_>) -> Result<QueryOutput>
    where
        I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    {
        let mut items = Vec::new();
        let mut count = 0;
        let mut scanned = 0;
        let mut bytes = 0;
        let mut last_evaluated_key = None;
        let is_index = page.schema.index != 0;
        for entry in iter {
            let (_, v) = entry?;
            let item = if is_index {
                match self.read(&v)? {
                    Some(i) => i,
                    None => continue,
                }
            } else {
                decode_item(&v)?
            };
            if let Some((segment, total)) = page.segment {
                let pk = item.get(&page.schema.partition.name);
                if pk.map(|pk| segment_of(pk, total)) != Some(segment) {
                    continue;
                }
            }
            scanned += 1;
            bytes += item_size(&item);
            let visible = match page.schema.projection {
                Some(p) if p.projection_type != ProjectionType::All => {
                    project_index(page.table, page.schema, p, &item)
                }
                _ => item,
            };
            let matched = page
                .filter
                .is_none_or(|f| expression::evaluate(f, &visible));
            let stop = page.limit == Some(scanned) || bytes >= MAX_PAGE_BYTES;
            if stop {
                let mut key = page.table.key_of(&visible);
                for attr in [Some(page.schema.partition), page.schema.sort]
                    .into_iter()
                    .flatten()
                {
                    if let Some(v) = visible.get(&attr.name) {
                        key.insert(attr.name.clone(), v.clone());
                    }
                }
                last_evaluated_key = Some(key);
            }
            if matched {
                count += 1;
                if page.select != Select::Count {
                    items.push(match page.projection {
                        Some(p) => expression::project(&visible, p),
                        None => visible,
                    });
                }
            }
            if stop {
                break;
            }
        }
        Ok(QueryOutput {
            items: (page.select != Select::Count).then_some(items),
            count,
            scanned_count: scanned,
            last_evaluated_key,
        })
    }

    // ------------------------------------------------------------ batches

    pub fn batch_get_item(&self, req: &BatchGetItemRequest) -> Result<BatchGetItemOutput> {
        let total: usize = req.request_items.values().map(|k| k.keys.len()).sum();
        if total > MAX_BATCH_GET {
            return Err(Error::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        if req.request_items.is_empty() {
            return Err(Error::validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null",
            ));
        }
        let mut responses = BTreeMap::new();
        for (name, spec) in &req.request_items {
            let ctx = ExpressionContext::new(spec.expression_attribute_names.as_ref(), None);
            let projection = parse_projection(&spec.projection_expression, &ctx)?;
            ctx.check_unused(projection.is_some())?;
            let table = self.table(name)?;
            let mut seen = HashSet::new();
            let mut found = Vec::new();
            for key in &spec.keys {
                let k = table.validate_key(key)?;
                if !seen.insert(k.clone()) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                if let Some(item) = self.read(&k)? {
                    found.push(apply_projection(&item, projection.as_deref()));
                }
            }
            responses.insert(name.clone(), found);
        }
        Ok(BatchGetItemOutput {
            responses,
            unprocessed_keys: BTreeMap::new(),
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
                    (Some(p), None) => (
                        table.validate_item(&p.item)?,
                        table.key_of(&p.item),
                        Mutation::Put(p.item.clone()),
                    ),
                    (None, Some(d)) => {
                        (table.validate_key(&d.key)?, d.key.clone(), Mutation::Delete)
                    }
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
    fn plan_puts<'a>(
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

    // ------------------------------------------------------------ transactions

    pub fn transact_get_items(
        &self,
        req: &TransactGetItemsRequest,
    ) -> Result<TransactGetItemsOutput> {
        check_transact_len(req.transact_items.len())?;
        let mut plans = Vec::new();
        for t in &req.transact_items {
            let g = &t.get;
            let ctx = ExpressionContext::new(g.expression_attribute_names.as_ref(), None);
            let projection = parse_projection(&g.projection_expression, &ctx)?;
            ctx.check_unused(projection.is_some())?;
            let table = self.table(&g.table_name)?;
            plans.push((table.validate_key(&g.key)?, projection));
        }
        // Reading under the writer lock gives a consistent snapshot.
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut responses = Vec::new();
        for (k, projection) in plans {
            let item = self.read(&k)?;
            responses.push(ItemResponse {
                item: item.map(|i| apply_projection(&i, projection.as_deref())),
            });
        }
        Ok(TransactGetItemsOutput { responses })
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
                (Some(a), None, None, None) => (a, "ConditionCheck"),
                (None, Some(a), None, None) => (a, "Put"),
                (None, None, Some(a), None) => (a, "Delete"),
                (None, None, None, Some(a)) => (a, "Update"),
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
                ("Update", Some(src)) => expression::parse_update(src, &ctx)?,
                ("Update", None) => {
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
            if kind == "ConditionCheck" && condition.is_none() {
                return Err(Error::validation(
                    "1 validation error detected: Value null at 'transactItems.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
                ));
            }
            ctx.check_unused(condition.is_some() || !actions.is_empty())?;
            let table = self.table(&action.table_name)?;
            let (data_key, key, mutation) = if kind == "Put" {
                let item = action.item.as_ref().ok_or_else(|| {
                    Error::validation(
                        "1 validation error detected: Value null at 'transactItems.put.item' failed to satisfy constraint: Member must not be null",
                    )
                })?;
                (
                    table.validate_item(item)?,
                    table.key_of(item),
                    Mutation::Put(item.clone()),
                )
            } else {
                let key = action.key.as_ref().ok_or_else(|| {
                    Error::validation("The provided key element does not match the schema")
                })?;
                let mutation = match kind {
                    "Delete" => Mutation::Delete,
                    "Update" => {
                        check_update_keys(&table, &actions)?;
                        Mutation::Update(actions)
                    }
                    _ => Mutation::Check,
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

    // ------------------------------------------------------------ tables

    pub fn create_table(&self, req: &CreateTableRequest) -> Result<TableDescriptionOutput> {
        let def = definition_from_request(req)?;
        let table = self.insert_table(def)?;
        self.db.flush()?;
        Ok(TableDescriptionOutput {
            table_description: table.description(0, 0, "ACTIVE"),
        })
    }

    pub fn delete_table(&self, req: &DeleteTableRequest) -> Result<TableDescriptionOutput> {
        let table = self.table(&req.table_name)?;
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = table.id.to_be_bytes();
        let mut batch = sled::Batch::default();
        for entry in self.items.scan_prefix(prefix) {
            let (k, _) = entry?;
            batch.remove(k);
        }
        self.items.apply_batch(batch)?;
        self.meta.remove(req.table_name.as_bytes())?;
        self.tables
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&req.table_name);
        self.db.flush()?;
        Ok(TableDescriptionOutput {
            table_description: table.description(0, 0, "DELETING"),
        })
    }

    pub fn describe_table(&self, req: &DescribeTableRequest) -> Result<DescribeTableOutput> {
        let table = self.table(&req.table_name)?;
        let mut count = 0;
        let mut size = 0;
        for entry in self.items.scan_prefix(table.prefix(0)) {
            let (_, v) = entry?;
            count += 1;
            size += v.len() as u64;
        }
        Ok(DescribeTableOutput {
            table: table.description(count, size, "ACTIVE"),
        })
    }

    pub fn list_tables(&self, req: &ListTablesRequest) -> Result<ListTablesOutput> {
        let limit = match req.limit {
            None => 100,
            Some(l) if (1..=100).contains(&l) => l as usize,
            Some(l) => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value {}",
                    if l < 1 {
                        "greater than or equal to 1"
                    } else {
                        "less than or equal to 100"
                    }
                )));
            }
        };
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        let names: Vec<String> = tables
            .keys()
            .filter(|n| {
                req.exclusive_start_table_name
                    .as_ref()
                    .is_none_or(|s| *n > s)
            })
            .cloned()
            .collect();
        let more = names.len() > limit;
        let table_names: Vec<String> = names.into_iter().take(limit).collect();
        Ok(ListTablesOutput {
            last_evaluated_table_name: if more {
                table_names.last().cloned()
            } else {
                None
            },
            table_names,
        })
    }
}

// ---------------------------------------------------------------- helpers

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Select {
    All,
    Count,
    Specific,
}

struct Page<'a> {
    table: &'a Table,
    schema: &'a KeySchema<'a>,
    filter: Option<&'a Condition>,
    projection: Option<&'a [Path]>,
    select: Select,
    limit: Option<usize>,
    segment: Option<(u64, u64)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ReturnValues {
    None,
    AllOld,
    AllNew,
    UpdatedOld,
    UpdatedNew,
}

fn parse_return_values(v: &Option<String>, update: bool) -> Result<ReturnValues> {
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

fn on_failure_all_old(v: &Option<String>) -> bool {
    v.as_deref() == Some("ALL_OLD")
}

fn parse_select(v: &Option<String>, has_projection: bool) -> Result<Select> {
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

/// Global secondary indexes are eventually consistent and may not hold
/// every attribute.
fn check_index_read(
    schema: &KeySchema<'_>,
    index_name: Option<&str>,
    consistent_read: Option<bool>,
    select: &Option<String>,
) -> Result<()> {
    let (Some(name), Some(projection)) = (index_name, schema.projection) else {
        return Ok(());
    };
    if consistent_read == Some(true) {
        return Err(Error::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    if select.as_deref() == Some("ALL_ATTRIBUTES")
        && projection.projection_type != ProjectionType::All
    {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
        )));
    }
    Ok(())
}

fn check_limit(limit: Option<i64>) -> Result<()> {
    match limit {
        Some(l) if l < 1 => Err(Error::validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        _ => Ok(()),
    }
}

fn check_transact_len(n: usize) -> Result<()> {
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

fn check_update_keys(table: &Table, actions: &[UpdateAction]) -> Result<()> {
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

/// Filters cannot refer to key attributes of the queried index.
fn check_filter_keys(filter: &Condition, schema: &KeySchema<'_>) -> Result<()> {
    let mut keys = vec![schema.partition.name.as_str()];
    if let Some(s) = schema.sort {
        keys.push(&s.name);
    }
    let mut found = None;
    visit_paths(filter, &mut |p| {
        if found.is_none() && keys.contains(&p.head()) {
            found = Some(p.head().to_string());
        }
    });
    match found {
        Some(k) => Err(Error::validation(format!(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
        ))),
        None => Ok(()),
    }
}

fn visit_paths(c: &Condition, f: &mut dyn FnMut(&Path)) {
    use expression::Operand;
    fn op(o: &Operand, f: &mut dyn FnMut(&Path)) {
        match o {
            Operand::Path(p) => f(p),
            Operand::Size(i) => op(i, f),
            _ => {}
        }
    }
    match c {
        Condition::Compare(_, a, b)
        | Condition::AttributeType(a, b)
        | Condition::BeginsWith(a, b)
        | Condition::Contains(a, b) => {
            op(a, f);
            op(b, f);
        }
        Condition::Between(a, b, d) => {
            op(a, f);
            op(b, f);
            op(d, f);
        }
        Condition::In(a, l) => {
            op(a, f);
            for o in l {
                op(o, f);
            }
        }
        Condition::And(a, b) | Condition::Or(a, b) => {
            visit_paths(a, f);
            visit_paths(b, f);
        }
        Condition::Not(a) => visit_paths(a, f),
        Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => f(p),
    }
}

fn parse_condition(
    src: &Option<String>,
    ctx: &ExpressionContext<'_>,
    kind: ExpressionKind,
) -> Result<Option<Condition>> {
    src.as_deref()
        .map(|s| expression::parse_condition(s, ctx, kind))
        .transpose()
}

fn parse_projection(
    src: &Option<String>,
    ctx: &ExpressionContext<'_>,
) -> Result<Option<Vec<Path>>> {
    src.as_deref()
        .map(|s| expression::parse_projection(s, ctx))
        .transpose()
}

fn apply_projection(item: &Item, projection: Option<&[Path]>) -> Item {
    match projection {
        Some(p) => expression::project(item, p),
        None => item.clone(),
    }
}

/// What a query on an index sees of an item, per the index projection.
fn project_index(table: &Table, schema: &KeySchema<'_>, p: &IndexProjection, item: &Item) -> Item {
    if p.projection_type == ProjectionType::All {
        return item.clone();
    }
    let mut keep: BTreeSet<&str> = table.key_names().into_iter().collect();
    keep.insert(&schema.partition.name);
    if let Some(s) = schema.sort {
        keep.insert(&s.name);
    }
    if p.projection_type == ProjectionType::Include {
        keep.extend(p.non_key_attributes.iter().map(String::as_str));
    }
    item.iter()
        .filter(|(k, _)| keep.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn bound((k, inclusive): (Vec<u8>, bool)) -> Bound<Vec<u8>> {
    if inclusive {
        Bound::Included(k)
    } else {
        Bound::Excluded(k)
    }
}

/// Narrows the partition's key range by a sort-key condition.
fn sort_bounds(
    sort: &SortKeyCondition,
    prefix: &[u8],
    lower: &mut (Vec<u8>, bool),
    upper: &mut (Vec<u8>, bool),
) {
    use expression::Comparator as C;
    let enc = |v: &AttributeValue| {
        let mut k = prefix.to_vec();
        encode_key_value(v, &mut k);
        k
    };
    match sort {
        SortKeyCondition::Compare(C::Eq, v) => {
            let k = enc(v);
            *upper = (prefix_successor(&k), false);
            *lower = (k, true);
        }
        SortKeyCondition::Compare(C::Lt, v) => *upper = (enc(v), false),
        SortKeyCondition::Compare(C::Le, v) => *upper = (prefix_successor(&enc(v)), false),
        SortKeyCondition::Compare(C::Gt, v) => *lower = (prefix_successor(&enc(v)), true),
        SortKeyCondition::Compare(C::Ge, v) => *lower = (enc(v), true),
        SortKeyCondition::Compare(C::Ne, _) => {}
        SortKeyCondition::Between(lo, hi) => {
            *lower = (enc(lo), true);
            *upper = (prefix_successor(&enc(hi)), false);
        }
        SortKeyCondition::BeginsWith(v) => {
            // The escaped bytes without the terminator are a prefix of every
            // encoded value that starts with `v`.
            let mut k = enc(v);
            k.truncate(k.len() - 2);
            *upper = (prefix_successor(&k), false);
            *lower = (k, true);
        }
    }
}

/// Stable segment of a partition key for parallel scans (FNV-1a).
fn segment_of(pk: &AttributeValue, total: u64) -> u64 {
    let mut bytes = Vec::new();
    encode_key_value(pk, &mut bytes);
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h % total
}

fn definition_from_request(req: &CreateTableRequest) -> Result<TableDefinition> {
    if req
        .local_secondary_indexes
        .as_ref()
        .is_some_and(|l| !l.is_empty())
    {
        return Err(Error::validation(
            "LocalSecondaryIndexes are not supported by appsync-local; use a GlobalSecondaryIndex",
        ));
    }
    let name = &req.table_name;
    if name.len() < 3 || name.len() > 255 {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: Member must have length {}",
            if name.len() < 3 {
                "greater than or equal to 3"
            } else {
                "less than or equal to 255"
            }
        )));
    }
    let defs: BTreeMap<&str, ScalarType> = req
        .attribute_definitions
        .iter()
        .map(|d| (d.attribute_name.as_str(), d.attribute_type))
        .collect();
    let mut used = BTreeSet::new();
    let mut keys = |schema: &[KeySchemaElement]| -> Result<(KeyAttribute, Option<KeyAttribute>)> {
        let attr = |e: &KeySchemaElement, used: &mut BTreeSet<String>| -> Result<KeyAttribute> {
            used.insert(e.attribute_name.clone());
            let t = defs.get(e.attribute_name.as_str()).ok_or_else(|| {
                Error::validation(format!(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                    e.attribute_name,
                    defs.keys().copied().collect::<Vec<_>>().join(", ")
                ))
            })?;
            Ok(KeyAttribute {
                name: e.attribute_name.clone(),
                attribute_type: *t,
            })
        };
        match schema {
            [h] if h.key_type == "HASH" => Ok((attr(h, &mut used)?, None)),
            [h, r] if h.key_type == "HASH" && r.key_type == "RANGE" => {
                Ok((attr(h, &mut used)?, Some(attr(r, &mut used)?)))
            }
            _ => Err(Error::validation(
                "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2; the first element must be the HASH key and the second the RANGE key",
            )),
        }
    };
    let (partition_key, sort_key) = keys(&req.key_schema)?;
    let mut gsis = Vec::new();
    for g in req.global_secondary_indexes.iter().flatten() {
        let (pk, sk) = keys(&g.key_schema)?;
        let projection_type = match g.projection.projection_type.as_deref() {
            None | Some("ALL") => ProjectionType::All,
            Some("KEYS_ONLY") => ProjectionType::KeysOnly,
            Some("INCLUDE") => ProjectionType::Include,
            Some(other) => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{other}' at 'globalSecondaryIndexes.1.member.projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
                )));
            }
        };
        gsis.push(GlobalSecondaryIndex {
            index_name: g.index_name.clone(),
            partition_key: pk,
            sort_key: sk,
            projection: IndexProjection {
                projection_type,
                non_key_attributes: g.projection.non_key_attributes.clone().unwrap_or_default(),
            },
        });
    }
    let unused: Vec<&str> = defs
        .keys()
        .copied()
        .filter(|k| !used.contains(*k))
        .collect();
    if !unused.is_empty() {
        return Err(Error::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let def = TableDefinition {
        table_name: req.table_name.clone(),
        partition_key,
        sort_key,
        global_secondary_indexes: gsis,
    };
    def.validate().map_err(Error::Validation)?;
    Ok(def)
}

/// Whether two items are equal ignoring some attributes (AppSync's
/// `equalsIgnore`).
pub fn items_equal_ignoring(a: &Item, b: &Item, ignore: &[String]) -> bool {
    let strip = |i: &Item| -> Item {
        i.iter()
            .filter(|(k, _)| !ignore.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    items_equal(&strip(a), &strip(b))
}
