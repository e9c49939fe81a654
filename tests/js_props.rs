//! Property tests for the APPSYNC_JS runtime: no code and no context panics
//! the evaluator, and runaway code is stopped by its budget.

use std::time::{Duration, Instant};

use appsync_local::js::{JsLimits, evaluate_code};
use appsync_local::runtime::{Context, Host, Phase};
use proptest::prelude::*;
use serde_json::Value as Json;

const BUDGET: Duration = Duration::from_millis(100);

fn evaluate(code: &str, ctx: &mut Context) -> appsync_local::js::EvaluateCodeResponse {
    let mut no_files = |_: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no local modules here",
        ))
    };
    evaluate_code(
        "code.js",
        code,
        &mut no_files,
        Phase::Request,
        ctx,
        Host::seeded(0, 1),
        JsLimits {
            time_budget: BUDGET,
        },
    )
}

/// Fragments of handler bodies: valid and broken, allowed and rejected.
fn statement() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("return ctx.args;".to_owned()),
        Just("return ctx.args.a.b.c;".to_owned()),
        Just("ctx.stash.x = [1, 2, 3].map((n) => n * 2);".to_owned()),
        Just("util.error('boom', 'Custom');".to_owned()),
        Just("util.appendError('soft');".to_owned()),
        Just("runtime.earlyReturn({ early: true });".to_owned()),
        Just("console.log(ctx, undefined, null, 1.5);".to_owned()),
        Just("return util.dynamodb.toMapValues(ctx.args);".to_owned()),
        Just("return util.time.nowFormatted('yyyy-MM-dd', 'Nowhere/Zone');".to_owned()),
        Just("return util.transform.toDynamoDBFilterExpression(ctx.args);".to_owned()),
        Just("return JSON.parse('{broken');".to_owned()),
        Just("return 'a.b.c'.replace('(', 'x');".to_owned()),
        Just("return util.base64Decode(ctx.args.s);".to_owned()),
        Just("return util.matches('[', 'x');".to_owned()),
        Just("return util.toJson(ctx);".to_owned()),
        Just("const big = []; for (const i of Array(2000)) { big.push(JSON.stringify(big)); } return big.length;".to_owned()),
        Just("while (true) {}".to_owned()),
        Just("try { x(); } catch (e) {}".to_owned()),
        Just("return {".to_owned()),
        Just("i++;".to_owned()),
        Just("return Object.keys(globalThis);".to_owned()),
        Just("Object.prototype.polluted = 1;".to_owned()),
        Just("return new Function('return 1')();".to_owned()),
        Just("return eval('1');".to_owned()),
        "[a-z{}();.=+ '\\\\\"0-9]{0,40}",
    ]
}

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        "[ -~]{0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::hash_map("[a-z]{1,5}", inner, 0..4)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_code_or_context_panics_the_evaluator(
        body in prop::collection::vec(statement(), 0..4),
        args in arb_json(),
        stash in arb_json(),
    ) {
        let code = format!(
            "export function request(ctx) {{ {} }}\nexport function response(ctx) {{ return ctx.result; }}\n",
            body.join("\n")
        );
        let mut ctx = Context {
            arguments: args,
            stash: match stash { Json::Object(m) => m, _ => Default::default() },
            ..Default::default()
        };
        let started = Instant::now();
        let out = evaluate(&code, &mut ctx);
        // An answer, whatever the code: a result or an error, never both.
        prop_assert!(out.evaluation_result.is_some() != out.error.is_some());
        prop_assert!(started.elapsed() < BUDGET * 20, "took {:?}", started.elapsed());
    }
}

#[test]
fn runaway_code_is_stopped_by_its_budget_and_the_next_call_is_clean() {
    let runaway = "export function request(ctx) {\n  let n = 0;\n  for (const i of Array(1e9)) { n += 1; }\n  return n;\n}\nexport function response(ctx) {}\n";
    let started = Instant::now();
    let out = evaluate(runaway, &mut Context::default());
    let elapsed = started.elapsed();
    let error = out.error.expect("the loop is stopped");
    assert_eq!(error.error_type.as_deref(), Some("Code"));
    assert!(error.message.contains("time budget"), "{}", error.message);
    // Generous: the point is that it stops, not how fast.
    assert!(elapsed < BUDGET * 20, "stopped after {elapsed:?}");

    // The engine that was interrupted is rebuilt; the next call works.
    let ok = "export function request(ctx) { return { fine: true }; }\nexport function response(ctx) {}\n";
    let out = evaluate(ok, &mut Context::default());
    assert_eq!(out.evaluation_result.as_deref(), Some("{\"fine\":true}"));
}

#[test]
fn a_runaway_allocation_hits_the_memory_limit() {
    let hog = "export function request(ctx) {\n  const parts = ['x'];\n  for (const i of Array(64)) { parts.push(parts.join('') + parts.join('')); }\n  return parts.length;\n}\nexport function response(ctx) {}\n";
    let out = evaluate(hog, &mut Context::default());
    let error = out.error.expect("the allocation fails");
    assert_eq!(error.error_type.as_deref(), Some("Code"));
}

#[test]
fn one_request_cannot_change_what_the_next_sees() {
    let mutate = "let calls = 0;\nexport function request(ctx) {\n  calls += 1;\n  Array.prototype.push = null;\n  return calls;\n}\nexport function response(ctx) {}\n";
    let out = evaluate(mutate, &mut Context::default());
    // Built-ins are frozen: the assignment fails in strict mode.
    assert!(out.error.is_some(), "{out:?}");
    // Every built-in reachable from the globals is frozen, static methods
    // and iterator prototypes included.
    for mutation in [
        "Object.keys.extra = 1",
        "Array.prototype.map.extra = 1",
        "Math.random = () => 4",
        "JSON.parse = null",
        "Object.getPrototypeOf([][Symbol.iterator]()).next = null",
        "util.time.nowISO8601 = null",
        "util.dynamodb.extra = 1",
        "globalThis.leak = 1",
    ] {
        let code = format!(
            "export function request(ctx) {{\n  {mutation};\n  return 1;\n}}\nexport function response(ctx) {{}}\n"
        );
        let out = evaluate(&code, &mut Context::default());
        assert!(out.error.is_some(), "{mutation} succeeded: {out:?}");
    }
    let count = "let calls = 0;\nexport function request(ctx) {\n  calls += 1;\n  return [calls, [1].concat([2]).length];\n}\nexport function response(ctx) {}\n";
    for _ in 0..3 {
        let out = evaluate(count, &mut Context::default());
        // A fresh module scope per call: `calls` starts at 0 each time.
        assert_eq!(out.evaluation_result.as_deref(), Some("[1,2]"));
    }
}

/// JS literals of every JSON-relevant kind, as source text.
fn js_literal() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("undefined".to_owned()),
        Just("null".to_owned()),
        Just("NaN".to_owned()),
        Just("-Infinity".to_owned()),
        Just("-0".to_owned()),
        Just("1e21".to_owned()),
        Just("2 ** 53 + 2".to_owned()),
        Just("(() => 1)".to_owned()),
        Just("new Map([[1, 2]])".to_owned()),
        Just("({ toJSON: () => 'custom' })".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        "[a-z \\u{e9}\\u{1F600}]{0,6}".prop_map(|s| format!("{s:?}")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(("[a-z0-9]{1,4}", inner), 0..4).prop_map(|v| {
                let fields: Vec<String> =
                    v.into_iter().map(|(k, x)| format!("{k:?}: {x}")).collect();
                format!("({{{}}})", fields.join(", "))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Handler results are read as `JSON.stringify` reads them.
    #[test]
    fn results_read_as_json_stringify_reads_them(literal in js_literal()) {
        let code = format!(
            "export function request(ctx) {{\n  const v = {literal};\n  return {{ direct: v, text: JSON.stringify(v) ?? null }};\n}}\nexport function response(ctx) {{}}\n"
        );
        let out = evaluate(&code, &mut Context::default());
        let result: Json = serde_json::from_str(out.evaluation_result.as_deref().expect("a result"))
            .expect("JSON");
        let via_text: Json = match &result["text"] {
            Json::String(text) => serde_json::from_str(text).expect("JSON text"),
            _ => Json::Null,
        };
        prop_assert_eq!(&result["direct"], &via_text, "{}", literal);
    }
}
