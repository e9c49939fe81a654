//! Attribute values in DynamoDB's JSON wire form, item size accounting and
//! the order-preserving key encoding used for sled keys.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub use crate::dynamodb::number::{Number, NumberError};

/// An item: attribute name to value. Sorted, so output is deterministic.
pub type Item = BTreeMap<String, AttributeValue>;

/// Marks, inside serde's error text, the attribute value errors that
/// DynamoDB reports as `ValidationException` (see
/// [`AttributeValueError::from_serde_message`]).
const VALIDATION_MARKER: &str = "\u{1}validation:";

/// An invalid DynamoDB-JSON attribute value, by the exception DynamoDB
/// answers it with; the text is DynamoDB's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeValueError {
    /// `ValidationException`: well-formed JSON, but not a valid value.
    #[error("{0}")]
    Validation(String),
    /// `SerializationException`: JSON of the wrong shape.
    #[error("{0}")]
    Serialization(String),
}

impl AttributeValueError {
    /// The text handed to serde when deserializing a request: serde errors
    /// carry only text, so the kind travels as a marker in it.
    fn to_serde_message(&self) -> String {
        match self {
            AttributeValueError::Validation(m) => format!("{VALIDATION_MARKER}{m}"),
            AttributeValueError::Serialization(m) => m.clone(),
        }
    }

    /// The validation error inside a serde error's text, if there is one.
    pub(crate) fn from_serde_message(message: &str) -> Option<AttributeValueError> {
        let pos = message.find(VALIDATION_MARKER)?;
        Some(AttributeValueError::Validation(
            message[pos + VALIDATION_MARKER.len()..].to_string(),
        ))
    }
}

/// A plain JSON value that has no DynamoDB counterpart.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlainValueError {
    #[error("number {text}: {source}")]
    Number { text: String, source: NumberError },
    #[error("{name}: {source}")]
    Attribute {
        name: String,
        source: Box<PlainValueError>,
    },
}

/// One DynamoDB attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    L(Vec<AttributeValue>),
    M(Item),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

/// The type descriptors DynamoDB uses in messages and `attribute_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

impl AttributeValue {
    /// `S`, `N`, `B`, `BOOL`, `NULL`, `L`, `M`, `SS`, `NS` or `BS`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::L(_) => "L",
            AttributeValue::M(_) => "M",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    pub fn scalar_type(&self) -> Option<ScalarType> {
        match self {
            AttributeValue::S(_) => Some(ScalarType::S),
            AttributeValue::N(_) => Some(ScalarType::N),
            AttributeValue::B(_) => Some(ScalarType::B),
            _ => None,
        }
    }

    pub fn s(v: impl Into<String>) -> Self {
        AttributeValue::S(v.into())
    }

    /// A number from a string; panics only on invalid literals in code.
    pub fn n(v: &str) -> Result<Self, NumberError> {
        Number::parse(v).map(AttributeValue::N)
    }

    /// Structural equality where sets compare as sets, as DynamoDB does.
    pub fn same_as(&self, other: &AttributeValue) -> bool {
        match (self, other) {
            (AttributeValue::Ss(a), AttributeValue::Ss(b)) => same_set(a, b),
            (AttributeValue::Ns(a), AttributeValue::Ns(b)) => same_set(a, b),
            (AttributeValue::Bs(a), AttributeValue::Bs(b)) => same_set(a, b),
            (AttributeValue::L(a), AttributeValue::L(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (AttributeValue::M(a), AttributeValue::M(b)) => items_equal(a, b),
            _ => self == other,
        }
    }

    /// Parses one DynamoDB-JSON value. `lenient` accepts `{"N": 12}` (a JSON
    /// number), which AppSync templates produce.
    pub fn from_json(value: &Value, lenient: bool) -> Result<Self, AttributeValueError> {
        let obj = match value {
            Value::Object(o) => o,
            _ => return Err(serialization("Unexpected value type in payload")),
        };
        // AppSync's typed null, as `$util.dynamodb.toNull()` and
        // `toDynamoDB(null)` write it; DynamoDB itself wants `true`.
        if lenient && obj.len() == 1 && obj.get("NULL") == Some(&Value::Null) {
            return Ok(AttributeValue::Null);
        }
        let mut entries = obj.iter().filter(|(_, v)| !v.is_null());
        let (tag, v) = match (entries.next(), entries.next()) {
            (None, _) => {
                return Err(validation(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                ));
            }
            (Some(e), None) => e,
            (Some(_), Some(_)) => {
                return Err(validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                ));
            }
        };
        let string = |v: &Value| -> Result<String, AttributeValueError> {
            match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(serialization(&format!("Unexpected value for {tag}"))),
            }
        };
        let number = |v: &Value| -> Result<Number, AttributeValueError> {
            match v {
                Value::String(s) => Number::parse(s).map_err(|e| validation(&e.to_string())),
                Value::Number(n) if lenient => {
                    Number::parse(&n.to_string()).map_err(|e| validation(&e.to_string()))
                }
                _ => Err(serialization("NUMBER_VALUE cannot be converted to String")),
            }
        };
        let binary = |v: &Value| -> Result<Vec<u8>, AttributeValueError> {
            let s = string(v)?;
            BASE64.decode(s.as_bytes()).map_err(|_| {
                serialization("Base64 encoded length is expected a multiple of 4 bytes")
            })
        };
        let array = |v: &Value| -> Result<Vec<Value>, AttributeValueError> {
            match v {
                Value::Array(a) => Ok(a.clone()),
                _ => Err(serialization(&format!("Unexpected value for {tag}"))),
            }
        };
        Ok(match tag.as_str() {
            "S" => AttributeValue::S(string(v)?),
            "N" => AttributeValue::N(number(v)?),
            "B" => AttributeValue::B(binary(v)?),
            "BOOL" => match v {
                Value::Bool(b) => AttributeValue::Bool(*b),
                _ => return Err(serialization("Unexpected value for BOOL")),
            },
            "NULL" => match v {
                Value::Bool(true) => AttributeValue::Null,
                Value::Bool(false) => {
                    return Err(validation(
                        "One or more parameter values were invalid: Null attribute value types must have the value of true",
                    ));
                }
                _ => return Err(serialization("Unexpected value for NULL")),
            },
            "L" => AttributeValue::L(
                array(v)?
                    .iter()
                    .map(|e| AttributeValue::from_json(e, lenient))
                    .collect::<Result<_, _>>()?,
            ),
            "M" => match v {
                Value::Object(m) => AttributeValue::M(item_from_json(m, lenient)?),
                _ => return Err(serialization("Unexpected value for M")),
            },
            "SS" => {
                let v: Vec<String> = array(v)?.iter().map(string).collect::<Result<_, _>>()?;
                check_set("string", &v, |s| s.clone())?;
                AttributeValue::Ss(v)
            }
            "NS" => {
                let v: Vec<Number> = array(v)?.iter().map(number).collect::<Result<_, _>>()?;
                check_set("number", &v, |n| n.to_string())?;
                AttributeValue::Ns(v)
            }
            "BS" => {
                let v: Vec<Vec<u8>> = array(v)?.iter().map(binary).collect::<Result<_, _>>()?;
                check_set("binary", &v, |b| BASE64.encode(b))?;
                AttributeValue::Bs(v)
            }
            other => {
                return Err(serialization(&format!(
                    "Unknown AttributeValue type: {other}"
                )));
            }
        })
    }

    /// Plain JSON as `$util.dynamodb.toDynamoDB` types it: strings `S`,
    /// numbers `N`, booleans `BOOL`, null `NULL`, arrays `L`, objects `M`.
    pub fn from_plain_json(value: &Value) -> Result<Self, PlainValueError> {
        Ok(match value {
            Value::String(s) => AttributeValue::S(s.clone()),
            Value::Number(n) => {
                AttributeValue::N(Number::parse(&n.to_string()).map_err(|source| {
                    PlainValueError::Number {
                        text: n.to_string(),
                        source,
                    }
                })?)
            }
            Value::Bool(b) => AttributeValue::Bool(*b),
            Value::Null => AttributeValue::Null,
            Value::Array(items) => AttributeValue::L(
                items
                    .iter()
                    .map(AttributeValue::from_plain_json)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => AttributeValue::M(item_from_plain_json(fields)?),
        })
    }

    /// DynamoDB-JSON form, e.g. `{"S":"x"}`.
    pub fn to_json(&self) -> Value {
        let (tag, v) = match self {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.to_string())),
            AttributeValue::B(b) => ("B", Value::String(BASE64.encode(b))),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null => ("NULL", Value::Bool(true)),
            AttributeValue::L(l) => ("L", Value::Array(l.iter().map(|v| v.to_json()).collect())),
            AttributeValue::M(m) => ("M", item_to_json(m)),
            AttributeValue::Ss(v) => ("SS", v.iter().map(|s| Value::String(s.clone())).collect()),
            AttributeValue::Ns(v) => (
                "NS",
                v.iter().map(|n| Value::String(n.to_string())).collect(),
            ),
            AttributeValue::Bs(v) => (
                "BS",
                v.iter().map(|b| Value::String(BASE64.encode(b))).collect(),
            ),
        };
        let mut m = Map::with_capacity(1);
        m.insert(tag.to_string(), v);
        Value::Object(m)
    }

    /// Plain JSON as AppSync hands results to templates: N becomes a number,
    /// B a base64 string, sets become lists.
    pub fn to_plain_json(&self) -> Value {
        match self {
            AttributeValue::S(s) => Value::String(s.clone()),
            AttributeValue::N(n) => number_to_json(n),
            AttributeValue::B(b) => Value::String(BASE64.encode(b)),
            AttributeValue::Bool(b) => Value::Bool(*b),
            AttributeValue::Null => Value::Null,
            AttributeValue::L(l) => Value::Array(l.iter().map(|v| v.to_plain_json()).collect()),
            AttributeValue::M(m) => item_to_plain_json(m),
            AttributeValue::Ss(v) => v.iter().map(|s| Value::String(s.clone())).collect(),
            AttributeValue::Ns(v) => v.iter().map(number_to_json).collect(),
            AttributeValue::Bs(v) => v.iter().map(|b| Value::String(BASE64.encode(b))).collect(),
        }
    }

    /// DynamoDB's billing size of a value (documented sizing rules).
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => number_size(n),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>()
            }
            AttributeValue::Ss(v) => v.iter().map(|s| s.len()).sum(),
            AttributeValue::Ns(v) => v.iter().map(number_size).sum(),
            AttributeValue::Bs(v) => v.iter().map(|b| b.len()).sum(),
        }
    }
}

fn number_size(n: &Number) -> usize {
    n.digits().len().div_ceil(2) + 1
}

fn number_to_json(n: &Number) -> Value {
    if let Some(i) = n.to_i64() {
        return Value::from(i);
    }
    serde_json::Number::from_f64(n.to_f64())
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(n.to_string()))
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// Items equal with set semantics for set attributes.
pub fn items_equal(a: &Item, b: &Item) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| v.same_as(w)))
}

fn validation(msg: &str) -> AttributeValueError {
    AttributeValueError::Validation(msg.to_string())
}

fn serialization(msg: &str) -> AttributeValueError {
    AttributeValueError::Serialization(msg.to_string())
}

fn check_set<T, F: Fn(&T) -> String>(
    kind: &str,
    v: &[T],
    show: F,
) -> Result<(), AttributeValueError> {
    if v.is_empty() {
        return Err(validation(&format!(
            "One or more parameter values were invalid: An {kind} set  may not be empty"
        )));
    }
    let shown: Vec<String> = v.iter().map(&show).collect();
    for (i, s) in shown.iter().enumerate() {
        if shown[..i].contains(s) {
            return Err(validation(&format!(
                "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
                shown.join(", ")
            )));
        }
    }
    Ok(())
}

/// Parses a DynamoDB-JSON item object.
pub fn item_from_json(m: &Map<String, Value>, lenient: bool) -> Result<Item, AttributeValueError> {
    m.iter()
        .map(|(k, v)| Ok((k.clone(), AttributeValue::from_json(v, lenient)?)))
        .collect()
}

/// An item from plain JSON (see [`AttributeValue::from_plain_json`]).
pub fn item_from_plain_json(m: &Map<String, Value>) -> Result<Item, PlainValueError> {
    m.iter()
        .map(|(k, v)| {
            AttributeValue::from_plain_json(v)
                .map(|v| (k.clone(), v))
                .map_err(|e| PlainValueError::Attribute {
                    name: k.clone(),
                    source: Box::new(e),
                })
        })
        .collect()
}

pub fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

pub fn item_to_plain_json(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), v.to_plain_json()))
            .collect(),
    )
}

/// DynamoDB's size of an item: names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        AttributeValue::from_json(&v, false).map_err(|e| D::Error::custom(e.to_serde_message()))
    }
}

/// Appends the order-preserving, prefix-free encoding of a key value:
/// numeric order for N, bytewise for S and B.
pub fn encode_key_value(v: &AttributeValue, out: &mut Vec<u8>) {
    let escape = |bytes: &[u8], out: &mut Vec<u8>| {
        for &b in bytes {
            out.push(b);
            if b == 0 {
                out.push(0xFF);
            }
        }
        out.extend_from_slice(&[0x00, 0x01]);
    };
    match v {
        AttributeValue::S(s) => escape(s.as_bytes(), out),
        AttributeValue::B(b) => escape(b, out),
        AttributeValue::N(n) => n.encode_sortable(out),
        // Keys are validated to be scalars before encoding.
        other => escape(other.type_name().as_bytes(), out),
    }
}

/// Orders two scalar values as DynamoDB does; `None` across types.
pub fn compare_values(a: &AttributeValue, b: &AttributeValue) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        let json = serde_json::json!({
            "a": {"S": "x"}, "b": {"N": "1.50"}, "c": {"B": "AAE="}, "d": {"BOOL": true},
            "e": {"NULL": true}, "f": {"L": [{"S": "y"}]}, "g": {"M": {"h": {"N": "-0"}}},
            "i": {"SS": ["p", "q"]}, "j": {"NS": ["1", "2"]}, "k": {"BS": ["AA=="]}
        });
        let item: Item = serde_json::from_value(json).unwrap();
        let back = serde_json::to_value(&item).unwrap();
        assert_eq!(back["b"], serde_json::json!({"N": "1.5"}));
        assert_eq!(back["g"], serde_json::json!({"M": {"h": {"N": "0"}}}));
        assert_eq!(back["c"], serde_json::json!({"B": "AAE="}));
        let plain = item_to_plain_json(&item);
        assert_eq!(plain["b"], serde_json::json!(1.5));
        assert_eq!(plain["j"], serde_json::json!([1, 2]));
    }

    #[test]
    fn appsync_typed_null_is_accepted_from_templates_only() {
        // AppSync documents `{ "NULL" : null }` as its typed null.
        let typed_null = serde_json::json!({"NULL": null});
        assert_eq!(
            AttributeValue::from_json(&typed_null, true),
            Ok(AttributeValue::Null)
        );
        assert!(matches!(
            AttributeValue::from_json(&typed_null, false),
            Err(AttributeValueError::Validation(m)) if m.contains("Supplied AttributeValue is empty")
        ));
    }

    #[test]
    fn invalid_values_are_validation_errors() {
        let err = |j: Value| AttributeValue::from_json(&j, false).unwrap_err();
        let validation = |m: &str| AttributeValueError::Validation(m.to_string());
        assert_eq!(
            err(serde_json::json!({})),
            validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
            )
        );
        assert_eq!(
            err(serde_json::json!({"SS": []})),
            validation(
                "One or more parameter values were invalid: An string set  may not be empty"
            )
        );
        assert_eq!(
            err(serde_json::json!({"SS": ["a", "a"]})),
            validation(
                "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
            )
        );
        assert!(matches!(
            err(serde_json::json!({"N": "x"})),
            AttributeValueError::Validation(m)
                if m.ends_with("The parameter cannot be converted to a numeric value: x")
        ));
        assert_eq!(
            err(serde_json::json!({"BOOL": "yes"})),
            AttributeValueError::Serialization("Unexpected value for BOOL".into())
        );
        assert!(AttributeValue::from_json(&serde_json::json!({"N": 12}), true).is_ok());
    }

    #[test]
    fn validation_errors_survive_serde() {
        let err = serde_json::from_value::<Item>(serde_json::json!({"a": {"SS": []}}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            AttributeValueError::from_serde_message(&err),
            Some(AttributeValueError::Validation(
                "One or more parameter values were invalid: An string set  may not be empty".into()
            ))
        );
        let err = serde_json::from_value::<Item>(serde_json::json!({"a": {"BOOL": 1}}))
            .unwrap_err()
            .to_string();
        assert_eq!(AttributeValueError::from_serde_message(&err), None);
    }

    #[test]
    fn plain_json_errors_name_the_attribute() {
        let big = serde_json::json!(1e300);
        let fields = serde_json::json!({"a": {"b": big}});
        let err = item_from_plain_json(fields.as_object().expect("object"))
            .expect_err("1e300 is out of DynamoDB's range");
        assert!(
            matches!(
                &err,
                PlainValueError::Attribute { name, source }
                    if name == "a" && matches!(**source, PlainValueError::Attribute { .. })
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("a: b: number {big}: {}", NumberError::Overflow)
        );
    }

    #[test]
    fn string_keys_encode_bytewise_and_prefix_free() {
        let enc = |s: &str| {
            let mut v = Vec::new();
            encode_key_value(&AttributeValue::s(s), &mut v);
            v
        };
        assert!(enc("a") < enc("a\u{0}"));
        assert!(enc("a\u{0}") < enc("aa"));
        assert!(enc("ab") < enc("b"));
        assert!(!enc("ab").starts_with(&enc("a")));
    }
}
