//! `query_string` and `simple_query_string`: tantivy's query grammar, translated to the DSL.

use serde_json::{Map, Value, json};
use tantivy::query::Occur;
use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputBound, UserInputLeaf};

use crate::opensearch::dsl::full_text::expand_fields;
use crate::opensearch::dsl::{BoxQuery, QueryContext, boost_of, boosted, compile};
use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::{FieldType, text_from_json};

pub(super) fn compile_query_string(
    ctx: &QueryContext,
    kind: &str,
    params: &Map<String, Value>,
    simple: bool,
) -> Result<BoxQuery> {
    let query = params
        .get("query")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::parsing(format!("[{kind}] must be provided with a [query]")))?;
    let mut specs: Vec<String> = match params.get("fields") {
        Some(Value::Array(items)) => items.iter().filter_map(text_from_json).collect(),
        _ => Vec::new(),
    };
    if let Some(f) = params.get("default_field").and_then(Value::as_str) {
        specs.push(f.to_string());
    }
    if specs.is_empty() {
        specs.push("*".to_string());
    }
    let fields = expand_fields(ctx, &specs)?;
    let and = params
        .get("default_operator")
        .and_then(Value::as_str)
        .is_some_and(|op| op.eq_ignore_ascii_case("and"));
    let ast = if simple {
        // simple_query_string never fails: it drops what it cannot parse.
        let text = query.replace('|', " OR ");
        tantivy::query_grammar::parse_query_lenient(&text).0
    } else {
        tantivy::query_grammar::parse_query(query).map_err(|_| Error::QueryShard {
            index: ctx.index_name.to_string(),
            reason: format!("Failed to parse query [{query}]"),
        })?
    };
    // The grammar gives the structure; clauses become DSL queries so every field type,
    // wildcard and negation behaves as in the rest of the DSL.
    let dsl = query_string_dsl(ctx, &ast, &fields, and);
    Ok(boosted(compile(ctx, &dsl)?, boost_of(kind, params)?))
}

/// Translates tantivy's query-string AST to OpenSearch DSL JSON.
fn query_string_dsl(
    ctx: &QueryContext,
    ast: &UserInputAst,
    fields: &[(String, f32)],
    and: bool,
) -> Value {
    match ast {
        UserInputAst::Clause(clauses) => {
            let (mut must, mut should, mut must_not) = (Vec::new(), Vec::new(), Vec::new());
            for (occur, sub) in clauses {
                let q = query_string_dsl(ctx, sub, fields, and);
                match occur {
                    Some(Occur::Must) => must.push(q),
                    Some(Occur::MustNot) => must_not.push(q),
                    Some(Occur::Should) => should.push(q),
                    None if and => must.push(q),
                    None => should.push(q),
                }
            }
            json!({"bool": {"must": must, "should": should, "must_not": must_not}})
        }
        UserInputAst::Boost(inner, boost) => {
            json!({"bool": {"must": [query_string_dsl(ctx, inner, fields, and)], "boost": boost.into_inner()}})
        }
        UserInputAst::Leaf(leaf) => query_string_leaf(ctx, leaf, fields),
    }
}

fn query_string_leaf(ctx: &QueryContext, leaf: &UserInputLeaf, fields: &[(String, f32)]) -> Value {
    // A leaf without a field runs on every default field; the best field wins (dis_max),
    // like query_string's default `best_fields`.
    let targets = |field: &Option<String>| -> Vec<(String, f32)> {
        match field {
            Some(f) => vec![(f.clone(), 1.0)],
            None => fields.to_vec(),
        }
    };
    let per_field = |targets: Vec<(String, f32)>, build: &dyn Fn(&str, f32) -> Value| -> Value {
        let mut queries: Vec<Value> = targets.iter().map(|(f, b)| build(f, *b)).collect();
        if queries.len() == 1 {
            queries.pop().unwrap_or_else(|| json!({"match_none": {}}))
        } else if queries.is_empty() {
            json!({"match_none": {}})
        } else {
            json!({"dis_max": {"queries": queries}})
        }
    };
    match leaf {
        UserInputLeaf::All => json!({"match_all": {}}),
        UserInputLeaf::Regex { field, pattern } => per_field(
            targets(field),
            &|f, b| json!({"regexp": {f: {"value": pattern, "boost": b}}}),
        ),
        UserInputLeaf::Exists { field } => json!({"exists": {"field": field}}),
        UserInputLeaf::Set { field, elements } => per_field(
            targets(field),
            &|f, b| json!({"terms": {f: elements, "boost": b}}),
        ),
        UserInputLeaf::Range {
            field,
            lower,
            upper,
        } => {
            let bound = |b: &UserInputBound, incl: &str, excl: &str| match b {
                UserInputBound::Inclusive(v) if v != "*" => Some((incl.to_string(), json!(v))),
                UserInputBound::Exclusive(v) if v != "*" => Some((excl.to_string(), json!(v))),
                _ => None,
            };
            let mut range = Map::new();
            range.extend(bound(lower, "gte", "gt"));
            range.extend(bound(upper, "lte", "lt"));
            per_field(targets(field), &|f, b| {
                let mut r = range.clone();
                r.insert("boost".into(), json!(b));
                json!({"range": {f: r}})
            })
        }
        UserInputLeaf::Literal(lit) => {
            let phrase = &lit.phrase;
            let quoted = lit.delimiter != Delimiter::None;
            per_field(targets(&lit.field_name), &|f, b| {
                if lit.prefix {
                    json!({"match_phrase_prefix": {f: {"query": phrase, "boost": b}}})
                } else if quoted {
                    json!({"match_phrase": {f: {"query": phrase, "slop": lit.slop, "boost": b}}})
                } else if phrase.contains(['*', '?']) {
                    // Wildcard terms are not analyzed, only lowercased for text fields.
                    let is_text = ctx
                        .mapping
                        .field(f)
                        .is_some_and(|x| x.ty == FieldType::Text);
                    let value = if is_text {
                        phrase.to_lowercase()
                    } else {
                        phrase.clone()
                    };
                    json!({"wildcard": {f: {"value": value, "boost": b}}})
                } else {
                    json!({"match": {f: {"query": phrase, "boost": b, "lenient": lit.field_name.is_none()}}})
                }
            })
        }
    }
}
