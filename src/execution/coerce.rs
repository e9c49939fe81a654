//! Input coercion: variables and argument literals -> the JSON that
//! `$ctx.arguments` and `$ctx.info.variables` show, with defaults applied.

use async_graphql::Positioned;
use async_graphql::parser::types::{BaseType, Type};
use async_graphql_value::{ConstValue, Name, Value};
use indexmap::IndexMap;
use serde_json::{Map, Value as Json};

use crate::model::schema::{InputValueDef, SchemaModel, TypeDef};

/// Why a value does not fit its type; the caller words the error.
#[derive(Debug, Clone, PartialEq)]
pub enum CoerceError {
    /// A null (or a missing required value) where the type is non-null.
    NullForNonNull {
        ty: String,
    },
    Invalid {
        ty: String,
        detail: String,
    },
}

impl CoerceError {
    /// graphql-java's words for a field argument that does not fit, as
    /// AppSync reports it.
    pub fn argument_message(&self, arg: &str) -> String {
        match self {
            CoerceError::NullForNonNull { ty } => format!(
                "Validation error of type WrongType: argument '{arg}' has null value for NonNull type '{ty}'"
            ),
            CoerceError::Invalid { detail, .. } => {
                format!("Validation error of type WrongType: argument '{arg}' {detail}")
            }
        }
    }
}

fn invalid(ty: &str, detail: impl Into<String>) -> CoerceError {
    CoerceError::Invalid {
        ty: ty.to_owned(),
        detail: detail.into(),
    }
}

/// A default value from the schema or a variable definition, as JSON.
pub fn const_to_json(value: &ConstValue) -> Json {
    value.clone().into_json().unwrap_or(Json::Null)
}

/// Coerces a JSON value (a variable, or a default) against `ty`.
pub fn coerce_json(model: &SchemaModel, ty: &Type, value: &Json) -> Result<Json, CoerceError> {
    if value.is_null() {
        return if ty.nullable {
            Ok(Json::Null)
        } else {
            Err(CoerceError::NullForNonNull { ty: ty.to_string() })
        };
    }
    match &ty.base {
        BaseType::List(inner) => match value {
            Json::Array(items) => items
                .iter()
                .map(|item| coerce_json(model, inner, item))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            // Input coercion wraps a single value in a list.
            single => Ok(Json::Array(vec![coerce_json(model, inner, single)?])),
        },
        BaseType::Named(name) => coerce_named_json(model, name, value),
    }
}

fn coerce_named_json(model: &SchemaModel, name: &str, value: &Json) -> Result<Json, CoerceError> {
    match model.types.get(name) {
        Some(TypeDef::Scalar(kind)) => kind
            .coerce_input(value)
            .map_err(|_| invalid(name, kind.mismatch("parse", value))),
        Some(TypeDef::Enum(e)) => match value {
            Json::String(s) if e.values.contains_key(s) => Ok(value.clone()),
            _ => Err(invalid(
                name,
                format!(
                    "Invalid input for Enum '{name}'. No value found for name '{}'",
                    value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned)
                ),
            )),
        },
        Some(TypeDef::InputObject(obj)) => {
            let Json::Object(given) = value else {
                return Err(invalid(
                    name,
                    format!(
                        "Expected type '{name}' but was '{}'.",
                        crate::model::scalars::java_type(value)
                    ),
                ));
            };
            for key in given.keys() {
                if !obj.fields.contains_key(key) {
                    return Err(invalid(
                        name,
                        format!(
                            "The variables input contains a field name '{key}' that is not defined for input object type '{name}'"
                        ),
                    ));
                }
            }
            let mut out = Map::new();
            for (fname, fdef) in &obj.fields {
                match given.get(fname) {
                    Some(v) => {
                        out.insert(fname.clone(), coerce_json(model, &fdef.ty, v)?);
                    }
                    None => apply_default(model, fdef, &mut out)?,
                }
            }
            Ok(Json::Object(out))
        }
        _ => Err(invalid(name, format!("'{name}' is not an input type"))),
    }
}

fn apply_default(
    model: &SchemaModel,
    def: &InputValueDef,
    out: &mut Map<String, Json>,
) -> Result<(), CoerceError> {
    match &def.default_value {
        Some(default) => {
            out.insert(
                def.name.clone(),
                coerce_json(model, &def.ty, &const_to_json(default))?,
            );
            Ok(())
        }
        None if !def.ty.nullable => Err(CoerceError::NullForNonNull {
            ty: def.ty.to_string(),
        }),
        None => Ok(()),
    }
}

/// Coerces an argument literal; `None` means "absent" (an unset variable).
pub fn coerce_literal(
    model: &SchemaModel,
    ty: &Type,
    value: &Value,
    variables: &Map<String, Json>,
) -> Result<Option<Json>, CoerceError> {
    match value {
        Value::Variable(name) => Ok(variables.get(name.as_str()).cloned()),
        Value::Null => coerce_json(model, ty, &Json::Null).map(Some),
        Value::List(items) => {
            let BaseType::List(inner) = &ty.base else {
                return Err(invalid(&ty.to_string(), "a list was given"));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let v = coerce_literal(model, inner, item, variables)?.unwrap_or(Json::Null);
                if v.is_null() && !inner.nullable {
                    return Err(CoerceError::NullForNonNull {
                        ty: inner.to_string(),
                    });
                }
                out.push(v);
            }
            Ok(Some(Json::Array(out)))
        }
        Value::Object(fields) => {
            let name = match &ty.base {
                // A single object for a list type is wrapped.
                BaseType::List(inner) => {
                    return Ok(coerce_literal(model, inner, value, variables)?
                        .map(|v| Json::Array(vec![v])));
                }
                BaseType::Named(name) => name,
            };
            let Some(TypeDef::InputObject(obj)) = model.types.get(name.as_str()) else {
                return Err(invalid(name, "an object was given"));
            };
            let mut out = Map::new();
            for (fname, fdef) in &obj.fields {
                match fields.get(fname.as_str()) {
                    Some(v) => match coerce_literal(model, &fdef.ty, v, variables)? {
                        Some(j) => {
                            out.insert(fname.clone(), j);
                        }
                        None => apply_default(model, fdef, &mut out)?,
                    },
                    None => apply_default(model, fdef, &mut out)?,
                }
            }
            Ok(Some(Json::Object(out)))
        }
        Value::Enum(e) => coerce_json(model, ty, &Json::String(e.to_string())).map(Some),
        Value::Number(n) => coerce_json(model, ty, &Json::Number(n.clone())).map(Some),
        Value::String(s) => coerce_json(model, ty, &Json::String(s.clone())).map(Some),
        Value::Boolean(b) => coerce_json(model, ty, &Json::Bool(*b)).map(Some),
        Value::Binary(_) => Err(invalid(&ty.to_string(), "binary values are not supported")),
    }
}

/// `$ctx.arguments` for one field: literals and variables coerced, defaults applied.
pub fn coerce_arguments(
    model: &SchemaModel,
    defs: &IndexMap<String, InputValueDef>,
    given: &[(Positioned<Name>, Positioned<Value>)],
    variables: &Map<String, Json>,
) -> Result<Map<String, Json>, (String, CoerceError)> {
    let mut out = Map::new();
    for (name, def) in defs {
        let literal = given
            .iter()
            .find(|(n, _)| n.node.as_str() == name)
            .map(|(_, v)| &v.node);
        let value = match literal {
            Some(v) => {
                coerce_literal(model, &def.ty, v, variables).map_err(|e| (name.clone(), e))?
            }
            None => None,
        };
        match value {
            Some(v) => {
                out.insert(name.clone(), v);
            }
            None => apply_default(model, def, &mut out).map_err(|e| (name.clone(), e))?,
        }
    }
    Ok(out)
}
