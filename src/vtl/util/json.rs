//! JSON in and out of VTL values, as AppSync's Jackson does it, and Java's
//! `equals` for the collection helpers.

use std::fmt::Write as _;

use crate::vtl::value::{Value, java_double_to_string};

/// `$util.toJson`: compact JSON the way Jackson writes it. Strings escape only
/// `"`, `\` and control characters (`/` and non-ASCII stay as they are), with
/// uppercase `\u00XX`; doubles print as Java's `Double.toString` (`1.0E10`).
pub fn to_json_string(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v);
    out
}

fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // Jackson would print a bare `NaN`, which no JSON parser reads back;
        // null keeps the template's output parseable.
        Value::Float(f) if !f.is_finite() => out.push_str("null"),
        Value::Float(f) => out.push_str(&java_double_to_string(*f)),
        Value::Str(s) => write_json_str(out, s),
        Value::List(items) => {
            out.push('[');
            for (idx, item) in items.borrow().iter().enumerate() {
                if idx > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (idx, (k, v)) in map.borrow().iter().enumerate() {
                if idx > 0 {
                    out.push(',');
                }
                write_json_str(out, k);
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
        // Jackson serializes helper objects as empty beans.
        Value::Builtin(_) => out.push_str("{}"),
        Value::Foreach(scope) => write_json(out, &Value::map(scope.to_map())),
        Value::Entry(entry) => write_json(out, &Value::map(entry.to_map())),
    }
}

pub(crate) fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `$util.parseJson`: JSON text to a value. Integers that fit a `long` stay
/// integers, every other number is a double, as Jackson reads them.
pub fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<serde_json::Value>(text).map(|json| Value::from_json(&json))
}

/// Java's `Object.equals` on the values templates see: `Integer` never
/// equals `Double`, lists and maps compare element by element.
pub fn java_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits() || x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| java_equals(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| java_equals(v, w)))
        }
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::Foreach(x), Value::Foreach(y)) => std::rc::Rc::ptr_eq(x, y),
        (Value::Entry(x), Value::Entry(y)) => x.key == y.key && java_equals(&x.value, &y.value),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_jackson() {
        let cases = [
            (
                r#"{"a":[1,2.5,true,null],"b":{"c":"d"}}"#,
                r#"{"a":[1,2.5,true,null],"b":{"c":"d"}}"#,
            ),
            (
                r#""a/b \"q\" \\ é \u0001 \n\t""#,
                r#""a/b \"q\" \\ é \u0001 \n\t""#,
            ),
            ("1e20", "1.0E20"),
            ("1.0", "1.0"),
            (r#"{"z":1,"a":2}"#, r#"{"z":1,"a":2}"#),
        ];
        for (input, want) in cases {
            let v = parse_json(input).expect(input);
            assert_eq!(to_json_string(&v), want, "{input}");
        }
        assert_eq!(to_json_string(&Value::Float(f64::NAN)), "null");
        assert_eq!(to_json_string(&Value::str("\u{1f}")), r#""\u001F""#);
        assert_eq!(
            to_json_string(&Value::Builtin(crate::vtl::value::Namespace::Util)),
            "{}"
        );
    }

    #[test]
    fn parse_errors_are_reported() {
        assert!(parse_json("{").is_err());
        assert!(parse_json("[1,]").is_err());
        assert!(parse_json("1 2").is_err());
    }

    #[test]
    fn equality_is_javas() {
        let v = |s: &str| parse_json(s).expect(s);
        assert!(java_equals(&v("1"), &v("1")));
        assert!(!java_equals(&v("1"), &v("1.0")));
        assert!(!java_equals(&v("1"), &v("\"1\"")));
        assert!(java_equals(
            &v(r#"{"a":[1,{"b":null}]}"#),
            &v(r#"{"a":[1,{"b":null}]}"#)
        ));
        assert!(java_equals(&v(r#"{"a":1,"b":2}"#), &v(r#"{"b":2,"a":1}"#)));
        assert!(!java_equals(&v("[1,2]"), &v("[2,1]")));
    }
}
