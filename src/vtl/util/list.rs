//! `$util.list`: copies of lists with elements kept, removed or sorted.

use std::cmp::Ordering;

use super::json::java_equals;
use super::{Call, CallError};
use crate::vtl::value::Value;

/// AppSync sorts at most this many elements; longer lists come back as they are.
const SORT_LIMIT: usize = 1000;

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    match c.method {
        "copyAndRetainAll" | "copyAndRemoveAll" => {
            let sig = "(List, List)";
            c.arity(2, 2, sig)?;
            let (list, other) = (c.list(0, sig)?, c.list(1, sig)?);
            let retain = c.method == "copyAndRetainAll";
            let kept = list
                .into_iter()
                .filter(|item| other.iter().any(|o| java_equals(item, o)) == retain)
                .collect();
            Ok(Value::list(kept))
        }
        "sortList" => {
            let sig = "sortList(List, Boolean, String)";
            c.arity(3, 3, sig)?;
            let list = c.list(0, sig)?;
            let descending = c.bool(1, sig)?;
            let property = c.opt_str(2, sig)?.unwrap_or("");
            Ok(Value::list(sort_list(list, descending, property)))
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Sorts strings or numbers by value, maps by `property`. As the DG says, a
/// list whose elements are not all of one class, or longer than 1000, is
/// returned unsorted (Java's `Integer` and `Double` are different classes).
fn sort_list(mut list: Vec<Value>, descending: bool, property: &str) -> Vec<Value> {
    if list.len() > SORT_LIMIT || !same_class(list.iter()) {
        return list;
    }
    let key = |v: &Value| match v {
        Value::Map(m) => m.borrow().get(property).cloned().unwrap_or_default(),
        other => other.clone(),
    };
    if matches!(list.first(), Some(Value::Map(_))) {
        let keys: Vec<Value> = list.iter().map(key).collect();
        if !same_class(keys.iter().filter(|k| !k.is_null())) {
            return list;
        }
    }
    list.sort_by(|a, b| {
        let ord = compare(&key(a), &key(b));
        if descending { ord.reverse() } else { ord }
    });
    list
}

fn same_class<'a>(mut items: impl Iterator<Item = &'a Value>) -> bool {
    let Some(first) = items.next() else {
        return true;
    };
    let class = std::mem::discriminant(first);
    items.all(|v| std::mem::discriminant(v) == class)
}

/// Natural order; nulls sort first.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (Value::Str(x), Value::Str(y)) => x.encode_utf16().cmp(y.encode_utf16()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;

    #[test]
    fn list_helpers() {
        let cases = [
            (
                "copyAndRetainAll",
                r#"[[1, 2, "a", {"k":1}, 2], [2, {"k":1}]]"#,
                r#"[2,{"k":1},2]"#,
            ),
            ("copyAndRetainAll", "[[1, 2.0], [2]]", "[]"),
            (
                "copyAndRemoveAll",
                r#"[[1, 2, "a", 2], [2, "b"]]"#,
                r#"[1,"a"]"#,
            ),
            (
                "copyAndRemoveAll",
                "[[1], 2]",
                "!Invalid: Invalid arguments for $util.list.copyAndRemoveAll(List, Number): expected (List, List)",
            ),
            (
                "sortList",
                r#"[["b", "a", "C"], false, "any"]"#,
                r#"["C","a","b"]"#,
            ),
            ("sortList", r#"[[3, 1, 2], true, ""]"#, "[3,2,1]"),
            ("sortList", r#"[[2.5, 1.5], false, null]"#, "[1.5,2.5]"),
            (
                "sortList",
                r#"[[3, 1.5, "x"], false, ""]"#,
                r#"[3,1.5,"x"]"#,
            ),
            (
                "sortList",
                r#"[[{"n":"b","i":2}, {"n":"a","i":1}, {"i":0}], false, "n"]"#,
                r#"[{"i":0},{"n":"a","i":1},{"n":"b","i":2}]"#,
            ),
            (
                "sortList",
                r#"[[{"i":2}, {"i":10}, {"i":1}], true, "i"]"#,
                r#"[{"i":10},{"i":2},{"i":1}]"#,
            ),
            (
                "sortList",
                r#"[[{"i":2}, {"i":"x"}], true, "i"]"#,
                r#"[{"i":2},{"i":"x"}]"#,
            ),
            (
                "sortList",
                r#"[[1], "yes", "x"]"#,
                "!Invalid: Invalid arguments for $util.list.sortList(List, String, String): expected sortList(List, Boolean, String)",
            ),
        ];
        for (method, args, want) in cases {
            check("util.list", method, args, want);
        }
    }

    #[test]
    fn long_lists_are_not_sorted() {
        let mut items: Vec<i64> = (0..1001).rev().collect();
        let args = serde_json::json!([items, false, ""]).to_string();
        let want = serde_json::to_string(&items).expect("json");
        check("util.list", "sortList", &args, &want);
        items.truncate(1000);
        let args = serde_json::json!([items, false, ""]).to_string();
        items.reverse();
        check(
            "util.list",
            "sortList",
            &args,
            &serde_json::to_string(&items).expect("json"),
        );
    }
}
