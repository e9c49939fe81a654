//! AppSync's `$util` (alias `$utils`) and `$extensions` libraries.
//!
//! Contract with the evaluator: a reference such as `$util.time` evaluates to
//! `Value::Builtin("util.time")` via [`namespace`]; a method call on a builtin
//! goes to [`call`].

use crate::vtl::runtime::{Host, TemplateError};
use crate::vtl::value::Value;

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
pub fn namespace(_parent: &'static str, _name: &str) -> Option<&'static str> {
    None
}

/// Calls `namespace.method(args)`.
pub fn call(
    _host: &mut Host,
    _namespace: &'static str,
    _method: &str,
    _args: &[Value],
) -> Result<Value, CallError> {
    Err(CallError::NoSuchMethod)
}
