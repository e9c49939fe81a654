//! Aggregations: tantivy's Elasticsearch-compatible ones, with the request and the
//! result adjusted where OpenSearch differs.

use serde::Deserialize;
use serde_json::{Value, json};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::query::Query;

use crate::opensearch::error::{Error, Result};
use crate::opensearch::index::Generation;
use crate::opensearch::mapping::{FieldType, double_from_json};
use crate::opensearch::search::check_sort_field;

pub(super) fn run(generation: &Generation, query: &dyn Query, aggs: &Value) -> Result<Value> {
    check_agg_fields(generation, aggs)?;
    let mut aggs = aggs.clone();
    calendar_to_fixed(&mut aggs);
    name_numeric_ranges(generation, &mut aggs);
    let request = aggs;
    let aggs = Aggregations::deserialize(&request)
        .map_err(|e| Error::parsing(format!("failed to parse aggregations: {e}")))?;
    let context = AggContextParams::new(
        AggregationLimitsGuard::default(),
        generation.index.tokenizers().clone(),
    );
    let collector = AggregationCollector::from_aggs(aggs, context);
    let result = generation
        .searcher()
        .search(query, &collector)
        .map_err(|e| Error::illegal(e.to_string()))?;
    let mut value = serde_json::to_value(result).map_err(|e| Error::Internal(e.to_string()))?;
    integral_date_keys(&mut value);
    drop_gap_buckets(&request, &mut value);
    Ok(value)
}

/// OpenSearch prints date bucket keys as integers (epoch millis); tantivy as floats.
fn integral_date_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("key_as_string")
                && let Some(key) = map.get("key").and_then(Value::as_f64)
                && key.fract() == 0.0
                && key.abs() < 9e15
            {
                map.insert("key".into(), json!(key as i64));
            }
            map.values_mut().for_each(integral_date_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(integral_date_keys),
        _ => {}
    }
}

/// tantivy only has fixed intervals, aligned on the epoch; calendar units that are fixed
/// and epoch-aligned in UTC translate exactly. Weeks (Monday-aligned in OpenSearch, while
/// the epoch is a Thursday), months, quarters and years report tantivy's error.
fn calendar_to_fixed(aggs: &mut Value) {
    match aggs {
        Value::Object(map) => {
            if let Some(Value::String(unit)) = map.get("calendar_interval") {
                let fixed = match unit.as_str() {
                    "minute" | "1m" => Some("1m"),
                    "hour" | "1h" => Some("1h"),
                    "day" | "1d" => Some("1d"),
                    _ => None,
                };
                if let Some(fixed) = fixed {
                    map.remove("calendar_interval");
                    map.insert("fixed_interval".into(), json!(fixed));
                }
            }
            for v in map.values_mut() {
                calendar_to_fixed(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(calendar_to_fixed),
        _ => {}
    }
}

/// Aggregations run on fast fields; text fields have none, as in OpenSearch without fielddata.
fn check_agg_fields(generation: &Generation, aggs: &Value) -> Result<()> {
    match aggs {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "field"
                    && let Some(path) = v.as_str()
                {
                    check_sort_field(generation, path)?;
                }
                check_agg_fields(generation, v)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                check_agg_fields(generation, item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// OpenSearch keys an unnamed range of a numeric field `from-to`, each bound printed as a
/// Java double (`*-100.0`, `100.0-300.0`, `300.0-*`); tantivy prints `*-100`. Naming such
/// ranges in the request makes tantivy report OpenSearch's key (and `keyed` buckets
/// follow). Ranges the user named keep their name.
fn name_numeric_ranges(generation: &Generation, aggs: &mut Value) {
    let Value::Object(aggs) = aggs else {
        return;
    };
    for def in aggs.values_mut().filter_map(Value::as_object_mut) {
        if let Some(Value::Object(range)) = def.get_mut("range") {
            let numeric = range
                .get("field")
                .and_then(Value::as_str)
                .and_then(|path| generation.compiled.field(path))
                .is_some_and(|f| matches!(f.ty, FieldType::Long | FieldType::Double));
            if let (true, Some(Value::Array(ranges))) = (numeric, range.get_mut("ranges")) {
                for bounds in ranges.iter_mut().filter_map(Value::as_object_mut) {
                    if !bounds.contains_key("key") {
                        let bound = |name: &str| {
                            bounds
                                .get(name)
                                .and_then(double_from_json)
                                .map_or_else(|| "*".to_string(), java_double)
                        };
                        let key = format!("{}-{}", bound("from"), bound("to"));
                        bounds.insert("key".into(), json!(key));
                    }
                }
            }
        }
        for sub in ["aggs", "aggregations"] {
            if let Some(sub) = def.get_mut(sub) {
                name_numeric_ranges(generation, sub);
            }
        }
    }
}

/// tantivy adds a bucket for each gap between the requested ranges (`*-0`, `2-*`);
/// OpenSearch answers only the ranges asked for. Once every range of an aggregation has a
/// key (numeric ranges are named by [`name_numeric_ranges`]), a bucket whose key was not
/// asked for is such a gap.
fn drop_gap_buckets(request: &Value, result: &mut Value) {
    let (Value::Object(request), Value::Object(result)) = (request, result) else {
        return;
    };
    for (name, def) in request {
        let Some(out) = result.get_mut(name) else {
            continue;
        };
        if let Some(Value::Array(ranges)) = def.get("range").and_then(|r| r.get("ranges")) {
            let keys: Vec<&str> = ranges
                .iter()
                .filter_map(|r| r.get("key").and_then(Value::as_str))
                .collect();
            if keys.len() == ranges.len() {
                match out.get_mut("buckets") {
                    Some(Value::Array(buckets)) => buckets.retain(|b| {
                        b.get("key")
                            .and_then(Value::as_str)
                            .is_some_and(|k| keys.contains(&k))
                    }),
                    Some(Value::Object(buckets)) => {
                        buckets.retain(|k, _| keys.contains(&k.as_str()))
                    }
                    _ => {}
                }
            }
        }
        let Some(sub) = def.get("aggs").or_else(|| def.get("aggregations")) else {
            continue;
        };
        // Sub-aggregations sit in each bucket, or beside the count of a one-bucket agg.
        match out.get_mut("buckets") {
            Some(Value::Array(buckets)) => {
                buckets.iter_mut().for_each(|b| drop_gap_buckets(sub, b))
            }
            Some(Value::Object(buckets)) => {
                buckets.values_mut().for_each(|b| drop_gap_buckets(sub, b))
            }
            _ => drop_gap_buckets(sub, out),
        }
    }
}

/// Java's `Double.toString`, which OpenSearch prints range bounds with: always a decimal
/// point, and scientific notation (`1.0E7`) outside [10^-3, 10^7).
fn java_double(x: f64) -> String {
    let abs = x.abs();
    if abs == 0.0 || (1e-3..1e7).contains(&abs) {
        let plain = x.to_string();
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let scientific = format!("{x:e}");
        let (mantissa, exponent) = scientific
            .split_once('e')
            .unwrap_or((scientific.as_str(), "0"));
        if mantissa.contains('.') {
            format!("{mantissa}E{exponent}")
        } else {
            format!("{mantissa}.0E{exponent}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::java_double;

    #[test]
    fn range_bounds_print_as_java_doubles() {
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_double(-2.5), "-2.5");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(-0.0), "-0.0");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1234567.0), "1234567.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(12345678.9), "1.23456789E7");
    }
}
