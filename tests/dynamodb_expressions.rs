//! Data-driven tests of the expression language: each fixture file holds an
//! item, names, values and cases; the snapshot records each result or the
//! exact DynamoDB error message.

use std::collections::BTreeMap;

use appsync_local::dynamodb::expression::{
    ExpressionContext, ExpressionKind, apply_update, evaluate, key_condition, parse_condition,
    parse_projection, parse_update,
};
use appsync_local::dynamodb::{Item, types::item_to_json};
use serde_json::Value;

fn item(v: &Value) -> Item {
    serde_json::from_value(v.clone()).expect("fixture item")
}

fn run_case(file: &Value, case: &Value) -> String {
    let kind = case["kind"]
        .as_str()
        .or(file["kind"].as_str())
        .unwrap_or("condition");
    let expr = case["expr"].as_str().unwrap_or_default();
    let own = case.get("names").is_some() || case.get("values").is_some();
    let names: Option<BTreeMap<String, String>> = case
        .get("names")
        .or(if own { None } else { file.get("names") })
        .map(|v| serde_json::from_value(v.clone()).expect("fixture names"));
    let values: Option<Item> = case
        .get("values")
        .or(if own { None } else { file.get("values") })
        .map(item);
    let target = item(&file["item"]);
    let ctx = ExpressionContext::new(names.as_ref(), values.as_ref());
    let result: Result<String, appsync_local::dynamodb::Error> = (|| {
        let out = match kind {
            "condition" => {
                let c = parse_condition(expr, &ctx, ExpressionKind::Condition)?;
                check(&ctx, own)?;
                evaluate(&c, &target).to_string()
            }
            "update" => {
                let actions = parse_update(expr, &ctx)?;
                check(&ctx, own)?;
                item_to_json(&apply_update(&target, &actions)?).to_string()
            }
            "projection" => {
                let paths = parse_projection(expr, &ctx)?;
                check(&ctx, own)?;
                item_to_json(&appsync_local::dynamodb::expression::project(
                    &target, &paths,
                ))
                .to_string()
            }
            "key" => {
                let c = parse_condition(expr, &ctx, ExpressionKind::KeyCondition)?;
                check(&ctx, own)?;
                let pk = file["partitionKey"].as_str().unwrap_or("pk");
                let k = key_condition(&c, pk, file["sortKey"].as_str())?;
                format!("{k:?}")
            }
            other => panic!("unknown fixture kind {other}"),
        };
        Ok(out)
    })();
    match result {
        Ok(s) => s,
        Err(e) => format!("{}: {e}", e.type_name()),
    }
}

/// Unused names and values are only checked for cases that bring their own.
fn check(ctx: &ExpressionContext<'_>, own: bool) -> Result<(), appsync_local::dynamodb::Error> {
    if own { ctx.check_unused(true) } else { Ok(()) }
}

#[test]
fn expression_fixtures() {
    insta::glob!("dynamodb_expressions/*.json", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let file: Value = serde_json::from_str(&text).expect("fixture json");
        let mut out = String::new();
        for case in file["cases"].as_array().expect("cases") {
            out.push_str(&format!(
                "{}\n  => {}\n",
                case["expr"],
                run_case(&file, case)
            ));
        }
        insta::assert_snapshot!(out);
    });
}
