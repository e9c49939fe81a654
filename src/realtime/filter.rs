//! Enhanced subscription filters: the `filterJsonObject` that
//! `extensions.setSubscriptionFilter` and `setSubscriptionInvalidationFilter`
//! receive, checked against AppSync's limits once, then evaluated against
//! every published payload.
//!
//! `{"filterGroup": [{"filters": [{"fieldName", "operator", "value"}]}]}`:
//! the filters of one group are AND-ed, the groups OR-ed. A dotted
//! `fieldName` reaches nested fields.

use serde_json::Value as Json;

/// AppSync's limits on one filter object.
pub const MAX_FIELDS_PER_FILTERS: usize = 5;
pub const MAX_FILTERS_PER_GROUP: usize = 10;
pub const MAX_IN_VALUES: usize = 5;
pub const MAX_CONTAINS_ANY_VALUES: usize = 20;
pub const MAX_STRING_LENGTH: usize = 256;
/// Deeper `fieldName`s are ignored, as AppSync ignores them.
pub const MAX_DEPTH: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
    BeginsWith,
    In,
    NotIn,
    Between,
    ContainsAny,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        Some(match name {
            "eq" => Operator::Eq,
            "ne" => Operator::Ne,
            "lt" => Operator::Lt,
            "le" => Operator::Le,
            "gt" => Operator::Gt,
            "ge" => Operator::Ge,
            "contains" => Operator::Contains,
            "notContains" => Operator::NotContains,
            "beginsWith" => Operator::BeginsWith,
            "in" => Operator::In,
            "notIn" => Operator::NotIn,
            "between" => Operator::Between,
            "containsAny" => Operator::ContainsAny,
            _ => return None,
        })
    }
}

/// One `{fieldName, operator, value}` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The path into the payload; `None` when deeper than [`MAX_DEPTH`]
    /// (the rule then holds for every payload).
    pub path: Option<Vec<String>>,
    pub operator: Operator,
    pub value: Json,
}

/// A checked filter object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubscriptionFilter {
    /// Each group's rules; a payload matches when every rule of some group
    /// holds.
    pub groups: Vec<Vec<Rule>>,
}

/// Why a filter object was refused. AppSync's exact wording for these is
/// not documented; the limits are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("the subscription filter must be an object with a `filterGroup` list")]
    Shape,
    #[error("filter {group}.{index}: {message}")]
    Rule {
        group: usize,
        index: usize,
        message: String,
    },
    /// AppSync's message, as clients observe it (amplify-flutter#6142).
    #[error("Filters exceed maximum attributes limit {MAX_FIELDS_PER_FILTERS} for subscription")]
    TooManyFields { group: usize, count: usize },
    /// AppSync's message starts so (amplify-js matches the prefix); the
    /// rest is ours.
    #[error(
        "Filters combination exceed maximum limit {MAX_FILTERS_PER_GROUP} for subscription ({count} once `in` values are expanded)"
    )]
    TooManyFilters { count: usize },
    /// AppSync's message, as clients observe it (amplify-category-api#740).
    #[error("subscription exceeds maximum value limit {limit} for operator `{operator}`.")]
    TooManyValues {
        operator: &'static str,
        limit: usize,
    },
}

fn string_too_long(value: &Json) -> bool {
    match value {
        Json::String(s) => s.chars().count() > MAX_STRING_LENGTH,
        Json::Array(items) => items.iter().any(string_too_long),
        _ => false,
    }
}

impl SubscriptionFilter {
    /// Checks a filter object against AppSync's limits.
    pub fn parse(object: &Json) -> Result<SubscriptionFilter, FilterError> {
        let groups = object
            .get("filterGroup")
            .and_then(Json::as_array)
            .ok_or(FilterError::Shape)?;
        let mut parsed = Vec::with_capacity(groups.len());
        // Each value of an `in` counts as its own filter, as AppSync expands it.
        let mut expanded = 0;
        for (g, group) in groups.iter().enumerate() {
            let filters = group
                .get("filters")
                .and_then(Json::as_array)
                .ok_or(FilterError::Shape)?;
            let mut rules = Vec::with_capacity(filters.len());
            let mut names: Vec<&str> = Vec::new();
            let mut in_values = 1;
            for (i, filter) in filters.iter().enumerate() {
                let problem = |message: String| FilterError::Rule {
                    group: g,
                    index: i,
                    message,
                };
                let name = filter
                    .get("fieldName")
                    .and_then(Json::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| problem("`fieldName` must be a non-empty string".into()))?;
                let operator_name = filter
                    .get("operator")
                    .and_then(Json::as_str)
                    .ok_or_else(|| problem("`operator` must be a string".into()))?;
                let operator = Operator::parse(operator_name)
                    .ok_or_else(|| problem(format!("unknown operator `{operator_name}`")))?;
                let value = filter.get("value").cloned().unwrap_or(Json::Null);
                if let Some(limit) = value_limit(operator)
                    && value.as_array().is_some_and(|items| items.len() > limit)
                {
                    return Err(FilterError::TooManyValues {
                        operator: operator_name_of(operator),
                        limit,
                    });
                }
                if let Some(message) = value_problem(operator, &value) {
                    return Err(problem(message));
                }
                if string_too_long(&value) {
                    return Err(problem(format!(
                        "string values are at most {MAX_STRING_LENGTH} characters"
                    )));
                }
                if !names.contains(&name) {
                    names.push(name);
                }
                if operator == Operator::In {
                    in_values *= value.as_array().map_or(1, Vec::len).max(1);
                }
                let segments: Vec<String> = name.split('.').map(str::to_owned).collect();
                rules.push(Rule {
                    path: (segments.len() <= MAX_DEPTH).then_some(segments),
                    operator,
                    value,
                });
            }
            if names.len() > MAX_FIELDS_PER_FILTERS {
                return Err(FilterError::TooManyFields {
                    group: g,
                    count: names.len(),
                });
            }
            expanded += rules.len().max(1) * in_values;
            parsed.push(rules);
        }
        if expanded > MAX_FILTERS_PER_GROUP {
            return Err(FilterError::TooManyFilters { count: expanded });
        }
        Ok(SubscriptionFilter { groups: parsed })
    }

    /// Whether `payload` passes: some group whose rules all hold. A filter
    /// with no group passes everything.
    pub fn matches(&self, payload: &Json) -> bool {
        // AppSync ignores filters on a payload that is a list at the top.
        if self.groups.is_empty() || payload.is_array() {
            return true;
        }
        self.groups
            .iter()
            .any(|rules| rules.iter().all(|rule| rule.holds(payload)))
    }
}

/// How many values AppSync allows in a list operator's `value`.
fn value_limit(operator: Operator) -> Option<usize> {
    match operator {
        Operator::In | Operator::NotIn => Some(MAX_IN_VALUES),
        Operator::ContainsAny => Some(MAX_CONTAINS_ANY_VALUES),
        _ => None,
    }
}

fn operator_name_of(operator: Operator) -> &'static str {
    match operator {
        Operator::In => "in",
        Operator::NotIn => "notIn",
        Operator::ContainsAny => "containsAny",
        _ => "",
    }
}

/// What is wrong with a rule's `value` for its operator, if anything.
fn value_problem(operator: Operator, value: &Json) -> Option<String> {
    let scalar = matches!(value, Json::String(_) | Json::Number(_) | Json::Bool(_));
    match operator {
        Operator::Eq | Operator::Ne if !scalar => {
            Some("`value` must be a string, number or boolean".into())
        }
        Operator::Lt
        | Operator::Le
        | Operator::Gt
        | Operator::Ge
        | Operator::Contains
        | Operator::NotContains
            if !matches!(value, Json::String(_) | Json::Number(_)) =>
        {
            Some("`value` must be a string or a number".into())
        }
        Operator::BeginsWith if !value.is_string() => Some("`value` must be a string".into()),
        Operator::In | Operator::NotIn => match value.as_array() {
            Some(items) if !items.is_empty() && items.len() <= MAX_IN_VALUES => None,
            _ => Some(format!(
                "`value` must be a list of 1 to {MAX_IN_VALUES} values"
            )),
        },
        Operator::ContainsAny => match value.as_array() {
            Some(items) if !items.is_empty() && items.len() <= MAX_CONTAINS_ANY_VALUES => None,
            _ => Some(format!(
                "`value` must be a list of 1 to {MAX_CONTAINS_ANY_VALUES} values"
            )),
        },
        Operator::Between => match value.as_array() {
            Some(items) if items.len() == 2 => None,
            _ => Some("`value` must be a list of two values".into()),
        },
        _ => None,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(a: &Json, b: &Json) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Json::String(x), Json::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn contains(field: &Json, value: &Json) -> bool {
    match (field, value) {
        (Json::String(text), Json::String(part)) => text.contains(part.as_str()),
        (Json::Array(items), _) => items.iter().any(|item| equal(item, value)),
        _ => false,
    }
}

impl Rule {
    fn holds(&self, payload: &Json) -> bool {
        let Some(path) = &self.path else {
            return true;
        };
        let mut field = Some(payload);
        for segment in path {
            field = field.and_then(|f| f.get(segment));
        }
        // An absent field (or null) satisfies only the negative operators:
        // AppSync does not document it; this is what `ne x` reads as.
        let Some(field) = field.filter(|f| !f.is_null()) else {
            return matches!(
                self.operator,
                Operator::Ne | Operator::NotContains | Operator::NotIn
            );
        };
        let value = &self.value;
        let list = || value.as_array().map(Vec::as_slice).unwrap_or_default();
        use std::cmp::Ordering::{Greater, Less};
        match self.operator {
            Operator::Eq => equal(field, value),
            Operator::Ne => !equal(field, value),
            Operator::Lt => compare(field, value) == Some(Less),
            Operator::Le => matches!(compare(field, value), Some(o) if o != Greater),
            Operator::Gt => compare(field, value) == Some(Greater),
            Operator::Ge => matches!(compare(field, value), Some(o) if o != Less),
            Operator::Contains => contains(field, value),
            Operator::NotContains => !contains(field, value),
            Operator::BeginsWith => match (field, value) {
                (Json::String(text), Json::String(prefix)) => text.starts_with(prefix.as_str()),
                _ => false,
            },
            Operator::In => list().iter().any(|v| equal(field, v)),
            Operator::NotIn => !list().iter().any(|v| equal(field, v)),
            // Inclusive, as DynamoDB's BETWEEN is; AppSync's example does not
            // settle the ends.
            Operator::Between => {
                let [low, high] = list() else { return false };
                matches!(compare(field, low), Some(o) if o != Less)
                    && matches!(compare(field, high), Some(o) if o != Greater)
            }
            Operator::ContainsAny => match field {
                Json::Array(items) => items.iter().any(|i| list().iter().any(|v| equal(i, v))),
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(groups: Json) -> SubscriptionFilter {
        SubscriptionFilter::parse(&json!({ "filterGroup": groups })).expect("a valid filter")
    }

    fn one(field: &str, operator: &str, value: Json) -> SubscriptionFilter {
        filter(json!([{"filters": [{"fieldName": field, "operator": operator, "value": value}]}]))
    }

    #[test]
    fn every_operator() {
        let payload = json!({
            "name": "Flight 42",
            "price": 250,
            "ratio": 0.5,
            "open": true,
            "tags": ["window", "meal"],
            "seats": [1, 2, 3],
            "route": {"from": {"code": "LHR"}},
        });
        let cases = [
            ("price", "eq", json!(250), true),
            ("price", "eq", json!(250.0), true),
            ("open", "eq", json!(true), true),
            ("name", "ne", json!("Flight 7"), true),
            ("price", "lt", json!(300), true),
            ("price", "le", json!(250), true),
            ("price", "gt", json!(250), false),
            ("ratio", "ge", json!(0.5), true),
            ("name", "lt", json!("Flight 5"), true),
            ("name", "contains", json!("42"), true),
            ("tags", "contains", json!("meal"), true),
            ("seats", "contains", json!(2), true),
            ("tags", "notContains", json!("aisle"), true),
            ("name", "notContains", json!("Flight"), false),
            ("name", "beginsWith", json!("Fli"), true),
            ("name", "beginsWith", json!("light"), false),
            ("price", "in", json!([100, 250]), true),
            ("price", "notIn", json!([100, 250]), false),
            ("price", "between", json!([250, 300]), true),
            ("price", "between", json!([251, 300]), false),
            ("tags", "containsAny", json!(["aisle", "meal"]), true),
            ("seats", "containsAny", json!([7, 8]), false),
            ("route.from.code", "eq", json!("LHR"), true),
            ("route.to.code", "eq", json!("LHR"), false),
            ("missing", "ne", json!("x"), true),
            ("missing", "eq", json!("x"), false),
        ];
        for (field, operator, value, expected) in cases {
            let f = one(field, operator, value.clone());
            assert_eq!(f.matches(&payload), expected, "{field} {operator} {value}");
        }
    }

    #[test]
    fn rules_are_anded_and_groups_ored() {
        let f = filter(json!([
            {"filters": [
                {"fieldName": "a", "operator": "eq", "value": 1},
                {"fieldName": "b", "operator": "eq", "value": 2},
            ]},
            {"filters": [{"fieldName": "c", "operator": "eq", "value": 3}]},
        ]));
        assert!(f.matches(&json!({"a": 1, "b": 2})));
        assert!(!f.matches(&json!({"a": 1, "b": 3})));
        assert!(f.matches(&json!({"a": 0, "c": 3})));
        // Filters do not apply to a list payload; deeper paths are ignored.
        assert!(f.matches(&json!([1, 2])));
        assert!(one("a.b.c.d.e.f", "eq", json!(1)).matches(&json!({})));
    }

    #[test]
    fn limits_are_enforced() {
        let rule = |name: String| json!({"fieldName": name, "operator": "eq", "value": 1});
        let six: Vec<Json> = (0..6).map(|i| rule(format!("f{i}"))).collect();
        assert_eq!(
            SubscriptionFilter::parse(&json!({"filterGroup": [{"filters": six}]})),
            Err(FilterError::TooManyFields { group: 0, count: 6 })
        );
        let in_values = |n: usize| {
            json!({"filterGroup": [{"filters": [
                {"fieldName": "a", "operator": "in", "value": (0..n).collect::<Vec<_>>()},
                {"fieldName": "b", "operator": "in", "value": [1, 2, 3]},
            ]}]})
        };
        // 5 × 3 expanded filters, each with two rules: over the limit.
        assert!(matches!(
            SubscriptionFilter::parse(&in_values(5)),
            Err(FilterError::TooManyFilters { .. })
        ));
        assert!(SubscriptionFilter::parse(&in_values(1)).is_ok());
        let six = SubscriptionFilter::parse(&in_values(6)).unwrap_err();
        assert_eq!(
            six,
            FilterError::TooManyValues {
                operator: "in",
                limit: 5
            }
        );
        // AppSync's own wording, as clients report it.
        assert_eq!(
            six.to_string(),
            "subscription exceeds maximum value limit 5 for operator `in`."
        );
        let long = "x".repeat(MAX_STRING_LENGTH + 1);
        assert!(matches!(
            SubscriptionFilter::parse(
                &json!({"filterGroup": [{"filters": [rule("a".into())]}, {"filters": [{"fieldName": "a", "operator": "eq", "value": long}]}]})
            ),
            Err(FilterError::Rule {
                group: 1,
                index: 0,
                ..
            })
        ));
        assert!(matches!(
            SubscriptionFilter::parse(
                &json!({"filterGroup": [{"filters": [{"fieldName": "a", "operator": "like", "value": 1}]}]})
            ),
            Err(FilterError::Rule { .. })
        ));
        assert_eq!(
            SubscriptionFilter::parse(&json!({})),
            Err(FilterError::Shape)
        );
    }
}
