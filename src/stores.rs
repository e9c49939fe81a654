//! The embedded stores a project runs on, opened once per server process and
//! shared by data sources, the DynamoDB API, the OpenSearch REST API and
//! project reloads.
//!
//! Indexes that declare a `source` table are fed from it, emulating DynamoDB
//! Streams → OpenSearch: every committed table write is applied to the index
//! before the write is acknowledged (read-your-writes; concurrent writes share
//! one index commit, see `IndexStream`), and at open each such index is
//! reconciled with its table, so a crash between the two writes leaves no
//! ghost or missing documents. A clean close records that the indexes are in
//! step, and the next open skips the reconciliation. Seeds, resets and fixtures (the admin
//! routes, the CLI, `TestServer`) are here too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

use serde_json::{Value as Json, json};

use crate::dynamodb::types::{item_from_plain_json, item_to_plain_json};
use crate::dynamodb::{
    Database, DatabaseConfig, Item, ScanRequest, StreamConsumer, StreamRecord, TableDefinition,
};
use crate::opensearch::{Engine, IndexDefinition};
use crate::seed::{BOOKINGS_TABLE, FLIGHTS_TABLE, SeedSpec};

/// The events EventBridge data sources emitted, oldest first. Locally they
/// go nowhere else by default, so tests read them here; the oldest are
/// dropped beyond [`EventLog::CAPACITY`], so a long-running server stays
/// bounded.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Mutex<std::collections::VecDeque<Json>>,
}

impl EventLog {
    pub const CAPACITY: usize = 10_000;

    pub fn record(&self, event: Json) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() == Self::CAPACITY {
            events.pop_front();
        }
        events.push_back(event);
    }

    pub fn list(&self) -> Vec<Json> {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A store failed to open or to apply the manifest's declarations.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoresError {
    #[error("tables: {0}")]
    Tables(String),
    #[error("indexes: {0}")]
    Indexes(String),
    #[error("the project has no seed data (no `seed` section in appsync.yaml)")]
    NoSeed,
    /// The seed files cannot be read or hold something other than items.
    #[error("seed: {0}")]
    Seed(String),
    /// Items refused before anything was written.
    #[error("{0}")]
    InvalidItems(String),
    #[error("table {0} does not exist")]
    UnknownTable(String),
    #[error("data directory: {0}")]
    DataDir(String),
}

/// The DynamoDB-compatible tables and OpenSearch-compatible indexes.
pub struct Stores {
    pub dynamodb: Arc<Database>,
    pub opensearch: Arc<Engine>,
    /// Events EventBridge data sources emitted, for `GET /admin/events`.
    pub events: EventLog,
    data_dir: Option<PathBuf>,
    /// Table writes on their way to the sourced indexes (none without any).
    stream: Option<Arc<IndexStream>>,
    seed: RwLock<Option<SeedSource>>,
    /// Seeds, resets and fixtures run one at a time.
    maintenance: Mutex<()>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl Stores {
    /// Opens the stores under `data_dir` (`tables/` and `indexes/`), or in
    /// memory when it is `None`, and applies the declarations.
    pub fn open(
        data_dir: Option<&Path>,
        tables: &[TableDefinition],
        indexes: &[IndexDefinition],
    ) -> Result<Stores, StoresError> {
        let db = Database::open(
            &DatabaseConfig {
                path: data_dir.map(|d| d.join("tables")),
                durable: true,
            },
            tables,
        )
        .map_err(|e| StoresError::Tables(e.to_string()))?;
        let engine = match data_dir {
            Some(dir) => Engine::open(&dir.join("indexes"))
                .map_err(|e| StoresError::Indexes(e.to_string()))?,
            None => Engine::in_memory(),
        };
        let mut stores = Stores {
            dynamodb: Arc::new(db),
            opensearch: Arc::new(engine),
            events: EventLog::default(),
            data_dir: data_dir.map(Path::to_path_buf),
            stream: None,
            seed: RwLock::new(None),
            maintenance: Mutex::new(()),
        };
        for index in indexes {
            stores
                .opensearch
                .ensure_index(index.clone())
                .map_err(|e| StoresError::Indexes(format!("{}: {e}", index.name)))?;
        }
        let in_step = match data_dir {
            Some(dir) => take_clean_close(dir)?,
            None => CleanClose::default(),
        };
        stores.connect_streams(tables, indexes, &in_step)?;
        Ok(stores)
    }

    /// Stops the stores cleanly: applies what the change stream still holds,
    /// flushes the tables and records that the sourced indexes are in step
    /// with their tables, so the next open skips reconciling them. Call it
    /// when no more writes will come (the server calls it after a graceful
    /// shutdown); stores dropped without it are reconciled at the next open.
    pub fn close(&self) -> Result<(), StoresError> {
        let _maintenance = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        self.drain_stream();
        self.dynamodb.flush().map_err(table_error)?;
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        let out_of_step = self
            .stream
            .as_ref()
            .map(|s| s.out_of_step())
            .unwrap_or_default();
        let record = CleanClose {
            indexes: self
                .feeds()
                .iter()
                .filter(|f| !out_of_step.contains(&f.index))
                .map(|f| (f.index.clone(), f.declaration.clone()))
                .collect(),
        };
        let path = dir.join(CLEAN_CLOSE_FILE);
        let text = serde_json::to_vec_pretty(&record).unwrap_or_default();
        write_durably(&path, &text)
            .map_err(|e| StoresError::DataDir(format!("{}: {e}", path.display())))
    }

    /// Reconciles sourced indexes with their tables, then subscribes them to
    /// table writes. The engine cuts documents down to the declared fields.
    fn connect_streams(
        &mut self,
        tables: &[TableDefinition],
        indexes: &[IndexDefinition],
        in_step: &CleanClose,
    ) -> Result<(), StoresError> {
        let feeds: Vec<Feed> = indexes
            .iter()
            .filter_map(|index| {
                let source = index.source.as_ref()?;
                Some(Feed {
                    index: index.name.clone(),
                    table: source.table.clone(),
                    key_names: tables
                        .iter()
                        .find(|t| t.table_name == source.table)
                        .map(key_names)
                        .unwrap_or_default(),
                    declaration: serde_json::to_value(index).unwrap_or_default(),
                })
            })
            .collect();
        if let Some(feed) = feeds.iter().find(|f| f.key_names.is_empty()) {
            return Err(StoresError::Indexes(format!(
                "index {} is fed from table {}, which is not declared",
                feed.index, feed.table
            )));
        }
        // One thread per index: a restart on the 70k-item demo reads every
        // item and document once. Indexes the last clean close left in step
        // with the same declaration need none of it.
        let this = &*self;
        std::thread::scope(|scope| {
            let jobs: Vec<_> = feeds
                .iter()
                .filter(|feed| in_step.indexes.get(&feed.index) != Some(&feed.declaration))
                .map(|feed| scope.spawn(move || this.reconcile(feed)))
                .collect();
            jobs.into_iter().try_for_each(|job| {
                job.join().unwrap_or_else(|_| {
                    Err(StoresError::Indexes("reconciliation panicked".to_owned()))
                })
            })
        })?;
        if feeds.is_empty() {
            return Ok(());
        }
        let stream = Arc::new(IndexStream {
            engine: Arc::clone(&self.opensearch),
            feeds,
            queue: Mutex::new(StreamQueue::default()),
            applied: Condvar::new(),
        });
        self.dynamodb.subscribe(stream.clone());
        self.stream = Some(stream);
        Ok(())
    }

    /// The sourced indexes.
    fn feeds(&self) -> &[Feed] {
        self.stream.as_ref().map_or(&[], |stream| &stream.feeds)
    }

    /// Applies every staged table write to the indexes: maintenance that
    /// rewrites indexes directly runs after the writes before it.
    fn drain_stream(&self) {
        if let Some(stream) = &self.stream {
            stream.settle(u64::MAX);
        }
    }

    fn reconcile(&self, feed: &Feed) -> Result<(), StoresError> {
        let mut docs = Vec::new();
        let mut request = ScanRequest {
            table_name: feed.table.clone(),
            ..Default::default()
        };
        loop {
            let page = self
                .dynamodb
                .scan(&request)
                .map_err(|e| StoresError::Tables(format!("{}: {e}", feed.table)))?;
            for item in page.items.iter().flatten() {
                docs.push((document_id(item, &feed.key_names), item_to_plain_json(item)));
            }
            match page.last_evaluated_key {
                Some(key) => request.exclusive_start_key = Some(key),
                None => break,
            }
        }
        let report = self
            .opensearch
            .reconcile(&feed.index, docs)
            .map_err(|e| StoresError::Indexes(format!("{}: {e}", feed.index)))?;
        if let Some(reason) = &report.first_refusal {
            tracing::warn!(
                index = %feed.index,
                refused = report.refused,
                "items left out of the index; the first: {reason}"
            );
        }
        if report.upserted + report.deleted > 0 {
            tracing::info!(
                index = %feed.index,
                upserted = report.upserted,
                deleted = report.deleted,
                "index reconciled with its table"
            );
        }
        Ok(())
    }
}

/// What the manifest's `seed` section asks for, and where its files live.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSource {
    pub spec: SeedSpec,
    pub project_dir: PathBuf,
}

/// Items written per table by a seed or a fixture.
pub type LoadReport = BTreeMap<String, usize>;

/// What a reset did: items removed per table, items seeded per table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResetReport {
    pub cleared: LoadReport,
    pub seeded: Option<LoadReport>,
}

/// The data directory's record of its seed, so a restart never reseeds.
const MARKER_FILE: &str = "seed.json";
const LOADING: &str = "loading";
const DONE: &str = "done";

impl Stores {
    /// Sets the seed that `seed`, `reset` and the first start load (the
    /// manifest's, updated on reload).
    pub fn set_seed(&self, source: Option<SeedSource>) {
        *self.seed.write().unwrap_or_else(|e| e.into_inner()) = source;
    }

    pub fn seed_source(&self) -> Option<SeedSource> {
        self.seed.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Seeds a fresh data directory once. The marker file records the
    /// outcome, so a restart never reseeds (even after the items were
    /// deleted); a directory whose seeded tables already hold items is left
    /// alone; a seed cut short by a crash is cleared and loaded again.
    pub fn seed_on_first_start(&self) -> Result<Option<LoadReport>, StoresError> {
        let Some(source) = self.seed_source() else {
            return Ok(None);
        };
        let _maintenance = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        let tables = source.spec.tables();
        match self.marker()?.as_deref() {
            Some(DONE) => return Ok(None),
            Some(_) => {
                tracing::warn!(
                    "an earlier seed did not finish: clearing its tables and seeding again"
                );
                for table in &tables {
                    self.clear_table(table)?;
                }
                for feed in self.feeds().iter().filter(|f| tables.contains(&f.table)) {
                    self.opensearch
                        .clear_index(&feed.index)
                        .map_err(|e| StoresError::Indexes(format!("{}: {e}", feed.index)))?;
                }
            }
            None => {
                if self.holds_items(&tables)? {
                    self.write_marker(DONE, &source)?;
                    return Ok(None);
                }
            }
        }
        self.seed_locked(&source).map(Some)
    }

    /// Loads the seed now: seeded items replace items with the same keys,
    /// other items stay.
    pub fn seed(&self) -> Result<LoadReport, StoresError> {
        let source = self.seed_source().ok_or(StoresError::NoSeed)?;
        let _maintenance = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        self.seed_locked(&source)
    }

    /// Empties every table and index (declarations stay), then seeds again
    /// when `reseed` and the project has a seed.
    pub fn reset(&self, reseed: bool) -> Result<ResetReport, StoresError> {
        let _maintenance = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        let mut report = ResetReport::default();
        self.events.clear();
        for table in self.dynamodb.table_definitions() {
            let removed = self.clear_table(&table.table_name)?;
            report.cleared.insert(table.table_name, removed);
        }
        self.drain_stream();
        for index in self.opensearch.index_names() {
            self.opensearch
                .clear_index(&index)
                .map_err(|e| StoresError::Indexes(format!("{index}: {e}")))?;
        }
        match (reseed, self.seed_source()) {
            (true, Some(source)) => report.seeded = Some(self.seed_locked(&source)?),
            // Emptied on purpose: the next start must not seed either.
            (_, Some(source)) => self.write_marker(DONE, &source)?,
            (_, None) => {}
        }
        Ok(report)
    }

    /// Writes fixture items, all or nothing, as normal writes: one commit
    /// whose stream records feed the sourced indexes.
    pub fn load_fixture(&self, items: &[(String, Item)]) -> Result<LoadReport, StoresError> {
        let _maintenance = self.maintenance.lock().unwrap_or_else(|e| e.into_inner());
        let declared = self.dynamodb.table_definitions();
        if let Some((table, _)) = items
            .iter()
            .find(|(t, _)| !declared.iter().any(|d| d.table_name == *t))
        {
            return Err(StoresError::UnknownTable(table.clone()));
        }
        self.dynamodb.put_items(items).map_err(table_error)?;
        Ok(count_by_table(items))
    }

    fn clear_table(&self, table: &str) -> Result<usize, StoresError> {
        self.dynamodb
            .clear_table(table)
            .map_err(|e| StoresError::Tables(format!("{table}: {e}")))
    }

    fn holds_items(&self, tables: &[String]) -> Result<bool, StoresError> {
        for table in tables {
            let probe = ScanRequest {
                table_name: table.clone(),
                limit: Some(1),
                ..Default::default()
            };
            let page = self
                .dynamodb
                .scan(&probe)
                .map_err(|e| StoresError::Tables(format!("{table}: {e}")))?;
            if page.count > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn seed_locked(&self, source: &SeedSource) -> Result<LoadReport, StoresError> {
        let started = std::time::Instant::now();
        let tables = seed_tables(source)?;
        let millis = started.elapsed().as_millis() as u64;
        tracing::debug!(millis, "seed items ready");
        self.write_marker(LOADING, source)?;
        self.drain_stream();
        let report = self.bulk_load(&tables);
        drop(tables);
        release_freed_memory();
        let report = report?;
        self.write_marker(DONE, source)?;
        tracing::info!(
            seed = %source.spec.describe(),
            items = report.values().sum::<usize>(),
            millis = started.elapsed().as_millis() as u64,
            "seeded"
        );
        Ok(report)
    }

    /// Writes items to their tables in large batches while other threads
    /// build the sourced indexes from the same items, each with one commit:
    /// much faster than streaming every write through the change stream.
    fn bulk_load(&self, tables: &[(String, Vec<Json>)]) -> Result<LoadReport, StoresError> {
        let feeds: Vec<(&Feed, &[Json])> = self
            .feeds()
            .iter()
            .filter_map(|f| {
                let (_, objects) = tables.iter().find(|(t, _)| *t == f.table)?;
                Some((f, objects.as_slice()))
            })
            .collect();
        let (written, indexed) = std::thread::scope(|scope| {
            let jobs: Vec<_> = feeds
                .iter()
                .map(|&(feed, objects)| {
                    scope.spawn(move || {
                        let started = std::time::Instant::now();
                        let docs = objects
                            .iter()
                            .map(|object| (plain_document_id(object, &feed.key_names), object));
                        let result = self.opensearch.bulk_load(&feed.index, docs);
                        let millis = started.elapsed().as_millis() as u64;
                        tracing::debug!(index = %feed.index, millis, "bulk indexed");
                        result
                    })
                })
                .collect();
            let started = std::time::Instant::now();
            let written = typed_items(tables).and_then(|items| {
                self.dynamodb
                    .load_items(&items)
                    .map_err(table_error)
                    .map(|_| count_by_table(&items))
            });
            let millis = started.elapsed().as_millis() as u64;
            tracing::debug!(millis, "bulk written to the tables");
            let indexed: Vec<Result<(), StoresError>> = jobs
                .into_iter()
                .zip(&feeds)
                .map(|(job, (feed, _))| match job.join() {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(StoresError::Indexes(format!("{}: {e}", feed.index))),
                    Err(_) => Err(StoresError::Indexes(format!(
                        "{}: the indexing thread panicked",
                        feed.index
                    ))),
                })
                .collect();
            (written, indexed)
        });
        let mut failure = None;
        for ((feed, _), result) in feeds.iter().zip(&indexed) {
            // An index that failed, or holds documents of a table write that
            // failed, is rebuilt from its table.
            if let Err(e) = result {
                failure = Some(e.clone());
            }
            if result.is_err() || written.is_err() {
                self.reconcile(feed)?;
            }
        }
        let report = written?;
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    fn marker(&self) -> Result<Option<String>, StoresError> {
        let Some(dir) = &self.data_dir else {
            return Ok(None);
        };
        match std::fs::read_to_string(dir.join(MARKER_FILE)) {
            Ok(text) => Ok(Some(
                serde_json::from_str::<Json>(&text)
                    .ok()
                    .and_then(|m| m["state"].as_str().map(str::to_owned))
                    .unwrap_or_default(),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoresError::DataDir(format!("{MARKER_FILE}: {e}"))),
        }
    }

    fn write_marker(&self, state: &str, source: &SeedSource) -> Result<(), StoresError> {
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        let text = json!({ "state": state, "seed": source.spec.describe() }).to_string();
        write_durably(&dir.join(MARKER_FILE), text.as_bytes())
            .map_err(|e| StoresError::DataDir(format!("{MARKER_FILE}: {e}")))
    }
}

/// The seed's items as plain JSON objects, per table: read from its files
/// or generated.
fn seed_tables(source: &SeedSource) -> Result<Vec<(String, Vec<Json>)>, StoresError> {
    let tables: Vec<(String, Vec<Json>)> = match &source.spec {
        SeedSpec::FlightCatalog(config) => {
            let catalog = crate::seed::catalog::generate(config);
            vec![
                (FLIGHTS_TABLE.to_owned(), catalog.flights),
                (BOOKINGS_TABLE.to_owned(), catalog.bookings),
            ]
        }
        SeedSpec::Files(files) => {
            let mut tables = Vec::new();
            for (table, file) in files {
                let shown = file.display();
                let text = std::fs::read_to_string(source.project_dir.join(file))
                    .map_err(|e| StoresError::Seed(format!("cannot read {shown}: {e}")))?;
                let items = serde_json::from_str::<Vec<Json>>(&text).map_err(|e| {
                    StoresError::Seed(format!("{shown}: expected a JSON array of items: {e}"))
                })?;
                tables.push((table.clone(), items));
            }
            tables
        }
    };
    for (table, objects) in &tables {
        if let Some(i) = objects.iter().position(|o| !o.is_object()) {
            return Err(StoresError::Seed(format!(
                "{table}[{i}]: an item must be a JSON object"
            )));
        }
    }
    Ok(tables)
}

/// Plain JSON objects as DynamoDB items.
fn typed_items(tables: &[(String, Vec<Json>)]) -> Result<Vec<(String, Item)>, StoresError> {
    let mut items = Vec::with_capacity(tables.iter().map(|(_, o)| o.len()).sum());
    for (table, objects) in tables {
        for (i, object) in objects.iter().enumerate() {
            let item = match object {
                Json::Object(fields) => item_from_plain_json(fields).map_err(|e| e.to_string()),
                _ => Err("an item must be a JSON object".to_owned()),
            }
            .map_err(|e| StoresError::Seed(format!("{table}[{i}]: {e}")))?;
            items.push((table.clone(), item));
        }
    }
    Ok(items)
}

fn count_by_table(items: &[(String, Item)]) -> LoadReport {
    let mut report = LoadReport::new();
    for (table, _) in items {
        *report.entry(table.clone()).or_default() += 1;
    }
    report
}

/// A rejected bulk write: an item DynamoDB would refuse, or a store failure.
fn table_error(error: crate::dynamodb::Error) -> StoresError {
    match error {
        crate::dynamodb::Error::Validation(message) => StoresError::InvalidItems(message),
        other => StoresError::Tables(other.to_string()),
    }
}

/// One sourced index.
#[derive(Debug)]
struct Feed {
    index: String,
    table: String,
    key_names: Vec<String>,
    /// The index's declaration, as recorded by a clean close.
    declaration: Json,
}

/// Written by [`Stores::close`], removed at open before any write: its
/// presence says every sourced index named in it was in step with its table
/// under that declaration when the process stopped.
const CLEAN_CLOSE_FILE: &str = "closed-cleanly.json";

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct CleanClose {
    indexes: BTreeMap<String, Json>,
}

/// Reads and removes the clean-close record. The removal is made durable
/// first, so a crash after this open can never leave a stale record behind;
/// an unreadable record counts as none (everything is reconciled).
fn take_clean_close(dir: &Path) -> Result<CleanClose, StoresError> {
    let path = dir.join(CLEAN_CLOSE_FILE);
    let Ok(text) = std::fs::read(&path) else {
        return Ok(CleanClose::default());
    };
    let failed = |e: std::io::Error| StoresError::DataDir(format!("{}: {e}", path.display()));
    std::fs::remove_file(&path).map_err(failed)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(failed)?;
    Ok(serde_json::from_slice(&text).unwrap_or_default())
}

/// Hands memory freed after a seed back to the operating system. glibc
/// keeps freed heap pages otherwise: after the demo's seed (several copies
/// of 70,000 items) the process would stay at about twice its working size.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own heap state; it takes no
    // pointers and is safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Replaces a file durably: written beside it, synced, then renamed over
/// it, so a crash leaves the old file or the new one, never a torn one.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A document id and its new source (`None`: deleted).
type Change = (String, Option<Json>);

/// Streams table writes to the sourced indexes (DynamoDB Streams →
/// OpenSearch). Commits are staged under the table's writer mutex and
/// applied after it by whichever writer settles first, all staged commits
/// together: a tantivy commit (a new segment and its fsyncs) is then shared
/// by concurrent writers, and never holds up table writes. A writer returns
/// once its own commit is applied, so it reads its writes in search.
struct IndexStream {
    engine: Arc<Engine>,
    feeds: Vec<Feed>,
    queue: Mutex<StreamQueue>,
    applied: Condvar,
}

#[derive(Default)]
struct StreamQueue {
    /// Staged commits, in commit order.
    pending: Vec<(u64, Arc<[StreamRecord]>)>,
    /// Every commit up to this number is applied (or failed and logged).
    applied_through: u64,
    /// A writer is applying a batch taken from `pending`.
    applying: bool,
    /// Indexes a batch failed to reach.
    out_of_step: std::collections::BTreeSet<String>,
}

impl IndexStream {
    fn queue(&self) -> MutexGuard<'_, StreamQueue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mark_out_of_step(&self, index: &str) {
        self.queue().out_of_step.insert(index.to_owned());
    }

    /// Indexes that missed a streamed write since the stores opened.
    fn out_of_step(&self) -> std::collections::BTreeSet<String> {
        self.queue().out_of_step.clone()
    }

    fn apply(&self, batch: &[(u64, Arc<[StreamRecord]>)]) {
        let started = std::time::Instant::now();
        let work: Vec<(&Feed, Vec<Change>)> = self
            .feeds
            .iter()
            .map(|feed| {
                let changes = batch
                    .iter()
                    .flat_map(|(_, records)| records.iter())
                    .filter(|r| r.table == feed.table)
                    .map(|r| {
                        let id = document_id(&r.keys, &feed.key_names);
                        (id, r.new_image.as_ref().map(item_to_plain_json))
                    })
                    .collect::<Vec<_>>();
                (feed, changes)
            })
            .filter(|(_, changes)| !changes.is_empty())
            .collect();
        let apply = |feed: &Feed, changes| {
            // The table writes are already committed; an index failure is
            // logged and repaired by the reconciliation at the next start
            // (which a clean close then must not skip).
            match self.engine.apply_changes(&feed.index, changes) {
                Ok(()) => {}
                // The engine failed: the batch may be partly lost.
                Err(err) if err.is_internal() => {
                    tracing::error!(index = %feed.index, "stream to index failed: {err}");
                    self.mark_out_of_step(&feed.index);
                }
                // The mapping refused an item; the others went in. A
                // reconciliation would refuse it again.
                Err(err) => {
                    tracing::warn!(index = %feed.index, "an item was not indexed: {err}");
                }
            }
        };
        // An index commit mostly waits for fsyncs: several indexes (a
        // booking changes a flight too) commit side by side.
        match work.len() {
            0 => {}
            1 => work
                .into_iter()
                .for_each(|(feed, changes)| apply(feed, changes)),
            _ => std::thread::scope(|scope| {
                for (feed, changes) in work {
                    scope.spawn(move || apply(feed, changes));
                }
            }),
        }
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!(
            commits = batch.len(),
            millis,
            "table writes applied to the indexes"
        );
    }
}

impl StreamConsumer for IndexStream {
    fn stage(&self, seq: u64, records: &Arc<[StreamRecord]>) {
        self.queue().pending.push((seq, Arc::clone(records)));
    }

    /// Returns once commit `seq` is applied; `u64::MAX` waits until nothing
    /// staged is left.
    fn settle(&self, seq: u64) {
        let mut queue = self.queue();
        loop {
            if queue.applied_through >= seq || (!queue.applying && queue.pending.is_empty()) {
                return;
            }
            if queue.applying {
                queue = self.applied.wait(queue).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            let batch = std::mem::take(&mut queue.pending);
            let through = batch.last().map_or(0, |(seq, _)| *seq);
            queue.applying = true;
            drop(queue);
            // Waiters are released even if applying panics.
            let done = BatchDone {
                stream: self,
                through,
            };
            self.apply(&batch);
            drop(done);
            queue = self.queue();
        }
    }
}

struct BatchDone<'a> {
    stream: &'a IndexStream,
    through: u64,
}

impl Drop for BatchDone<'_> {
    fn drop(&mut self) {
        let mut queue = self.stream.queue();
        if std::thread::panicking() {
            // Whatever the batch had applied, the indexes cannot be trusted.
            queue
                .out_of_step
                .extend(self.stream.feeds.iter().map(|f| f.index.clone()));
        }
        queue.applying = false;
        queue.applied_through = queue.applied_through.max(self.through);
        self.stream.applied.notify_all();
    }
}

fn key_names(table: &TableDefinition) -> Vec<String> {
    std::iter::once(table.partition_key.name.clone())
        .chain(table.sort_key.as_ref().map(|k| k.name.clone()))
        .collect()
}

/// A document's `_id`: the partition key's value, joined with the sort key's by
/// `#` when the table has one, so `GET /{index}/_doc/{id}` finds an item by key.
fn document_id(item: &Item, key_names: &[String]) -> String {
    join_key(
        key_names
            .iter()
            .map(|name| item.get(name).map(|v| v.to_plain_json())),
    )
}

/// [`document_id`] of an item in plain JSON (the same text for the same item).
fn plain_document_id(item: &Json, key_names: &[String]) -> String {
    join_key(key_names.iter().map(|name| item.get(name).cloned()))
}

fn join_key(values: impl Iterator<Item = Option<Json>>) -> String {
    values
        .map(|value| match value {
            Some(Json::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        })
        .collect::<Vec<_>>()
        .join("#")
}
