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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Keyword sorts across many segments (one per write) and search_after
    /// cursors that are absent from some segments, or from all of them, page
    /// through exactly what sorting the documents would give.
    #[test]
    fn keyword_sort_pages_like_a_sorted_list(
        docs in prop::collection::vec(("[a-j]", prop::option::of("[b-e]{0,2}")), 1..24),
        desc in any::<bool>(),
        page in 1usize..5,
        cursor in "[a-f]{0,2}",
    ) {
        let engine = Engine::in_memory();
        let (status, res) = engine.handle(
            "PUT",
            "/k",
            &[],
            Some(json!({"mappings": {"properties": {"tag": {"type": "keyword"}}}})),
        );
        prop_assert_eq!(status, 200, "{}", res);
        let mut model: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (id, tag) in &docs {
            let source = match tag {
                Some(tag) => json!({"tag": tag}),
                None => json!({}),
            };
            let (status, res) = engine.handle("PUT", &format!("/k/_doc/{id}"), &[], Some(source));
            prop_assert!(status == 200 || status == 201, "{}", res);
            model.insert(id.clone(), tag.clone());
        }
        // Missing tags sort last in both directions, ties by id ascending.
        let mut expected: Vec<(Option<String>, String)> =
            model.into_iter().map(|(id, tag)| (tag, id)).collect();
        expected.sort_by(|(ta, ia), (tb, ib)| {
            let by_tag = match (ta, tb) {
                (Some(a), Some(b)) if desc => b.cmp(a),
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            by_tag.then_with(|| ia.cmp(ib))
        });
        let order = if desc { "desc" } else { "asc" };
        let sort = json!([{"tag": order}, {"_id": "asc"}]);
        let mut seen = Vec::new();
        let mut after: Option<Value> = None;
        loop {
            let mut body = json!({"size": page, "sort": sort});
            if let Some(after) = &after {
                body["search_after"] = after.clone();
            }
            let (status, res) = engine.handle("POST", "/k/_search", &[], Some(body));
            prop_assert_eq!(status, 200, "{}", res);
            let hits = res["hits"]["hits"].as_array().cloned().unwrap_or_default();
            for hit in &hits {
                let tag = hit["sort"][0].as_str().map(str::to_owned);
                seen.push((tag, hit["_id"].as_str().unwrap_or_default().to_owned()));
            }
            // A cursor that does not move would page forever.
            prop_assert!(seen.len() <= expected.len(), "{:?} repeats hits", seen);
            match hits.last() {
                Some(last) if hits.len() == page => after = Some(last["sort"].clone()),
                _ => break,
            }
        }
        prop_assert_eq!(&seen, &expected);

        // A cursor string that need not exist in any segment.
        let (status, res) = engine.handle(
            "POST",
            "/k/_search",
            &[],
            Some(json!({"size": 100, "sort": sort, "search_after": [cursor, ""]})),
        );
        prop_assert_eq!(status, 200, "{}", res);
        let got: Vec<String> = res["hits"]["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| h["_id"].as_str().unwrap_or_default().to_owned())
            .collect();
        let want: Vec<String> = expected
            .iter()
            .filter(|(tag, id)| match tag {
                Some(tag) if desc => tag.as_str() < cursor.as_str()
                    || (tag == &cursor && id.as_str() > ""),
                Some(tag) => tag.as_str() > cursor.as_str()
                    || (tag == &cursor && id.as_str() > ""),
                None => true,
            })
            .map(|(_, id)| id.clone())
            .collect();
        prop_assert_eq!(got, want);
    }
}
