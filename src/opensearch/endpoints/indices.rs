//! Index APIs: create, read, mappings, refresh.

use serde_json::{Value, json};

use crate::opensearch::engine::Engine;
use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::{IndexDefinition, Mapping};

impl Engine {
    pub(super) fn put_index(&self, index: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let mappings = match body.and_then(|b| b.get("mappings")) {
            Some(m) => Mapping::from_json(m)?,
            None => Mapping::default(),
        };
        if let Some(Value::Object(b)) = body {
            for key in b.keys() {
                if !matches!(key.as_str(), "mappings" | "settings" | "aliases") {
                    return Err(Error::parsing(format!(
                        "unknown key [{key}] for create index"
                    )));
                }
            }
        }
        self.create_index(IndexDefinition {
            name: index.to_string(),
            mappings,
            source: None,
        })?;
        Ok((
            200,
            json!({"acknowledged": true, "shards_acknowledged": true, "index": index}),
        ))
    }

    pub(super) fn get_index(&self, index: &str) -> Result<(u16, Value)> {
        let def = self.index(index)?.definition();
        Ok((
            200,
            json!({ index: {"aliases": {}, "mappings": mapping_json(&def.mappings),
                "settings": {"index": {"number_of_shards": "1", "number_of_replicas": "0",
                "provided_name": index}}}}),
        ))
    }

    pub(super) fn get_mapping(&self, index: &str) -> Result<(u16, Value)> {
        let def = self.index(index)?.definition();
        Ok((
            200,
            json!({ index: {"mappings": mapping_json(&def.mappings)} }),
        ))
    }

    pub(super) fn put_mapping(&self, index: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let target = self.index(index)?;
        let mapping = Mapping::from_json(body.unwrap_or(&json!({})))?;
        target.put_mapping(&mapping)?;
        Ok((200, json!({"acknowledged": true})))
    }

    /// Every write is already committed and visible: only a missing index fails.
    pub(super) fn refresh(&self, index: Option<&str>) -> Result<(u16, Value)> {
        if let Some(index) = index {
            self.index(index)?;
        }
        Ok((
            200,
            json!({"_shards": {"total": 1, "successful": 1, "failed": 0}}),
        ))
    }
}

fn mapping_json(mapping: &Mapping) -> Value {
    serde_json::to_value(mapping).unwrap_or_else(|_| json!({}))
}
