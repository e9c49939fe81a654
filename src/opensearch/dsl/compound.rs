//! Compound queries: `bool` and its `minimum_should_match`.

use serde_json::{Map, Value};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur};

use crate::opensearch::dsl::{BoxQuery, QueryContext, boost_of, boosted, check_params, compile};
use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::text_from_json;

/// Resolves `minimum_should_match` (`2`, `-1`, `"75%"`, `"-25%"`) against `n` optional clauses.
pub fn minimum_should_match(spec: &Value, n: usize) -> Result<usize> {
    let text = text_from_json(spec).unwrap_or_default();
    let text = text.trim();
    let bad = || Error::parsing(format!("Invalid minimum_should_match value [{text}]"));
    let n_f = n as f64;
    let resolved = if let Some(pct) = text.strip_suffix('%') {
        let pct: f64 = pct.parse().map_err(|_| bad())?;
        let amount = (n_f * pct.abs() / 100.0).floor();
        if pct < 0.0 { n_f - amount } else { amount }
    } else {
        let count: f64 = text.parse::<i64>().map_err(|_| bad())? as f64;
        if count < 0.0 { n_f + count } else { count }
    };
    Ok(resolved.clamp(0.0, n_f) as usize)
}

pub(super) fn clauses(ctx: &QueryContext, value: Option<&Value>) -> Result<Vec<BoxQuery>> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|q| compile(ctx, q)).collect(),
        Some(q @ Value::Object(_)) => Ok(vec![compile(ctx, q)?]),
        Some(_) => Err(Error::parsing(
            "[bool] query malformed, clauses must be objects or arrays of objects",
        )),
    }
}

pub(super) fn compile_bool(ctx: &QueryContext, params: &Map<String, Value>) -> Result<BoxQuery> {
    check_params(
        "bool",
        params,
        &[
            "must",
            "should",
            "must_not",
            "filter",
            "minimum_should_match",
            "adjust_pure_negative",
        ],
    )?;
    let must = clauses(ctx, params.get("must"))?;
    let should = clauses(ctx, params.get("should"))?;
    let must_not = clauses(ctx, params.get("must_not"))?;
    let filter = clauses(ctx, params.get("filter"))?;
    let n_should = should.len();
    let required = !must.is_empty() || !filter.is_empty();
    let min_should = match params.get("minimum_should_match") {
        Some(spec) => minimum_should_match(spec, n_should)?,
        // Without must/filter, at least one should clause must match.
        None if !required && n_should > 0 => 1,
        None => 0,
    };
    let mut subs: Vec<(Occur, BoxQuery)> = Vec::new();
    subs.extend(must.into_iter().map(|q| (Occur::Must, q)));
    // Filters restrict without scoring.
    subs.extend(filter.into_iter().map(|q| {
        (
            Occur::Must,
            Box::new(ConstScoreQuery::new(q, 0.0)) as BoxQuery,
        )
    }));
    subs.extend(should.into_iter().map(|q| (Occur::Should, q)));
    if subs.is_empty() {
        // Only must_not: every other document, scored 0 as in OpenSearch. An empty bool is
        // a match_all scoring 1.0.
        let score = if must_not.is_empty() { 1.0 } else { 0.0 };
        subs.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(AllQuery), score)),
        ));
    }
    subs.extend(must_not.into_iter().map(|q| (Occur::MustNot, q)));
    if min_should > n_should {
        return Ok(Box::new(EmptyQuery));
    }
    let q = BooleanQuery::with_minimum_required_clauses(subs, min_should);
    Ok(boosted(Box::new(q), boost_of("bool", params)?))
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[test]
    fn minimum_should_match_forms() {
        assert_eq!(minimum_should_match(&json!(2), 4).unwrap(), 2);
        assert_eq!(minimum_should_match(&json!(-1), 4).unwrap(), 3);
        assert_eq!(minimum_should_match(&json!("75%"), 4).unwrap(), 3);
        assert_eq!(minimum_should_match(&json!("-25%"), 4).unwrap(), 3);
        assert_eq!(minimum_should_match(&json!(9), 4).unwrap(), 4);
        assert!(minimum_should_match(&json!("x"), 4).is_err());
    }
}
