//! What a subscriber receives of a published result: the subscriber's
//! selection set, resolved against the schema once at `start`, applied to
//! the mutation's result at each publication.
//!
//! AppSync sends the mutation's selection set filtered by the subscriber's:
//! a field the subscriber selects but the mutation did not is null, and a
//! null in a non-null position makes its nearest nullable parent null with
//! an error, as in any GraphQL response. No resolver runs at publication.

use serde_json::{Map, Value as Json};

use crate::execution::errors::{self, Path};

/// The subscription field as the subscriber selected it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Projection {
    /// The field's response key (its alias, or its name).
    pub key: String,
    /// The subscription root type's name, for error messages.
    pub parent_type: String,
    pub shape: Shape,
}

/// A field's type with what is selected inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    pub nullable: bool,
    pub kind: ShapeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    List(Box<Shape>),
    /// A scalar or enum: the published value is already serialized.
    Leaf(String),
    Object(Selection),
    /// An interface or union: each possible type's selection, chosen by the
    /// published value's `__typename`.
    Abstract {
        name: String,
        by_type: Vec<Selection>,
    },
}

/// The fields selected on one object type, in response order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selection {
    pub type_name: String,
    pub fields: Vec<SelectedField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectedField {
    /// The response key (alias or name).
    pub key: String,
    /// The field's name, which is its key in the published value.
    pub name: String,
    /// `None` for `__typename`.
    pub shape: Option<Shape>,
}

struct Bubble;

impl Projection {
    /// The `payload` of the `data` message for `result`:
    /// `{"data": {key: ...}}`, with `errors` when a non-null field is null.
    pub fn apply(&self, result: &Json) -> Json {
        self.apply_noting(result, &mut Vec::new())
    }

    /// [`Self::apply`], noting in `missing` the paths of selected fields the
    /// published result lacks (the mutation did not select them): AppSync
    /// sends them as null, which surprises users, so the server logs them.
    pub fn apply_noting(&self, result: &Json, missing: &mut Vec<String>) -> Json {
        let mut walk = Walk {
            errors: Vec::new(),
            missing,
        };
        let path = Path::root(&self.key);
        let data = match walk.complete(&self.shape, result, &path, &self.parent_type) {
            Ok(value) => {
                let mut data = Map::with_capacity(1);
                data.insert(self.key.clone(), value);
                Json::Object(data)
            }
            Err(Bubble) => Json::Null,
        };
        errors::subscription_data(data, walk.errors)
    }
}

struct Walk<'m> {
    errors: Vec<Json>,
    missing: &'m mut Vec<String>,
}

impl Walk<'_> {
    fn complete(
        &mut self,
        shape: &Shape,
        value: &Json,
        path: &Path<'_>,
        parent_type: &str,
    ) -> Result<Json, Bubble> {
        let completed = if value.is_null() {
            Ok(Json::Null)
        } else {
            self.complete_value(&shape.kind, value, path)
        };
        match completed {
            Err(Bubble) if shape.nullable => Ok(Json::Null),
            Ok(Json::Null) if !shape.nullable => {
                self.errors.push(errors::subscription_non_null_violation(
                    path,
                    &base_name(&shape.kind),
                    parent_type,
                ));
                Err(Bubble)
            }
            other => other,
        }
    }

    fn complete_value(
        &mut self,
        kind: &ShapeKind,
        value: &Json,
        path: &Path<'_>,
    ) -> Result<Json, Bubble> {
        match kind {
            ShapeKind::Leaf(_) => Ok(value.clone()),
            ShapeKind::List(inner) => {
                // The mutation's own completion already shaped the value; a
                // non-list here would be a different type and reads as null.
                let Json::Array(items) = value else {
                    return Ok(Json::Null);
                };
                let parent = base_name(kind);
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    out.push(self.complete(inner, item, &path.index(index), &parent)?);
                }
                Ok(Json::Array(out))
            }
            ShapeKind::Object(selection) => self.complete_object(selection, value, path),
            ShapeKind::Abstract { by_type, .. } => {
                let concrete = value.get("__typename").and_then(Json::as_str);
                match by_type
                    .iter()
                    .find(|s| Some(s.type_name.as_str()) == concrete)
                {
                    Some(selection) => self.complete_object(selection, value, path),
                    None => Ok(Json::Null),
                }
            }
        }
    }

    fn complete_object(
        &mut self,
        selection: &Selection,
        value: &Json,
        path: &Path<'_>,
    ) -> Result<Json, Bubble> {
        let Json::Object(published) = value else {
            return Ok(Json::Null);
        };
        let mut out = Map::with_capacity(selection.fields.len());
        for field in &selection.fields {
            let completed = match &field.shape {
                None => Json::String(selection.type_name.clone()),
                Some(shape) => {
                    let path = path.key(&field.key);
                    let value = match published.get(&field.name) {
                        Some(value) => value,
                        None => {
                            self.missing.push(path.to_slashes());
                            &Json::Null
                        }
                    };
                    self.complete(shape, value, &path, &selection.type_name)?
                }
            };
            out.insert(field.key.clone(), completed);
        }
        Ok(Json::Object(out))
    }
}

/// The type's name as GraphQL prints it, without the outer `!`.
fn base_name(kind: &ShapeKind) -> String {
    match kind {
        ShapeKind::List(inner) => {
            let bang = if inner.nullable { "" } else { "!" };
            format!("[{}{bang}]", base_name(&inner.kind))
        }
        ShapeKind::Leaf(name) | ShapeKind::Abstract { name, .. } => name.clone(),
        ShapeKind::Object(selection) => selection.type_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn leaf(name: &str, nullable: bool) -> Shape {
        Shape {
            nullable,
            kind: ShapeKind::Leaf(name.into()),
        }
    }

    fn field(key: &str, name: &str, shape: Option<Shape>) -> SelectedField {
        SelectedField {
            key: key.into(),
            name: name.into(),
            shape,
        }
    }

    fn booking(fields: Vec<SelectedField>) -> Projection {
        Projection {
            key: "onBooking".into(),
            parent_type: "Subscription".into(),
            shape: Shape {
                nullable: true,
                kind: ShapeKind::Object(Selection {
                    type_name: "Booking".into(),
                    fields,
                }),
            },
        }
    }

    #[test]
    fn unselected_fields_are_dropped_and_missing_ones_are_null() {
        let projection = booking(vec![
            field("id", "id", Some(leaf("ID", false))),
            field("kind", "__typename", None),
            field("price", "price", Some(leaf("Float", true))),
        ]);
        let published = json!({"id": "b1", "status": "CONFIRMED"});
        assert_eq!(
            projection.apply(&published),
            json!({"data": {"onBooking": {"id": "b1", "kind": "Booking", "price": null}}})
        );
    }

    #[test]
    fn fields_the_result_lacks_are_noted() {
        let projection = booking(vec![
            field("id", "id", Some(leaf("ID", false))),
            field("p", "price", Some(leaf("Float", true))),
        ]);
        let mut missing = Vec::new();
        projection.apply_noting(&json!({"id": "b1"}), &mut missing);
        assert_eq!(missing, ["/onBooking/p"]);
    }

    #[test]
    fn a_missing_non_null_field_nulls_its_parent_with_an_error() {
        let projection = booking(vec![
            field("id", "id", Some(leaf("ID", false))),
            field("status", "status", Some(leaf("String", false))),
        ]);
        let payload = projection.apply(&json!({"id": "b1"}));
        assert_eq!(payload["data"], json!({"onBooking": null}));
        assert_eq!(payload["errors"][0]["path"], json!(["onBooking", "status"]));
        assert_eq!(
            payload["errors"][0]["message"],
            "Cannot return null for non-nullable type: 'String' within parent 'Booking' (/onBooking/status)"
        );
    }

    #[test]
    fn lists_and_abstract_types_follow_the_published_value() {
        let thing = Selection {
            type_name: "Flight".into(),
            fields: vec![
                field("__typename", "__typename", None),
                field("n", "number", Some(leaf("Int", true))),
            ],
        };
        let projection = Projection {
            key: "onThings".into(),
            parent_type: "Subscription".into(),
            shape: Shape {
                nullable: true,
                kind: ShapeKind::List(Box::new(Shape {
                    nullable: true,
                    kind: ShapeKind::Abstract {
                        name: "Thing".into(),
                        by_type: vec![thing],
                    },
                })),
            },
        };
        let published = json!([
            {"__typename": "Flight", "number": 7, "extra": 1},
            {"__typename": "Airport"},
            null
        ]);
        assert_eq!(
            projection.apply(&published),
            json!({"data": {"onThings": [{"__typename": "Flight", "n": 7}, null, null]}})
        );
    }
}
