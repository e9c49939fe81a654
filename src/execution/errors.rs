//! Every GraphQL error the API returns is shaped here, in AppSync's format:
//! `path`, `data`, `errorType`, `errorInfo`, `locations` (with
//! `sourceName: null`) and `message` at the top level of the error.

use async_graphql::Pos;
use serde_json::{Map, Value as Json, json};

use crate::execution::guards::GuardViolation;
use crate::runtime::CodeError;

/// An error raised while resolving one field: the runtime seam's
/// [`CodeError`], which has exactly the fields AppSync reports, plus the
/// errors the executor raises itself (below).
pub type FieldError = CodeError;

impl CodeError {
    /// `util.unauthorized()` as reported: AppSync's message names the field.
    pub fn unauthorized_field(field_name: &str, parent_type: &str) -> Self {
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

    /// An error raised by resolver code, as reported for its field.
    pub fn from_code(err: CodeError, field_name: &str, parent_type: &str) -> Self {
        if err.is_unauthorized() {
            return Self::unauthorized_field(field_name, parent_type);
        }
        err
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

    pub fn to_json(self) -> Json {
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
    pub fn to_slashes(self) -> String {
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

/// The body AppSync sends when it rejects a request before running any
/// GraphQL (bad auth, a malformed body): `errorType` and `message` only.
pub fn request_rejection(error_type: &str, message: &str) -> Json {
    json!({ "errors": [{ "errorType": error_type, "message": message }] })
}

/// The payload of a real-time `error` for a refused `start`: AppSync keeps
/// only each error's `errorType` (when it has one), `message` and
/// `errorCode` (filter limits); validation errors carry a message alone.
pub fn subscription_rejection(errors: Vec<Json>) -> Json {
    let errors: Vec<Json> = errors
        .into_iter()
        .map(|error| {
            let mut kept = Map::new();
            for key in ["errorType", "message", "errorCode"] {
                if let Some(value) = error.get(key).filter(|v| !v.is_null()) {
                    kept.insert(key.to_owned(), value.clone());
                }
            }
            Json::Object(kept)
        })
        .collect();
    json!({ "errors": errors })
}

/// The payload of a real-time `data` message: `{"data"}`, with `errors`
/// when a non-null field was null.
pub fn subscription_data(data: Json, errors: Vec<Json>) -> Json {
    let mut payload = Map::with_capacity(2);
    payload.insert("data".into(), data);
    if !errors.is_empty() {
        payload.insert("errors".into(), Json::Array(errors));
    }
    Json::Object(payload)
}

/// A null in a non-null position of a published result: AppSync's
/// subscription errors carry the message and the path only.
pub fn subscription_non_null_violation(
    path: &Path<'_>,
    type_name: &str,
    parent_type: &str,
) -> Json {
    let mut error = non_null_violation(path, type_name, parent_type);
    if let Some(map) = error.as_object_mut() {
        map.retain(|key, _| key == "message" || key == "path");
    }
    error
}

/// A real-time `start` beyond the connection's subscription limit. AppSync
/// sends this one's `errors` as an object, not a list.
pub fn max_subscriptions_reached(max: usize) -> Json {
    json!({ "errors": {
        "errorType": "MaxSubscriptionsReachedError",
        "message": format!("Max number of {max} subscriptions reached"),
    }})
}

/// A real-time connection refused at its start (`connection_error`'s
/// payload): the rejection with the HTTP status AppSync adds as `errorCode`.
pub fn connection_rejection(error_type: &str, message: &str, code: u16) -> Json {
    json!({ "errors": [{ "errorType": error_type, "message": message, "errorCode": code }] })
}

/// One async-graphql message and AppSync's (graphql-java's) wording for it.
///
/// `upstream` is async-graphql's message with `{name}` capturing text up to
/// the next literal part and `{..}` matching the rest. `appsync` is filled
/// from the captures and from `{path}` (the `a/b` path of the field at the
/// error, or the `path_fallback` capture), `{value}` (the argument's
/// literal; a rule that uses it applies only when one is known),
/// `{message}` (the whole upstream message) and `{X.head}` (capture `X` up
/// to its first `.`).
#[derive(Debug)]
pub struct MessageRule {
    pub upstream: &'static str,
    pub appsync: &'static str,
    pub path_fallback: &'static str,
}

const fn rule(
    upstream: &'static str,
    appsync: &'static str,
    path_fallback: &'static str,
) -> MessageRule {
    MessageRule {
        upstream,
        appsync,
        path_fallback,
    }
}

/// Every async-graphql message we reword, first match wins. Each has a
/// fixture in `tests/validation_messages.rs` that produces it from a real
/// query, so an upgrade that changes a message fails a test.
pub const VALIDATION_MESSAGES: &[MessageRule] = &[
    rule(
        r#"Unknown field "{field}" on type "{type}".{..}"#,
        "Validation error of type FieldUndefined: Field '{field}' in type '{type}' is undefined @ '{path}'",
        "field",
    ),
    rule(
        r#"Unknown argument "{arg}" on field "{field}" of type "{type}".{..}"#,
        "Validation error of type UnknownArgument: Unknown field argument {arg} @ '{path}'",
        "",
    ),
    rule(
        r#"Unknown argument "{arg}" on directive "{directive}".{..}"#,
        "Validation error of type UnknownArgument: Unknown field argument {arg} @ '{path}'",
        "",
    ),
    rule(
        r#"Field "{field}" argument "{arg}" of type "{type}" is required but not provided"#,
        "Validation error of type MissingFieldArgument: Missing field argument {arg} @ '{path}'",
        "field",
    ),
    rule(
        r#"Variable "${var}" is not defined{..}"#,
        "Validation error of type UndefinedVariable: Undefined variable {var} @ '{path}'",
        "",
    ),
    rule(
        r#"Variable "${var}" is not used{..}"#,
        "Validation error of type UnusedVariable: Unused variable {var}",
        "",
    ),
    rule(
        r#"Fragment "{fragment}" is never used"#,
        "Validation error of type UnusedFragment: Unused fragment {fragment}",
        "",
    ),
    rule(
        r#"Unknown fragment: "{fragment}""#,
        "Validation error of type UndefinedFragment: Undefined fragment {fragment} @ '{path}'",
        "",
    ),
    rule(
        r#"Unknown operation named "{name}""#,
        "Unknown operation named '{name}'.",
        "",
    ),
    rule(
        "Operation name required in request.",
        "Must provide operation name if query contains multiple operations.",
        "",
    ),
    rule(
        r#"Unknown type "{type}""#,
        "Validation error of type UnknownType: Unknown type {type}",
        "",
    ),
    rule(
        r#"Invalid value for argument "{arg_path}", expected type "{type}""#,
        "Validation error of type WrongType: argument '{arg_path.head}' with value '{value}' is not a valid '{type}' @ '{path}'",
        "",
    ),
    rule(
        "Invalid value for argument {..}",
        "Validation error of type WrongType: {message} @ '{path}'",
        "",
    ),
    rule(
        r#"Field "{field}" of type "{type}" must have a selection of subfields{..}"#,
        "Validation error of type SubSelectionRequired: Sub selection required for type {type} of field {field} @ '{path}'",
        "field",
    ),
    rule(
        r#"Field "{field}" must not have a selection since type "{type}" has no subfields"#,
        "Validation error of type SubSelectionNotAllowed: Sub selection not allowed on leaf type of field {field} @ '{path}'",
        "field",
    ),
];

/// Matches `message` against a rule's `upstream` pattern: the captures by
/// name, or `None`.
fn captures<'m>(pattern: &'static str, message: &'m str) -> Option<Vec<(&'static str, &'m str)>> {
    let mut out = Vec::new();
    let mut rest_pattern = pattern;
    let mut rest = message;
    loop {
        let Some(open) = rest_pattern.find('{') else {
            return (rest == rest_pattern).then_some(out);
        };
        let literal = &rest_pattern[..open];
        rest = rest.strip_prefix(literal)?;
        let close = open + rest_pattern[open..].find('}')?;
        let name = &rest_pattern[open + 1..close];
        rest_pattern = &rest_pattern[close + 1..];
        if name == ".." {
            return Some(out);
        }
        // A capture runs to the next literal part (or the end).
        let next_literal = rest_pattern
            .find('{')
            .map_or(rest_pattern, |i| &rest_pattern[..i]);
        let end = if next_literal.is_empty() {
            rest.len()
        } else {
            rest.find(next_literal)?
        };
        out.push((name, &rest[..end]));
        rest = &rest[end..];
    }
}

impl MessageRule {
    /// AppSync's wording for `message`, when this rule applies.
    pub fn apply(
        &self,
        message: &str,
        field_path: Option<&str>,
        argument_literal: Option<&str>,
    ) -> Option<String> {
        let caps = captures(self.upstream, message)?;
        let get = |name: &str| caps.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let mut out = String::with_capacity(self.appsync.len() + message.len());
        let mut rest = self.appsync;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}')?;
            let name = &rest[open + 1..close];
            let value = match name {
                "path" => field_path.or_else(|| get(self.path_fallback)).unwrap_or(""),
                "value" => argument_literal?,
                "message" => message,
                _ => match name.strip_suffix(".head") {
                    Some(base) => get(base)?.split('.').next().unwrap_or(""),
                    None => get(name)?,
                },
            };
            out.push_str(value);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

/// Maps an async-graphql validation message to AppSync's (graphql-java's)
/// wording where [`VALIDATION_MESSAGES`] knows it; otherwise keeps the
/// message. `field_path` is the `a/b` path of the field at the error, when
/// known.
pub fn validation_message(
    message: &str,
    field_path: Option<&str>,
    argument_literal: Option<&str>,
) -> String {
    VALIDATION_MESSAGES
        .iter()
        .find_map(|rule| rule.apply(message, field_path, argument_literal))
        .unwrap_or_else(|| message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_patterns_capture_up_to_the_next_literal() {
        let rule = &VALIDATION_MESSAGES[0];
        assert_eq!(
            rule.apply(
                r#"Unknown field "nme" on type "Post". Did you mean "name"?"#,
                Some("getPost/nme"),
                None
            )
            .as_deref(),
            Some(
                "Validation error of type FieldUndefined: Field 'nme' in type 'Post' is undefined @ 'getPost/nme'"
            )
        );
        assert_eq!(
            rule.apply(r#"Unknown field "x" on type "Q"."#, None, None)
                .as_deref(),
            Some(
                "Validation error of type FieldUndefined: Field 'x' in type 'Q' is undefined @ 'x'"
            )
        );
        assert_eq!(rule.apply("Unknown field", None, None), None);
        let wrong_type = VALIDATION_MESSAGES
            .iter()
            .find(|r| r.appsync.contains("{value}"))
            .expect("a rule with a literal");
        let message = r#"Invalid value for argument "input.title", expected type "String""#;
        assert_eq!(wrong_type.apply(message, Some("createPost"), None), None);
        assert_eq!(
            wrong_type
                .apply(message, Some("createPost"), Some("IntValue{value=1}"))
                .as_deref(),
            Some(
                "Validation error of type WrongType: argument 'input' with value 'IntValue{value=1}' is not a valid 'String' @ 'createPost'"
            )
        );
        assert_eq!(
            validation_message("Something new", None, None),
            "Something new"
        );
    }

    #[test]
    fn unauthorized_names_the_field_and_type() {
        let err = FieldError::from_code(CodeError::unauthorized(), "getPost", "Query");
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
