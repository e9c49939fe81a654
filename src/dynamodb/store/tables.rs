//! Table operations: CreateTable, DeleteTable, DescribeTable, ListTables,
//! and the descriptions they return.

use std::collections::BTreeMap;

use super::definition::{KeyAttribute, ProjectionType, definition_from_request};
use super::table::Table;
use super::{ARN_PREFIX, Database};
use crate::dynamodb::api::*;
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::ScalarType;

impl Table {
    pub(super) fn description(&self, item_count: u64, size: u64, status: &str) -> TableDescription {
        let key_schema = |p: &KeyAttribute, s: Option<&KeyAttribute>| {
            let mut v = vec![KeySchemaElement {
                attribute_name: p.name.clone(),
                key_type: "HASH".into(),
            }];
            if let Some(s) = s {
                v.push(KeySchemaElement {
                    attribute_name: s.name.clone(),
                    key_type: "RANGE".into(),
                });
            }
            v
        };
        let mut defs: BTreeMap<String, ScalarType> = BTreeMap::new();
        let mut add = |k: &KeyAttribute| {
            defs.insert(k.name.clone(), k.attribute_type);
        };
        add(&self.def.partition_key);
        if let Some(s) = &self.def.sort_key {
            add(s);
        }
        for g in &self.def.global_secondary_indexes {
            add(&g.partition_key);
            if let Some(s) = &g.sort_key {
                add(s);
            }
        }
        let arn = format!("{ARN_PREFIX}{}", self.def.table_name);
        let gsis: Vec<GlobalSecondaryIndexDescription> = self
            .def
            .global_secondary_indexes
            .iter()
            .map(|g| GlobalSecondaryIndexDescription {
                index_name: g.index_name.clone(),
                key_schema: key_schema(&g.partition_key, g.sort_key.as_ref()),
                projection: ProjectionSpec {
                    projection_type: Some(
                        match g.projection.projection_type {
                            ProjectionType::All => "ALL",
                            ProjectionType::KeysOnly => "KEYS_ONLY",
                            ProjectionType::Include => "INCLUDE",
                        }
                        .into(),
                    ),
                    non_key_attributes: (g.projection.projection_type == ProjectionType::Include)
                        .then(|| g.projection.non_key_attributes.clone()),
                },
                index_status: "ACTIVE".into(),
                index_size_bytes: 0,
                item_count: 0,
                index_arn: format!("{arn}/index/{}", g.index_name),
            })
            .collect();
        TableDescription {
            table_name: self.def.table_name.clone(),
            table_status: status.into(),
            attribute_definitions: defs
                .into_iter()
                .map(|(attribute_name, attribute_type)| AttributeDefinition {
                    attribute_name,
                    attribute_type,
                })
                .collect(),
            key_schema: key_schema(&self.def.partition_key, self.def.sort_key.as_ref()),
            global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
            creation_date_time: self.created,
            item_count,
            table_size_bytes: size,
            table_arn: arn,
            table_id: format!("00000000-0000-0000-0000-{:012}", self.id),
            billing_mode_summary: serde_json::json!({"BillingMode": "PAY_PER_REQUEST"}),
            provisioned_throughput: serde_json::json!({
                "NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0
            }),
        }
    }
}

impl Database {
    pub fn create_table(&self, req: &CreateTableRequest) -> Result<TableDescriptionOutput> {
        let def = definition_from_request(req)?;
        let table = self.insert_table(def)?;
        self.db.flush()?;
        Ok(TableDescriptionOutput {
            table_description: table.description(0, 0, "ACTIVE"),
        })
    }

    pub fn delete_table(&self, req: &DeleteTableRequest) -> Result<TableDescriptionOutput> {
        let table = self.table(&req.table_name)?;
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = table.id.to_be_bytes();
        let mut batch = sled::Batch::default();
        for entry in self.items.scan_prefix(prefix) {
            let (k, _) = entry?;
            batch.remove(k);
        }
        self.items.apply_batch(batch)?;
        self.meta.remove(req.table_name.as_bytes())?;
        self.tables
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&req.table_name);
        self.db.flush()?;
        Ok(TableDescriptionOutput {
            table_description: table.description(0, 0, "DELETING"),
        })
    }

    pub fn describe_table(&self, req: &DescribeTableRequest) -> Result<DescribeTableOutput> {
        let table = self.table(&req.table_name)?;
        let mut count = 0;
        let mut size = 0;
        for entry in self.items.scan_prefix(table.prefix(0)) {
            let (_, v) = entry?;
            count += 1;
            size += v.len() as u64;
        }
        Ok(DescribeTableOutput {
            table: table.description(count, size, "ACTIVE"),
        })
    }

    pub fn list_tables(&self, req: &ListTablesRequest) -> Result<ListTablesOutput> {
        let limit = match req.limit {
            None => 100,
            Some(l) if (1..=100).contains(&l) => l as usize,
            Some(l) => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value {}",
                    if l < 1 {
                        "greater than or equal to 1"
                    } else {
                        "less than or equal to 100"
                    }
                )));
            }
        };
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        let names: Vec<String> = tables
            .keys()
            .filter(|n| {
                req.exclusive_start_table_name
                    .as_ref()
                    .is_none_or(|s| *n > s)
            })
            .cloned()
            .collect();
        let more = names.len() > limit;
        let table_names: Vec<String> = names.into_iter().take(limit).collect();
        Ok(ListTablesOutput {
            last_evaluated_table_name: if more {
                table_names.last().cloned()
            } else {
                None
            },
            table_names,
        })
    }
}
