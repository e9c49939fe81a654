//! `$util.map`: copies of maps with keys kept or removed.

use super::{Call, CallError};
use crate::vtl::value::Value;

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    match c.method {
        "copyAndRetainAllKeys" | "copyAndRemoveAllKeys" => {
            let sig = "(Map, List)";
            c.arity(2, 2, sig)?;
            let (map, keys) = (c.map(0, sig)?, c.list(1, sig)?);
            let retain = c.method == "copyAndRetainAllKeys";
            let listed = |k: &str| keys.iter().any(|key| key.as_str() == Some(k));
            let kept = map
                .into_iter()
                .filter(|(k, _)| listed(k) == retain)
                .collect();
            Ok(Value::map(kept))
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use super::*;
    use crate::vtl::runtime::{Host, RenderState};

    #[test]
    fn map_helpers() {
        let cases = [
            (
                "copyAndRetainAllKeys",
                r#"[{"a":1,"b":2,"c":3}, ["c", "a", "z"]]"#,
                r#"{"a":1,"c":3}"#,
            ),
            (
                "copyAndRemoveAllKeys",
                r#"[{"a":1,"b":2,"c":3}, ["c", "a"]]"#,
                r#"{"b":2}"#,
            ),
            ("copyAndRemoveAllKeys", r#"[{"a":1}, []]"#, r#"{"a":1}"#),
            (
                "copyAndRetainAllKeys",
                r#"[[1], ["a"]]"#,
                "!Invalid: Invalid arguments for $util.map.copyAndRetainAllKeys(List, List): expected (Map, List)",
            ),
        ];
        for (method, args, want) in cases {
            check("util.map", method, args, want);
        }
    }

    #[test]
    fn result_is_a_copy() {
        let original = Value::from_json(&serde_json::json!({"a": 1}));
        let keys = Value::from_json(&serde_json::json!([]));
        let mut host = Host::seeded(0, 0);
        let mut host = RenderState::new(&mut host);
        let copy = super::super::call(
            &mut host,
            super::super::Namespace::UtilMap,
            "copyAndRemoveAllKeys",
            &[original.clone(), keys],
        )
        .expect("copy");
        if let Value::Map(m) = &copy {
            m.borrow_mut().insert("b".into(), Value::Int(2));
        }
        assert_eq!(original.to_string(), "{a=1}");
        assert_eq!(copy.to_string(), "{a=1, b=2}");
    }
}
