//! Runtime values of the VTL engine, modelled on the Java objects that
//! AppSync's Velocity sees.
//!
//! Lists and maps are shared and mutable, like Java collections: `#set($a = $b)`
//! aliases, and `$a.put(..)` is visible through `$b`. Strings are immutable.
//! Maps keep insertion order (AppSync's `$util.toJson` output does, in practice).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use indexmap::IndexMap;

pub use crate::vtl::util::Namespace;

/// A map as templates see it (Java `LinkedHashMap<String, Object>`).
pub type Map = IndexMap<String, Value>;

/// A VTL runtime value.
#[derive(Clone, Default)]
pub enum Value {
    /// Java `null`; also what an undefined reference evaluates to.
    #[default]
    Null,
    Bool(bool),
    /// Java `Integer`/`Long`. Overflow promotes to `Float` (Velocity goes to BigInteger).
    Int(i64),
    /// Java `Double`.
    Float(f64),
    Str(Rc<str>),
    List(Rc<RefCell<Vec<Value>>>),
    Map(Rc<RefCell<Map>>),
    /// A built-in namespace object such as `$util`, `$util.time` or
    /// `$extensions`. Methods on it are dispatched to `vtl::util`.
    Builtin(Namespace),
    /// `$foreach` inside a `#foreach` loop (Velocity 1.7's `ForeachScope`).
    Foreach(Rc<ForeachScope>),
    /// An element of `Map.entrySet()` (Java's `Map.Entry`).
    Entry(Rc<Entry>),
}

/// Velocity 1.7's `ForeachScope`: where the loop is. The loop updates it in
/// place, so a saved `$foreach` follows the loop, as in Velocity.
#[derive(Debug)]
pub struct ForeachScope {
    index: Cell<i64>,
    has_next: Cell<bool>,
    /// The enclosing loop's `$foreach`.
    pub parent: Option<Value>,
}

impl ForeachScope {
    pub fn new(parent: Option<Value>) -> ForeachScope {
        ForeachScope {
            index: Cell::new(0),
            has_next: Cell::new(false),
            parent,
        }
    }

    /// Moves the scope to the 0-based iteration `index`.
    pub fn advance(&self, index: i64, has_next: bool) {
        self.index.set(index);
        self.has_next.set(has_next);
    }

    pub fn index(&self) -> i64 {
        self.index.get()
    }

    pub fn count(&self) -> i64 {
        self.index.get() + 1
    }

    pub fn has_next(&self) -> bool {
        self.has_next.get()
    }

    pub fn first(&self) -> bool {
        self.index.get() == 0
    }

    pub fn last(&self) -> bool {
        !self.has_next.get()
    }

    /// Velocity's property lookup (`$foreach.count`).
    pub fn property(&self, name: &str) -> Option<Value> {
        Some(match name {
            "count" => Value::Int(self.count()),
            "index" => Value::Int(self.index()),
            "hasNext" => Value::Bool(self.has_next()),
            "first" => Value::Bool(self.first()),
            "last" => Value::Bool(self.last()),
            "parent" => self.parent.clone()?,
            _ => return None,
        })
    }

    /// The fields as a map, which is how the scope prints and serializes.
    pub fn to_map(&self) -> Map {
        let mut m = Map::with_capacity(6);
        for key in ["count", "index", "hasNext", "first", "last", "parent"] {
            if let Some(v) = self.property(key) {
                m.insert(key.into(), v);
            }
        }
        m
    }
}

/// A `Map.Entry` from `entrySet()`: a snapshot of one key and its value.
#[derive(Debug)]
pub struct Entry {
    pub key: Rc<str>,
    pub value: Value,
}

impl Entry {
    /// Velocity's property lookup (`$e.key`, `$e.value`).
    pub fn property(&self, name: &str) -> Option<Value> {
        match name {
            "key" => Some(Value::Str(self.key.clone())),
            "value" => Some(self.value.clone()),
            _ => None,
        }
    }

    /// `{key, value}`, which is how the entry prints and serializes.
    pub fn to_map(&self) -> Map {
        let mut m = Map::with_capacity(2);
        m.insert("key".into(), Value::Str(self.key.clone()));
        m.insert("value".into(), self.value.clone());
        m
    }
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    pub fn map(map: Map) -> Value {
        Value::Map(Rc::new(RefCell::new(map)))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The Java class-ish name used in error messages and `$util.typeOf`.
    pub fn type_of(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) | Value::Float(_) => "Number",
            Value::Str(_) => "String",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Builtin(_) | Value::Foreach(_) | Value::Entry(_) => "Object",
        }
    }

    /// Velocity truthiness for `#if`: null and `false` are false, everything else true.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
    }

    /// Converts from JSON. Integers that fit `i64` become `Int`, others `Float`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(obj) => Value::map(
                obj.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON, as `$util.toJson` does. Non-finite floats become null
    /// and built-in namespaces become `{}` (Jackson serializes them as empty beans).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::List(items) => {
                serde_json::Value::Array(items.borrow().iter().map(Value::to_json).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Builtin(_) => serde_json::Value::Object(Default::default()),
            Value::Foreach(scope) => Value::map(scope.to_map()).to_json(),
            Value::Entry(entry) => Value::map(entry.to_map()).to_json(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

/// Renders like Java's `String.valueOf`: what `$x` prints in a template.
/// Lists print as `[a, b]`, maps as `{k=v, k2=v2}`, doubles as `1.0` / `1.0E10`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&java_double_to_string(*x)),
            Value::Str(s) => f.write_str(s),
            Value::List(items) => {
                f.write_str("[")?;
                for (idx, item) in items.borrow().iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (idx, (k, v)) in map.borrow().iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("}")
            }
            Value::Builtin(ns) => write!(f, "<{}>", ns.name()),
            Value::Foreach(scope) => write!(f, "{}", Value::map(scope.to_map())),
            Value::Entry(entry) => write!(f, "{}", Value::map(entry.to_map())),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{s:?}"),
            other => write!(f, "{other}"),
        }
    }
}

/// Java's `Double.toString`: at least one fractional digit, scientific notation
/// outside `[1e-3, 1e7)`, shortest digits that round-trip.
pub fn java_double_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let abs = x.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Rust's `{:e}` gives the shortest round-trip digits, e.g. `1.5e10`.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1e7, "1.0E7"),
            (1.5e10, "1.5E10"),
            (1e-4, "1.0E-4"),
            (123.456, "123.456"),
            (-2.0, "-2.0"),
        ];
        for (x, want) in cases {
            assert_eq!(java_double_to_string(x), want, "{x}");
        }
    }

    #[test]
    fn collections_print_like_java() {
        let json = serde_json::json!({"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}});
        let v = Value::from_json(&json);
        assert_eq!(v.to_string(), "{a=1, b=[true, null, x], c={d=2.5}}");
        assert_eq!(v.to_json(), json);
    }
}
