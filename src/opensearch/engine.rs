//! The set of named indexes, and the hooks through which tables feed them.
//!
//! The REST API on top of it is in `endpoints`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::{SearchIndex, StoredDoc, WriteOp, project_fields};
use crate::opensearch::mapping::IndexDefinition;

/// Named indexes, on disk under a data directory or in RAM.
pub struct Engine {
    data_dir: Option<PathBuf>,
    indexes: RwLock<BTreeMap<String, Arc<SearchIndex>>>,
}

/// What [`Engine::reconcile`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub upserted: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Items the mapping refuses (e.g. text in a `long` field): left out,
    /// as a Streams → OpenSearch pipeline would skip them.
    pub refused: usize,
    /// Why the first refused item was refused.
    pub first_refusal: Option<String>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::in_memory()
    }
}

impl Engine {
    /// Indexes live in RAM and vanish with the engine (tests, `--in-memory`).
    pub fn in_memory() -> Engine {
        Engine {
            data_dir: None,
            indexes: RwLock::new(BTreeMap::new()),
        }
    }

    /// Opens every index persisted under `dir` (one sub-directory per index).
    pub fn open(dir: &Path) -> Result<Engine> {
        std::fs::create_dir_all(dir)?;
        let mut indexes = BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.path().join("index.json").exists() {
                let index = SearchIndex::open(entry.path())?;
                indexes.insert(index.name().to_string(), Arc::new(index));
            }
        }
        Ok(Engine {
            data_dir: Some(dir.to_path_buf()),
            indexes: RwLock::new(indexes),
        })
    }

    pub fn index_names(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    pub(crate) fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<SearchIndex>>> {
        self.indexes.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<SearchIndex>>> {
        self.indexes.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn index(&self, name: &str) -> Result<Arc<SearchIndex>> {
        self.read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::IndexNotFound {
                index: name.to_string(),
            })
    }

    /// `PUT /{index}`: fails if the index exists.
    pub fn create_index(&self, definition: IndexDefinition) -> Result<Arc<SearchIndex>> {
        validate_index_name(&definition.name)?;
        definition.mappings.compile()?;
        let mut indexes = self.write();
        if indexes.contains_key(&definition.name) {
            return Err(Error::IndexAlreadyExists {
                index: definition.name,
            });
        }
        let dir = self.data_dir.as_ref().map(|d| d.join(&definition.name));
        let name = definition.name.clone();
        let index = Arc::new(SearchIndex::create(definition, dir)?);
        indexes.insert(name, index.clone());
        Ok(index)
    }

    /// For manifest-declared indexes: keeps an existing index and its documents, adding
    /// any newly declared fields to its mapping and taking the declared source table.
    pub fn ensure_index(&self, definition: IndexDefinition) -> Result<Arc<SearchIndex>> {
        if let Ok(index) = self.index(&definition.name) {
            index.put_mapping(&definition.mappings)?;
            index.set_source(definition.source)?;
            return Ok(index);
        }
        self.create_index(definition)
    }

    pub fn delete_index(&self, name: &str) -> Result<()> {
        let index = self
            .write()
            .remove(name)
            .ok_or_else(|| Error::IndexNotFound {
                index: name.to_string(),
            })?;
        index.delete_files()
    }

    /// Writes go to a missing index by creating it with dynamic mapping, as OpenSearch's
    /// `action.auto_create_index` default does.
    pub(crate) fn index_for_write(&self, name: &str) -> Result<Arc<SearchIndex>> {
        match self.index(name) {
            Ok(index) => Ok(index),
            Err(_) => match self.create_index(IndexDefinition {
                name: name.to_string(),
                ..IndexDefinition::default()
            }) {
                Err(Error::IndexAlreadyExists { .. }) => self.index(name),
                other => other,
            },
        }
    }

    /// An index and the fields its source table's items are cut down to
    /// (empty: all of them).
    fn with_source_fields(&self, index: &str) -> Result<(Arc<SearchIndex>, Vec<String>)> {
        let target = self.index(index)?;
        let fields = target
            .definition()
            .source
            .map(|s| s.fields)
            .unwrap_or_default();
        Ok((target, fields))
    }

    /// Streaming hook: mirrors one table change (upsert with the new item, or delete).
    /// Items are projected to the index's declared source fields.
    pub fn apply_change(&self, index: &str, id: &str, item: Option<Value>) -> Result<()> {
        self.apply_changes(index, [(id.to_string(), item)])
    }

    /// Mirrors several table changes with one commit (a `BatchWriteItem` or a transaction),
    /// in order. Fails on the first change the index rejects; the others still apply.
    pub fn apply_changes(
        &self,
        index: &str,
        changes: impl IntoIterator<Item = (String, Option<Value>)>,
    ) -> Result<()> {
        let (target, fields) = self.with_source_fields(index)?;
        let ops: Vec<WriteOp> = changes
            .into_iter()
            .map(|(id, item)| match item {
                Some(item) => WriteOp::Index {
                    id: Some(id),
                    source: project_fields(&item, &fields),
                    create_only: false,
                },
                None => WriteOp::Delete { id },
            })
            .collect();
        if ops.is_empty() {
            return Ok(());
        }
        for res in target.write(ops)? {
            res?;
        }
        Ok(())
    }

    /// Seeding: indexes table items (id, item) with one commit, projected to
    /// the index's source fields like streamed changes.
    pub fn bulk_load<'a>(
        &self,
        index: &str,
        docs: impl IntoIterator<Item = (String, &'a Value)>,
    ) -> Result<usize> {
        let (target, fields) = self.with_source_fields(index)?;
        let docs: Vec<(String, &Value)> = docs.into_iter().collect();
        target.bulk_index(&docs, &fields)
    }

    /// Deletes every document of an index, keeping its mapping.
    pub fn clear_index(&self, index: &str) -> Result<()> {
        self.index(index)?.clear()
    }

    /// Makes the index hold exactly `docs` (id, item): the start-up repair after a crash
    /// between a table write and its index write. Unchanged documents keep their version.
    pub fn reconcile(
        &self,
        index: &str,
        docs: impl IntoIterator<Item = (String, Value)>,
    ) -> Result<ReconcileReport> {
        let (target, fields) = self.with_source_fields(index)?;
        let existing: HashMap<String, StoredDoc> = target
            .current()
            .all_docs()?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut ops = Vec::new();
        let mut report = ReconcileReport::default();
        for (id, item) in docs {
            let source = project_fields(&item, &fields);
            match existing.get(&id) {
                Some(doc) if doc.source == source => report.unchanged += 1,
                _ => {
                    report.upserted += 1;
                    ops.push(WriteOp::Index {
                        id: Some(id.clone()),
                        source,
                        create_only: false,
                    });
                }
            }
            seen.insert(id);
        }
        for id in existing.keys() {
            if !seen.contains(id) {
                report.deleted += 1;
                ops.push(WriteOp::Delete { id: id.clone() });
            }
        }
        if !ops.is_empty() {
            // One refused item must not keep the rest out (nor stop a start).
            for res in target.write(ops)? {
                if let Err(err) = res {
                    report.upserted = report.upserted.saturating_sub(1);
                    report.refused += 1;
                    report.first_refusal.get_or_insert_with(|| err.to_string());
                }
            }
        }
        Ok(report)
    }
}

/// OpenSearch's index name rules.
fn validate_index_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(Error::InvalidIndexName {
            index: name.to_string(),
            reason: format!("Invalid index name [{name}], {reason}"),
        })
    };
    if name.is_empty() || name == "." || name == ".." {
        return invalid("must not be '.' or '..'");
    }
    if name.to_lowercase() != name {
        return invalid("must be lowercase");
    }
    if name.starts_with(['_', '-', '+']) {
        return invalid("must not start with '_', '-', or '+'");
    }
    if name.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']) {
        return invalid(
            "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]",
        );
    }
    if name.len() > 255 {
        return invalid("index name is too long");
    }
    Ok(())
}
