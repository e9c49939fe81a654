//! Term-level queries: `term`, `terms`, `range`, `prefix`, `wildcard`, `regexp`, `fuzzy`.

use std::ops::Bound;

use serde_json::Map;
use serde_json::Value;
use tantivy::Term;
use tantivy::query::{
    ConstScoreQuery, EmptyQuery, FuzzyTermQuery, RangeQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::opensearch::dsl::dates::parse_date_value;
use crate::opensearch::dsl::full_text::fuzzy_distance;
use crate::opensearch::dsl::patterns::{regex_escape, wildcard_to_regex};
use crate::opensearch::dsl::{
    BoxQuery, QueryContext, boost_of, boosted, check_params, field_params,
};
use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::{
    FieldType, FlatField, bool_from_json, double_from_json, long_from_json, text_from_json,
};

/// Converts a JSON value to a term of the field's type.
pub(super) fn scalar_term(ctx: &QueryContext, field: &FlatField, value: &Value) -> Result<Term> {
    let fail = |what: &str| Error::QueryShard {
        index: ctx.index_name.to_string(),
        reason: format!("failed to create query: {what}"),
    };
    let shown = text_from_json(value).unwrap_or_else(|| value.to_string());
    Ok(match field.ty {
        FieldType::Text | FieldType::Keyword => Term::from_field_text(
            field.field,
            &text_from_json(value).ok_or_else(|| fail(&format!("unsupported value [{shown}]")))?,
        ),
        FieldType::Long => {
            // `1.5` on a long field would silently truncate; OpenSearch rejects it.
            let n = match value {
                Value::Number(n) if n.is_f64() => None,
                v => long_from_json(v).filter(|_| !shown.contains('.')),
            };
            Term::from_field_i64(
                field.field,
                n.ok_or_else(|| fail(&format!("For input string: \"{shown}\"")))?,
            )
        }
        FieldType::Double => Term::from_field_f64(
            field.field,
            double_from_json(value)
                .ok_or_else(|| fail(&format!("For input string: \"{shown}\"")))?,
        ),
        FieldType::Date => Term::from_field_date(
            field.field,
            parse_date_value(value, field.date_format.as_deref())
                .ok_or_else(|| date_error(ctx, field, &shown))?,
        ),
        FieldType::Boolean => Term::from_field_bool(
            field.field,
            bool_from_json(value).ok_or_else(|| {
                fail(&format!(
                    "Can't parse boolean value [{shown}], expected [true] or [false]"
                ))
            })?,
        ),
    })
}

pub(super) fn date_error(ctx: &QueryContext, field: &FlatField, shown: &str) -> Error {
    Error::QueryShard {
        index: ctx.index_name.to_string(),
        reason: format!(
            "failed to parse date field [{shown}] with format [strict_date_optional_time||epoch_millis]: [failed to parse date field [{shown}] with format [strict_date_optional_time||epoch_millis]] (field [{}])",
            field.path
        ),
    }
}

/// Term queries on non-text fields score a constant 1.0, as OpenSearch's do.
pub(super) fn exact_term_query(field: &FlatField, term: Term) -> BoxQuery {
    let q = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
    match field.ty {
        FieldType::Text | FieldType::Keyword => q,
        _ => Box::new(ConstScoreQuery::new(q, 1.0)),
    }
}

pub(super) fn compile_term(ctx: &QueryContext, kind: &str, body: &Value) -> Result<BoxQuery> {
    let (path, params) = field_params(kind, body, "value")?;
    check_params(kind, &params, &["value", "case_insensitive"])?;
    let value = params
        .get("value")
        .ok_or_else(|| Error::parsing("[term] query malformed, no value specified"))?;
    let boost = boost_of(kind, &params)?;
    let field = if path == "_id" {
        let term = Term::from_field_text(
            ctx.mapping.meta.id,
            &text_from_json(value).unwrap_or_default(),
        );
        return Ok(boosted(
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                1.0,
            )),
            boost,
        ));
    } else {
        match ctx.mapping.field(path) {
            Some(f) => f,
            None => return Ok(Box::new(EmptyQuery)),
        }
    };
    let case_insensitive = params
        .get("case_insensitive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if case_insensitive && matches!(field.ty, FieldType::Text | FieldType::Keyword) {
        let text = text_from_json(value).unwrap_or_default();
        let pattern = format!("(?i){}", regex_escape(&text));
        return Ok(boosted(
            Box::new(RegexQuery::from_pattern(&pattern, field.field)?),
            boost,
        ));
    }
    let term = scalar_term(ctx, field, value)?;
    Ok(boosted(exact_term_query(field, term), boost))
}

pub(super) fn compile_terms(ctx: &QueryContext, params: &Map<String, Value>) -> Result<BoxQuery> {
    let kind = "terms";
    let boost = boost_of(kind, params)?;
    let mut field_values = None;
    for (key, value) in params {
        if key == "boost" || key == "_name" {
            continue;
        }
        if field_values.is_some() {
            return Err(Error::parsing(
                "[terms] query does not support multiple fields".to_string(),
            ));
        }
        let Value::Array(values) = value else {
            return Err(Error::parsing(format!(
                "[terms] query does not support [{key}]"
            )));
        };
        field_values = Some((key.as_str(), values));
    }
    let (path, values) =
        field_values.ok_or_else(|| Error::parsing("[terms] query requires a field"))?;
    let terms: Vec<Term> = if path == "_id" {
        values
            .iter()
            .filter_map(text_from_json)
            .map(|v| Term::from_field_text(ctx.mapping.meta.id, &v))
            .collect()
    } else {
        let Some(field) = ctx.mapping.field(path) else {
            return Ok(Box::new(EmptyQuery));
        };
        values
            .iter()
            .map(|v| scalar_term(ctx, field, v))
            .collect::<Result<_>>()?
    };
    Ok(Box::new(ConstScoreQuery::new(
        Box::new(TermSetQuery::new(terms)),
        boost,
    )))
}

pub(super) fn compile_range(ctx: &QueryContext, kind: &str, body: &Value) -> Result<BoxQuery> {
    let (path, params) = field_params(kind, body, "value")?;
    check_params(
        kind,
        &params,
        &[
            "gt",
            "gte",
            "lt",
            "lte",
            "from",
            "to",
            "include_lower",
            "include_upper",
            "format",
            "time_zone",
            "relation",
        ],
    )?;
    let boost = boost_of(kind, &params)?;
    let Some(field) = ctx.mapping.field(path) else {
        return Ok(Box::new(EmptyQuery));
    };
    let format = params.get("format").and_then(Value::as_str);
    let bound = |inclusive: &str, exclusive: &str| -> Result<Bound<Term>> {
        let present = |k: &str| params.get(k).filter(|v| !v.is_null());
        Ok(match (present(inclusive), present(exclusive)) {
            (Some(v), _) => Bound::Included(range_term(ctx, field, v, inclusive, format)?),
            (None, Some(v)) => Bound::Excluded(range_term(ctx, field, v, exclusive, format)?),
            (None, None) => Bound::Unbounded,
        })
    };
    let lower = bound("gte", "gt")?;
    let lower = match (lower, params.get("from").filter(|v| !v.is_null())) {
        (Bound::Unbounded, Some(v)) => {
            let t = range_term(ctx, field, v, "gte", format)?;
            if params.get("include_lower").and_then(Value::as_bool) == Some(false) {
                Bound::Excluded(t)
            } else {
                Bound::Included(t)
            }
        }
        (b, _) => b,
    };
    let upper = bound("lte", "lt")?;
    let upper = match (upper, params.get("to").filter(|v| !v.is_null())) {
        (Bound::Unbounded, Some(v)) => {
            let t = range_term(ctx, field, v, "lte", format)?;
            if params.get("include_upper").and_then(Value::as_bool) == Some(false) {
                Bound::Excluded(t)
            } else {
                Bound::Included(t)
            }
        }
        (b, _) => b,
    };
    let q: BoxQuery = if matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded)) {
        // No bounds: every document with a value, as OpenSearch.
        let term = Term::from_field_text(ctx.mapping.meta.field_names, path);
        Box::new(TermQuery::new(term, IndexRecordOption::Basic))
    } else {
        Box::new(RangeQuery::new(lower, upper))
    };
    Ok(Box::new(ConstScoreQuery::new(q, boost)))
}

/// A range bound; fractional bounds on long fields round inward as OpenSearch does.
fn range_term(
    ctx: &QueryContext,
    field: &FlatField,
    value: &Value,
    op: &str,
    format: Option<&str>,
) -> Result<Term> {
    if field.ty == FieldType::Date {
        let shown = text_from_json(value).unwrap_or_else(|| value.to_string());
        let format = format.or(field.date_format.as_deref());
        let date = parse_date_value(value, format).ok_or_else(|| date_error(ctx, field, &shown))?;
        return Ok(Term::from_field_date(field.field, date));
    }
    if field.ty == FieldType::Long
        && let Some(f) = double_from_json(value)
        && f.fract() != 0.0
    {
        // gt 1.5 == gte 2, lt 1.5 == lte 1; the caller's inclusivity stays correct because
        // rounding moves the bound past every value it excluded.
        let rounded = if op.starts_with('g') {
            f.ceil()
        } else {
            f.floor()
        };
        return Ok(Term::from_field_i64(field.field, rounded as i64));
    }
    if field.ty == FieldType::Double {
        let f = double_from_json(value).ok_or_else(|| Error::QueryShard {
            index: ctx.index_name.to_string(),
            reason: format!(
                "failed to create query: For input string: \"{}\"",
                text_from_json(value).unwrap_or_default()
            ),
        })?;
        return Ok(Term::from_field_f64(field.field, f));
    }
    scalar_term(ctx, field, value)
}

#[derive(Clone, Copy)]
pub(super) enum Pattern {
    Prefix,
    Wildcard,
    Regexp,
}

pub(super) fn compile_pattern(
    ctx: &QueryContext,
    kind: &str,
    body: &Value,
    pattern: Pattern,
) -> Result<BoxQuery> {
    let (path, params) = field_params(kind, body, "value")?;
    check_params(
        kind,
        &params,
        &[
            "value",
            "wildcard",
            "case_insensitive",
            "rewrite",
            "flags",
            "max_determinized_states",
        ],
    )?;
    let value = params
        .get("value")
        .or_else(|| params.get("wildcard"))
        .and_then(text_from_json)
        .ok_or_else(|| Error::parsing(format!("[{kind}] query malformed, no value specified")))?;
    let boost = boost_of(kind, &params)?;
    let (field, is_id) = if path == "_id" {
        (None, true)
    } else {
        match ctx.mapping.field(path) {
            Some(f) => (Some(f), false),
            None => return Ok(Box::new(EmptyQuery)),
        }
    };
    let tantivy_field = match field {
        Some(f) if !matches!(f.ty, FieldType::Text | FieldType::Keyword) => {
            return Err(Error::QueryShard {
                index: ctx.index_name.to_string(),
                reason: format!(
                    "Can only use {kind} queries on keyword and text fields - not on [{path}] which is of type [{}]",
                    f.ty.name()
                ),
            });
        }
        Some(f) => f.field,
        None => {
            debug_assert!(is_id);
            ctx.mapping.meta.id
        }
    };
    let mut regex = match pattern {
        Pattern::Prefix => format!("{}.*", regex_escape(&value)),
        Pattern::Wildcard => wildcard_to_regex(&value),
        Pattern::Regexp => value.clone(),
    };
    if params.get("case_insensitive").and_then(Value::as_bool) == Some(true) {
        regex = format!("(?i){regex}");
    }
    let q = RegexQuery::from_pattern(&regex, tantivy_field).map_err(|e| Error::QueryShard {
        index: ctx.index_name.to_string(),
        reason: format!("failed to create query: {e}"),
    })?;
    Ok(Box::new(ConstScoreQuery::new(Box::new(q), boost)))
}

pub(super) fn compile_fuzzy(ctx: &QueryContext, kind: &str, body: &Value) -> Result<BoxQuery> {
    let (path, params) = field_params(kind, body, "value")?;
    check_params(
        kind,
        &params,
        &[
            "value",
            "fuzziness",
            "prefix_length",
            "max_expansions",
            "transpositions",
            "rewrite",
        ],
    )?;
    let value = params
        .get("value")
        .and_then(text_from_json)
        .ok_or_else(|| Error::parsing("[fuzzy] query malformed, no value specified"))?;
    let Some(field) = ctx.mapping.field(path) else {
        return Ok(Box::new(EmptyQuery));
    };
    let auto = Value::String("AUTO".into());
    let distance =
        fuzzy_distance(Some(params.get("fuzziness").unwrap_or(&auto)), &value)?.unwrap_or(0);
    let term = Term::from_field_text(field.field, &value);
    let transpositions = params
        .get("transpositions")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    Ok(boosted(
        Box::new(FuzzyTermQuery::new(term, distance, transpositions)),
        boost_of(kind, &params)?,
    ))
}
