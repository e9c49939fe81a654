//! `$util.transform`: Amplify-style filter inputs to DynamoDB expressions,
//! OpenSearch queries and subscription filters.
//!
//! The expression shapes (placeholder names, nesting, parentheses) follow the
//! DG's examples; where the DG shows none, they follow what the Amplify
//! simulator produces, which Amplify-generated templates are tested against.

use super::dynamodb::to_dynamodb;
use super::json::to_json_string;
use super::{Call, CallError};
use crate::vtl::value::{Map, Value};

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    match c.method {
        "toDynamoDBFilterExpression" | "toDynamoDBConditionExpression" => {
            let sig = "(Map)";
            c.arity(1, 1, sig)?;
            // Like `toElasticsearchQueryDSL`: no filter, no expression.
            if c.arg(0).is_null() {
                return Ok(Value::Null);
            }
            expression_json(&c.map(0, sig)?, Style::Vtl)
        }
        "toElasticsearchQueryDSL" => {
            let sig = "toElasticsearchQueryDSL(Map)";
            c.arity(1, 1, sig)?;
            if c.arg(0).is_null() {
                return Ok(Value::Null);
            }
            let filter = c.map(0, sig)?;
            let query = and_all(query_dsl(&filter).map_err(CallError::invalid)?);
            Ok(Value::str(to_json_string(&query)))
        }
        "toSubscriptionFilter" => {
            let sig = "toSubscriptionFilter(Map[, List[, Map]])";
            c.arity(1, 3, sig)?;
            let filter = c.map(0, sig)?;
            let ignored: Vec<String> = match c.arg(1) {
                Value::Null => Vec::new(),
                Value::List(items) => items.borrow().iter().map(|v| v.to_string()).collect(),
                _ => return Err(c.invalid(sig)),
            };
            let rules = match c.arg(2) {
                Value::Null => None,
                Value::Map(m) => Some(m.borrow().clone()),
                _ => return Err(c.invalid(sig)),
            };
            subscription_filter(&filter, &ignored, rules.as_ref()).map_err(CallError::invalid)
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Why a filter input could not be translated.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FilterError {
    #[error("Expected a map for {what}, got {got}")]
    NotAMap { what: String, got: &'static str },
    #[error("Unsupported size operator '{op}' on field '{field}'")]
    SizeOperator { op: String, field: String },
    #[error("Unsupported filter operator '{op}' on field '{field}'")]
    Operator { op: String, field: String },
    #[error("'between' needs a list of two values")]
    Between,
    #[error("'{0}' needs a list of filters")]
    NotAList(String),
    #[error("'range' on '{0}' needs a list of two values")]
    Range(String),
    #[error("Could not construct an Elasticsearch Query DSL from {op} and {value}")]
    QueryDsl { op: String, value: String },
}

/// How an expression is printed. The JS runtime's helpers print what
/// AppSync's EvaluateCode records (`(contains(#title,:title_contains))`:
/// every field's condition in parentheses, no space after a comma); the
/// VTL ones print the developer guide's VTL examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Vtl,
    Js,
}

/// `toDynamoDBFilterExpression` / `toDynamoDBConditionExpression`: the
/// expression object as JSON text.
pub(crate) fn expression_json(filter: &Map, style: Style) -> Result<Value, CallError> {
    let expr = filter_expression(filter, None, None, style).map_err(CallError::invalid)?;
    let mut out = Map::new();
    out.insert("expression".into(), Value::str(expr.parts.join(" ")));
    out.insert("expressionNames".into(), Value::map(expr.names));
    out.insert("expressionValues".into(), Value::map(expr.values));
    Ok(Value::str(to_json_string(&Value::map(out))))
}

/// A DynamoDB expression under construction: space-separated parts.
#[derive(Default)]
struct Expr {
    parts: Vec<String>,
    names: Map,
    values: Map,
}

impl Expr {
    fn join(mut self, other: Expr, joiner: &str) -> Expr {
        if other.parts.is_empty() {
            return self;
        }
        if !self.parts.is_empty() {
            self.parts.push(joiner.to_owned());
        }
        self.parts.extend(other.parts);
        self.names.extend(other.names);
        self.values.extend(other.values);
        self
    }

    /// Parenthesizes a compound expression.
    fn scoped(mut self) -> Expr {
        if self.parts.len() > 1 {
            self.parts = vec![format!("({})", self.parts.join(" "))];
        }
        self
    }

    /// A field's condition: parenthesized when compound, and always in the
    /// JS style.
    fn field_scoped(mut self, style: Style) -> Expr {
        if style == Style::Js && !self.parts.is_empty() {
            self.parts = vec![format!("({})", self.parts.join(" "))];
            return self;
        }
        self.scoped()
    }
}

fn placeholder(prefix: Option<&str>, field: &str, op: &str) -> String {
    let parts: Vec<&str> = [prefix.unwrap_or(""), field, op]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    format!(":{}", parts.join("_"))
}

fn nested_prefix(prefix: Option<&str>, name: &str, idx: Option<usize>) -> String {
    let mut parts: Vec<String> = prefix.map(str::to_owned).into_iter().collect();
    parts.push(name.to_owned());
    parts.extend(idx.map(|i| i.to_string()));
    parts.join("_")
}

fn as_map(v: &Value, what: &str) -> Result<Map, FilterError> {
    match v {
        Value::Map(m) => Ok(m.borrow().clone()),
        other => Err(FilterError::NotAMap {
            what: what.to_owned(),
            got: other.type_of(),
        }),
    }
}

/// Translates a `Model...FilterInput` (`{"title":{"contains":"x"}, "or":[...]}`).
/// `field` is set inside a field's condition map.
fn filter_expression(
    filter: &Map,
    prefix: Option<&str>,
    field: Option<&str>,
    style: Style,
) -> Result<Expr, FilterError> {
    let mut sum = Expr::default();
    for (name, value) in filter {
        let sub = match (name.as_str(), field) {
            ("and" | "or", _) => {
                let joiner = if name == "and" { "AND" } else { "OR" };
                match value {
                    Value::List(items) => {
                        let mut acc = Expr::default();
                        for (idx, item) in items.borrow().iter().enumerate() {
                            let p = nested_prefix(prefix, name, Some(idx));
                            acc = acc.join(
                                filter_expression(&as_map(item, name)?, Some(&p), None, style)?,
                                joiner,
                            );
                        }
                        acc.scoped()
                    }
                    other => {
                        let p = nested_prefix(prefix, name, None);
                        filter_expression(&as_map(other, name)?, Some(&p), None, style)?
                    }
                }
            }
            ("not", _) => {
                let p = nested_prefix(prefix, name, None);
                let mut inner =
                    filter_expression(&as_map(value, name)?, Some(&p), None, style)?.scoped();
                inner.parts.insert(0, "NOT".into());
                inner
            }
            (op, Some(field)) => condition(field, op, value, prefix, style)?,
            (field, None) => filter_expression(&as_map(value, field)?, prefix, Some(field), style)?
                .field_scoped(style),
        };
        sum = sum.join(sub, "AND");
    }
    Ok(sum)
}

/// One operator applied to one field.
fn condition(
    field: &str,
    op: &str,
    value: &Value,
    prefix: Option<&str>,
    style: Style,
) -> Result<Expr, FilterError> {
    let comma = match style {
        Style::Vtl => ", ",
        Style::Js => ",",
    };
    let name = format!("#{field}");
    let mut expr = Expr::default();
    expr.names.insert(name.clone(), Value::str(field));
    let mut bind = |suffix: &str, v: &Value| {
        let key = placeholder(prefix, field, suffix);
        expr.values.insert(key.clone(), to_dynamodb(v));
        key
    };
    let text = match op {
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
            let sym = comparator(op);
            format!("{name} {sym} {}", bind(op, value))
        }
        "contains" | "notContains" | "beginsWith" => {
            let func = match op {
                "contains" => "contains",
                "notContains" => "NOT contains",
                _ => "begins_with",
            };
            format!("{func}({name}{comma}{})", bind(op, value))
        }
        "between" => {
            let (lo, hi) = pair(value)?;
            let (lo, hi) = (bind("between_1", &lo), bind("between_2", &hi));
            format!("{name} BETWEEN {lo} AND {hi}")
        }
        // DynamoDB rejects unused expression values, so none is bound here.
        "attributeExists" => {
            let func = if value.is_truthy() {
                "attribute_exists"
            } else {
                "attribute_not_exists"
            };
            format!("{func}({name})")
        }
        "attributeType" => format!("attribute_type({name}{comma}{})", bind(op, value)),
        "size" => {
            let ops = as_map(value, "size")?;
            let mut parts = Vec::new();
            for (size_op, v) in &ops {
                let part = match size_op.as_str() {
                    "between" => {
                        let (lo, hi) = pair(v)?;
                        let lo = bind("size_between_1", &lo);
                        let hi = bind("size_between_2", &hi);
                        format!("size({name}) BETWEEN {lo} AND {hi}")
                    }
                    "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
                        let key = bind(&format!("size_{size_op}"), v);
                        format!("size({name}) {} {key}", comparator(size_op))
                    }
                    other => {
                        return Err(FilterError::SizeOperator {
                            op: other.to_owned(),
                            field: field.to_owned(),
                        });
                    }
                };
                parts.push(part);
            }
            if parts.len() > 1 {
                format!("({})", parts.join(" AND "))
            } else {
                parts.join(" AND ")
            }
        }
        other => {
            return Err(FilterError::Operator {
                op: other.to_owned(),
                field: field.to_owned(),
            });
        }
    };
    expr.parts.push(text);
    Ok(expr)
}

fn comparator(op: &str) -> &'static str {
    match op {
        "eq" => "=",
        "ne" => "<>",
        "lt" => "<",
        "le" => "<=",
        "gt" => ">",
        _ => ">=",
    }
}

fn pair(v: &Value) -> Result<(Value, Value), FilterError> {
    match v {
        Value::List(items) if items.borrow().len() == 2 => {
            let items = items.borrow();
            Ok((items[0].clone(), items[1].clone()))
        }
        _ => Err(FilterError::Between),
    }
}

fn obj(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_owned(), v);
    Value::map(m)
}

fn and_all(mut clauses: Vec<Value>) -> Value {
    if clauses.len() == 1 {
        clauses.remove(0)
    } else {
        obj("bool", obj("must", Value::list(clauses)))
    }
}

fn not(clause: Value) -> Value {
    obj("bool", obj("must_not", clause))
}

/// One query clause per top-level key; the caller ANDs them.
fn query_dsl(filter: &Map) -> Result<Vec<Value>, FilterError> {
    let mut out = Vec::new();
    for (key, value) in filter {
        match key.to_ascii_lowercase().as_str() {
            "and" | "or" => {
                let Value::List(items) = value else {
                    return Err(FilterError::NotAList(key.to_owned()));
                };
                let subs = items
                    .borrow()
                    .iter()
                    .map(|item| query_dsl(&as_map(item, key)?).map(and_all))
                    .collect::<Result<Vec<_>, FilterError>>()?;
                out.push(if key.eq_ignore_ascii_case("and") {
                    obj("bool", obj("must", Value::list(subs)))
                } else {
                    let mut b = Map::new();
                    b.insert("should".into(), Value::list(subs));
                    b.insert("minimum_should_match".into(), Value::Int(1));
                    obj("bool", Value::map(b))
                });
            }
            "not" => out.push(not(and_all(query_dsl(&as_map(value, key)?)?))),
            _ => {
                let conditions = as_map(value, key)?;
                let clauses = conditions
                    .iter()
                    .map(|(op, v)| field_query(key, op, v))
                    .collect::<Result<Vec<_>, FilterError>>()?;
                out.push(and_all(clauses));
            }
        }
    }
    Ok(out)
}

fn field_query(field: &str, op: &str, v: &Value) -> Result<Value, FilterError> {
    let on_field = |kind: &str| obj(kind, obj(field, v.clone()));
    let range = |bound: &str| obj("range", obj(field, obj(bound, v.clone())));
    Ok(match op {
        "eq" => on_field("term"),
        "ne" => not(on_field("term")),
        "match" => on_field("match"),
        "matchPhrase" => on_field("match_phrase"),
        "matchPhrasePrefix" => on_field("match_phrase_prefix"),
        "multiMatch" => on_field("multi_match"),
        "wildcard" => on_field("wildcard"),
        "regexp" => on_field("regexp"),
        "gt" | "gte" | "lt" | "lte" => range(op),
        "exists" => {
            let exists = obj("exists", obj("field", Value::str(field)));
            if v.is_truthy() { exists } else { not(exists) }
        }
        "range" => {
            let (lo, hi) = pair(v).map_err(|_| FilterError::Range(field.to_owned()))?;
            let mut bounds = Map::new();
            bounds.insert("gte".into(), lo);
            bounds.insert("lte".into(), hi);
            obj("range", obj(field, Value::map(bounds)))
        }
        _ => {
            return Err(FilterError::QueryDsl {
                op: op.to_owned(),
                value: v.to_string(),
            });
        }
    })
}

/// Filter groups in disjunctive normal form: OR of ANDed filters.
type Groups = Vec<Vec<Value>>;

fn cross(a: Groups, b: Groups) -> Groups {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in &a {
        for y in &b {
            out.push(x.iter().chain(y.iter()).cloned().collect());
        }
    }
    out
}

fn subscription_groups(filter: &Map, ignored: &[String]) -> Result<Groups, FilterError> {
    let mut groups: Groups = vec![Vec::new()];
    for (key, value) in filter {
        if ignored.iter().any(|i| i == key) {
            continue;
        }
        let sub = match key.as_str() {
            "and" | "or" => {
                let Value::List(items) = value else {
                    return Err(FilterError::NotAList(key.to_owned()));
                };
                let parts = items
                    .borrow()
                    .iter()
                    .map(|item| subscription_groups(&as_map(item, key)?, &[]))
                    .collect::<Result<Vec<_>, FilterError>>()?;
                if key == "and" {
                    parts.into_iter().fold(vec![Vec::new()], cross)
                } else {
                    parts.into_iter().flatten().collect()
                }
            }
            _ => {
                let conditions = as_map(value, key)?;
                let filters = conditions
                    .iter()
                    .map(|(op, v)| {
                        let mut f = Map::new();
                        f.insert("fieldName".into(), Value::str(key.as_str()));
                        f.insert("operator".into(), Value::str(op.as_str()));
                        f.insert("value".into(), v.clone());
                        Value::map(f)
                    })
                    .collect();
                vec![filters]
            }
        };
        groups = cross(groups, sub);
    }
    Ok(groups)
}

/// `{"filterGroup":[{"filters":[{fieldName, operator, value}]}]}`. Conditions
/// on one field and across fields are ANDed (as in the DynamoDB and OpenSearch
/// helpers); `or` lists become separate groups. Each entry of `rules` is an
/// alternative, and every group must satisfy one of them.
fn subscription_filter(
    filter: &Map,
    ignored: &[String],
    rules: Option<&Map>,
) -> Result<Value, FilterError> {
    let mut groups = subscription_groups(filter, ignored)?;
    if let Some(rules) = rules {
        let mut alternatives: Groups = Vec::new();
        for (key, value) in rules {
            let mut one = Map::new();
            one.insert(key.clone(), value.clone());
            alternatives.extend(subscription_groups(&one, &[])?);
        }
        if !alternatives.is_empty() {
            groups = cross(groups, alternatives);
        }
    }
    let groups = groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|filters| obj("filters", Value::list(filters)))
        .collect();
    Ok(obj("filterGroup", Value::list(groups)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, check, run, show};
    use crate::vtl::runtime::{Host, RenderState};

    /// Shows a transform result as pretty JSON for a snapshot.
    fn pretty(method: &str, args: &str) -> String {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        let res = run(&mut host, "util.transform", method, args);
        match res {
            Ok(crate::vtl::value::Value::Str(s)) => {
                match serde_json::from_str::<serde_json::Value>(&s) {
                    Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_default(),
                    Err(_) => s.to_string(),
                }
            }
            Ok(v) => serde_json::to_string_pretty(&v.to_json()).unwrap_or_default(),
            other => show(&other),
        }
    }

    #[test]
    fn dg_examples() {
        check(
            "util.transform",
            "toDynamoDBFilterExpression",
            r#"[{"title":{"contains":"Hello World"}}]"#,
            r##""{\"expression\":\"contains(#title, :title_contains)\",\"expressionNames\":{\"#title\":\"title\"},\"expressionValues\":{\":title_contains\":{\"S\":\"Hello World\"}}}""##,
        );
        let es = pretty(
            "toElasticsearchQueryDSL",
            r#"[{"upvotes":{"ne":15,"range":[10,20]},"title":{"eq":"hihihi","wildcard":"h*i"}}]"#,
        );
        let want: serde_json::Value = serde_json::from_str(
            r#"{"bool":{"must":[{"bool":{"must":[{"bool":{"must_not":{"term":{"upvotes":15}}}},
            {"range":{"upvotes":{"gte":10,"lte":20}}}]}},{"bool":{"must":[{"term":{"title":"hihihi"}},
            {"wildcard":{"title":"h*i"}}]}}]}}"#,
        )
        .expect("json");
        assert_eq!(es, serde_json::to_string_pretty(&want).expect("json"));
    }

    #[test]
    fn filter_expressions() {
        let cases = [
            (
                "ops",
                r#"[{"a":{"eq":1,"ne":2},"b":{"lt":3,"le":4,"gt":5,"ge":6}}]"#,
            ),
            (
                "functions",
                r#"[{"a":{"beginsWith":"x","notContains":"y"},"b":{"between":[1,5]},"c":{"attributeExists":false},"d":{"attributeType":"S"},"e":{"size":{"gt":2,"between":[1,3]}}}]"#,
            ),
            (
                "nesting",
                r#"[{"or":[{"a":{"eq":1}},{"and":[{"b":{"eq":2}},{"c":{"eq":3}}]}],"not":{"d":{"eq":4}}}]"#,
            ),
            ("single_or", r#"[{"or":[{"a":{"eq":"x"}}]}]"#),
            ("and_map", r#"[{"and":{"a":{"eq":"x"},"b":{"eq":"y"}}}]"#),
        ];
        let mut out = String::new();
        for (name, args) in cases {
            out.push_str(&format!(
                "## {name}: {args}\n{}\n\n",
                pretty("toDynamoDBFilterExpression", args)
            ));
        }
        out.push_str(&format!(
            "## condition: attribute_not_exists\n{}\n",
            pretty(
                "toDynamoDBConditionExpression",
                r#"[{"id":{"attributeExists":false},"version":{"eq":3}}]"#
            )
        ));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn filter_errors() {
        let cases = [
            (
                "toDynamoDBFilterExpression",
                r#"[{"a":{"like":"x"}}]"#,
                "!Invalid: Unsupported filter operator 'like' on field 'a'",
            ),
            (
                "toDynamoDBFilterExpression",
                r#"[{"a":{"between":[1]}}]"#,
                "!Invalid: 'between' needs a list of two values",
            ),
            (
                "toDynamoDBFilterExpression",
                r#"[{"a":5}]"#,
                "!Invalid: Expected a map for a, got Number",
            ),
            (
                "toDynamoDBFilterExpression",
                r#"["a"]"#,
                "!Invalid: Invalid arguments for $util.transform.toDynamoDBFilterExpression(String): expected (Map)",
            ),
            ("toElasticsearchQueryDSL", "[null]", "null"),
            ("toDynamoDBFilterExpression", "[null]", "null"),
            (
                "toElasticsearchQueryDSL",
                r#"[{"a":{"near":1}}]"#,
                "!Invalid: Could not construct an Elasticsearch Query DSL from near and 1",
            ),
            (
                "toSubscriptionFilter",
                r#"[{"a":{"eq":1}}, "x"]"#,
                "!Invalid: Invalid arguments for $util.transform.toSubscriptionFilter(Map, String): expected toSubscriptionFilter(Map[, List[, Map]])",
            ),
        ];
        for (method, args, want) in cases {
            check("util.transform", method, args, want);
        }
    }

    #[test]
    fn opensearch_queries() {
        let args = r#"[{"or":[{"title":{"matchPhrase":"a b"}},{"views":{"gte":10,"lt":20}}],
            "not":{"draft":{"exists":true}},"body":{"match":"x","matchPhrasePrefix":"y","regexp":"z.*","exists":false}}]"#;
        insta::assert_snapshot!(pretty("toElasticsearchQueryDSL", args));
    }

    #[test]
    fn subscription_filters() {
        let cases = [
            (
                "simple",
                r#"[{"severity":{"ge":3},"type":{"eq":"Security","ne":"Other"}}]"#,
            ),
            (
                "or_groups",
                r#"[{"group":{"eq":"a"},"or":[{"severity":{"ge":3}},{"type":{"in":["x","y"]}}]}]"#,
            ),
            (
                "ignored",
                r#"[{"owner":{"eq":"me"},"type":{"eq":"t"}}, ["owner"]]"#,
            ),
            (
                "rules",
                r#"[{"type":{"eq":"t"}}, [], {"owner":{"eq":"me"},"groups":{"containsAny":["admin"]}}]"#,
            ),
        ];
        let mut out = String::new();
        for (name, args) in cases {
            let mut host = Host::seeded(NOW, 0);
            let mut host = RenderState::new(&mut host);
            let res = run(&mut host, "util.transform", "toSubscriptionFilter", args);
            out.push_str(&format!("## {name}: {args}\n{}\n\n", show(&res)));
        }
        insta::assert_snapshot!(out);
    }
}
