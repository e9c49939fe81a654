//! One OpenSearch index: a tantivy index, its mapping, and the single writer that feeds it.
//!
//! Every write batch ends with a commit and a reader reload, so the next search sees it
//! (read-your-writes, the emulator's default whatever `?refresh` says). A commit per
//! single-document write costs a segment flush (a few milliseconds on a 100k-document
//! index, see docs/benchmarks.md); `_bulk` and `reconcile` commit once per batch, so table
//! streams should hand over batches when they have them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tantivy::directory::MmapDirectory;
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TERMINATED,
    TantivyDocument, Term,
};

use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::{CompiledMapping, DocMeta, IndexDefinition, Mapping};

/// Heap for the single indexing thread of each index.
const WRITER_HEAP_BYTES: usize = 32_000_000;
/// Heap per indexing thread of a bulk load: large enough that seeding
/// makes a handful of segments.
const BULK_HEAP_BYTES: usize = 256_000_000;
/// Segments below this many documents count as one merge level.
const MIN_LAYER_DOCS: u32 = 64;
/// The file beside the tantivy directories that persists the declaration and its mapping.
const INDEX_FILE: &str = "index.json";

/// A snapshot of an index: mapping plus the tantivy index built for it. Dynamic mapping that
/// adds a field builds a new generation (tantivy schemas are fixed) and reindexes `_source`.
pub struct Generation {
    pub index: Index,
    pub reader: IndexReader,
    pub definition: IndexDefinition,
    pub compiled: CompiledMapping,
    pub number: u64,
}

impl Generation {
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Adds a document to the writer's next commit, replacing the one with
    /// the same id when `replace`.
    fn put(
        &self,
        writer: &IndexWriter,
        source: &Value,
        meta: &DocMeta<'_>,
        replace: bool,
    ) -> Result<()> {
        let document = self.compiled.to_document(source, meta)?;
        if replace {
            writer.delete_term(Term::from_field_text(self.compiled.meta.id, meta.id));
        }
        writer.add_document(document)?;
        Ok(())
    }

    /// The stored `_source`, version and sequence number of a document.
    pub fn get(&self, id: &str) -> Result<Option<StoredDoc>> {
        // Walks the `_id` postings directly: cheaper than a collector, and this runs once
        // per write to find the previous version.
        let searcher = self.searcher();
        let field = self.compiled.meta.id;
        let term = Term::from_field_text(field, id);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(field)?;
            let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if !segment.is_deleted(doc) {
                    let stored: TantivyDocument = searcher.doc(DocAddress::new(ord as u32, doc))?;
                    return Ok(Some(self.stored(&stored)));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    pub fn stored(&self, doc: &TantivyDocument) -> StoredDoc {
        let meta = &self.compiled.meta;
        let text = |f| {
            doc.get_first(f)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let num = |f| {
            doc.get_first(f)
                .and_then(|v| v.as_u64())
                .unwrap_or_default()
        };
        StoredDoc {
            id: text(meta.id),
            source: serde_json::from_str(&text(meta.source)).unwrap_or(Value::Null),
            version: num(meta.version),
            seq_no: num(meta.seq_no),
        }
    }

    /// Every live document, for reindexing and reconciliation.
    pub fn all_docs(&self) -> Result<Vec<StoredDoc>> {
        let searcher = self.searcher();
        let mut out = Vec::new();
        for segment in searcher.segment_readers() {
            let store = segment.get_store_reader(64)?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = store.get(doc_id)?;
                out.push(self.stored(&doc));
            }
        }
        Ok(out)
    }
}

/// A document as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDoc {
    pub id: String,
    pub source: Value,
    pub version: u64,
    pub seq_no: u64,
}

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// `index` (or `create` when `create_only`); a missing id is generated.
    Index {
        id: Option<String>,
        source: Value,
        create_only: bool,
    },
    /// Partial update: `doc` is merged into the stored source.
    Update {
        id: String,
        doc: Value,
        upsert: Option<Value>,
        doc_as_upsert: bool,
    },
    Delete {
        id: String,
    },
}

/// What one write did, for OpenSearch's write response.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteResult {
    pub id: String,
    pub version: u64,
    pub seq_no: u64,
    /// `created`, `updated`, `deleted`, `not_found` or `noop`.
    pub result: &'static str,
}

struct WriterState {
    writer: IndexWriter,
    next_seq_no: u64,
}

impl WriterState {
    fn commit(&mut self) -> Result<()> {
        commit(&mut self.writer, self.next_seq_no)
    }
}

#[derive(Serialize, Deserialize)]
struct IndexFile {
    definition: IndexDefinition,
    generation: u64,
}

/// One named index.
pub struct SearchIndex {
    name: String,
    /// `None` keeps everything in RAM.
    dir: Option<PathBuf>,
    current: RwLock<Arc<Generation>>,
    writer: Mutex<WriterState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves tantivy state consistent (commit is atomic).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Commits with the next `_seq_no` as the commit's payload: opening the
/// index reads it back instead of every stored document, and it stays
/// monotonic across deletes, as OpenSearch's sequence numbers do.
fn commit(writer: &mut IndexWriter, next_seq_no: u64) -> Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&next_seq_no.to_string());
    prepared.commit()?;
    Ok(())
}

/// The writer of everyday writes: one thread, and a merge policy for many
/// small commits. tantivy's default treats every segment under 10,000
/// documents as one level, so each merge of small segments also rewrites
/// the growing result of the previous ones (quadratic under a stream of
/// single writes); a small floor keeps levels geometric.
fn write_writer(index: &Index) -> Result<IndexWriter> {
    let writer = index.writer_with_num_threads(1, WRITER_HEAP_BYTES)?;
    let mut policy = tantivy::indexer::LogMergePolicy::default();
    policy.set_min_layer_size(MIN_LAYER_DOCS);
    writer.set_merge_policy(Box::new(policy));
    Ok(writer)
}

fn build_generation(
    definition: IndexDefinition,
    dir: Option<&Path>,
    number: u64,
) -> Result<(Generation, IndexWriter)> {
    let compiled = definition.mappings.compile()?;
    let index = match dir {
        None => Index::create_in_ram(compiled.schema.clone()),
        Some(dir) => {
            let path = dir.join(format!("gen-{number}"));
            std::fs::create_dir_all(&path)?;
            let mmap = MmapDirectory::open(&path).map_err(|e| Error::Internal(e.to_string()))?;
            Index::open_or_create(mmap, compiled.schema.clone())?
        }
    };
    crate::opensearch::mapping::register_analyzers(index.tokenizers());
    let writer = write_writer(&index)?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    Ok((
        Generation {
            index,
            reader,
            definition,
            compiled,
            number,
        },
        writer,
    ))
}

impl SearchIndex {
    /// Creates an empty index (in `dir`, or in RAM).
    pub fn create(definition: IndexDefinition, dir: Option<PathBuf>) -> Result<SearchIndex> {
        if let Some(dir) = &dir {
            // A leftover directory of a deleted index must not leak documents into this one.
            if dir.exists() {
                std::fs::remove_dir_all(dir)?;
            }
            std::fs::create_dir_all(dir)?;
        }
        let (generation, writer) = build_generation(definition, dir.as_deref(), 0)?;
        let index = SearchIndex::from_parts(generation, writer, dir, 0);
        index.persist()?;
        Ok(index)
    }

    /// Opens an index persisted by [`SearchIndex::create`].
    pub fn open(dir: PathBuf) -> Result<SearchIndex> {
        let file = std::fs::read_to_string(dir.join(INDEX_FILE))?;
        let file: IndexFile =
            serde_json::from_str(&file).map_err(|e| Error::Internal(e.to_string()))?;
        let (generation, writer) = build_generation(file.definition, Some(&dir), file.generation)?;
        remove_stale_generations(&dir, file.generation);
        let committed = generation.index.load_metas()?.payload;
        let next_seq_no = match committed.and_then(|p| p.parse::<u64>().ok()) {
            Some(next) => next,
            // Indexes committed before the payload held it.
            None => generation
                .all_docs()?
                .iter()
                .map(|d| d.seq_no + 1)
                .max()
                .unwrap_or(0),
        };
        Ok(SearchIndex::from_parts(
            generation,
            writer,
            Some(dir),
            next_seq_no,
        ))
    }

    fn from_parts(
        generation: Generation,
        writer: IndexWriter,
        dir: Option<PathBuf>,
        next_seq_no: u64,
    ) -> SearchIndex {
        SearchIndex {
            name: generation.definition.name.clone(),
            dir,
            current: RwLock::new(Arc::new(generation)),
            writer: Mutex::new(WriterState {
                writer,
                next_seq_no,
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current generation; searches hold it so a concurrent reindex cannot pull it away.
    pub fn current(&self) -> Arc<Generation> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn definition(&self) -> IndexDefinition {
        self.current().definition.clone()
    }

    fn persist(&self) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let current = self.current();
        let file = IndexFile {
            definition: current.definition.clone(),
            generation: current.number,
        };
        let text =
            serde_json::to_string_pretty(&file).map_err(|e| Error::Internal(e.to_string()))?;
        // Write then rename, so a crash never leaves a torn index file.
        let tmp = dir.join(format!("{INDEX_FILE}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, dir.join(INDEX_FILE))?;
        Ok(())
    }

    /// Replaces the mapping with `mapping` and reindexes every stored `_source` under it.
    fn rebuild(&self, state: &mut WriterState, mapping: Mapping) -> Result<()> {
        let old = self.current();
        let mut definition = old.definition.clone();
        definition.mappings = mapping;
        let number = old.number + 1;
        let (generation, mut writer) = build_generation(definition, self.dir.as_deref(), number)?;
        for doc in old.all_docs()? {
            let meta = DocMeta {
                id: &doc.id,
                version: doc.version,
                seq_no: doc.seq_no,
            };
            // Adding fields never makes an accepted document invalid.
            generation.put(&writer, &doc.source, &meta, false)?;
        }
        commit(&mut writer, state.next_seq_no)?;
        generation.reader.reload()?;
        let old_writer = std::mem::replace(&mut state.writer, writer);
        drop(old_writer);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(generation);
        self.persist()?;
        if let Some(dir) = &self.dir {
            remove_stale_generations(dir, number);
        }
        Ok(())
    }

    /// Replaces the declared source table (the manifest may change it between runs); the
    /// caller reconciles afterwards.
    pub fn set_source(
        &self,
        source: Option<crate::opensearch::mapping::IndexSource>,
    ) -> Result<()> {
        let _state = lock(&self.writer);
        let old = self.current();
        if old.definition.source == source {
            return Ok(());
        }
        let mut definition = old.definition.clone();
        definition.source = source;
        let generation = Generation {
            index: old.index.clone(),
            reader: old.reader.clone(),
            definition,
            compiled: old.compiled.clone(),
            number: old.number,
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(generation);
        self.persist()
    }

    /// Adds fields to the mapping (`PUT /{index}/_mapping`).
    pub fn put_mapping(&self, extra: &Mapping) -> Result<()> {
        let mut state = lock(&self.writer);
        let mut mapping = self.current().definition.mappings.clone();
        merge_properties(&mut mapping.properties, &extra.properties);
        if extra.dynamic.is_some() {
            mapping.dynamic = extra.dynamic.clone();
        }
        mapping.compile()?;
        if mapping != self.current().definition.mappings {
            self.rebuild(&mut state, mapping)?;
        }
        Ok(())
    }

    /// Applies a batch of writes in order, then commits once and reloads the reader.
    /// The outer error is an engine failure; per-write errors are per item, as in `_bulk`.
    pub fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<Result<WriteResult>>> {
        let mut state = lock(&self.writer);
        // Documents written in this batch but not yet committed, so later ops see them.
        let mut pending: HashMap<String, Option<StoredDoc>> = HashMap::new();
        let mut results = Vec::with_capacity(ops.len());
        let mut dirty = false;
        for op in ops {
            match self.write_one(&mut state, &mut pending, op, &mut dirty) {
                Err(e @ Error::Internal(_)) => {
                    // An engine failure drops the whole uncommitted batch, so nothing half
                    // written rides along with the next commit.
                    let _ = state.writer.rollback();
                    return Err(e);
                }
                res => results.push(res),
            }
        }
        if dirty {
            state.commit()?;
            self.current().reader.reload()?;
        }
        Ok(results)
    }

    fn write_one(
        &self,
        state: &mut WriterState,
        pending: &mut HashMap<String, Option<StoredDoc>>,
        op: WriteOp,
        dirty: &mut bool,
    ) -> Result<WriteResult> {
        let id = match &op {
            WriteOp::Index { id: Some(id), .. }
            | WriteOp::Update { id, .. }
            | WriteOp::Delete { id } => id.clone(),
            WriteOp::Index { id: None, .. } => generate_id(),
        };
        if id.is_empty() {
            return Err(Error::illegal("if _id is specified it must not be empty"));
        }
        if id.len() > 512 {
            return Err(Error::illegal(format!(
                "id [{id}] is too long, must be no longer than 512 bytes but was: {}",
                id.len()
            )));
        }
        let previous = match pending.get(&id) {
            Some(doc) => doc.clone(),
            None => self.current().get(&id)?,
        };
        let version = previous.as_ref().map_or(1, |d| d.version + 1);
        let index_name = self.name.clone();
        let new_source = match op {
            WriteOp::Delete { .. } => None,
            WriteOp::Index {
                source,
                create_only,
                ..
            } => {
                if let (true, Some(prev)) = (create_only, &previous) {
                    return Err(Error::VersionConflict {
                        index: index_name,
                        id,
                        version: prev.version,
                    });
                }
                Some(source)
            }
            WriteOp::Update {
                doc,
                upsert,
                doc_as_upsert,
                ..
            } => match (&previous, upsert) {
                (Some(prev), _) => {
                    let mut merged = prev.source.clone();
                    merge_json(&mut merged, &doc);
                    if merged == prev.source {
                        return Ok(WriteResult {
                            id,
                            version: prev.version,
                            seq_no: prev.seq_no,
                            result: "noop",
                        });
                    }
                    Some(merged)
                }
                (None, Some(upsert)) => Some(upsert),
                (None, None) if doc_as_upsert => Some(doc),
                (None, None) => {
                    return Err(Error::DocumentMissing {
                        index: index_name,
                        id,
                    });
                }
            },
        };
        let id_term = Term::from_field_text(self.current().compiled.meta.id, &id);
        let Some(source) = new_source else {
            let Some(prev) = previous else {
                return Ok(WriteResult {
                    id,
                    version: 1,
                    seq_no: state.next_seq_no,
                    result: "not_found",
                });
            };
            state.writer.delete_term(id_term);
            *dirty = true;
            let seq_no = state.next_seq_no;
            state.next_seq_no += 1;
            pending.insert(id.clone(), None);
            return Ok(WriteResult {
                id,
                version: prev.version + 1,
                seq_no,
                result: "deleted",
            });
        };
        if !source.is_object() {
            return Err(Error::mapper("failed to parse, document is empty"));
        }
        let current = self.current();
        if current.compiled.needs_dynamic_update(&source) {
            let mut mapping = current.definition.mappings.clone();
            if mapping.extend_dynamic(&source)? {
                // Commit first: the rebuild reads committed documents.
                state.commit()?;
                self.current().reader.reload()?;
                self.rebuild(state, mapping)?;
            }
        }
        drop(current);
        let current = self.current();
        let seq_no = state.next_seq_no;
        let meta = DocMeta {
            id: &id,
            version,
            seq_no,
        };
        current.put(&state.writer, &source, &meta, true)?;
        *dirty = true;
        state.next_seq_no += 1;
        let result = if previous.is_some() {
            "updated"
        } else {
            "created"
        };
        pending.insert(
            id.clone(),
            Some(StoredDoc {
                id: id.clone(),
                source,
                version,
                seq_no,
            }),
        );
        Ok(WriteResult {
            id,
            version,
            seq_no,
            result,
        })
    }

    /// Deletes every document, keeping the mapping (a reset).
    pub fn clear(&self) -> Result<()> {
        let mut state = lock(&self.writer);
        state.writer.delete_all_documents()?;
        state.commit()?;
        self.current().reader.reload()?;
        Ok(())
    }

    /// Indexes many documents (id, source) with one commit: seeding. Same
    /// ids replace documents, as `index` does. Dynamic mapping grows once
    /// for the whole batch, and a writer with a larger heap replaces the
    /// per-write one meanwhile, so the batch makes few segments.
    ///
    /// Documents are projected to `fields` (all when empty) one at a time,
    /// as each pass needs them: the demo seed would otherwise hold another
    /// copy of its 70,000 items.
    pub fn bulk_index(&self, docs: &[(String, &Value)], fields: &[String]) -> Result<usize> {
        let mut state = lock(&self.writer);
        let current = self.current();
        let mut mapping = current.definition.mappings.clone();
        let mut grown: Option<crate::opensearch::mapping::CompiledMapping> = None;
        for (id, item) in docs {
            let source = &*projected(item, fields);
            if id.is_empty() {
                return Err(Error::illegal("if _id is specified it must not be empty"));
            }
            if !source.is_object() {
                return Err(Error::mapper("failed to parse, document is empty"));
            }
            let compiled = grown.as_ref().unwrap_or(&current.compiled);
            if compiled.needs_dynamic_update(source) && mapping.extend_dynamic(source)? {
                grown = Some(mapping.compile()?);
            }
        }
        if grown.is_some() {
            self.rebuild(&mut state, mapping)?;
        }
        let current = self.current();
        // tantivy allows one writer per index: the small one goes first.
        let placeholder = Index::create_in_ram(current.compiled.schema.clone())
            .writer_with_num_threads(1, 15_000_000)?;
        drop(std::mem::replace(&mut state.writer, placeholder));
        let result = self.bulk_with_large_writer(&mut state, &current, docs, fields);
        // Whatever happened, writes go to this index again.
        state.writer = write_writer(&current.index)?;
        current.reader.reload()?;
        result
    }

    fn bulk_with_large_writer(
        &self,
        state: &mut WriterState,
        current: &Generation,
        docs: &[(String, &Value)],
        fields: &[String],
    ) -> Result<usize> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get() / 2)
            .clamp(1, 4);
        let mut writer = current
            .index
            .writer_with_num_threads(threads, BULK_HEAP_BYTES * threads)?;
        let replacing = current.searcher().num_docs() > 0;
        let count = docs.len();
        for (id, item) in docs {
            let version = if replacing {
                current.get(id)?.map_or(1, |d| d.version + 1)
            } else {
                1
            };
            let seq_no = state.next_seq_no;
            state.next_seq_no += 1;
            let meta = DocMeta {
                id,
                version,
                seq_no,
            };
            current.put(&writer, &projected(item, fields), &meta, replacing)?;
        }
        commit(&mut writer, state.next_seq_no)?;
        Ok(count)
    }

    /// Deletes every document (used when an index is dropped in RAM).
    pub fn delete_files(&self) -> Result<()> {
        if let Some(dir) = &self.dir {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(())
    }
}

fn remove_stale_generations(dir: &Path, keep: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(n) = name
            .strip_prefix("gen-")
            .and_then(|n| n.parse::<u64>().ok())
            && n != keep
        {
            // Best effort: a stale generation only costs disk space.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// OpenSearch-style 20-character URL-safe id.
fn generate_id() -> String {
    use base64::Engine as _;
    let bytes = uuid::Uuid::new_v4().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..15])
}

/// Partial update merge: objects merge recursively, everything else replaces.
pub fn merge_json(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (k, v) in patch {
                match target.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_json(existing, v)
                    }
                    _ => {
                        target.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

fn merge_properties(
    target: &mut indexmap::IndexMap<String, crate::opensearch::mapping::Property>,
    extra: &indexmap::IndexMap<String, crate::opensearch::mapping::Property>,
) {
    for (name, prop) in extra {
        match target.get_mut(name) {
            Some(existing) => {
                if let (Some(t), Some(e)) = (&mut existing.properties, &prop.properties) {
                    merge_properties(t, e);
                } else if existing.fields.is_none() {
                    existing.fields = prop.fields.clone();
                }
            }
            None => {
                target.insert(name.clone(), prop.clone());
            }
        }
    }
}

/// Only the fields a source table declares are copied (all when the list is empty).
pub fn project_fields(doc: &Value, fields: &[String]) -> Value {
    projected(doc, fields).into_owned()
}

/// [`project_fields`] without a copy when nothing is cut.
pub fn projected<'a>(doc: &'a Value, fields: &[String]) -> std::borrow::Cow<'a, Value> {
    use std::borrow::Cow;
    let Value::Object(map) = doc else {
        return Cow::Borrowed(doc);
    };
    if fields.is_empty() || map.keys().all(|k| fields.contains(k)) {
        return Cow::Borrowed(doc);
    }
    let projected: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| fields.iter().any(|f| f == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Cow::Owned(Value::Object(projected))
}
