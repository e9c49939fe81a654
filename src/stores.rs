//! The embedded stores a project runs on, opened once per server process and
//! shared by data sources, the DynamoDB API, the OpenSearch REST API and
//! project reloads.
//!
//! Indexes that declare a `source` table are fed from it, emulating DynamoDB
//! Streams → OpenSearch: every committed table write is applied to the index
//! before the write is acknowledged (read-your-writes), and at open each such
//! index is reconciled with its table, so a crash between the two writes leaves
//! no ghost or missing documents.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value as Json, json};

use crate::dynamodb::types::{item_from_json, item_to_plain_json};
use crate::dynamodb::{
    BatchWriteItemRequest, Database, DatabaseConfig, Item, PutRequest, ScanRequest, StreamRecord,
    TableDefinition, WriteRequest,
};
use crate::opensearch::{Engine, IndexDefinition};

/// A store failed to open or to apply the manifest's declarations.
#[derive(Debug, thiserror::Error)]
pub enum StoresError {
    #[error("tables: {0}")]
    Tables(String),
    #[error("indexes: {0}")]
    Indexes(String),
}

/// The DynamoDB-compatible tables and OpenSearch-compatible indexes.
pub struct Stores {
    pub dynamodb: Arc<Database>,
    pub opensearch: Arc<Engine>,
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
        let stores = Stores {
            dynamodb: Arc::new(db),
            opensearch: Arc::new(engine),
        };
        for index in indexes {
            stores
                .opensearch
                .ensure_index(index.clone())
                .map_err(|e| StoresError::Indexes(format!("{}: {e}", index.name)))?;
        }
        stores.connect_streams(tables, indexes)?;
        Ok(stores)
    }

    /// Reconciles sourced indexes with their tables, then subscribes them to
    /// table writes. The engine cuts documents down to the declared fields.
    fn connect_streams(
        &self,
        tables: &[TableDefinition],
        indexes: &[IndexDefinition],
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
                })
            })
            .collect();
        if let Some(feed) = feeds.iter().find(|f| f.key_names.is_empty()) {
            return Err(StoresError::Indexes(format!(
                "index {} is fed from table {}, which is not declared",
                feed.index, feed.table
            )));
        }
        for feed in &feeds {
            self.reconcile(feed)?;
        }
        if feeds.is_empty() {
            return Ok(());
        }
        let engine = Arc::clone(&self.opensearch);
        self.dynamodb
            .subscribe(Box::new(move |records: &[StreamRecord]| {
                for feed in &feeds {
                    let changes: Vec<(String, Option<Json>)> = records
                        .iter()
                        .filter(|r| r.table == feed.table)
                        .map(|r| {
                            let id = document_id(&r.keys, &feed.key_names);
                            (id, r.new_image.as_ref().map(item_to_plain_json))
                        })
                        .collect();
                    if changes.is_empty() {
                        continue;
                    }
                    // The table write is already committed; an index failure is
                    // logged and repaired by the reconciliation at the next start.
                    if let Err(err) = engine.apply_changes(&feed.index, changes) {
                        tracing::error!(index = %feed.index, "stream to index failed: {err}");
                    }
                }
            }));
        Ok(())
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

impl Stores {
    /// Loads plain JSON items into `table` if it holds no item yet, so a
    /// restart never duplicates or overwrites data. Returns how many were written.
    pub fn seed(&self, table: &str, items: &[Json]) -> Result<usize, StoresError> {
        let probe = ScanRequest {
            table_name: table.to_owned(),
            limit: Some(1),
            ..Default::default()
        };
        let page = self
            .dynamodb
            .scan(&probe)
            .map_err(|e| StoresError::Tables(format!("{table}: {e}")))?;
        if page.count > 0 {
            return Ok(0);
        }
        for chunk in items.chunks(25) {
            let mut writes = Vec::with_capacity(chunk.len());
            for plain in chunk {
                let Json::Object(fields) = plain else {
                    return Err(StoresError::Tables(format!(
                        "{table}: seed items must be JSON objects, found {plain}"
                    )));
                };
                let typed = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), plain_to_dynamodb_json(v)))
                    .collect();
                let item = item_from_json(&typed, false)
                    .map_err(|e| StoresError::Tables(format!("{table}: {e}")))?;
                writes.push(WriteRequest {
                    put_request: Some(PutRequest { item }),
                    delete_request: None,
                });
            }
            let request = BatchWriteItemRequest {
                request_items: [(table.to_owned(), writes)].into_iter().collect(),
            };
            self.dynamodb
                .batch_write_item(&request)
                .map_err(|e| StoresError::Tables(format!("{table}: {e}")))?;
        }
        Ok(items.len())
    }
}

/// Plain JSON as `$util.dynamodb.toDynamoDB` types it: strings `S`, numbers
/// `N`, booleans `BOOL`, null `NULL`, arrays `L`, objects `M`.
fn plain_to_dynamodb_json(value: &Json) -> Json {
    match value {
        Json::String(s) => json!({ "S": s }),
        Json::Number(n) => json!({ "N": n.to_string() }),
        Json::Bool(b) => json!({ "BOOL": b }),
        Json::Null => json!({ "NULL": true }),
        Json::Array(items) => {
            json!({ "L": items.iter().map(plain_to_dynamodb_json).collect::<Vec<_>>() })
        }
        Json::Object(fields) => {
            let typed: serde_json::Map<String, Json> = fields
                .iter()
                .map(|(k, v)| (k.clone(), plain_to_dynamodb_json(v)))
                .collect();
            json!({ "M": typed })
        }
    }
}

/// One sourced index.
struct Feed {
    index: String,
    table: String,
    key_names: Vec<String>,
}

fn key_names(table: &TableDefinition) -> Vec<String> {
    std::iter::once(table.partition_key.name.clone())
        .chain(table.sort_key.as_ref().map(|k| k.name.clone()))
        .collect()
}

/// A document's `_id`: the partition key's value, joined with the sort key's by
/// `#` when the table has one, so `GET /{index}/_doc/{id}` finds an item by key.
fn document_id(item: &Item, key_names: &[String]) -> String {
    key_names
        .iter()
        .map(|name| match item.get(name).map(|v| v.to_plain_json()) {
            Some(Json::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        })
        .collect::<Vec<_>>()
        .join("#")
}
