//! Gateway guards (the manifest's local `guards` block) and `/metrics`
//! against the real server: each guard at and beyond its boundary with its
//! `errorType`, guards off by default, and the request, resolver and limit
//! series changing as requests arrive.

mod common;

use common::{Client, start};
use serde_json::{Value as Json, json};

/// A sample's value; panics when the series is missing, since every series
/// asked for here is always exported.
async fn exported(c: &Client, series: &str) -> f64 {
    let text = c.metrics().await;
    common::sample(&text, series).unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

async fn rejections(c: &Client, limit: &str) -> f64 {
    exported(
        c,
        &format!("appsync_limit_rejections_total{{limit=\"{limit}\"}}"),
    )
    .await
}

/// The request-level error a guard gives, at the operation's position when
/// the operation was parsed.
fn guard_error(
    error_type: &str,
    guard: &str,
    limit: u64,
    actual: u64,
    message: &str,
    at_root: bool,
) -> Json {
    json!({
        "path": null,
        "data": null,
        "errorType": error_type,
        "errorInfo": {"guard": guard, "limit": limit, "actual": actual},
        "locations": if at_root { json!([{"line": 1, "column": 1, "sourceName": null}]) } else { Json::Null },
        "message": message,
    })
}

#[tokio::test]
async fn max_aliases_at_and_beyond_the_limit() {
    let c = start("guards").await;
    assert_eq!(
        c.query("{ x: a y: b }").await,
        json!({"data": {"x": null, "y": null}})
    );
    // A fragment's aliases count once per spread.
    assert_eq!(
        c.query("{ x: a ...F ...F } fragment F on Query { y: b }")
            .await,
        json!({"errors": [guard_error(
            "MaxAliasesExceeded", "maxAliases", 2, 3,
            "The operation uses 3 aliases, more than the limit of 2.", true,
        )]})
    );
    assert_eq!(rejections(&c, "maxAliases").await, 1.0);
}

#[tokio::test]
async fn max_root_fields_at_and_beyond_the_limit() {
    let c = start("guards").await;
    // Repeating a field does not add a root field: it runs once.
    let ok = c.query("{ a b c d a ... on Query { d } }").await;
    assert_eq!(
        ok,
        json!({"data": {"a": null, "b": null, "c": null, "d": null}})
    );
    assert_eq!(
        c.query("{ a b ... on Query { c d } e }").await,
        json!({"errors": [guard_error(
            "MaxRootFieldsExceeded", "maxRootFields", 4, 5,
            "The operation selects 5 root fields, more than the limit of 4.", true,
        )]})
    );
    assert_eq!(rejections(&c, "maxRootFields").await, 1.0);
}

#[tokio::test]
async fn max_query_bytes_at_and_beyond_the_limit() {
    let c = start("guards").await;
    // A comment pads the query to exactly the limit: 300 bytes, 3 tokens.
    let at = format!("{{ a }}\n#{}", "x".repeat(293));
    assert_eq!(at.len(), 300);
    assert_eq!(c.query(&at).await, json!({"data": {"a": null}}));
    let beyond = format!("{at}x");
    assert_eq!(
        c.query(&beyond).await,
        json!({"errors": [guard_error(
            "QueryTooLarge", "maxQueryBytes", 300, 301,
            "The query is 301 bytes long, more than the limit of 300 bytes.", false,
        )]})
    );
    assert_eq!(rejections(&c, "maxQueryBytes").await, 1.0);
    assert_eq!(rejections(&c, "maxQueryTokens").await, 0.0);
}

#[tokio::test]
async fn max_query_tokens_at_and_beyond_the_limit() {
    let c = start("guards").await;
    // `{`, 58 times `a`, `}`: 60 tokens in 119 bytes.
    let at = format!("{{{} }}", " a".repeat(58));
    assert_eq!(c.query(&at).await, json!({"data": {"a": null}}));
    let beyond = format!("{{{} }}", " a".repeat(59));
    assert_eq!(
        c.query(&beyond).await,
        json!({"errors": [guard_error(
            "QueryTooLarge", "maxQueryTokens", 60, 61,
            "The query has 61 tokens, more than the limit of 60 tokens.", false,
        )]})
    );
    assert_eq!(rejections(&c, "maxQueryTokens").await, 1.0);
}

#[tokio::test]
async fn max_list_fan_out_nulls_the_list_and_skips_its_items() {
    let c = start("guards").await;
    assert_eq!(
        c.query("{ items(n: 3) { id } numbers(n: 3) }").await,
        json!({"data": {"items": [{"id": "1"}, {"id": "2"}, {"id": "3"}], "numbers": [1, 2, 3]}})
    );
    let res = c
        .query("{ items(n: 4) { id children { id } } numbers(n: 2) }")
        .await;
    assert_eq!(
        res,
        json!({
            "data": {"items": null, "numbers": [1, 2]},
            "errors": [{
                "path": ["items"],
                "data": null,
                "errorType": "ListFanOutLimitReached",
                "errorInfo": {"guard": "maxListFanOut", "limit": 3, "actual": 4},
                "locations": [{"line": 1, "column": 3, "sourceName": null}],
                "message": "The list has 4 items, more than the limit of 3.",
            }]
        })
    );
    // The rejected list's items never ran their resolvers.
    assert_eq!(
        exported(
            &c,
            "appsync_resolver_invocations_total{field=\"Item.children\",data_source=\"none\"}"
        )
        .await,
        0.0
    );
    // Lists of scalars are guarded too.
    let res = c.query("{ numbers(n: 4) }").await;
    assert_eq!(res["data"], json!({"numbers": null}));
    assert_eq!(res["errors"][0]["errorType"], "ListFanOutLimitReached");
    assert_eq!(res["errors"][0]["path"], json!(["numbers"]));
    assert_eq!(rejections(&c, "maxListFanOut").await, 2.0);
}

#[tokio::test]
async fn a_non_null_list_past_the_fan_out_bubbles() {
    let c = start("guards").await;
    let res = c.query("{ a requiredItems(n: 4) { id } }").await;
    assert_eq!(res["data"], Json::Null);
    let errors = res["errors"].as_array().expect("errors");
    // One error per path, as graphql-java: the guard's, with no
    // "Cannot return null" on top of it.
    assert_eq!(errors.len(), 1, "{res}");
    assert_eq!(errors[0]["errorType"], "ListFanOutLimitReached");
    assert_eq!(errors[0]["path"], json!(["requiredItems"]));
}

#[tokio::test]
async fn guards_are_off_by_default() {
    // `limits` sets AppSync's limits but no guards.
    let c = start("limits").await;
    let fields: Vec<String> = (0..120).map(|i| format!("t{i}: __typename")).collect();
    let query = format!("{{ {} }}", fields.join(" "));
    assert!(query.len() > 1000);
    let res = c.query(&query).await;
    assert!(res.get("errors").is_none(), "{res}");
    assert_eq!(res["data"].as_object().map(|d| d.len()), Some(120));
    for limit in [
        "maxAliases",
        "maxRootFields",
        "maxQueryBytes",
        "maxQueryTokens",
    ] {
        assert_eq!(rejections(&c, limit).await, 0.0, "{limit}");
    }
}

#[tokio::test]
async fn metrics_count_requests_by_operation_type() {
    let c = start("guards").await;
    let series = |op: &str| format!("appsync_requests_total{{operation=\"{op}\"}}");
    for op in ["query", "mutation", "subscription", "unknown"] {
        assert_eq!(exported(&c, &series(op)).await, 0.0, "{op}");
    }
    c.query("{ items(n: 2) { id } }").await;
    c.query("{ a }").await;
    assert_eq!(
        c.query("mutation { touch }").await,
        json!({"data": {"touch": "touched"}})
    );
    // A parse error and a size guard fail before an operation is chosen.
    c.query("{ a ").await;
    c.query(&format!("{{ a }}#{}", "x".repeat(400))).await;
    assert_eq!(exported(&c, &series("query")).await, 2.0);
    assert_eq!(exported(&c, &series("mutation")).await, 1.0);
    assert_eq!(exported(&c, &series("unknown")).await, 2.0);
    assert_eq!(exported(&c, &series("subscription")).await, 0.0);

    let hist = |suffix: &str, labels: &str| {
        format!("appsync_request_duration_seconds_{suffix}{{operation=\"query\"{labels}}}")
    };
    assert_eq!(exported(&c, &hist("count", "")).await, 2.0);
    assert_eq!(exported(&c, &hist("bucket", ",le=\"+Inf\"")).await, 2.0);
    let sum = exported(&c, &hist("sum", "")).await;
    assert!(sum > 0.0 && sum < 10.0, "{sum}");
    // Buckets are cumulative.
    let text = c.metrics().await;
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("appsync_request_duration_seconds_bucket{operation=\"query\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(buckets.len(), 15);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert!(text.contains("# TYPE appsync_request_duration_seconds histogram\n"));
}

#[tokio::test]
async fn metrics_time_resolvers_by_field_and_data_source() {
    let c = start("guards").await;
    let series = |name: &str, field: &str, extra: &str| {
        format!("appsync_resolver_{name}{{field=\"{field}\",data_source=\"none\"{extra}}}")
    };
    c.query("{ items(n: 3) { id children { id } } }").await;
    assert_eq!(
        exported(&c, &series("invocations_total", "Query.items", "")).await,
        1.0
    );
    assert_eq!(
        exported(&c, &series("invocations_total", "Item.children", "")).await,
        3.0
    );
    assert_eq!(
        exported(&c, &series("duration_seconds_count", "Item.children", "")).await,
        3.0
    );
    assert_eq!(
        exported(
            &c,
            &series("duration_seconds_bucket", "Item.children", ",le=\"+Inf\"")
        )
        .await,
        3.0
    );
    assert!(exported(&c, &series("duration_seconds_sum", "Query.items", "")).await > 0.0);
    // A resolver that never ran is exported at zero.
    assert_eq!(
        exported(&c, &series("invocations_total", "Mutation.touch", "")).await,
        0.0
    );
}

#[tokio::test]
async fn metrics_count_limit_rejections_by_kind() {
    let c = start("guards").await;
    // Depth 4 under a queryDepthLimit of 3: one field fails.
    c.query("{ items(n: 1) { children { children { id } } } }")
        .await;
    assert_eq!(rejections(&c, "queryDepthLimit").await, 1.0);
    // Six resolvers under a resolverCountLimit of 5: one does not run.
    let res = c
        .query("{ items(n: 3) { children { id } } numbers(n: 1) requiredItems(n: 1) { id } }")
        .await;
    assert_eq!(
        res["errors"][0]["errorType"],
        "ResolverExecutionLimitReached"
    );
    assert_eq!(rejections(&c, "resolverCountLimit").await, 1.0);
    let res = c.query("{ __schema { queryType { name } } }").await;
    assert!(
        res["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("FieldUndefined"))
    );
    assert_eq!(rejections(&c, "introspection").await, 1.0);
    for limit in [
        "maxAliases",
        "maxRootFields",
        "maxQueryBytes",
        "maxQueryTokens",
        "maxListFanOut",
    ] {
        assert_eq!(rejections(&c, limit).await, 0.0, "{limit}");
    }
}
