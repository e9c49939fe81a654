//! Full-text queries: `match` and its phrase and prefix forms, `multi_match`.

use serde_json::{Map, Value};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, DisjunctionMaxQuery, EmptyQuery, FuzzyTermQuery, Occur,
    PhrasePrefixQuery, PhraseQuery, RegexQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::opensearch::dsl::compound::minimum_should_match;
use crate::opensearch::dsl::patterns::{glob_match, regex_escape};
use crate::opensearch::dsl::term_level::{exact_term_query, scalar_term};
use crate::opensearch::dsl::{
    BoxQuery, QueryContext, boost_of, boosted, check_params, field_params,
};
use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::{FieldType, FlatField, text_from_json};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum MatchKind {
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

/// The options `match` takes; `multi_match` takes them too.
const MATCH_PARAMS: &[&str] = &[
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
];

pub(super) fn compile_match(
    ctx: &QueryContext,
    kind: &str,
    body: &Value,
    mk: MatchKind,
) -> Result<BoxQuery> {
    let (field, params) = field_params(kind, body, "query")?;
    check_params(kind, &params, MATCH_PARAMS)?;
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
pub(super) fn fuzzy_distance(fuzziness: Option<&Value>, token: &str) -> Result<Option<u8>> {
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

pub(super) fn compile_multi_match(
    ctx: &QueryContext,
    params: &Map<String, Value>,
) -> Result<BoxQuery> {
    let kind = "multi_match";
    let allowed: Vec<&str> = MATCH_PARAMS
        .iter()
        .chain(&["fields", "type", "tie_breaker"])
        .copied()
        .collect();
    check_params(kind, params, &allowed)?;
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
pub(super) fn expand_fields(ctx: &QueryContext, specs: &[String]) -> Result<Vec<(String, f32)>> {
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
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
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
}
