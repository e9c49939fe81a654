//! Reads: GetItem, Query, Scan, BatchGetItem and TransactGetItems.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;

use super::definition::ProjectionType;
use super::page::{Page, bound, prefix_successor, sort_bounds};
use super::params::*;
use super::table::{KeySchema, Table, check_not_empty};
use super::{Database, MAX_BATCH_GET};
use crate::dynamodb::api::*;
use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::expression::{
    self, Condition, ExpressionContext, ExpressionKind, Path, SortKeyCondition,
};
use crate::dynamodb::types::{Item, ScalarType, encode_key_value};

impl Database {
    pub fn get_item(&self, req: &GetItemRequest) -> Result<GetItemOutput> {
        let ctx = ExpressionContext::new(req.expression_attribute_names.as_ref(), None);
        let projection = parse_projection(&req.projection_expression, &ctx)?;
        ctx.check_unused(req.projection_expression.is_some())?;
        let table = self.table(&req.table_name)?;
        let key = table.validate_key(&req.key)?;
        let item = self.read(&key)?;
        Ok(GetItemOutput {
            item: item.map(|i| apply_projection(&i, projection.as_deref())),
        })
    }

    pub fn query(&self, req: &QueryRequest) -> Result<QueryOutput> {
        let ctx = ExpressionContext::new(
            req.expression_attribute_names.as_ref(),
            req.expression_attribute_values.as_ref(),
        );
        let key_src = req.key_condition_expression.as_ref().ok_or_else(|| {
            Error::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            )
        })?;
        let key_cond = expression::parse_condition(key_src, &ctx, ExpressionKind::KeyCondition)?;
        let filter = parse_condition(&req.filter_expression, &ctx, ExpressionKind::Filter)?;
        let projection = parse_projection(&req.projection_expression, &ctx)?;
        ctx.check_unused(true)?;
        let select = parse_select(&req.select, req.projection_expression.is_some())?;
        check_limit(req.limit)?;
        let table = self.table(&req.table_name)?;
        let schema = read_schema(
            &table,
            req.index_name.as_deref(),
            req.consistent_read,
            &req.select,
        )?;
        if let Some(filter) = &filter {
            check_filter_keys(filter, &schema)?;
        }
        let kc = expression::key_condition(
            &key_cond,
            &schema.partition.name,
            schema.sort.map(|s| s.name.as_str()),
        )?;
        let type_mismatch = || {
            Error::validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            )
        };
        if kc.partition_value.scalar_type() != Some(schema.partition.attribute_type) {
            return Err(type_mismatch());
        }
        check_not_empty(&schema.partition.name, &kc.partition_value)?;
        let mut prefix = table.prefix(schema.index);
        encode_key_value(&kc.partition_value, &mut prefix);
        let mut lower = (prefix.clone(), true);
        let mut upper = (prefix_successor(&prefix), false);
        if let (Some(sort), Some(sk)) = (&kc.sort, schema.sort) {
            for v in sort.values() {
                if v.scalar_type() != Some(sk.attribute_type) {
                    return Err(type_mismatch());
                }
            }
            if let SortKeyCondition::BeginsWith(v) = sort
                && sk.attribute_type == ScalarType::N
            {
                return Err(Error::validation(format!(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: {}",
                    v.type_name()
                )));
            }
            sort_bounds(sort, &prefix, &mut lower, &mut upper);
        }
        let forward = req.scan_index_forward.unwrap_or(true);
        if let Some(esk) = &req.exclusive_start_key {
            let k = self.start_key(&table, &schema, esk)?;
            if forward && k >= lower.0 {
                lower = (k, false);
            } else if !forward && k <= upper.0 {
                upper = (k, false);
            }
        }
        let range = (bound(lower), bound(upper));
        let iter = self.items.range(range);
        let page = Page {
            table: &table,
            schema: &schema,
            filter: filter.as_ref(),
            projection: projection.as_deref(),
            select,
            limit: req.limit.map(|l| l as usize),
            segment: None,
        };
        if forward {
            self.collect_page(iter, page)
        } else {
            self.collect_page(iter.rev(), page)
        }
    }

    pub fn scan(&self, req: &ScanRequest) -> Result<ScanOutput> {
        let ctx = ExpressionContext::new(
            req.expression_attribute_names.as_ref(),
            req.expression_attribute_values.as_ref(),
        );
        let filter = parse_condition(&req.filter_expression, &ctx, ExpressionKind::Filter)?;
        let projection = parse_projection(&req.projection_expression, &ctx)?;
        ctx.check_unused(filter.is_some() || projection.is_some())?;
        let select = parse_select(&req.select, req.projection_expression.is_some())?;
        check_limit(req.limit)?;
        let segment = match (req.segment, req.total_segments) {
            (None, None) => None,
            (Some(s), Some(t)) => {
                if !(1..=1_000_000).contains(&t) {
                    return Err(Error::validation(format!(
                        "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"
                    )));
                }
                if s < 0 || s >= t {
                    return Err(Error::validation(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                    )));
                }
                Some((s as u64, t as u64))
            }
            (Some(_), None) => {
                return Err(Error::validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
        };
        let table = self.table(&req.table_name)?;
        let schema = read_schema(
            &table,
            req.index_name.as_deref(),
            req.consistent_read,
            &req.select,
        )?;
        let prefix = table.prefix(schema.index);
        let mut lower = (prefix.clone(), true);
        if let Some(esk) = &req.exclusive_start_key {
            lower = (self.start_key(&table, &schema, esk)?, false);
        }
        let iter = self
            .items
            .range((bound(lower), Bound::Excluded(prefix_successor(&prefix))));
        self.collect_page(
            iter,
            Page {
                table: &table,
                schema: &schema,
                filter: filter.as_ref(),
                projection: projection.as_deref(),
                select,
                limit: req.limit.map(|l| l as usize),
                segment,
            },
        )
    }

    /// Storage key of an `ExclusiveStartKey`.
    pub(super) fn start_key(
        &self,
        table: &Table,
        schema: &KeySchema<'_>,
        esk: &Item,
    ) -> Result<Vec<u8>> {
        let invalid = || {
            Error::validation(
                "The provided starting key is invalid: The provided key element does not match the schema",
            )
        };
        let base = table.key_of(esk);
        if base.len() != table.key_names().len() {
            return Err(invalid());
        }
        let data_key = table.validate_key(&base).map_err(|_| invalid())?;
        if schema.index == 0 {
            if esk.len() != base.len() {
                return Err(invalid());
            }
            return Ok(data_key);
        }
        let mut k = table.prefix(schema.index);
        let attrs = [Some(schema.partition), schema.sort];
        for attr in attrs.into_iter().flatten() {
            let v = esk.get(&attr.name).ok_or_else(invalid)?;
            if v.scalar_type() != Some(attr.attribute_type) {
                return Err(invalid());
            }
            encode_key_value(v, &mut k);
        }
        k.extend_from_slice(&data_key[5..]);
        Ok(k)
    }

    pub fn batch_get_item(&self, req: &BatchGetItemRequest) -> Result<BatchGetItemOutput> {
        let total: usize = req.request_items.values().map(|k| k.keys.len()).sum();
        if total > MAX_BATCH_GET {
            return Err(Error::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        if req.request_items.is_empty() {
            return Err(Error::validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null",
            ));
        }
        let mut responses = BTreeMap::new();
        for (name, spec) in &req.request_items {
            let ctx = ExpressionContext::new(spec.expression_attribute_names.as_ref(), None);
            let projection = parse_projection(&spec.projection_expression, &ctx)?;
            ctx.check_unused(projection.is_some())?;
            let table = self.table(name)?;
            let mut seen = HashSet::new();
            let mut found = Vec::new();
            for key in &spec.keys {
                let k = table.validate_key(key)?;
                if !seen.insert(k.clone()) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                if let Some(item) = self.read(&k)? {
                    found.push(apply_projection(&item, projection.as_deref()));
                }
            }
            responses.insert(name.clone(), found);
        }
        Ok(BatchGetItemOutput {
            responses,
            unprocessed_keys: BTreeMap::new(),
        })
    }

    pub fn transact_get_items(
        &self,
        req: &TransactGetItemsRequest,
    ) -> Result<TransactGetItemsOutput> {
        check_transact_len(req.transact_items.len())?;
        let mut plans = Vec::new();
        for t in &req.transact_items {
            let g = &t.get;
            let ctx = ExpressionContext::new(g.expression_attribute_names.as_ref(), None);
            let projection = parse_projection(&g.projection_expression, &ctx)?;
            ctx.check_unused(projection.is_some())?;
            let table = self.table(&g.table_name)?;
            plans.push((table.validate_key(&g.key)?, projection));
        }
        // Reading under the writer lock gives a consistent snapshot.
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut responses = Vec::new();
        for (k, projection) in plans {
            let item = self.read(&k)?;
            responses.push(ItemResponse {
                item: item.map(|i| apply_projection(&i, projection.as_deref())),
            });
        }
        Ok(TransactGetItemsOutput { responses })
    }
}

/// The key schema a Query or Scan reads: the table's or its index's. Global
/// secondary indexes are eventually consistent and may not hold every
/// attribute.
fn read_schema<'t>(
    table: &'t Table,
    index_name: Option<&str>,
    consistent_read: Option<bool>,
    select: &Option<String>,
) -> Result<KeySchema<'t>> {
    let Some(name) = index_name else {
        return Ok(table.schema());
    };
    let schema = table.index_schema(name)?;
    let Some(projection) = schema.projection else {
        return Ok(schema);
    };
    if consistent_read == Some(true) {
        return Err(Error::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    if select.as_deref() == Some("ALL_ATTRIBUTES")
        && projection.projection_type != ProjectionType::All
    {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
        )));
    }
    Ok(schema)
}

/// Filters cannot refer to key attributes of the queried index.
pub(super) fn check_filter_keys(filter: &Condition, schema: &KeySchema<'_>) -> Result<()> {
    let mut keys = vec![schema.partition.name.as_str()];
    if let Some(s) = schema.sort {
        keys.push(&s.name);
    }
    let mut found = None;
    visit_paths(filter, &mut |p| {
        if found.is_none() && keys.contains(&p.head()) {
            found = Some(p.head().to_string());
        }
    });
    match found {
        Some(k) => Err(Error::validation(format!(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
        ))),
        None => Ok(()),
    }
}

pub(super) fn visit_paths(c: &Condition, f: &mut dyn FnMut(&Path)) {
    use expression::Operand;
    fn op(o: &Operand, f: &mut dyn FnMut(&Path)) {
        match o {
            Operand::Path(p) => f(p),
            Operand::Size(i) => op(i, f),
            _ => {}
        }
    }
    match c {
        Condition::Compare(_, a, b)
        | Condition::AttributeType(a, b)
        | Condition::BeginsWith(a, b)
        | Condition::Contains(a, b) => {
            op(a, f);
            op(b, f);
        }
        Condition::Between(a, b, d) => {
            op(a, f);
            op(b, f);
            op(d, f);
        }
        Condition::In(a, l) => {
            op(a, f);
            for o in l {
                op(o, f);
            }
        }
        Condition::And(a, b) | Condition::Or(a, b) => {
            visit_paths(a, f);
            visit_paths(b, f);
        }
        Condition::Not(a) => visit_paths(a, f),
        Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => f(p),
    }
}
