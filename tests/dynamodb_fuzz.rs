//! Hostile expressions never panic: random token soup either parses or
//! fails with a ValidationException.

use appsync_local::dynamodb::Item;
use appsync_local::dynamodb::expression::{
    ExpressionContext, ExpressionKind, apply_update, evaluate, parse_condition, parse_projection,
    parse_update,
};
use proptest::prelude::*;
use serde_json::json;

const TOKENS: &[&str] = &[
    "a",
    "b",
    "#n",
    ":v",
    ":w",
    "(",
    ")",
    "[",
    "]",
    "0",
    "1",
    ".",
    ",",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "size",
    "attribute_exists",
    "begins_with",
    "contains",
    "if_not_exists",
    "list_append",
    "name",
    "!",
    "é",
    " ",
];

fn expression() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn parsers_never_panic(src in expression()) {
        let names = [("#n".to_string(), "a".to_string())].into_iter().collect();
        let values: Item = serde_json::from_value(json!({":v": {"N": "1"}, ":w": {"L": [{"S": "x"}]}})).expect("values");
        let item: Item = serde_json::from_value(json!({"a": {"N": "2"}, "b": {"L": [{"N": "1"}]}})).expect("item");
        let ctx = ExpressionContext::new(Some(&names), Some(&values));
        for kind in [ExpressionKind::Condition, ExpressionKind::KeyCondition] {
            match parse_condition(&src, &ctx, kind) {
                Ok(c) => { evaluate(&c, &item); }
                Err(e) => prop_assert_eq!(e.type_name(), "ValidationException"),
            }
        }
        match parse_update(&src, &ctx) {
            Ok(actions) => {
                if let Err(e) = apply_update(&item, &actions) {
                    prop_assert_eq!(e.type_name(), "ValidationException");
                }
            }
            Err(e) => prop_assert_eq!(e.type_name(), "ValidationException"),
        }
        if let Err(e) = parse_projection(&src, &ctx) {
            prop_assert_eq!(e.type_name(), "ValidationException");
        }
    }
}
