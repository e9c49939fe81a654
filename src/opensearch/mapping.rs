//! Index mappings: OpenSearch's declared field types, dynamic mapping, and their tantivy schema.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, STORED, STRING,
    Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TokenizerManager,
};
use tantivy::{DateTime, TantivyDocument};

use crate::opensearch::error::{Error, Result};

/// An index declaration as the manifest embeds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexDefinition {
    /// Index name, as used in `/{index}/_search`.
    pub name: String,
    /// OpenSearch `mappings` object (`{"properties": {...}}`).
    #[serde(default)]
    pub mappings: Mapping,
    /// The table this index mirrors (DynamoDB Streams -> OpenSearch emulation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<IndexSource>,
}

/// Which table feeds an index, and which attributes are copied (all when `fields` is empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexSource {
    pub table: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// OpenSearch's `mappings` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// `true` (default), `false` (keep in `_source` but do not index) or `"strict"` (reject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<Value>,
    #[serde(default)]
    pub properties: IndexMap<String, Property>,
}

/// One field (or object) of a mapping. Parameters we do not use are accepted and dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Property {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyzer: Option<String>,
    /// Multi-fields such as the dynamic `.keyword` sub-field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<IndexMap<String, Property>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<IndexMap<String, Property>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_above: Option<u64>,
}

/// The leaf types we index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Keyword,
    Long,
    Double,
    Date,
    Boolean,
}

impl FieldType {
    fn parse(ty: &str, path: &str) -> Result<Self> {
        Ok(match ty {
            "text" | "match_only_text" => FieldType::Text,
            "keyword" | "constant_keyword" | "wildcard" => FieldType::Keyword,
            "long" | "integer" | "short" | "byte" | "unsigned_long" => FieldType::Long,
            "double" | "float" | "half_float" | "scaled_float" => FieldType::Double,
            "date" | "date_nanos" => FieldType::Date,
            "boolean" => FieldType::Boolean,
            _ => {
                return Err(Error::mapper(format!(
                    "No handler for type [{ty}] declared on field [{path}]"
                )));
            }
        })
    }

    /// OpenSearch's name of the type, as its error messages print it.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Keyword => "keyword",
            FieldType::Long => "long",
            FieldType::Double => "double",
            FieldType::Date => "date",
            FieldType::Boolean => "boolean",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, FieldType::Long | FieldType::Double | FieldType::Date)
    }
}

/// A leaf of the mapping under its dotted path, with its tantivy field.
#[derive(Debug, Clone)]
pub struct FlatField {
    pub path: String,
    pub ty: FieldType,
    /// Tokenizer name registered on the index (text fields only).
    pub analyzer: &'static str,
    pub field: Field,
    /// Keyword values longer than this stay in `_source` but are not indexed.
    pub ignore_above: Option<usize>,
    /// A date field's `format` (`yyyy/MM/dd||epoch_millis`); ISO and epoch millis if unset.
    pub date_format: Option<String>,
}

/// Analyzers we offer, mapped to the tokenizers registered by [`register_analyzers`].
pub fn analyzer_name(analyzer: Option<&str>, path: &str) -> Result<&'static str> {
    Ok(match analyzer {
        None | Some("standard") | Some("default") | Some("simple") => "default",
        Some("english") => "english",
        Some("whitespace") => "whitespace",
        Some("keyword") => "raw",
        Some(other) => {
            return Err(Error::mapper(format!(
                "analyzer [{other}] has not been configured in mappings (field [{path}])"
            )));
        }
    })
}

/// Registers the OpenSearch analyzers tantivy lacks. `english` follows OpenSearch: stop words
/// then the Porter stemmer, on top of the standard tokenisation.
pub fn register_analyzers(manager: &TokenizerManager) {
    let english = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(255))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::English).expect("english stop words are bundled"))
        .filter(Stemmer::new(Language::English))
        .build();
    manager.register("english", english);
    // OpenSearch's standard analyzer keeps tokens up to 255 chars; tantivy's default drops >40.
    let standard = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(255))
        .filter(LowerCaser)
        .build();
    manager.register("default", standard);
}

/// Fixed fields every index has.
#[derive(Debug, Clone, Copy)]
pub struct MetaFields {
    pub id: Field,
    pub source: Field,
    pub version: Field,
    pub seq_no: Field,
    /// Every path present in a document, so `exists` works on any field type.
    pub field_names: Field,
}

/// The tantivy schema of one mapping.
#[derive(Debug, Clone)]
pub struct CompiledMapping {
    pub schema: Schema,
    pub meta: MetaFields,
    pub fields: IndexMap<String, FlatField>,
    /// Multi-fields by parent path (`title` -> [`title.keyword`]).
    subfields: HashMap<String, Vec<String>>,
    /// Every mapped path, objects included, to spot unmapped fields without cloning.
    known_paths: HashSet<String>,
    /// `dynamic: false` never adds fields.
    dynamic_enabled: bool,
}

impl CompiledMapping {
    pub fn field(&self, path: &str) -> Option<&FlatField> {
        self.fields.get(path)
    }

    /// Whether `doc` has a non-null field the mapping does not know yet.
    pub fn needs_dynamic_update(&self, doc: &Value) -> bool {
        fn walk(known: &HashSet<String>, prefix: &str, map: &Map<String, Value>) -> bool {
            map.iter().any(|(k, v)| {
                let path = format!("{prefix}{k}");
                as_items(v).into_iter().any(|item| match item {
                    Value::Null => false,
                    Value::Array(inner) => {
                        inner.iter().any(|i| !i.is_null()) && !known.contains(&path)
                    }
                    Value::Object(inner) => {
                        !known.contains(&path) || walk(known, &format!("{path}."), inner)
                    }
                    _ => !known.contains(&path),
                })
            })
        }
        match doc {
            Value::Object(map) => self.dynamic_enabled && walk(&self.known_paths, "", map),
            _ => false,
        }
    }
}

impl Mapping {
    /// Parses a `mappings` body, rejecting unknown types and analyzers early.
    pub fn from_json(value: &Value) -> Result<Mapping> {
        let mapping: Mapping = serde_json::from_value(value.clone())
            .map_err(|e| Error::mapper(format!("Failed to parse mapping: {e}")))?;
        mapping.leaves()?;
        Ok(mapping)
    }

    fn dynamic_mode(&self) -> &str {
        match &self.dynamic {
            Some(Value::Bool(false)) => "false",
            Some(Value::String(s)) if s == "false" => "false",
            Some(Value::String(s)) if s == "strict" => "strict",
            _ => "true",
        }
    }

    /// Leaf fields as (dotted path, type, analyzer).
    pub fn leaves(&self) -> Result<Vec<(String, FieldType, &'static str)>> {
        Ok(self
            .leaf_props()?
            .into_iter()
            .map(|(path, ty, analyzer, _, _)| (path, ty, analyzer))
            .collect())
    }

    fn leaf_props(&self) -> Result<Vec<Leaf>> {
        let mut out = Vec::new();
        collect_leaves("", &self.properties, &mut out)?;
        Ok(out)
    }

    /// Builds the tantivy schema for this mapping.
    pub fn compile(&self) -> Result<CompiledMapping> {
        let mut builder = Schema::builder();
        let id = builder.add_text_field("_id", STRING | STORED | tantivy::schema::FAST);
        let source = builder.add_text_field("_source", STORED);
        let version = builder.add_u64_field("_version", STORED);
        let seq_no = builder.add_u64_field("_seq_no", STORED);
        let field_names = builder.add_text_field("_field_names", STRING);
        let mut fields = IndexMap::new();
        for (path, ty, analyzer, ignore_above, date_format) in self.leaf_props()? {
            let field =
                match ty {
                    FieldType::Text => builder.add_text_field(
                        &path,
                        TextOptions::default().set_indexing_options(
                            TextFieldIndexing::default()
                                .set_tokenizer(analyzer)
                                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                        ),
                    ),
                    FieldType::Keyword => builder.add_text_field(
                        &path,
                        TextOptions::default()
                            .set_indexing_options(
                                TextFieldIndexing::default()
                                    .set_tokenizer("raw")
                                    .set_index_option(IndexRecordOption::WithFreqs),
                            )
                            .set_fast(tantivy::tokenizer::RAW_TOKENIZER_NAME),
                    ),
                    FieldType::Long => builder
                        .add_i64_field(&path, NumericOptions::default().set_indexed().set_fast()),
                    FieldType::Double => builder
                        .add_f64_field(&path, NumericOptions::default().set_indexed().set_fast()),
                    FieldType::Date => builder.add_date_field(
                        &path,
                        DateOptions::default()
                            .set_indexed()
                            .set_fast()
                            .set_precision(DateTimePrecision::Milliseconds),
                    ),
                    FieldType::Boolean => builder
                        .add_bool_field(&path, NumericOptions::default().set_indexed().set_fast()),
                };
            fields.insert(
                path.clone(),
                FlatField {
                    path,
                    ty,
                    analyzer,
                    field,
                    ignore_above,
                    date_format,
                },
            );
        }
        let mut subfields: HashMap<String, Vec<String>> = HashMap::new();
        let mut known_paths = HashSet::new();
        for path in fields.keys() {
            if let Some((parent, _)) = path.rsplit_once('.')
                && fields.contains_key(parent)
            {
                subfields
                    .entry(parent.to_string())
                    .or_default()
                    .push(path.clone());
            }
            let mut prefix = path.as_str();
            known_paths.insert(prefix.to_string());
            while let Some((parent, _)) = prefix.rsplit_once('.') {
                known_paths.insert(parent.to_string());
                prefix = parent;
            }
        }
        collect_object_paths("", &self.properties, &mut known_paths);
        Ok(CompiledMapping {
            dynamic_enabled: self.dynamic_mode() != "false",
            subfields,
            known_paths,
            schema: builder.build(),
            meta: MetaFields {
                id,
                source,
                version,
                seq_no,
                field_names,
            },
            fields,
        })
    }

    /// Adds mappings for fields of `doc` not yet mapped, as OpenSearch's dynamic mapping does.
    /// Returns whether the mapping changed. Strict mappings reject unknown fields.
    pub fn extend_dynamic(&mut self, doc: &Value) -> Result<bool> {
        let Value::Object(doc) = doc else {
            return Err(Error::mapper("failed to parse, document is empty"));
        };
        let mode = self.dynamic_mode().to_string();
        if mode == "false" {
            return Ok(false);
        }
        extend_object("", &mut self.properties, doc, mode == "strict")
    }
}

fn collect_object_paths(
    prefix: &str,
    properties: &IndexMap<String, Property>,
    out: &mut HashSet<String>,
) {
    for (name, prop) in properties {
        let path = format!("{prefix}{name}");
        if let Some(props) = &prop.properties {
            collect_object_paths(&format!("{path}."), props, out);
        }
        out.insert(path);
    }
}

/// (path, type, analyzer, ignore_above, format) of one leaf.
type Leaf = (
    String,
    FieldType,
    &'static str,
    Option<usize>,
    Option<String>,
);

fn collect_leaves(
    prefix: &str,
    properties: &IndexMap<String, Property>,
    out: &mut Vec<Leaf>,
) -> Result<()> {
    for (name, prop) in properties {
        let path = format!("{prefix}{name}");
        match (&prop.ty, &prop.properties) {
            (Some(ty), _) if ty != "object" && ty != "nested" => {
                let ty = FieldType::parse(ty, &path)?;
                let analyzer = analyzer_name(prop.analyzer.as_deref(), &path)?;
                out.push((
                    path.clone(),
                    ty,
                    analyzer,
                    prop.ignore_above.map(|n| n as usize),
                    prop.format.clone(),
                ));
                for (sub, sub_prop) in prop.fields.iter().flatten() {
                    let sub_path = format!("{path}.{sub}");
                    let sub_ty =
                        FieldType::parse(sub_prop.ty.as_deref().unwrap_or("keyword"), &sub_path)?;
                    let analyzer = analyzer_name(sub_prop.analyzer.as_deref(), &sub_path)?;
                    out.push((
                        sub_path,
                        sub_ty,
                        analyzer,
                        sub_prop.ignore_above.map(|n| n as usize),
                        sub_prop.format.clone(),
                    ));
                }
            }
            (_, Some(props)) => collect_leaves(&format!("{path}."), props, out)?,
            // `{"type": "object"}` with no properties yet.
            (Some(_), None) => {}
            (None, None) => {
                return Err(Error::mapper(format!(
                    "No type specified for field [{path}]"
                )));
            }
        }
    }
    Ok(())
}

fn extend_object(
    prefix: &str,
    properties: &mut IndexMap<String, Property>,
    doc: &Map<String, Value>,
    strict: bool,
) -> Result<bool> {
    let mut changed = false;
    for (name, value) in doc {
        let path = format!("{prefix}{name}");
        // Arrays take the mapping of their first non-null element, as in OpenSearch.
        let sample = match value {
            Value::Array(items) => match items.iter().find(|v| !v.is_null()) {
                Some(v) => v,
                None => continue,
            },
            Value::Null => continue,
            v => v,
        };
        if let Some(existing) = properties.get_mut(name.as_str()) {
            let is_object = existing.properties.is_some()
                || matches!(existing.ty.as_deref(), Some("object" | "nested"));
            if is_object {
                for item in as_items(value) {
                    if let Value::Object(inner) = item {
                        let props = existing.properties.get_or_insert_with(IndexMap::new);
                        changed |= extend_object(&format!("{path}."), props, inner, strict)?;
                    }
                }
            }
            continue;
        }
        if strict {
            return Err(Error::StrictDynamicMapping { field: path });
        }
        let prop = match sample {
            Value::Object(_) => {
                let mut props = IndexMap::new();
                for item in as_items(value) {
                    if let Value::Object(inner) = item {
                        extend_object(&format!("{path}."), &mut props, inner, strict)?;
                    }
                }
                Property {
                    properties: Some(props),
                    ..Property::default()
                }
            }
            Value::String(s) if parse_date(s).is_some() => leaf("date"),
            Value::String(_) => {
                let mut fields = IndexMap::new();
                fields.insert(
                    "keyword".to_string(),
                    Property {
                        ignore_above: Some(256),
                        ..leaf("keyword")
                    },
                );
                Property {
                    fields: Some(fields),
                    ..leaf("text")
                }
            }
            Value::Number(n) if n.is_f64() => leaf("float"),
            Value::Number(_) => leaf("long"),
            Value::Bool(_) => leaf("boolean"),
            Value::Null | Value::Array(_) => continue,
        };
        properties.insert(name.clone(), prop);
        changed = true;
    }
    Ok(changed)
}

fn leaf(ty: &str) -> Property {
    Property {
        ty: Some(ty.to_string()),
        ..Property::default()
    }
}

fn as_items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    }
}

/// Parses OpenSearch's default date formats (`strict_date_optional_time||epoch_millis`):
/// `2024-01-02`, `2024-01-02T03:04:05`, with optional fraction and zone. Zone-less is UTC.
pub fn parse_date(s: &str) -> Option<DateTime> {
    use chrono::{NaiveDate, NaiveDateTime};
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return date_from_millis(dt.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return date_from_millis(dt.and_utc().timestamp_millis());
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(dt) = chrono::DateTime::parse_from_str(s, fmt) {
            return date_from_millis(dt.timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let dt = d.and_hms_opt(0, 0, 0)?;
        return date_from_millis(dt.and_utc().timestamp_millis());
    }
    None
}

/// tantivy stores dates as i64 nanoseconds: about the years 1678 to 2262. Dates outside
/// are rejected rather than overflowing.
pub fn date_from_millis(millis: i64) -> Option<DateTime> {
    const LIMIT: i64 = i64::MAX / 1_000_000;
    (-LIMIT..=LIMIT)
        .contains(&millis)
        .then(|| DateTime::from_timestamp_millis(millis))
}

/// A date given as an ISO string or epoch milliseconds.
pub fn date_from_json(value: &Value) -> Option<DateTime> {
    match value {
        Value::String(s) => {
            parse_date(s).or_else(|| s.parse::<i64>().ok().and_then(date_from_millis))
        }
        Value::Number(n) => n.as_i64().and_then(date_from_millis),
        _ => None,
    }
}

/// A date in a `format` of `||`-separated alternatives: built-in names
/// (`strict_date_optional_time`, `date`, `epoch_millis`, `epoch_second`, ...) or Joda-style
/// patterns (`yyyy-MM-dd HH:mm:ss`). `None` means OpenSearch's default.
pub fn date_with_format(value: &Value, format: Option<&str>) -> Option<DateTime> {
    let Some(format) = format else {
        return date_from_json(value);
    };
    let text = text_from_json(value)?;
    format.split("||").find_map(|f| match f.trim() {
        "epoch_millis" => text.parse::<i64>().ok().and_then(date_from_millis),
        "epoch_second" => text
            .parse::<i64>()
            .ok()
            .and_then(|s| date_from_millis(s.saturating_mul(1000))),
        f if f.contains("date") || f.contains("time") => parse_date(&text),
        pattern => parse_joda(&text, pattern),
    })
}

/// The common Joda letters, translated to chrono; zone-less values are UTC.
fn parse_joda(text: &str, pattern: &str) -> Option<DateTime> {
    let mut fmt = String::new();
    let mut chars = pattern.chars().peekable();
    let mut in_quote = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_quote = !in_quote;
            continue;
        }
        if in_quote || !c.is_ascii_alphabetic() {
            if c == '%' {
                fmt.push_str("%%");
            } else {
                fmt.push(c);
            }
            continue;
        }
        let mut n = 1;
        while chars.peek() == Some(&c) {
            chars.next();
            n += 1;
        }
        fmt.push_str(match (c, n) {
            ('y' | 'u', 2) => "%y",
            ('y' | 'u', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('a', _) => "%p",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', _) => "%3f",
            ('Z' | 'X' | 'x', _) => "%z",
            _ => return None,
        });
    }
    // Fields the pattern leaves out default to the start of the period (`yyyy` is Jan 1st).
    let mut parsed = chrono::format::Parsed::new();
    chrono::format::parse(&mut parsed, text, chrono::format::StrftimeItems::new(&fmt)).ok()?;
    if parsed.month().is_none() {
        parsed.set_month(1).ok()?;
    }
    if parsed.day().is_none() {
        parsed.set_day(1).ok()?;
    }
    if parsed.hour_div_12().is_none() {
        parsed.set_hour(0).ok()?;
    }
    if parsed.minute().is_none() {
        parsed.set_minute(0).ok()?;
    }
    let offset = parsed.offset().unwrap_or(0);
    let dt = parsed.to_naive_datetime_with_offset(offset).ok()?;
    date_from_millis(dt.and_utc().timestamp_millis() - i64::from(offset) * 1000)
}

/// Coerces a JSON scalar to a long as OpenSearch does (`"42"` and `42.7` become 42).
pub fn long_from_json(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f.trunc() as i64)),
        _ => None,
    }
}

pub fn double_from_json(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

pub fn bool_from_json(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" || s.is_empty() => Some(false),
        _ => None,
    }
}

/// Text of a scalar as OpenSearch indexes it in text/keyword fields.
pub fn text_from_json(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Metadata stored with each document.
pub struct DocMeta<'a> {
    pub id: &'a str,
    pub version: u64,
    pub seq_no: u64,
}

impl CompiledMapping {
    /// Converts a JSON document to a tantivy document under this mapping.
    pub fn to_document(&self, source: &Value, meta: &DocMeta) -> Result<TantivyDocument> {
        let mut doc = TantivyDocument::new();
        doc.add_text(self.meta.id, meta.id);
        doc.add_text(self.meta.source, source.to_string());
        doc.add_u64(self.meta.version, meta.version);
        doc.add_u64(self.meta.seq_no, meta.seq_no);
        if let Value::Object(map) = source {
            self.add_object("", map, &mut doc, meta.id)?;
        }
        Ok(doc)
    }

    fn add_object(
        &self,
        prefix: &str,
        map: &Map<String, Value>,
        doc: &mut TantivyDocument,
        id: &str,
    ) -> Result<()> {
        for (name, value) in map {
            let path = format!("{prefix}{name}");
            for item in as_items(value) {
                match item {
                    Value::Null => {}
                    Value::Object(inner) => {
                        self.add_object(&format!("{path}."), inner, doc, id)?;
                    }
                    // Nested arrays flatten, as OpenSearch does.
                    Value::Array(inner) => {
                        let mut wrapped = Map::new();
                        wrapped.insert(name.clone(), Value::Array(inner.clone()));
                        self.add_object(prefix, &wrapped, doc, id)?;
                    }
                    scalar => {
                        // `exists` sees only indexed values, as in OpenSearch: not unmapped
                        // fields, nor keywords beyond `ignore_above`.
                        if let Some(field) = self.fields.get(&path)
                            && self.add_scalar(field, scalar, doc, id)?
                        {
                            self.add_field_name(doc, &path);
                        }
                        for sub_path in self.subfields.get(&path).into_iter().flatten() {
                            if let Some(sub) = self.fields.get(sub_path)
                                && self.add_scalar(sub, scalar, doc, id)?
                            {
                                doc.add_text(self.meta.field_names, sub_path);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A path and its parent objects, so `exists` works on objects too.
    fn add_field_name(&self, doc: &mut TantivyDocument, path: &str) {
        doc.add_text(self.meta.field_names, path);
        let mut rest = path;
        while let Some((parent, _)) = rest.rsplit_once('.') {
            doc.add_text(self.meta.field_names, parent);
            rest = parent;
        }
    }

    /// Indexes one value; false when it is skipped (`ignore_above`).
    fn add_scalar(
        &self,
        field: &FlatField,
        value: &Value,
        doc: &mut TantivyDocument,
        id: &str,
    ) -> Result<bool> {
        let bad = || {
            let type_name = field.ty.name();
            Error::mapper(format!(
                "failed to parse field [{}] of type [{type_name}] in document with id '{id}'. Preview of field's value: '{}'",
                field.path,
                text_from_json(value).unwrap_or_else(|| value.to_string())
            ))
        };
        match field.ty {
            FieldType::Text | FieldType::Keyword => {
                let text = text_from_json(value).ok_or_else(bad)?;
                let too_long = field.ty == FieldType::Keyword
                    && field.ignore_above.is_some_and(|n| text.chars().count() > n);
                if too_long {
                    return Ok(false);
                }
                doc.add_text(field.field, text);
            }
            FieldType::Long => doc.add_i64(field.field, long_from_json(value).ok_or_else(bad)?),
            FieldType::Double => doc.add_f64(field.field, double_from_json(value).ok_or_else(bad)?),
            FieldType::Date => doc.add_date(
                field.field,
                date_with_format(value, field.date_format.as_deref()).ok_or_else(bad)?,
            ),
            FieldType::Boolean => doc.add_bool(field.field, bool_from_json(value).ok_or_else(bad)?),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dynamic_mapping_follows_opensearch_defaults() {
        let mut mapping = Mapping::default();
        let changed = mapping
            .extend_dynamic(&json!({
                "title": "Blue shoes", "qty": 3, "price": 9.5, "paid": true,
                "createdAt": "2024-05-01T10:00:00Z", "tags": ["a", "b"],
                "address": {"city": "Paris"}, "nothing": null
            }))
            .unwrap();
        assert!(changed);
        let leaves: Vec<_> = mapping
            .leaves()
            .unwrap()
            .into_iter()
            .map(|(p, t, _)| format!("{p}:{t:?}"))
            .collect();
        assert_eq!(
            leaves,
            [
                "title:Text",
                "title.keyword:Keyword",
                "qty:Long",
                "price:Double",
                "paid:Boolean",
                "createdAt:Date",
                "tags:Text",
                "tags.keyword:Keyword",
                "address.city:Text",
                "address.city.keyword:Keyword"
            ]
        );
        assert!(!mapping.extend_dynamic(&json!({"title": "x"})).unwrap());
    }

    #[test]
    fn strict_mapping_rejects_unknown_fields() {
        let mut mapping = Mapping::from_json(
            &json!({"dynamic": "strict", "properties": {"a": {"type": "keyword"}}}),
        )
        .unwrap();
        let err = mapping.extend_dynamic(&json!({"b": 1})).unwrap_err();
        assert_eq!(err.error_type(), "strict_dynamic_mapping_exception");
    }

    #[test]
    fn unknown_type_is_a_mapper_error() {
        let err = Mapping::from_json(&json!({"properties": {"a": {"type": "blob"}}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "No handler for type [blob] declared on field [a]"
        );
    }

    #[test]
    fn dates_parse_in_custom_formats() {
        let ms =
            |v: Value, f: &str| date_with_format(&v, Some(f)).map(|d| d.into_timestamp_millis());
        assert_eq!(ms(json!("02/01/1970"), "dd/MM/yyyy"), Some(86_400_000));
        assert_eq!(
            ms(json!("1970-01-01 00:00:02"), "yyyy-MM-dd HH:mm:ss"),
            Some(2000)
        );
        assert_eq!(ms(json!(3), "yyyy||epoch_second"), Some(3000));
        assert_eq!(
            ms(
                json!("1970-01-02"),
                "strict_date_optional_time||epoch_millis"
            ),
            Some(86_400_000)
        );
        assert_eq!(ms(json!("1971"), "yyyy"), Some(365 * 86_400_000));
        assert_eq!(
            ms(json!("0003"), "yyyy"),
            None,
            "beyond tantivy's date range"
        );
        assert_eq!(ms(json!(i64::MAX), "epoch_millis"), None);
        assert_eq!(
            ms(json!("1970-01-01T01:00+0100"), "yyyy-MM-dd'T'HH:mmZ"),
            Some(0)
        );
        assert_eq!(ms(json!("soon"), "yyyy"), None);
    }

    #[test]
    fn dates_parse_in_default_formats() {
        let ms = |s: &str| parse_date(s).map(|d| d.into_timestamp_millis());
        assert_eq!(ms("1970-01-02"), Some(86_400_000));
        assert_eq!(ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(ms("1970-01-01T00:00:01.5"), Some(1500));
        assert_eq!(ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(ms("yesterday"), None);
    }
}
