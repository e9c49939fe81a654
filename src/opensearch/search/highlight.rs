//! Highlighting with tantivy's `SnippetGenerator`, one fragment per value.

use serde_json::{Map, Value, json};
use tantivy::query::Query;
use tantivy::snippet::SnippetGenerator;

use crate::opensearch::dsl::glob_match;
use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::Generation;
use crate::opensearch::mapping::{FieldType, text_from_json};
use crate::opensearch::search::source::values_at;

pub(super) struct Highlighter {
    pre: String,
    post: String,
    fields: Vec<(String, String, SnippetGenerator, usize)>,
}

impl Highlighter {
    pub(super) fn new(
        generation: &Generation,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        spec: &Value,
    ) -> Result<Highlighter> {
        let tag = |key: &str, default: &str| {
            spec.get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        let pre = tag("pre_tags", "<em>");
        let post = tag("post_tags", "</em>");
        let global_size = spec
            .get("fragment_size")
            .and_then(Value::as_u64)
            .unwrap_or(100);
        let mut fields = Vec::new();
        let requested: Vec<(String, Value)> = match spec.get("fields") {
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
                .collect(),
            _ => return Err(Error::parsing("[highlight] requires [fields]")),
        };
        for (pattern, opts) in requested {
            for f in generation.compiled.fields.values() {
                if !matches!(f.ty, FieldType::Text | FieldType::Keyword)
                    || !glob_match(&pattern, &f.path)
                {
                    continue;
                }
                let size = opts
                    .get("fragment_size")
                    .and_then(Value::as_u64)
                    .unwrap_or(global_size) as usize;
                let whole = opts.get("number_of_fragments").and_then(Value::as_u64) == Some(0);
                let mut generator = SnippetGenerator::create(searcher, query, f.field)?;
                let size = if whole { usize::MAX / 2 } else { size.max(1) };
                generator.set_max_num_chars(size);
                // Multi-fields read their parent's value from `_source`.
                let source_path = match f.path.rsplit_once('.') {
                    Some((parent, _)) if generation.compiled.field(parent).is_some() => {
                        parent.to_string()
                    }
                    _ => f.path.clone(),
                };
                fields.push((f.path.clone(), source_path, generator, size));
            }
        }
        Ok(Highlighter { pre, post, fields })
    }

    pub(super) fn highlight(&self, source: &Value) -> Map<String, Value> {
        let mut out = Map::new();
        for (path, source_path, generator, _) in &self.fields {
            let mut fragments = Vec::new();
            for value in values_at(source, source_path) {
                let Some(text) = text_from_json(value) else {
                    continue;
                };
                let snippet = generator.snippet(&text);
                if snippet.highlighted().is_empty() {
                    continue;
                }
                let fragment = snippet.fragment();
                let mut html = String::new();
                let mut at = 0;
                for range in snippet.highlighted() {
                    html.push_str(&fragment[at..range.start]);
                    html.push_str(&self.pre);
                    html.push_str(&fragment[range.start..range.end]);
                    html.push_str(&self.post);
                    at = range.end;
                }
                html.push_str(&fragment[at..]);
                fragments.push(json!(html));
            }
            if !fragments.is_empty() {
                out.insert(path.clone(), Value::Array(fragments));
            }
        }
        out
    }
}
