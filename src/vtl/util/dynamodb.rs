//! `$util.dynamodb`: values to DynamoDB attribute values (`{"S": ...}`), and
//! the `...Json` variant of each helper, which returns `$util.toJson` of it.

use indexmap::IndexMap;

use super::json::{parse_json, to_json_string};
use super::{Call, CallError};
use crate::vtl::value::{Map, Value};

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    let (base, json) = match c.method.strip_suffix("Json") {
        // `fromS3ObjectJson` is not a `...Json` variant: its input is JSON.
        Some(base) if c.method != "fromS3ObjectJson" => (base, true),
        _ => (c.method, false),
    };
    let value = convert(c, base)?;
    Ok(if json {
        Value::str(to_json_string(&value))
    } else {
        value
    })
}

fn convert(c: &Call, method: &str) -> Result<Value, CallError> {
    match method {
        "toDynamoDB" => {
            c.arity(1, 1, "toDynamoDB(Object)")?;
            Ok(to_dynamodb(&c.arg(0)))
        }
        "toString" => {
            let sig = "toString(String)";
            c.arity(1, 1, sig)?;
            Ok(typed("S", Value::str(c.str(0, sig)?)))
        }
        "toStringSet" | "toBinarySet" => {
            let (tag, sig) = if method == "toStringSet" {
                ("SS", "toStringSet(List<String>)")
            } else {
                ("BS", "toBinarySet(List<String>)")
            };
            c.arity(1, 1, sig)?;
            let items = c.list(0, sig)?;
            if !items.iter().all(|v| matches!(v, Value::Str(_))) {
                return Err(c.invalid(sig));
            }
            Ok(typed(tag, Value::list(items)))
        }
        "toNumber" => {
            let sig = "toNumber(Number)";
            c.arity(1, 1, sig)?;
            match c.arg(0) {
                n @ (Value::Int(_) | Value::Float(_)) => Ok(typed("N", n)),
                _ => Err(c.invalid(sig)),
            }
        }
        "toNumberSet" => {
            let sig = "toNumberSet(List<Number>)";
            c.arity(1, 1, sig)?;
            let items = c.list(0, sig)?;
            if !items
                .iter()
                .all(|v| matches!(v, Value::Int(_) | Value::Float(_)))
            {
                return Err(c.invalid(sig));
            }
            Ok(typed("NS", Value::list(items)))
        }
        "toBinary" => {
            let sig = "toBinary(String)";
            c.arity(1, 1, sig)?;
            Ok(typed("B", Value::str(c.str(0, sig)?)))
        }
        "toBoolean" => {
            let sig = "toBoolean(Boolean)";
            c.arity(1, 1, sig)?;
            Ok(typed("BOOL", Value::Bool(c.bool(0, sig)?)))
        }
        "toNull" => {
            c.arity(0, 0, "toNull()")?;
            Ok(typed("NULL", Value::Null))
        }
        "toList" => {
            let sig = "toList(List)";
            c.arity(1, 1, sig)?;
            let items = c.list(0, sig)?;
            Ok(typed(
                "L",
                Value::list(items.iter().map(to_dynamodb).collect()),
            ))
        }
        "toMap" | "toMapValues" => {
            let sig = "(Map)";
            c.arity(1, 1, sig)?;
            let values = map_values(&c.map(0, sig)?);
            Ok(if method == "toMap" {
                typed("M", values)
            } else {
                values
            })
        }
        "toS3Object" => {
            let sig = "toS3Object(String, String, String[, String])";
            c.arity(3, 4, sig)?;
            let mut s3 = Map::new();
            s3.insert("key".into(), Value::str(c.str(0, sig)?));
            s3.insert("bucket".into(), Value::str(c.str(1, sig)?));
            s3.insert("region".into(), Value::str(c.str(2, sig)?));
            if c.len() == 4 {
                s3.insert("version".into(), Value::str(c.str(3, sig)?));
            }
            let mut outer = Map::new();
            outer.insert("s3".into(), Value::map(s3));
            Ok(typed("S", Value::str(to_json_string(&Value::map(outer)))))
        }
        "fromS3ObjectJson" => {
            let sig = "fromS3ObjectJson(String)";
            c.arity(1, 1, sig)?;
            from_s3_object(c.str(0, sig)?).map_err(CallError::invalid)
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// The general conversion: lists become `L` and maps `M`, never sets.
pub(crate) fn to_dynamodb(v: &Value) -> Value {
    match v {
        Value::Null => typed("NULL", Value::Null),
        Value::Bool(b) => typed("BOOL", Value::Bool(*b)),
        Value::Int(_) | Value::Float(_) => typed("N", v.clone()),
        Value::Str(s) => typed("S", Value::Str(s.clone())),
        Value::List(items) => typed(
            "L",
            Value::list(items.borrow().iter().map(to_dynamodb).collect()),
        ),
        Value::Map(map) => typed("M", map_values(&map.borrow())),
        Value::Builtin(_) => typed("M", Value::map(Map::new())),
        Value::Foreach(scope) => to_dynamodb(&Value::map(scope.to_map())),
        Value::Entry(entry) => to_dynamodb(&Value::map(entry.to_map())),
    }
}

fn map_values(map: &Map) -> Value {
    Value::map(
        map.iter()
            .map(|(k, v)| (k.clone(), to_dynamodb(v)))
            .collect(),
    )
}

fn typed(tag: &str, v: Value) -> Value {
    let mut m: Map = IndexMap::with_capacity(1);
    m.insert(tag.to_owned(), v);
    Value::map(m)
}

/// `fromS3ObjectJson` was given text that is no S3 object.
#[derive(Debug, thiserror::Error)]
#[error("Not an S3 object: {0}")]
pub(crate) struct NotAnS3Object(String);

/// Reads `{"s3":{"key","bucket","region"[,"version"]}}`, also when still
/// wrapped in its `{"S": "..."}` attribute value.
fn from_s3_object(text: &str) -> Result<Value, NotAnS3Object> {
    let bad = || NotAnS3Object(text.to_owned());
    let mut doc = parse_json(text).map_err(|_| bad())?;
    let inner = match &doc {
        Value::Map(m) => m
            .borrow()
            .get("S")
            .and_then(|s| s.as_str().map(str::to_owned)),
        _ => None,
    };
    if let Some(inner) = inner {
        doc = parse_json(&inner).map_err(|_| bad())?;
    }
    let s3 = match &doc {
        Value::Map(m) => m.borrow().get("s3").cloned(),
        _ => None,
    };
    match s3 {
        Some(Value::Map(s3)) => {
            let s3 = s3.borrow();
            let mut out = Map::new();
            for field in ["key", "bucket", "region", "version"] {
                if let Some(v) = s3.get(field) {
                    out.insert(field.to_owned(), v.clone());
                }
            }
            if ["key", "bucket", "region"]
                .iter()
                .all(|f| out.contains_key(*f))
            {
                return Ok(Value::map(out));
            }
            Err(bad())
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;

    #[test]
    fn dg_examples() {
        let cases = [
            ("toDynamoDB", r#"["foo"]"#, r#"{"S":"foo"}"#),
            ("toDynamoDB", "[12345]", r#"{"N":12345}"#),
            ("toDynamoDB", "[true]", r#"{"BOOL":true}"#),
            (
                "toDynamoDB",
                r#"[["foo", 123, {"bar":"baz"}]]"#,
                r#"{"L":[{"S":"foo"},{"N":123},{"M":{"bar":{"S":"baz"}}}]}"#,
            ),
            (
                "toDynamoDB",
                r#"[{"foo":"bar","baz":1234,"beep":["boop"]}]"#,
                r#"{"M":{"foo":{"S":"bar"},"baz":{"N":1234},"beep":{"L":[{"S":"boop"}]}}}"#,
            ),
            ("toDynamoDB", "[null]", r#"{"NULL":null}"#),
            ("toDynamoDB", "[1.5]", r#"{"N":1.5}"#),
            ("toString", r#"["foo"]"#, r#"{"S":"foo"}"#),
            (
                "toStringSet",
                r#"[["foo","bar","baz"]]"#,
                r#"{"SS":["foo","bar","baz"]}"#,
            ),
            ("toNumber", "[12345]", r#"{"N":12345}"#),
            ("toNumberSet", "[[1,23,4.56]]", r#"{"NS":[1,23,4.56]}"#),
            ("toBinary", r#"["foo"]"#, r#"{"B":"foo"}"#),
            (
                "toBinarySet",
                r#"[["foo","bar","baz"]]"#,
                r#"{"BS":["foo","bar","baz"]}"#,
            ),
            ("toBoolean", "[true]", r#"{"BOOL":true}"#),
            ("toNull", "[]", r#"{"NULL":null}"#),
            (
                "toList",
                r#"[["foo",123,{"bar":"baz"}]]"#,
                r#"{"L":[{"S":"foo"},{"N":123},{"M":{"bar":{"S":"baz"}}}]}"#,
            ),
            (
                "toMap",
                r#"[{"foo":"bar","baz":1234,"beep":["boop"]}]"#,
                r#"{"M":{"foo":{"S":"bar"},"baz":{"N":1234},"beep":{"L":[{"S":"boop"}]}}}"#,
            ),
            (
                "toMapValues",
                r#"[{"foo":"bar","baz":1234,"beep":["boop"]}]"#,
                r#"{"foo":{"S":"bar"},"baz":{"N":1234},"beep":{"L":[{"S":"boop"}]}}"#,
            ),
            (
                "toS3Object",
                r#"["foo", "bar", "baz"]"#,
                r#"{"S":"{\"s3\":{\"key\":\"foo\",\"bucket\":\"bar\",\"region\":\"baz\"}}"}"#,
            ),
            (
                "toS3Object",
                r#"["foo", "bar", "baz", "beep"]"#,
                r#"{"S":"{\"s3\":{\"key\":\"foo\",\"bucket\":\"bar\",\"region\":\"baz\",\"version\":\"beep\"}}"}"#,
            ),
            (
                "fromS3ObjectJson",
                r#"["{ \"s3\" : { \"key\" : \"foo\", \"bucket\" : \"bar\", \"region\" : \"baz\", \"version\" : \"beep\" } }"]"#,
                r#"{"key":"foo","bucket":"bar","region":"baz","version":"beep"}"#,
            ),
        ];
        for (method, args, want) in cases {
            check("util.dynamodb", method, args, want);
        }
    }

    #[test]
    fn json_variants_return_strings() {
        let cases = [
            ("toDynamoDBJson", r#"["foo"]"#, r#""{\"S\":\"foo\"}""#),
            ("toStringJson", r#"["a\"b"]"#, r#""{\"S\":\"a\\\"b\"}""#),
            ("toStringSetJson", r#"[["a"]]"#, r#""{\"SS\":[\"a\"]}""#),
            ("toNumberJson", "[1]", r#""{\"N\":1}""#),
            ("toNumberSetJson", "[[1]]", r#""{\"NS\":[1]}""#),
            ("toBinaryJson", r#"["Zm9v"]"#, r#""{\"B\":\"Zm9v\"}""#),
            (
                "toBinarySetJson",
                r#"[["Zm9v"]]"#,
                r#""{\"BS\":[\"Zm9v\"]}""#,
            ),
            ("toBooleanJson", "[false]", r#""{\"BOOL\":false}""#),
            ("toNullJson", "[]", r#""{\"NULL\":null}""#),
            ("toListJson", "[[1]]", r#""{\"L\":[{\"N\":1}]}""#),
            (
                "toMapJson",
                r#"[{"a":1}]"#,
                r#""{\"M\":{\"a\":{\"N\":1}}}""#,
            ),
            ("toMapValuesJson", r#"[{"a":1}]"#, r#""{\"a\":{\"N\":1}}""#),
            (
                "toS3ObjectJson",
                r#"["k", "b", "r"]"#,
                r#""{\"S\":\"{\\\"s3\\\":{\\\"key\\\":\\\"k\\\",\\\"bucket\\\":\\\"b\\\",\\\"region\\\":\\\"r\\\"}}\"}""#,
            ),
        ];
        for (method, args, want) in cases {
            check("util.dynamodb", method, args, want);
        }
    }

    #[test]
    fn bad_arguments() {
        let cases = [
            (
                "toString",
                "[1]",
                "!Invalid: Invalid arguments for $util.dynamodb.toString(Number): expected toString(String)",
            ),
            (
                "toNumber",
                r#"["1"]"#,
                "!Invalid: Invalid arguments for $util.dynamodb.toNumber(String): expected toNumber(Number)",
            ),
            (
                "toStringSet",
                r#"[["a", 1]]"#,
                "!Invalid: Invalid arguments for $util.dynamodb.toStringSet(List): expected toStringSet(List<String>)",
            ),
            (
                "toNumberSet",
                r#"[["a"]]"#,
                "!Invalid: Invalid arguments for $util.dynamodb.toNumberSet(List): expected toNumberSet(List<Number>)",
            ),
            (
                "toBoolean",
                r#"["true"]"#,
                "!Invalid: Invalid arguments for $util.dynamodb.toBoolean(String): expected toBoolean(Boolean)",
            ),
            (
                "toMapJson",
                "[[1]]",
                "!Invalid: Invalid arguments for $util.dynamodb.toMapJson(List): expected (Map)",
            ),
            (
                "toDynamoDB",
                "[]",
                "!Invalid: Invalid arguments for $util.dynamodb.toDynamoDB(): expected toDynamoDB(Object)",
            ),
            (
                "fromS3ObjectJson",
                r#"["{}"]"#,
                "!Invalid: Not an S3 object: {}",
            ),
            ("toNothing", "[]", "!NoSuchMethod"),
            ("toNothingJson", "[]", "!NoSuchMethod"),
        ];
        for (method, args, want) in cases {
            check("util.dynamodb", method, args, want);
        }
    }
}
