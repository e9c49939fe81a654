//! AppSync's `$util` (alias `$utils`) and `$extensions` libraries.
//!
//! Contract with the evaluator: a reference such as `$util.time` evaluates to
//! `Value::Builtin(Namespace::UtilTime)` via [`Namespace::child`]; a method
//! call on a builtin goes to [`call`].
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
mod string;
mod time;
pub(crate) mod transform;
mod xml;

use crate::vtl::runtime::{RenderState, TemplateError};
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

impl CallError {
    /// A `MappingTemplate` error with the message of `e`.
    pub(crate) fn invalid(e: impl std::fmt::Display) -> CallError {
        CallError::Invalid(e.to_string())
    }
}

/// A built-in namespace object: `$util` (alias `$utils`), one of its
/// children such as `$util.time`, or `$extensions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    Util,
    UtilTime,
    UtilDynamodb,
    UtilList,
    UtilMap,
    UtilStr,
    UtilMath,
    UtilHttp,
    UtilTransform,
    UtilLog,
    UtilRds,
    UtilXml,
    Extensions,
}

impl Namespace {
    pub const ALL: [Namespace; 13] = [
        Namespace::Util,
        Namespace::UtilTime,
        Namespace::UtilDynamodb,
        Namespace::UtilList,
        Namespace::UtilMap,
        Namespace::UtilStr,
        Namespace::UtilMath,
        Namespace::UtilHttp,
        Namespace::UtilTransform,
        Namespace::UtilLog,
        Namespace::UtilRds,
        Namespace::UtilXml,
        Namespace::Extensions,
    ];

    /// The dotted name templates write after `$`, e.g. `"util.time"`.
    pub fn name(self) -> &'static str {
        match self {
            Namespace::Util => "util",
            Namespace::UtilTime => "util.time",
            Namespace::UtilDynamodb => "util.dynamodb",
            Namespace::UtilList => "util.list",
            Namespace::UtilMap => "util.map",
            Namespace::UtilStr => "util.str",
            Namespace::UtilMath => "util.math",
            Namespace::UtilHttp => "util.http",
            Namespace::UtilTransform => "util.transform",
            Namespace::UtilLog => "util.log",
            Namespace::UtilRds => "util.rds",
            Namespace::UtilXml => "util.xml",
            Namespace::Extensions => "extensions",
        }
    }

    /// The namespace with this dotted name.
    pub fn from_name(name: &str) -> Option<Namespace> {
        Namespace::ALL.into_iter().find(|ns| ns.name() == name)
    }

    /// The child namespace `name`, e.g. `Util.child("time")` is `UtilTime`.
    pub fn child(self, name: &str) -> Option<Namespace> {
        if self != Namespace::Util {
            return None;
        }
        Some(match name {
            "time" => Namespace::UtilTime,
            "dynamodb" => Namespace::UtilDynamodb,
            "list" => Namespace::UtilList,
            "map" => Namespace::UtilMap,
            "str" => Namespace::UtilStr,
            "math" => Namespace::UtilMath,
            "http" => Namespace::UtilHttp,
            "transform" => Namespace::UtilTransform,
            "log" => Namespace::UtilLog,
            "rds" => Namespace::UtilRds,
            "xml" => Namespace::UtilXml,
            _ => return None,
        })
    }
}

/// Calls `namespace.method(args)`.
pub(crate) fn call(
    host: &mut RenderState<'_>,
    namespace: Namespace,
    method: &str,
    args: &[Value],
) -> Result<Value, CallError> {
    let call = Call {
        namespace,
        method,
        args,
    };
    match namespace {
        Namespace::Util => general::call(host, &call),
        Namespace::UtilLog => general::call_log(host, &call),
        Namespace::UtilTime => time::call(host, &call),
        Namespace::UtilDynamodb => dynamodb::call(&call),
        Namespace::UtilList => list::call(&call),
        Namespace::UtilMap => map::call(&call),
        Namespace::UtilStr => string::call(&call),
        Namespace::UtilMath => math::call(host, &call),
        Namespace::UtilHttp => http::call(host, &call),
        Namespace::UtilTransform => transform::call(&call),
        Namespace::UtilRds => rds::call(&call),
        Namespace::UtilXml => xml::call(&call),
        Namespace::Extensions => extensions::call(host, &call),
    }
}

/// One builtin call, with typed access to its arguments.
pub(crate) struct Call<'a> {
    namespace: Namespace,
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
            self.namespace.name(),
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
    use crate::vtl::runtime::Host;

    /// A fixed clock: 2018-02-06T19:01:35.749Z, the DG's example instant.
    pub const NOW: i64 = 1_517_943_695_749;

    /// Calls `ns.method(args)` with JSON-written arguments; an unknown
    /// namespace has no methods.
    pub fn run(
        host: &mut RenderState<'_>,
        ns: &str,
        method: &str,
        args: &str,
    ) -> Result<Value, CallError> {
        let args: serde_json::Value =
            serde_json::from_str(args).unwrap_or_else(|e| panic!("bad test args {args}: {e}"));
        let args: Vec<Value> = match args {
            serde_json::Value::Array(items) => items.iter().map(Value::from_json).collect(),
            other => panic!("test args must be a JSON array, got {other}"),
        };
        match Namespace::from_name(ns) {
            Some(ns) => call(host, ns, method, &args),
            None => Err(CallError::NoSuchMethod),
        }
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
    pub fn check(ns: &str, method: &str, args: &str, expected: &str) {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        let got = show(&run(&mut host, ns, method, args));
        assert_eq!(got, expected, "{ns}.{method}({args})");
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::testing::{NOW, check};
    use super::*;
    use crate::vtl::runtime::Host;

    /// Every helper, by namespace.
    const METHODS: &[(&str, &[&str])] = &[
        (
            "util",
            &[
                "qr",
                "quiet",
                "parseJson",
                "toJson",
                "urlEncode",
                "urlDecode",
                "base64Encode",
                "base64Decode",
                "escapeJavaScript",
                "autoId",
                "autoUlid",
                "autoKsuid",
                "error",
                "appendError",
                "validate",
                "unauthorized",
                "isNull",
                "isNullOrEmpty",
                "isNullOrBlank",
                "defaultIfNull",
                "defaultIfNullOrEmpty",
                "defaultIfNullOrBlank",
                "typeOf",
                "isString",
                "isNumber",
                "isBoolean",
                "isList",
                "isMap",
                "matches",
                "authType",
            ],
        ),
        ("util.log", &["info", "debug", "error"]),
        (
            "util.time",
            &[
                "nowISO8601",
                "nowEpochSeconds",
                "nowEpochMilliSeconds",
                "nowFormatted",
                "parseFormattedToEpochMilliSeconds",
                "parseISO8601ToEpochMilliSeconds",
                "epochMilliSecondsToSeconds",
                "epochMilliSecondsToISO8601",
                "epochMilliSecondsToFormatted",
            ],
        ),
        (
            "util.list",
            &["copyAndRetainAll", "copyAndRemoveAll", "sortList"],
        ),
        (
            "util.map",
            &["copyAndRetainAllKeys", "copyAndRemoveAllKeys"],
        ),
        (
            "util.dynamodb",
            &[
                "toDynamoDB",
                "toDynamoDBJson",
                "toString",
                "toStringJson",
                "toStringSet",
                "toStringSetJson",
                "toNumber",
                "toNumberJson",
                "toNumberSet",
                "toNumberSetJson",
                "toBinary",
                "toBinaryJson",
                "toBinarySet",
                "toBinarySetJson",
                "toBoolean",
                "toBooleanJson",
                "toNull",
                "toNullJson",
                "toList",
                "toListJson",
                "toMap",
                "toMapJson",
                "toMapValues",
                "toMapValuesJson",
                "toS3Object",
                "toS3ObjectJson",
                "fromS3ObjectJson",
            ],
        ),
        (
            "util.str",
            &["toUpper", "toLower", "toReplace", "normalize"],
        ),
        (
            "util.math",
            &[
                "roundNum",
                "minVal",
                "maxVal",
                "randomDouble",
                "randomWithinRange",
            ],
        ),
        (
            "util.http",
            &["copyHeaders", "addResponseHeader", "addResponseHeaders"],
        ),
        (
            "util.transform",
            &[
                "toDynamoDBFilterExpression",
                "toDynamoDBConditionExpression",
                "toElasticsearchQueryDSL",
                "toSubscriptionFilter",
            ],
        ),
        ("util.rds", &["toJsonString", "toJsonObject"]),
        ("util.xml", &["toMap", "toJsonString"]),
        (
            "extensions",
            &[
                "evictFromApiCache",
                "setSubscriptionFilter",
                "setSubscriptionInvalidationFilter",
                "invalidateSubscriptions",
            ],
        ),
    ];

    #[test]
    fn every_helper_is_dispatched() {
        for (ns, methods) in METHODS {
            let namespace = Namespace::from_name(ns).expect("a namespace");
            if *ns != "util" && *ns != "extensions" {
                let child = ns.trim_start_matches("util.");
                assert_eq!(Namespace::Util.child(child), Some(namespace));
            }
            for method in *methods {
                // Ten arguments fit no helper: a known method must say so.
                let args = vec![Value::Int(1); 10];
                let mut host = Host::seeded(NOW, 0);
                let mut host = RenderState::new(&mut host);
                let res = call(&mut host, namespace, method, &args);
                assert!(
                    !matches!(res, Err(CallError::NoSuchMethod)),
                    "{ns}.{method} is not dispatched"
                );
            }
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_map(Value::Float),
            "[a-zA-Z0-9 :'\\\\\"+/.{}<>&;#%=-]{0,16}".prop_map(Value::str),
            prop_oneof![
                Just("yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
                Just("<a x=\"1\"><b>2</b></a>"),
                Just("{\"a\":[1,{\"b\":null}]}"),
                Just("2018-02-01T17:21:05.180+08:00"),
                Just("Europe/Paris"),
            ]
            .prop_map(Value::str),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::list),
                prop::collection::vec(("[a-z]{1,6}", inner), 0..4)
                    .prop_map(|entries| Value::map(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Bad input never panics: any arguments to any helper give a value or an error.
        #[test]
        fn helpers_never_panic(
            idx in any::<prop::sample::Index>(),
            args in prop::collection::vec(arb_value(), 0..4),
        ) {
            let all: Vec<(&str, &str)> = METHODS
                .iter()
                .flat_map(|(ns, methods)| methods.iter().map(move |m| (*ns, *m)))
                .collect();
            let (ns, method) = all[idx.index(all.len())];
            let ns = Namespace::from_name(ns).expect("a namespace");
            let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
            let res = call(&mut host, ns, method, &args);
            prop_assert!(!matches!(res, Err(CallError::NoSuchMethod)), "{ns:?}.{method}");
        }
    }

    #[test]
    fn namespaces_resolve() {
        assert_eq!(Namespace::Util.child("time"), Some(Namespace::UtilTime));
        assert_eq!(
            Namespace::Util.child("dynamodb"),
            Some(Namespace::UtilDynamodb)
        );
        assert_eq!(Namespace::Util.child("nope"), None);
        assert_eq!(Namespace::Extensions.child("time"), None);
        for ns in Namespace::ALL {
            assert_eq!(Namespace::from_name(ns.name()), Some(ns));
        }
    }

    #[test]
    fn unknown_methods_and_namespaces() {
        check("util", "noSuchThing", "[]", "!NoSuchMethod");
        check("util.time", "noSuchThing", "[]", "!NoSuchMethod");
        check("nowhere", "toJson", "[1]", "!NoSuchMethod");
    }
}
