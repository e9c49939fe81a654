//! AppSync's `$util` (alias `$utils`) and `$extensions` libraries.
//!
//! Contract with the evaluator: a reference such as `$util.time` evaluates to
//! `Value::Builtin("util.time")` via [`namespace`]; a method call on a builtin
//! goes to [`call`].
//!
//! Argument checking: AppSync's helpers are Java methods, so a call whose
//! arguments no overload accepts fails. We report it as [`CallError::Invalid`]
//! with the method's signature, which the evaluator turns into a
//! `MappingTemplate` error.

// `CallError::Raise` carries a whole `TemplateError` by the evaluator's
// contract; a raise ends the render, so its size costs nothing on hot paths.
#![allow(clippy::result_large_err)]

mod dynamodb;
mod extensions;
mod general;
mod http;
mod json;
mod list;
mod map;
mod math;
mod rds;
mod str;
mod time;
mod transform;
mod xml;

use crate::vtl::runtime::{Host, TemplateError};
use crate::vtl::value::Value;

pub use json::{java_equals, parse_json, to_json_string};

/// Why a builtin call produced no value.
#[derive(Debug)]
pub enum CallError {
    /// No such method: Velocity then renders the reference literally.
    NoSuchMethod,
    /// `$util.error`, `$util.unauthorized`, ...: stops rendering with this error.
    Raise(TemplateError),
    /// Bad arguments: becomes a `MappingTemplate` error that stops rendering.
    Invalid(String),
}

/// The child namespace `name` of builtin `parent`, e.g. `("util", "time")` → `"util.time"`.
pub fn namespace(parent: &'static str, name: &str) -> Option<&'static str> {
    match (parent, name) {
        ("util", "time") => Some("util.time"),
        ("util", "dynamodb") => Some("util.dynamodb"),
        ("util", "list") => Some("util.list"),
        ("util", "map") => Some("util.map"),
        ("util", "str") => Some("util.str"),
        ("util", "math") => Some("util.math"),
        ("util", "http") => Some("util.http"),
        ("util", "transform") => Some("util.transform"),
        ("util", "log") => Some("util.log"),
        ("util", "rds") => Some("util.rds"),
        ("util", "xml") => Some("util.xml"),
        _ => None,
    }
}

/// Calls `namespace.method(args)`.
pub fn call(
    host: &mut Host,
    namespace: &'static str,
    method: &str,
    args: &[Value],
) -> Result<Value, CallError> {
    let call = Call {
        namespace,
        method,
        args,
    };
    match namespace {
        "util" => general::call(host, &call),
        "util.log" => general::call_log(host, &call),
        "util.time" => time::call(host, &call),
        "util.dynamodb" => dynamodb::call(&call),
        "util.list" => list::call(&call),
        "util.map" => map::call(&call),
        "util.str" => str::call(&call),
        "util.math" => math::call(&call),
        "util.http" => http::call(host, &call),
        "util.transform" => transform::call(&call),
        "util.rds" => rds::call(&call),
        "util.xml" => xml::call(&call),
        "extensions" => extensions::call(host, &call),
        _ => Err(CallError::NoSuchMethod),
    }
}

/// One builtin call, with typed access to its arguments.
pub(crate) struct Call<'a> {
    namespace: &'static str,
    method: &'a str,
    args: &'a [Value],
}

impl<'a> Call<'a> {
    fn len(&self) -> usize {
        self.args.len()
    }

    /// The error for arguments that no Java overload accepts.
    fn invalid(&self, signature: &str) -> CallError {
        let got: Vec<&str> = self.args.iter().map(Value::type_of).collect();
        CallError::Invalid(format!(
            "Invalid arguments for ${}.{}({}): expected {}",
            self.namespace,
            self.method,
            got.join(", "),
            signature
        ))
    }

    /// Checks the argument count against an inclusive range.
    fn arity(&self, min: usize, max: usize, signature: &str) -> Result<(), CallError> {
        if (min..=max).contains(&self.len()) {
            Ok(())
        } else {
            Err(self.invalid(signature))
        }
    }

    /// The argument at `idx`; a missing one reads as Java `null`.
    fn arg(&self, idx: usize) -> Value {
        self.args.get(idx).cloned().unwrap_or_default()
    }

    /// A `String` parameter; Java would accept null, most helpers then fail.
    fn str(&self, idx: usize, signature: &str) -> Result<&'a str, CallError> {
        match self.args.get(idx) {
            Some(Value::Str(s)) => Ok(s),
            _ => Err(self.invalid(signature)),
        }
    }

    /// An optional trailing `String` parameter (absent or null → `None`).
    fn opt_str(&self, idx: usize, signature: &str) -> Result<Option<&'a str>, CallError> {
        match self.args.get(idx) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            _ => Err(self.invalid(signature)),
        }
    }

    fn bool(&self, idx: usize, signature: &str) -> Result<bool, CallError> {
        match self.arg(idx) {
            Value::Bool(b) => Ok(b),
            _ => Err(self.invalid(signature)),
        }
    }

    /// A `long` parameter; doubles are narrowed as Velocity's converters do.
    fn int(&self, idx: usize, signature: &str) -> Result<i64, CallError> {
        match self.arg(idx) {
            Value::Int(i) => Ok(i),
            Value::Float(f) if f.is_finite() => Ok(f as i64),
            _ => Err(self.invalid(signature)),
        }
    }

    fn float(&self, idx: usize, signature: &str) -> Result<f64, CallError> {
        match self.arg(idx) {
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) => Ok(f),
            _ => Err(self.invalid(signature)),
        }
    }

    fn list(&self, idx: usize, signature: &str) -> Result<Vec<Value>, CallError> {
        match self.arg(idx) {
            Value::List(items) => Ok(items.borrow().clone()),
            _ => Err(self.invalid(signature)),
        }
    }

    fn map(&self, idx: usize, signature: &str) -> Result<crate::vtl::value::Map, CallError> {
        match self.arg(idx) {
            Value::Map(map) => Ok(map.borrow().clone()),
            _ => Err(self.invalid(signature)),
        }
    }
}

/// What Java `void` methods return: prints nothing.
fn void() -> Result<Value, CallError> {
    Ok(Value::str(""))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Table-driven checks shared by the namespace tests.

    use super::*;

    /// A fixed clock: 2018-02-06T19:01:35.749Z, the DG's example instant.
    pub const NOW: i64 = 1_517_943_695_749;

    /// Calls `ns.method(args)` with JSON-written arguments.
    pub fn run(
        host: &mut Host,
        ns: &'static str,
        method: &str,
        args: &str,
    ) -> Result<Value, CallError> {
        let args: serde_json::Value =
            serde_json::from_str(args).unwrap_or_else(|e| panic!("bad test args {args}: {e}"));
        let args: Vec<Value> = match args {
            serde_json::Value::Array(items) => items.iter().map(Value::from_json).collect(),
            other => panic!("test args must be a JSON array, got {other}"),
        };
        call(host, ns, method, &args)
    }

    /// Renders a result the way a test expects to compare it: values print
    /// as `toJson` would, errors with their kind.
    pub fn show(res: &Result<Value, CallError>) -> String {
        match res {
            Ok(v) => to_json_string(v),
            Err(CallError::NoSuchMethod) => "!NoSuchMethod".into(),
            Err(CallError::Invalid(msg)) => format!("!Invalid: {msg}"),
            Err(CallError::Raise(e)) => format!(
                "!Raise: {} / {} / {} / {}",
                e.message,
                e.error_type.as_deref().unwrap_or("-"),
                e.data.as_ref().map_or("-".into(), |d| d.to_string()),
                e.error_info.as_ref().map_or("-".into(), |d| d.to_string()),
            ),
        }
    }

    /// Checks `ns.method(args) == expected` with the pinned clock.
    #[track_caller]
    pub fn check(ns: &'static str, method: &str, args: &str, expected: &str) {
        let mut host = Host::new(NOW);
        let got = show(&run(&mut host, ns, method, args));
        assert_eq!(got, expected, "{ns}.{method}({args})");
    }
}

#[cfg(test)]
mod tests {
    use super::testing::check;
    use super::*;

    #[test]
    fn namespaces_resolve() {
        assert_eq!(namespace("util", "time"), Some("util.time"));
        assert_eq!(namespace("util", "dynamodb"), Some("util.dynamodb"));
        assert_eq!(namespace("util", "nope"), None);
        assert_eq!(namespace("extensions", "time"), None);
    }

    #[test]
    fn unknown_methods_and_namespaces() {
        check("util", "noSuchThing", "[]", "!NoSuchMethod");
        check("util.time", "noSuchThing", "[]", "!NoSuchMethod");
        check("nowhere", "toJson", "[1]", "!NoSuchMethod");
    }
}
