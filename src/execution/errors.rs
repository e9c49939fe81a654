//! Every GraphQL error the API returns is shaped here, in AppSync's format:
//! `path`, `data`, `errorType`, `errorInfo`, `locations` (with
//! `sourceName: null`) and `message` at the top level of the error.

use async_graphql::Pos;
use serde_json::{Map, Value as Json, json};

use crate::execution::guards::GuardViolation;
use crate::vtl::TemplateError;

/// An error raised while resolving one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub message: String,
    pub error_type: Option<String>,
    pub data: Option<Json>,
    pub error_info: Option<Json>,
}

impl FieldError {
    pub fn new(message: impl Into<String>, error_type: Option<&str>) -> Self {
        FieldError {
            message: message.into(),
            error_type: error_type.map(str::to_owned),
            data: None,
            error_info: None,
        }
    }

    pub fn mapping_template(message: impl Into<String>) -> Self {
        Self::new(message, Some("MappingTemplate"))
    }

    /// `$util.unauthorized()`, with AppSync's message naming the field.
    pub fn unauthorized(field_name: &str, parent_type: &str) -> Self {
        Self::new(
            format!("Not Authorized to access {field_name} on type {parent_type}"),
            Some("Unauthorized"),
        )
    }

    /// A list longer than the `maxListFanOut` guard (local, beyond AppSync).
    pub fn list_fan_out(limit: usize, actual: usize) -> Self {
        let mut err = Self::new(
            format!("The list has {actual} items, more than the limit of {limit}."),
            Some("ListFanOutLimitReached"),
        );
        err.error_info = Some(guard_info("maxListFanOut", limit, actual));
        err
    }

    pub fn from_template(err: TemplateError, field_name: &str, parent_type: &str) -> Self {
        if err.error_type.as_deref() == Some("Unauthorized") && err.message == "Unauthorized" {
            return Self::unauthorized(field_name, parent_type);
        }
        FieldError {
            message: err.message,
            error_type: err.error_type,
            data: err.data,
            error_info: err.error_info,
        }
    }
}

/// One segment of a response path.
#[derive(Debug, Clone, Copy)]
pub enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// A response path as a linked list, so concurrent children share their
/// parent's path without copying it.
#[derive(Debug, Clone, Copy)]
pub struct Path<'a> {
    pub parent: Option<&'a Path<'a>>,
    pub segment: Segment<'a>,
}

impl<'a> Path<'a> {
    pub fn root(key: &'a str) -> Self {
        Path {
            parent: None,
            segment: Segment::Key(key),
        }
    }

    pub fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    pub fn index(&'a self, idx: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Index(idx),
        }
    }

    pub fn segments(&self) -> Vec<Segment<'a>> {
        let mut out = vec![self.segment];
        let mut cur = self.parent;
        while let Some(p) = cur {
            out.push(p.segment);
            cur = p.parent;
        }
        out.reverse();
        out
    }

    /// Nesting depth in fields (list indexes do not count).
    pub fn depth(&self) -> usize {
        self.segments()
            .iter()
            .filter(|s| matches!(s, Segment::Key(_)))
            .count()
    }

    pub fn to_json(&self) -> Json {
        Json::Array(
            self.segments()
                .into_iter()
                .map(|s| match s {
                    Segment::Key(k) => Json::String(k.to_owned()),
                    Segment::Index(i) => Json::from(i),
                })
                .collect(),
        )
    }

    /// graphql-java's `/getPost/comments[0]/id` form used inside messages.
    pub fn to_slashes(&self) -> String {
        let mut out = String::new();
        for s in self.segments() {
            match s {
                Segment::Key(k) => {
                    out.push('/');
                    out.push_str(k);
                }
                Segment::Index(i) => {
                    out.push_str(&format!("[{i}]"));
                }
            }
        }
        out
    }
}

fn locations(positions: &[Pos]) -> Json {
    Json::Array(
        positions
            .iter()
            .map(|p| json!({"line": p.line, "column": p.column, "sourceName": null}))
            .collect(),
    )
}

/// A field error in AppSync's shape.
pub fn field_error(path: &Path<'_>, pos: Pos, err: FieldError) -> Json {
    let mut m = Map::new();
    m.insert("path".into(), path.to_json());
    m.insert("data".into(), err.data.unwrap_or(Json::Null));
    m.insert(
        "errorType".into(),
        err.error_type.map(Json::String).unwrap_or(Json::Null),
    );
    m.insert("errorInfo".into(), err.error_info.unwrap_or(Json::Null));
    m.insert("locations".into(), locations(&[pos]));
    m.insert("message".into(), Json::String(err.message));
    Json::Object(m)
}

/// graphql-java's error for a null in a non-null position (what AppSync returns).
pub fn non_null_violation(path: &Path<'_>, type_name: &str, parent_type: &str) -> Json {
    json!({
        "path": path.to_json(),
        "locations": null,
        "message": format!(
            "Cannot return null for non-nullable type: '{type_name}' within parent '{parent_type}' ({})",
            path.to_slashes()
        ),
    })
}

/// A value the schema cannot represent (wrong scalar, unknown enum value,
/// non-list for a list type), in AppSync's shape: `locations` is null.
pub fn serialization_error(path: &Path<'_>, detail: &str) -> Json {
    json!({
        "path": path.to_json(),
        "locations": null,
        "message": format!("Can't serialize value ({}) : {detail}", path.to_slashes()),
    })
}

/// A request-level error (parse, validation, variables): `path` is null.
pub fn request_error(message: impl Into<String>, positions: &[Pos]) -> Json {
    json!({
        "path": null,
        "locations": if positions.is_empty() { Json::Null } else { locations(positions) },
        "message": message.into(),
    })
}

fn guard_info(guard: &str, limit: usize, actual: usize) -> Json {
    json!({"guard": guard, "limit": limit, "actual": actual})
}

/// A request rejected by a guard before execution: a request-level error
/// (`path` null) with a stable `errorType`, and the guard, its limit and the
/// request's figure in `errorInfo`.
pub fn guard_error(violation: &GuardViolation, positions: &[Pos]) -> Json {
    let (limit, actual) = violation.figures();
    json!({
        "path": null,
        "data": null,
        "errorType": violation.error_type(),
        "errorInfo": guard_info(violation.limit().as_str(), limit, actual),
        "locations": if positions.is_empty() { Json::Null } else { locations(positions) },
        "message": violation.to_string(),
    })
}

/// graphql-java's `toString()` of a query literal, as AppSync quotes it in
/// WrongType errors (`StringValue{value='bad'}`).
pub fn java_literal(value: &async_graphql_value::Value) -> String {
    use async_graphql_value::Value;
    match value {
        Value::Null => "NullValue{}".to_owned(),
        Value::Number(n) if n.is_f64() => format!("FloatValue{{value={n}}}"),
        Value::Number(n) => format!("IntValue{{value={n}}}"),
        Value::String(s) => format!("StringValue{{value='{s}'}}"),
        Value::Boolean(b) => format!("BooleanValue{{value={b}}}"),
        Value::Enum(e) => format!("EnumValue{{name='{e}'}}"),
        Value::Variable(v) => format!("VariableReference{{name='{v}'}}"),
        Value::Binary(_) => "BinaryValue{}".to_owned(),
        Value::List(items) => {
            let inner: Vec<String> = items.iter().map(java_literal).collect();
            format!("ArrayValue{{values=[{}]}}", inner.join(", "))
        }
        Value::Object(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("ObjectField{{name='{k}', value={}}}", java_literal(v)))
                .collect();
            format!("ObjectValue{{objectFields=[{}]}}", inner.join(", "))
        }
    }
}

/// Maps an async-graphql validation message to AppSync's (graphql-java's)
/// wording where the pattern is known; otherwise keeps the message.
/// `field_path` is the `a/b` path of the field at the error, when known.
pub fn validation_message(
    message: &str,
    field_path: Option<&str>,
    argument_literal: Option<&str>,
) -> String {
    let at = |path: Option<&str>, fallback: &str| path.unwrap_or(fallback).to_owned();
    if let Some(rest) = message.strip_prefix("Unknown field \"")
        && let Some((field, rest)) = rest.split_once("\" on type \"")
        && let Some((ty, _)) = rest.split_once('"')
    {
        return format!(
            "Validation error of type FieldUndefined: Field '{field}' in type '{ty}' is undefined @ '{}'",
            at(field_path, field)
        );
    }
    if let Some(rest) = message.strip_prefix("Unknown argument \"")
        && let Some((arg, _)) = rest.split_once('"')
    {
        return format!(
            "Validation error of type UnknownArgument: Unknown field argument {arg} @ '{}'",
            at(field_path, "")
        );
    }
    if let Some(rest) = message.strip_prefix("Field \"")
        && let Some((field, rest)) = rest.split_once('"')
        && rest.contains("argument \"")
        && rest.contains("is required")
    {
        let arg = rest
            .split("argument \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        return format!(
            "Validation error of type MissingFieldArgument: Missing field argument {arg} @ '{}'",
            at(field_path, field)
        );
    }
    if let Some(rest) = message.strip_prefix("Variable \"$")
        && let Some((var, rest)) = rest.split_once('"')
    {
        if rest.contains("is not defined") {
            return format!(
                "Validation error of type UndefinedVariable: Undefined variable {var} @ '{}'",
                at(field_path, "")
            );
        }
        if rest.contains("is not used") {
            return format!("Validation error of type UnusedVariable: Unused variable {var}");
        }
    }
    if let Some(rest) = message.strip_prefix("Fragment \"")
        && let Some((frag, rest)) = rest.split_once('"')
        && rest.contains("is never used")
    {
        return format!("Validation error of type UnusedFragment: Unused fragment {frag}");
    }
    if let Some(rest) = message.strip_prefix("Unknown fragment: \"")
        && let Some((frag, _)) = rest.split_once('"')
    {
        return format!(
            "Validation error of type UndefinedFragment: Undefined fragment {frag} @ '{}'",
            at(field_path, "")
        );
    }
    if let Some(rest) = message.strip_prefix("Unknown operation named \"")
        && let Some((name, _)) = rest.split_once('"')
    {
        return format!("Unknown operation named '{name}'.");
    }
    if message == "Operation name required in request." {
        return "Must provide operation name if query contains multiple operations.".to_owned();
    }
    if let Some(rest) = message.strip_prefix("Unknown type \"")
        && let Some((ty, _)) = rest.split_once('"')
    {
        return format!("Validation error of type UnknownType: Unknown type {ty}");
    }
    if let Some(rest) = message.strip_prefix("Invalid value for argument \"")
        && let Some((arg_path, rest)) = rest.split_once('"')
        && let Some(ty) = rest
            .strip_prefix(", expected type \"")
            .and_then(|r| r.split('"').next())
        && let Some(value) = argument_literal
    {
        let arg = arg_path.split('.').next().unwrap_or(arg_path);
        return format!(
            "Validation error of type WrongType: argument '{arg}' with value '{value}' is not a valid '{ty}' @ '{}'",
            at(field_path, "")
        );
    }
    if message.starts_with("Invalid value for argument") {
        return format!(
            "Validation error of type WrongType: {message} @ '{}'",
            at(field_path, "")
        );
    }
    if let Some(rest) = message.strip_prefix("Field \"")
        && let Some((field, rest)) = rest.split_once('"')
        && rest.contains("must have a selection of subfields")
    {
        let ty = rest
            .strip_prefix(" of type \"")
            .and_then(|r| r.split('"').next())
            .unwrap_or("null");
        return format!(
            "Validation error of type SubSelectionRequired: Sub selection required for type {ty} of field {field} @ '{}'",
            at(field_path, field)
        );
    }
    if let Some(rest) = message.strip_prefix("Field \"")
        && let Some((field, rest)) = rest.split_once('"')
        && rest.contains("must not have a selection")
    {
        return format!(
            "Validation error of type SubSelectionNotAllowed: Sub selection not allowed on leaf type of field {field} @ '{}'",
            at(field_path, field)
        );
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_names_the_field_and_type() {
        let err = FieldError::from_template(TemplateError::unauthorized(), "getPost", "Query");
        assert_eq!(
            err.message,
            "Not Authorized to access getPost on type Query"
        );
        assert_eq!(err.error_type.as_deref(), Some("Unauthorized"));
    }

    #[test]
    fn field_errors_have_appsync_shape() {
        let root = Path::root("getPost");
        let path = root.index(2);
        let mut err = FieldError::new("boom", Some("Custom"));
        err.error_info = Some(json!({"a": 1}));
        assert_eq!(
            field_error(&path, Pos { line: 2, column: 3 }, err),
            json!({"path": ["getPost", 2], "data": null, "errorType": "Custom",
                   "errorInfo": {"a": 1},
                   "locations": [{"line": 2, "column": 3, "sourceName": null}],
                   "message": "boom"})
        );
    }
}
