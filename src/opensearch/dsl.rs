//! Query DSL: OpenSearch query JSON compiled to tantivy queries against one mapping.
//!
//! Parsing is hand-written over `serde_json::Value` rather than a serde enum: OpenSearch puts
//! the field name in key position (`{"match": {"title": {...}}}`), accepts short and long
//! forms, and clients rely on its exact error wording (`unknown query [foo]`).

use std::ops::Bound;

use serde_json::{Map, Value, json};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery,
    FuzzyTermQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery, TermSetQuery,
};
use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputBound, UserInputLeaf};
use tantivy::schema::IndexRecordOption;
use tantivy::{DateTime, Index, Term};

use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::{
    CompiledMapping, FieldType, FlatField, bool_from_json, date_from_json, date_from_millis,
    date_with_format, double_from_json, long_from_json, text_from_json,
};

/// What a query compiles against.
pub struct QueryContext<'a> {
    pub index_name: &'a str,
    pub index: &'a Index,
    pub mapping: &'a CompiledMapping,
}

type BoxQuery = Box<dyn Query>;

/// Compiles one query object (`{"match": {...}}`).
pub fn compile(ctx: &QueryContext, query: &Value) -> Result<BoxQuery> {
    let Value::Object(obj) = query else {
        return Err(Error::parsing(
            "[_na] query malformed, must start with start_object".to_string(),
        ));
    };
    let mut entries = obj.iter();
    let Some((kind, body)) = entries.next() else {
        // An empty query object matches everything, as OpenSearch's search body does.
        return Ok(Box::new(AllQuery));
    };
    if let Some((next, _)) = entries.next() {
        return Err(Error::parsing(format!(
            "[{kind}] malformed query, expected [END_OBJECT] but found [FIELD_NAME] ([{next}])"
        )));
    }
    match kind.as_str() {
        "match_all" => {
            let params = object(kind, body)?;
            Ok(boosted(Box::new(AllQuery), boost_of(kind, params)?))
        }
        "match_none" => Ok(Box::new(EmptyQuery)),
        "match" => compile_match(ctx, kind, body, MatchKind::Match),
        "match_phrase" => compile_match(ctx, kind, body, MatchKind::Phrase),
        "match_phrase_prefix" => compile_match(ctx, kind, body, MatchKind::PhrasePrefix),
        "match_bool_prefix" => compile_match(ctx, kind, body, MatchKind::BoolPrefix),
        "multi_match" => compile_multi_match(ctx, object(kind, body)?),
        "query_string" => compile_query_string(ctx, kind, object(kind, body)?, false),
        "simple_query_string" => compile_query_string(ctx, kind, object(kind, body)?, true),
        "term" => compile_term(ctx, kind, body),
        "terms" => compile_terms(ctx, object(kind, body)?),
        "range" => compile_range(ctx, kind, body),
        "exists" => {
            let params = object(kind, body)?;
            let field = params
                .get("field")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::parsing("[exists] must be provided with a [field]"))?;
            let term = Term::from_field_text(ctx.mapping.meta.field_names, field);
            let q = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
            Ok(Box::new(ConstScoreQuery::new(q, boost_of(kind, params)?)))
        }
        "prefix" => compile_pattern(ctx, kind, body, Pattern::Prefix),
        "wildcard" => compile_pattern(ctx, kind, body, Pattern::Wildcard),
        "regexp" => compile_pattern(ctx, kind, body, Pattern::Regexp),
        "fuzzy" => compile_fuzzy(ctx, kind, body),
        "ids" => {
            let params = object(kind, body)?;
            let values = params
                .get("values")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    Error::parsing("[ids] query malformed, [values] must be an array")
                })?;
            let terms = values
                .iter()
                .filter_map(text_from_json)
                .map(|id| Term::from_field_text(ctx.mapping.meta.id, &id));
            let q = Box::new(TermSetQuery::new(terms));
            Ok(Box::new(ConstScoreQuery::new(q, boost_of(kind, params)?)))
        }
        "bool" => compile_bool(ctx, object(kind, body)?),
        "constant_score" => {
            let params = object(kind, body)?;
            let filter = params
                .get("filter")
                .ok_or_else(|| Error::parsing("[constant_score] requires a 'filter' element"))?;
            Ok(Box::new(ConstScoreQuery::new(
                compile(ctx, filter)?,
                boost_of(kind, params)?,
            )))
        }
        "dis_max" => {
            let params = object(kind, body)?;
            let queries = clauses(ctx, params.get("queries"))?;
            let tie = params
                .get("tie_breaker")
                .and_then(Value::as_f64)
                .unwrap_or(0.0) as f32;
            let q = Box::new(DisjunctionMaxQuery::with_tie_breaker(queries, tie));
            Ok(boosted(q, boost_of(kind, params)?))
        }
        // Nested documents are flattened into their parent, so the inner query applies as is.
        "nested" => {
            let params = object(kind, body)?;
            let inner = params
                .get("query")
                .ok_or_else(|| Error::parsing("[nested] requires 'query' field"))?;
            compile(ctx, inner)
        }
        _ => Err(Error::parsing(format!("unknown query [{kind}]"))),
    }
}

fn object<'a>(kind: &str, body: &'a Value) -> Result<&'a Map<String, Value>> {
    body.as_object().ok_or_else(|| {
        Error::parsing(format!(
            "[{kind}] query malformed, no start_object after query name"
        ))
    })
}

fn boost_of(kind: &str, params: &Map<String, Value>) -> Result<f32> {
    match params.get("boost") {
        None => Ok(1.0),
        Some(v) => double_from_json(v).map(|b| b as f32).ok_or_else(|| {
            Error::parsing(format!(
                "[{kind}] query malformed, [boost] must be a number"
            ))
        }),
    }
}

fn boosted(q: BoxQuery, boost: f32) -> BoxQuery {
    if boost == 1.0 {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

/// `{"match": {"field": "text"}}` or `{"match": {"field": {"query": "text", ...}}}`.
fn field_params<'a>(
    kind: &str,
    body: &'a Value,
    value_key: &str,
) -> Result<(&'a str, Map<String, Value>)> {
    let obj = object(kind, body)?;
    let mut field = None;
    let mut params = Map::new();
    for (key, value) in obj {
        // Some queries (terms, range in old clients) put `boost` beside the field.
        if key == "boost" || key == "_name" {
            params.insert(key.clone(), value.clone());
            continue;
        }
        if let Some(first) = field {
            return Err(Error::parsing(format!(
                "[{kind}] query doesn't support multiple fields, found [{first}] and [{key}]"
            )));
        }
        field = Some(key.as_str());
        match value {
            Value::Object(long_form) => {
                for (k, v) in long_form {
                    params.insert(k.clone(), v.clone());
                }
            }
            short => {
                params.insert(value_key.to_string(), short.clone());
            }
        }
    }
    let field = field
        .ok_or_else(|| Error::parsing(format!("[{kind}] query malformed, no field specified")))?;
    Ok((field, params))
}

fn check_params(kind: &str, params: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    for key in params.keys() {
        if !allowed.contains(&key.as_str()) && key != "boost" && key != "_name" {
            return Err(Error::parsing(format!(
                "[{kind}] query does not support [{key}]"
            )));
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum MatchKind {
    Match,
    Phrase,
    PhrasePrefix,
    BoolPrefix,
}

/// Options of a `match` on one field.
struct MatchOptions {
    and: bool,
    fuzziness: Option<Value>,
    minimum_should_match: Option<Value>,
    slop: u32,
    zero_terms_all: bool,
    /// multi_match skips fields the text cannot be converted to, as OpenSearch's `lenient`.
    lenient: bool,
    /// A search-time `analyzer` overriding the field's.
    analyzer: Option<&'static str>,
}

fn match_options(kind: &str, params: &Map<String, Value>) -> Result<MatchOptions> {
    let and = match params.get("operator").and_then(Value::as_str) {
        None => false,
        Some(op) if op.eq_ignore_ascii_case("or") => false,
        Some(op) if op.eq_ignore_ascii_case("and") => true,
        Some(op) => {
            return Err(Error::parsing(format!(
                "[{kind}] query malformed, unknown operator [{op}]"
            )));
        }
    };
    Ok(MatchOptions {
        and,
        fuzziness: params.get("fuzziness").cloned(),
        minimum_should_match: params.get("minimum_should_match").cloned(),
        slop: params.get("slop").and_then(Value::as_u64).unwrap_or(0) as u32,
        zero_terms_all: params.get("zero_terms_query").and_then(Value::as_str) == Some("all"),
        analyzer: match params.get("analyzer").and_then(Value::as_str) {
            Some(name) => Some(
                crate::opensearch::mapping::analyzer_name(Some(name), kind)
                    .map_err(|_| Error::parsing(format!("[{kind}] analyzer [{name}] not found")))?,
            ),
            None => None,
        },
        lenient: params
            .get("lenient")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn compile_match(ctx: &QueryContext, kind: &str, body: &Value, mk: MatchKind) -> Result<BoxQuery> {
    let (field, params) = field_params(kind, body, "query")?;
    check_params(
        kind,
        &params,
        &[
            "query",
            "operator",
            "fuzziness",
            "minimum_should_match",
            "slop",
            "zero_terms_query",
            "analyzer",
            "lenient",
            "prefix_length",
            "max_expansions",
            "fuzzy_transpositions",
            "auto_generate_synonyms_phrase_query",
        ],
    )?;
    let text = params
        .get("query")
        .ok_or_else(|| Error::parsing("No text specified for text query".to_string()))?;
    let opts = match_options(kind, &params)?;
    let q = match_field(ctx, field, text, mk, &opts)?;
    Ok(boosted(q, boost_of(kind, &params)?))
}

/// Analyzes `text` with the field's analyzer into (position, token).
fn analyze(
    ctx: &QueryContext,
    field: &FlatField,
    text: &str,
    analyzer: Option<&str>,
) -> Result<Vec<(usize, String)>> {
    let mut analyzer = match analyzer.and_then(|name| ctx.index.tokenizers().get(name)) {
        Some(a) => a,
        None => ctx.index.tokenizer_for_field(field.field)?,
    };
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push((token.position, token.text.clone()));
    }
    Ok(out)
}

fn match_field(
    ctx: &QueryContext,
    path: &str,
    value: &Value,
    mk: MatchKind,
    opts: &MatchOptions,
) -> Result<BoxQuery> {
    // Unmapped fields match nothing, as in OpenSearch.
    let Some(field) = ctx.mapping.field(path) else {
        return Ok(Box::new(EmptyQuery));
    };
    if field.ty != FieldType::Text {
        return match scalar_term(ctx, field, value) {
            Ok(term) => Ok(exact_term_query(field, term)),
            Err(_) if opts.lenient => Ok(Box::new(EmptyQuery)),
            Err(e) => Err(e),
        };
    }
    let text = text_from_json(value).ok_or_else(|| {
        Error::parsing("[match] unknown token [START_OBJECT] after [query]".to_string())
    })?;
    let tokens = analyze(ctx, field, &text, opts.analyzer)?;
    if tokens.is_empty() {
        return Ok(if opts.zero_terms_all {
            Box::new(AllQuery)
        } else {
            Box::new(EmptyQuery)
        });
    }
    let term = |t: &str| Term::from_field_text(field.field, t);
    match mk {
        MatchKind::Phrase | MatchKind::PhrasePrefix if tokens.len() > 1 => {
            let terms: Vec<(usize, Term)> = tokens.iter().map(|(pos, t)| (*pos, term(t))).collect();
            if mk == MatchKind::Phrase {
                Ok(Box::new(PhraseQuery::new_with_offset_and_slop(
                    terms, opts.slop,
                )))
            } else {
                Ok(Box::new(PhrasePrefixQuery::new_with_offset(terms)))
            }
        }
        MatchKind::PhrasePrefix => {
            let pattern = format!("{}.*", regex_escape(&tokens[0].1));
            Ok(Box::new(RegexQuery::from_pattern(&pattern, field.field)?))
        }
        MatchKind::Phrase => Ok(Box::new(TermQuery::new(
            term(&tokens[0].1),
            IndexRecordOption::WithFreqs,
        ))),
        MatchKind::Match | MatchKind::BoolPrefix => {
            let last = tokens.len() - 1;
            let mut subs: Vec<BoxQuery> = Vec::with_capacity(tokens.len());
            for (idx, (_, tok)) in tokens.iter().enumerate() {
                let q: BoxQuery = if mk == MatchKind::BoolPrefix && idx == last {
                    let pattern = format!("{}.*", regex_escape(tok));
                    Box::new(RegexQuery::from_pattern(&pattern, field.field)?)
                } else {
                    match fuzzy_distance(opts.fuzziness.as_ref(), tok)? {
                        Some(d) if d > 0 => Box::new(FuzzyTermQuery::new(term(tok), d, true)),
                        _ => Box::new(TermQuery::new(term(tok), IndexRecordOption::WithFreqs)),
                    }
                };
                subs.push(q);
            }
            if subs.len() == 1 {
                return Ok(subs.pop().unwrap_or_else(|| Box::new(EmptyQuery)));
            }
            let n = subs.len();
            if opts.and {
                return Ok(Box::new(BooleanQuery::new(
                    subs.into_iter().map(|q| (Occur::Must, q)).collect(),
                )));
            }
            let min = match &opts.minimum_should_match {
                Some(spec) => minimum_should_match(spec, n)?.max(1),
                None => 1,
            };
            Ok(Box::new(BooleanQuery::with_minimum_required_clauses(
                subs.into_iter().map(|q| (Occur::Should, q)).collect(),
                min,
            )))
        }
    }
}

/// OpenSearch fuzziness: `0|1|2`, `"AUTO"` (0 for 1-2 chars, 1 for 3-5, 2 beyond) or
/// `"AUTO:low,high"`.
fn fuzzy_distance(fuzziness: Option<&Value>, token: &str) -> Result<Option<u8>> {
    let Some(f) = fuzziness else {
        return Ok(None);
    };
    let spec = text_from_json(f).unwrap_or_default();
    let len = token.chars().count();
    let bad = || Error::parsing(format!("failed to parse fuzziness [{spec}]"));
    if let Some(rest) = spec
        .strip_prefix("AUTO")
        .or_else(|| spec.strip_prefix("auto"))
    {
        let (low, high) = match rest.strip_prefix(':') {
            Some(bounds) => {
                let (l, h) = bounds.split_once(',').ok_or_else(bad)?;
                (
                    l.trim().parse::<usize>().map_err(|_| bad())?,
                    h.trim().parse::<usize>().map_err(|_| bad())?,
                )
            }
            None if rest.is_empty() => (3, 6),
            None => return Err(bad()),
        };
        return Ok(Some(if len < low {
            0
        } else if len < high {
            1
        } else {
            2
        }));
    }
    let d = spec.parse::<f64>().map_err(|_| bad())?;
    Ok(Some(d.clamp(0.0, 2.0) as u8))
}

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

fn compile_multi_match(ctx: &QueryContext, params: &Map<String, Value>) -> Result<BoxQuery> {
    let kind = "multi_match";
    check_params(
        kind,
        params,
        &[
            "query",
            "fields",
            "type",
            "operator",
            "fuzziness",
            "minimum_should_match",
            "slop",
            "tie_breaker",
            "zero_terms_query",
            "analyzer",
            "lenient",
            "prefix_length",
            "max_expansions",
            "fuzzy_transpositions",
            "auto_generate_synonyms_phrase_query",
        ],
    )?;
    let text = params
        .get("query")
        .ok_or_else(|| Error::parsing("[multi_match] requires query value"))?;
    let specs: Vec<String> = match params.get("fields") {
        None => vec!["*".to_string()],
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(text_from_json).collect(),
        Some(_) => {
            return Err(Error::parsing(
                "[multi_match] query malformed, [fields] must be an array",
            ));
        }
    };
    let ty = params
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("best_fields");
    let mk = match ty {
        "best_fields" | "most_fields" | "cross_fields" => MatchKind::Match,
        "phrase" => MatchKind::Phrase,
        "phrase_prefix" => MatchKind::PhrasePrefix,
        "bool_prefix" => MatchKind::BoolPrefix,
        other => {
            return Err(Error::parsing(format!(
                "failed to parse [multi_match] query type [{other}]. unknown type."
            )));
        }
    };
    let mut opts = match_options(kind, params)?;
    let fields = expand_fields(ctx, &specs)?;
    // Wildcard-expanded field lists are lenient in OpenSearch; explicit ones are too here,
    // because a user searching "all fields" expects numbers to be skipped, not an error.
    opts.lenient = true;
    let mut subs = Vec::with_capacity(fields.len());
    for (path, boost) in fields {
        subs.push(boosted(match_field(ctx, &path, text, mk, &opts)?, boost));
    }
    let q: BoxQuery = match ty {
        "most_fields" | "cross_fields" | "bool_prefix" => Box::new(BooleanQuery::new(
            subs.into_iter().map(|q| (Occur::Should, q)).collect(),
        )),
        _ => {
            let tie = params
                .get("tie_breaker")
                .and_then(Value::as_f64)
                .unwrap_or(0.0) as f32;
            Box::new(DisjunctionMaxQuery::with_tie_breaker(subs, tie))
        }
    };
    Ok(boosted(q, boost_of(kind, params)?))
}

/// `["title^2", "desc*"]` -> mapped text/keyword paths with their boosts.
fn expand_fields(ctx: &QueryContext, specs: &[String]) -> Result<Vec<(String, f32)>> {
    let mut out = Vec::new();
    for spec in specs {
        let (pattern, boost) = match spec.split_once('^') {
            Some((p, b)) => (
                p,
                b.parse::<f32>()
                    .map_err(|_| Error::parsing(format!("failed to parse field boost [{spec}]")))?,
            ),
            None => (spec.as_str(), 1.0),
        };
        if pattern.contains('*') {
            for f in ctx.mapping.fields.values() {
                // `*` means every searchable text field; keyword sub-fields are left out as
                // OpenSearch's `index.query.default_field` does for multi-fields.
                let searchable = matches!(f.ty, FieldType::Text | FieldType::Keyword);
                let is_sub = f.ty == FieldType::Keyword
                    && f.path
                        .rsplit_once('.')
                        .is_some_and(|(parent, _)| ctx.mapping.field(parent).is_some());
                if searchable && !is_sub && glob_match(pattern, &f.path) {
                    out.push((f.path.clone(), boost));
                }
            }
        } else {
            out.push((pattern.to_string(), boost));
        }
    }
    Ok(out)
}

fn compile_query_string(
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
            json!({"bool": {"must": [query_string_dsl(ctx, inner, fields, and)], "boost": boost}})
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

/// Converts a JSON value to a term of the field's type.
fn scalar_term(ctx: &QueryContext, field: &FlatField, value: &Value) -> Result<Term> {
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

fn date_error(ctx: &QueryContext, field: &FlatField, shown: &str) -> Error {
    Error::QueryShard {
        index: ctx.index_name.to_string(),
        reason: format!(
            "failed to parse date field [{shown}] with format [strict_date_optional_time||epoch_millis]: [failed to parse date field [{shown}] with format [strict_date_optional_time||epoch_millis]] (field [{}])",
            field.path
        ),
    }
}

/// Dates in queries also accept date math anchored on `now` (`now-7d/d`).
fn parse_date_value(value: &Value, format: Option<&str>) -> Option<DateTime> {
    if let Some(s) = value.as_str()
        && let Some(rest) = s.strip_prefix("now")
    {
        return date_math(chrono::Utc::now(), rest);
    }
    // A custom format still accepts ISO and epoch millis, as OpenSearch's default does.
    date_with_format(value, format).or_else(|| date_from_json(value))
}

fn date_math(now: chrono::DateTime<chrono::Utc>, mut rest: &str) -> Option<DateTime> {
    use chrono::{Datelike, Duration, Months, TimeZone, Timelike};
    let mut t = now;
    while !rest.is_empty() {
        let op = rest.chars().next()?;
        rest = &rest[1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        rest = &rest[digits.len()..];
        let unit = rest.chars().next()?;
        rest = &rest[unit.len_utf8()..];
        if op == '/' {
            t = match unit {
                'y' => chrono::Utc
                    .with_ymd_and_hms(t.year(), 1, 1, 0, 0, 0)
                    .single()?,
                'M' => chrono::Utc
                    .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
                    .single()?,
                'w' => {
                    let d =
                        t.date_naive() - Duration::days(t.weekday().num_days_from_monday() as i64);
                    d.and_hms_opt(0, 0, 0)?.and_utc()
                }
                'd' => t.date_naive().and_hms_opt(0, 0, 0)?.and_utc(),
                'h' | 'H' => t.date_naive().and_hms_opt(t.hour(), 0, 0)?.and_utc(),
                'm' => t
                    .date_naive()
                    .and_hms_opt(t.hour(), t.minute(), 0)?
                    .and_utc(),
                's' => t.with_nanosecond(0)?,
                _ => return None,
            };
            continue;
        }
        let n: i64 = if digits.is_empty() {
            1
        } else {
            digits.parse().ok()?
        };
        let n = if op == '-' {
            -n
        } else if op == '+' {
            n
        } else {
            return None;
        };
        t = match unit {
            // Checked all the way: `now+99999999999y` must fail, not overflow.
            'y' | 'M' => {
                let months = if unit == 'y' { n.checked_mul(12)? } else { n };
                let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
                if months >= 0 {
                    t.checked_add_months(magnitude)?
                } else {
                    t.checked_sub_months(magnitude)?
                }
            }
            'w' => t.checked_add_signed(Duration::try_weeks(n)?)?,
            'd' => t.checked_add_signed(Duration::try_days(n)?)?,
            'h' | 'H' => t.checked_add_signed(Duration::try_hours(n)?)?,
            'm' => t.checked_add_signed(Duration::try_minutes(n)?)?,
            's' => t.checked_add_signed(Duration::try_seconds(n)?)?,
            _ => return None,
        };
    }
    date_from_millis(t.timestamp_millis())
}

/// Term queries on non-text fields score a constant 1.0, as OpenSearch's do.
fn exact_term_query(field: &FlatField, term: Term) -> BoxQuery {
    let q = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
    match field.ty {
        FieldType::Text | FieldType::Keyword => q,
        _ => Box::new(ConstScoreQuery::new(q, 1.0)),
    }
}

fn compile_term(ctx: &QueryContext, kind: &str, body: &Value) -> Result<BoxQuery> {
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

fn compile_terms(ctx: &QueryContext, params: &Map<String, Value>) -> Result<BoxQuery> {
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

fn compile_range(ctx: &QueryContext, kind: &str, body: &Value) -> Result<BoxQuery> {
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
enum Pattern {
    Prefix,
    Wildcard,
    Regexp,
}

fn compile_pattern(
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
                    type_name(f.ty)
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

fn compile_fuzzy(ctx: &QueryContext, kind: &str, body: &Value) -> Result<BoxQuery> {
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

fn clauses(ctx: &QueryContext, value: Option<&Value>) -> Result<Vec<BoxQuery>> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|q| compile(ctx, q)).collect(),
        Some(q @ Value::Object(_)) => Ok(vec![compile(ctx, q)?]),
        Some(_) => Err(Error::parsing(
            "[bool] query malformed, clauses must be objects or arrays of objects",
        )),
    }
}

fn compile_bool(ctx: &QueryContext, params: &Map<String, Value>) -> Result<BoxQuery> {
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

pub fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Keyword => "keyword",
        FieldType::Long => "long",
        FieldType::Double => "double",
        FieldType::Date => "date",
        FieldType::Boolean => "boolean",
    }
}

/// Escapes regex metacharacters for tantivy's FST regex engine.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~\"<>@".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn wildcard_to_regex(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push_str(&regex_escape(&next.to_string()));
                }
            }
            c => out.push_str(&regex_escape(&c.to_string())),
        }
    }
    out
}

/// `*`-glob matching, used for field patterns and `_source` filters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == t[ti] || p[pi] == '?') {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
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

    #[test]
    fn fuzziness_auto_follows_term_length() {
        let auto = json!("AUTO");
        assert_eq!(fuzzy_distance(Some(&auto), "ab").unwrap(), Some(0));
        assert_eq!(fuzzy_distance(Some(&auto), "abc").unwrap(), Some(1));
        assert_eq!(fuzzy_distance(Some(&auto), "abcdef").unwrap(), Some(2));
        assert_eq!(
            fuzzy_distance(Some(&json!("AUTO:2,4")), "abcd").unwrap(),
            Some(2)
        );
        assert_eq!(fuzzy_distance(Some(&json!(1)), "abcdef").unwrap(), Some(1));
        assert!(fuzzy_distance(Some(&json!("lots")), "a").is_err());
    }

    #[test]
    fn globs_and_wildcards() {
        assert!(glob_match("ti*", "title"));
        assert!(glob_match("*.city", "address.city"));
        assert!(!glob_match("ti*x", "title"));
        assert_eq!(wildcard_to_regex("bl?e*.x"), "bl.e.*\\.x");
    }

    #[test]
    fn date_math_rounds_and_offsets() {
        use chrono::TimeZone;
        let now = chrono::Utc
            .with_ymd_and_hms(2024, 3, 15, 13, 45, 10)
            .unwrap();
        let ms = |s: &str| date_math(now, s).map(|d| d.into_timestamp_millis());
        let at = |y, m, d, h| {
            chrono::Utc
                .with_ymd_and_hms(y, m, d, h, 0, 0)
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(ms("-1d/d"), Some(at(2024, 3, 14, 0)));
        assert_eq!(ms("/M"), Some(at(2024, 3, 1, 0)));
        assert_eq!(ms("+2h/h"), Some(at(2024, 3, 15, 15)));
        assert_eq!(ms("-1x"), None);
        assert_eq!(ms("+99999999999y"), None);
        assert_eq!(ms("-99999999999999999d"), None);
        assert_eq!(ms("+9999999999999999999s"), None);
    }
}
