//! A table at run time: its key schemas, the validation of keys and items
//! against them, and the storage keys of items and index entries.

use serde::{Deserialize, Serialize};

use super::MAX_ITEM_SIZE;
use super::definition::{IndexProjection, KeyAttribute, TableDefinition};
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::{AttributeValue, Item, encode_key_value, item_size};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TableMeta {
    pub(super) id: u32,
    pub(super) created: f64,
    pub(super) definition: TableDefinition,
}

#[derive(Debug)]
pub(super) struct Table {
    pub(super) id: u32,
    pub(super) created: f64,
    pub(super) def: TableDefinition,
}

/// The key schema of the table or of one of its indexes.
pub(super) struct KeySchema<'a> {
    pub(super) index: u8,
    pub(super) partition: &'a KeyAttribute,
    pub(super) sort: Option<&'a KeyAttribute>,
    pub(super) projection: Option<&'a IndexProjection>,
}

impl Table {
    pub(super) fn prefix(&self, index: u8) -> Vec<u8> {
        let mut p = self.id.to_be_bytes().to_vec();
        p.push(index);
        p
    }

    pub(super) fn schema(&self) -> KeySchema<'_> {
        KeySchema {
            index: 0,
            partition: &self.def.partition_key,
            sort: self.def.sort_key.as_ref(),
            projection: None,
        }
    }

    pub(super) fn index_schema(&self, name: &str) -> Result<KeySchema<'_>> {
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

    pub(super) fn key_names(&self) -> Vec<&str> {
        let mut v = vec![self.def.partition_key.name.as_str()];
        if let Some(s) = &self.def.sort_key {
            v.push(&s.name);
        }
        v
    }

    /// The table key attributes of an item.
    pub(super) fn key_of(&self, item: &Item) -> Item {
        self.key_names()
            .into_iter()
            .filter_map(|k| item.get(k).map(|v| (k.to_string(), v.clone())))
            .collect()
    }

    /// Encoded table key of an item whose key attributes were validated.
    pub(super) fn key_suffix(&self, item: &Item) -> Vec<u8> {
        let mut out = Vec::new();
        for k in self.key_names() {
            if let Some(v) = item.get(k) {
                encode_key_value(v, &mut out);
            }
        }
        out
    }

    pub(super) fn data_key(&self, item: &Item) -> Vec<u8> {
        let mut k = self.prefix(0);
        k.extend(self.key_suffix(item));
        k
    }

    /// DynamoDB's key size limits: 2048 bytes for the partition key, 1024
    /// for the sort key (messages as the service words them).
    pub(super) fn check_key_sizes(&self, item: &Item) -> Result<()> {
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
    pub(super) fn validate_key(&self, key: &Item) -> Result<Vec<u8>> {
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
    pub(super) fn validate_item(&self, item: &Item) -> Result<Vec<u8>> {
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

    pub(super) fn validate_index_keys(&self, item: &Item) -> Result<()> {
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
    pub(super) fn index_entries(&self, item: &Item, data_key: &[u8]) -> Vec<Vec<u8>> {
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
}

/// DynamoDB allows 32 levels of nested lists and maps.
pub(super) fn check_nesting(item: &Item) -> Result<()> {
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

pub(super) fn is_empty_scalar(v: &AttributeValue) -> bool {
    matches!(v, AttributeValue::S(s) if s.is_empty())
        || matches!(v, AttributeValue::B(b) if b.is_empty())
}

pub(super) fn check_not_empty(name: &str, v: &AttributeValue) -> Result<()> {
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
