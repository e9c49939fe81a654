//! The table store: DynamoDB operations over one sled database.
//!
//! (The layout, consistency and durability guarantees are documented on
//! [`Database`].)
//!
//! - `definition`: table declarations and CreateTable's parameters;
//! - `table`: a table's key schemas, key and item validation, index entries;
//! - `commit`: atomic application of planned writes, group commit, fsync;
//! - `stream`: the change stream;
//! - `params`: request parameters shared by the operations;
//! - `read`, `page`: GetItem, Query, Scan, BatchGetItem, TransactGetItems;
//! - `write`: PutItem, DeleteItem, UpdateItem, batches, transactions, bulk loads;
//! - `tables`: CreateTable, DeleteTable, DescribeTable, ListTables.

mod commit;
mod definition;
mod page;
mod params;
mod read;
mod stream;
mod table;
mod tables;
mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use crate::dynamodb::codec::decode_item;
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::{Item, items_equal};

use commit::GroupCommit;
pub use definition::{
    DeclarationError, GlobalSecondaryIndex, IndexProjection, KeyAttribute, ProjectionType,
    TableDefinition,
};
pub use stream::{StreamConsumer, StreamRecord};
use table::{Table, TableMeta};

/// DynamoDB's maximum item size.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
/// Query and Scan stop after reading this much data.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
const MAX_TRANSACT_ITEMS: usize = 100;
const MAX_BATCH_GET: usize = 100;
const MAX_BATCH_WRITE: usize = 25;
/// Region and account in ARNs; local tables belong to no real account.
const ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/";

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
    #[error("table {table}: {source}")]
    InvalidDeclaration {
        table: String,
        source: DeclarationError,
    },
    #[error("corrupt table metadata in the data directory: {0}")]
    CorruptMetadata(String),
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
                .map_err(|source| OpenError::InvalidDeclaration {
                    table: def.table_name.clone(),
                    source,
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

    fn read(&self, key: &[u8]) -> Result<Option<Item>> {
        self.items.get(key)?.map(|v| decode_item(&v)).transpose()
    }
}

fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64 / 1000.0)
        .unwrap_or(0.0)
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
