//! Property tests: any sequence of JSON documents with clashing dynamic types is either
//! stored and read back verbatim, or rejected with a 400 mapping error; never a panic or a
//! lost write.

use std::collections::BTreeMap;

use appsync_local::opensearch::Engine;
use proptest::prelude::*;
use serde_json::{Value, json};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        any::<bool>().prop_map(|b| json!(b)),
        "[a-z ]{0,12}".prop_map(|s| json!(s)),
        Just(json!("2024-05-01T10:00:00Z")),
        Just(Value::Null),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[abc]", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn doc() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[abcd]", value(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// serde_json parses floats to within one ulp unless its `float_roundtrip` feature is on,
/// so stored `_source` numbers are compared with that tolerance.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_json(va, vb))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn documents_round_trip_or_fail_cleanly(docs in prop::collection::vec(("[0-4]", doc()), 1..8)) {
        let engine = Engine::in_memory();
        let mut stored: BTreeMap<String, Value> = BTreeMap::new();
        for (id, doc) in &docs {
            let (status, res) = engine.handle("PUT", &format!("/p/_doc/{id}"), &[], Some(doc.clone()));
            match status {
                200 | 201 => {
                    stored.insert(id.clone(), doc.clone());
                }
                400 => prop_assert!(
                    res["error"]["type"].as_str().is_some_and(|t| t.contains("mapper")),
                    "unexpected error {res}"
                ),
                other => prop_assert!(false, "status {other}: {res}"),
            }
        }
        for (id, doc) in &stored {
            let (status, res) = engine.handle("GET", &format!("/p/_doc/{id}"), &[], None);
            prop_assert_eq!(status, 200);
            prop_assert!(same_json(&res["_source"], doc), "{} != {}", res["_source"], doc);
        }
        if !stored.is_empty() {
            let (_, res) = engine.handle("GET", "/p/_count", &[], None);
            prop_assert_eq!(res["count"].as_u64(), Some(stored.len() as u64));
            let (status, res) = engine.handle(
                "POST",
                "/p/_search",
                &[],
                Some(json!({"query": {"multi_match": {"query": "a b c"}}, "sort": ["_id"]})),
            );
            prop_assert_eq!(status, 200, "{}", res);
        }
    }
}
