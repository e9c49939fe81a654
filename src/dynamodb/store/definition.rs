//! Table declarations, as the manifest and CreateTable give them.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::dynamodb::api::{CreateTableRequest, KeySchemaElement};
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::ScalarType;

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

/// Why a table declaration is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclarationError {
    #[error("invalid table name {0:?}: 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'")]
    TableName(String),
    #[error("key attribute names cannot be empty")]
    EmptyKeyName,
    #[error("attribute {name} is declared as both {} and {}", .first.as_str(), .second.as_str())]
    ConflictingTypes {
        name: String,
        first: ScalarType,
        second: ScalarType,
    },
    #[error("the sort key must differ from the partition key")]
    SortKeyIsPartitionKey,
    #[error("duplicate index name {0}")]
    DuplicateIndexName(String),
    #[error("a table can have at most 20 global secondary indexes")]
    TooManyIndexes,
}

impl TableDefinition {
    /// Checks names and that each attribute has one type everywhere.
    pub fn validate(&self) -> std::result::Result<(), DeclarationError> {
        if self.table_name.len() < 3
            || self.table_name.len() > 255
            || !self
                .table_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(DeclarationError::TableName(self.table_name.clone()));
        }
        let mut types: BTreeMap<String, ScalarType> = BTreeMap::new();
        let mut check = |k: &KeyAttribute| -> std::result::Result<(), DeclarationError> {
            if k.name.is_empty() {
                return Err(DeclarationError::EmptyKeyName);
            }
            match types.insert(k.name.clone(), k.attribute_type) {
                Some(first) if first != k.attribute_type => {
                    Err(DeclarationError::ConflictingTypes {
                        name: k.name.clone(),
                        first,
                        second: k.attribute_type,
                    })
                }
                _ => Ok(()),
            }
        };
        check(&self.partition_key)?;
        if let Some(s) = &self.sort_key {
            check(s)?;
            if s.name == self.partition_key.name {
                return Err(DeclarationError::SortKeyIsPartitionKey);
            }
        }
        let mut names = HashSet::new();
        for gsi in &self.global_secondary_indexes {
            if !names.insert(&gsi.index_name) {
                return Err(DeclarationError::DuplicateIndexName(gsi.index_name.clone()));
            }
            check(&gsi.partition_key)?;
            if let Some(s) = &gsi.sort_key {
                check(s)?;
            }
        }
        if self.global_secondary_indexes.len() > 20 {
            return Err(DeclarationError::TooManyIndexes);
        }
        Ok(())
    }
}

pub(super) fn definition_from_request(req: &CreateTableRequest) -> Result<TableDefinition> {
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
    def.validate()
        .map_err(|e| Error::validation(e.to_string()))?;
    Ok(def)
}
