//! Subscriptions on the executor's side: `start` resolves a subscription
//! request into a [`SubscriptionPlan`] (validation, field authorization,
//! the subscription resolver with its filters, the subscriber's selection),
//! and a completed mutation yields the [`Publication`]s of its results.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use async_graphql::Positioned;
use async_graphql::parser::types::{
    BaseType, Field, OperationDefinition, OperationType, SelectionSet, Type,
};
use async_graphql_value::Value;
use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};

use crate::execution::coerce::{CoerceError, coerce_arguments};
use crate::execution::engine::find_operation;
use crate::execution::errors::{self, FieldError, Path};
use crate::execution::executor::Execution;
use crate::execution::{Api, request_json};
use crate::graphql::{GraphQLRequest, RequestContext};
use crate::model::schema::{FieldDef, ObjectDef, TypeDef};
use crate::realtime::hub::{EnhancedFilter, Publication, StartError, SubscriptionPlan};
use crate::realtime::projection::{Projection, SelectedField, Selection, Shape, ShapeKind};
use crate::realtime::{FilterError, SubscriptionFilter};
use crate::vtl::runtime::Effect;

/// AppSync allows five unique `invalidateSubscriptions` calls per request.
pub const MAX_INVALIDATIONS_PER_REQUEST: usize = 5;

impl Api {
    /// Resolves a subscription request at `start`.
    pub async fn subscribe(
        &self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> Result<SubscriptionPlan, StartError> {
        let fail = |errors: Vec<Json>| Err(StartError::Errors(errors));
        if let Err(violation) = self.limits.guards.check_text(&request.query) {
            return fail(vec![errors::guard_error(&violation, &[])]);
        }
        let validated = match self.engine.validate(&request).await {
            Ok(v) => v,
            Err(invalid) => return fail(invalid.errors),
        };
        let Some((doc, op)) = find_operation(&validated.doc, request.operation_name.as_deref())
        else {
            // Several operations and no name: AppSync names none.
            return Err(StartError::UnsupportedOperation(String::new()));
        };
        if op.ty != OperationType::Subscription {
            return Err(StartError::UnsupportedOperation(op.ty.to_string()));
        }
        if let Err(violation) = self.limits.guards.check_operation(doc, op) {
            return fail(vec![errors::guard_error(
                &violation,
                &[op.selection_set.pos],
            )]);
        }
        let variables = match self.coerce_variables(op, request.variables.as_ref()) {
            Ok(v) => v,
            Err(errors) => return fail(errors),
        };
        let exec = Execution {
            api: self,
            doc,
            operation: op,
            variables,
            context: &context,
            request_json: request_json(&context),
            errors: Mutex::new(Vec::new()),
            resolver_count: AtomicUsize::new(0),
            effects: Mutex::new(Vec::new()),
            batcher: Default::default(),
        };
        let model = &self.schema.model;
        let Some(root) = model
            .subscription
            .as_deref()
            .and_then(|name| model.object(name))
        else {
            return Err(StartError::UnsupportedOperation("subscription".to_owned()));
        };
        let mut groups = IndexMap::new();
        exec.collect_fields(&root.name, &[&op.selection_set.node], &mut groups, 0);
        // Validation allows one root field in a subscription.
        let Some((key, fields)) = groups.into_iter().next() else {
            return fail(vec![errors::request_error(
                "A subscription must select one field.",
                &[op.selection_set.pos],
            )]);
        };
        let field = fields[0];
        let name = field.node.name.node.as_str();
        let Some(def) = root.fields.get(name) else {
            return fail(vec![errors::request_error(
                format!(
                    "Validation error of type FieldUndefined: Field '{name}' in type '{}' is undefined @ '{name}'",
                    root.name
                ),
                &[field.pos],
            )]);
        };
        let path = Path::root(key);
        if !exec.authorized(root, def) {
            return fail(vec![errors::field_error(
                &path,
                field.pos,
                FieldError::unauthorized_field(name, &root.name),
            )]);
        }
        let arguments = match passed_arguments(&exec, def, field) {
            Ok(arguments) => arguments,
            Err((arg, err)) => {
                let message = err.argument_message(&arg);
                return fail(vec![errors::field_error(
                    &path,
                    field.pos,
                    FieldError::new(message, None),
                )]);
            }
        };
        let mut filter = None;
        let mut invalidation_filter = None;
        if let Some(plan) = self.schema.resolver(def) {
            let (_, errs) = plan.run(&exec, root, def, &fields, &Json::Null).await;
            if !errs.is_empty() {
                return fail(
                    errs.into_iter()
                        .map(|e| errors::field_error(&path, field.pos, e))
                        .collect(),
                );
            }
            let effects = std::mem::take(
                &mut *exec
                    .effects
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            for effect in effects {
                let checked = match effect {
                    Effect::SetSubscriptionFilter { filter: object } => checked_filter(&object)
                        .map(|f| {
                            filter = Some(EnhancedFilter {
                                key: object.to_string(),
                                filter: f,
                            })
                        }),
                    Effect::SetSubscriptionInvalidationFilter { filter: object } => {
                        checked_filter(&object).map(|f| invalidation_filter = Some(f))
                    }
                    _ => Ok(()),
                };
                if let Err(error) = checked {
                    return fail(vec![error]);
                }
            }
        }
        let projection = Projection {
            key: key.to_owned(),
            parent_type: root.name.clone(),
            shape: shape(&exec, &def.ty, &fields, 0),
        };
        Ok(SubscriptionPlan {
            field: name.to_owned(),
            arguments,
            filter,
            invalidation_filter,
            projection: Arc::new(projection),
        })
    }

    /// The subscription fields of the schema, which survive a reload.
    pub fn subscription_fields(&self) -> Vec<String> {
        let model = &self.schema.model;
        model
            .subscription
            .as_deref()
            .and_then(|name| model.object(name))
            .map(|root| root.fields.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The subscription filter an `extensions` call set, checked against
/// AppSync's limits; a refusal is an error with AppSync's `errorCode` 400
/// and no `errorType`, as clients observe.
fn checked_filter(object: &Json) -> Result<SubscriptionFilter, Json> {
    SubscriptionFilter::parse(object)
        .map_err(|error: FilterError| json!({ "message": error.to_string(), "errorCode": 400 }))
}

/// The arguments the subscriber passed (defaults are not passed: an
/// omitted argument matches any value), coerced; on failure, the argument
/// and why.
fn passed_arguments(
    exec: &Execution<'_>,
    def: &FieldDef,
    field: &Positioned<Field>,
) -> Result<Map<String, Json>, (String, CoerceError)> {
    let given = &field.node.arguments;
    let mut arguments =
        coerce_arguments(&exec.api.schema.model, &def.args, given, &exec.variables)?;
    arguments.retain(|arg, _| {
        given
            .iter()
            .find(|(n, _)| n.node.as_str() == arg)
            .is_some_and(|(_, value)| match &value.node {
                Value::Variable(var) => exec.variables.contains_key(var.as_str()),
                _ => true,
            })
    });
    Ok(arguments)
}

fn shape(exec: &Execution<'_>, ty: &Type, fields: &[&Positioned<Field>], depth: usize) -> Shape {
    Shape {
        nullable: ty.nullable,
        kind: shape_kind(exec, &ty.base, fields, depth),
    }
}

fn shape_kind(
    exec: &Execution<'_>,
    base: &BaseType,
    fields: &[&Positioned<Field>],
    depth: usize,
) -> ShapeKind {
    match base {
        BaseType::List(inner) => ShapeKind::List(Box::new(shape(exec, inner, fields, depth))),
        BaseType::Named(name) => {
            let model = &exec.api.schema.model;
            match model.types.get(name.as_str()) {
                Some(TypeDef::Object(obj)) => {
                    ShapeKind::Object(selection(exec, obj, fields, depth + 1))
                }
                Some(TypeDef::Interface(_) | TypeDef::Union(_)) => {
                    let mut possible: Vec<&String> = model
                        .possible_types
                        .get(name.as_str())
                        .map(|set| set.iter().collect())
                        .unwrap_or_default();
                    possible.sort();
                    ShapeKind::Abstract {
                        name: name.to_string(),
                        by_type: possible
                            .into_iter()
                            .filter_map(|t| model.object(t))
                            .map(|obj| selection(exec, obj, fields, depth + 1))
                            .collect(),
                    }
                }
                _ => ShapeKind::Leaf(name.to_string()),
            }
        }
    }
}

fn selection(
    exec: &Execution<'_>,
    obj: &ObjectDef,
    fields: &[&Positioned<Field>],
    depth: usize,
) -> Selection {
    let mut out = Vec::new();
    // Validation bounds the depth already; this only guards the recursion.
    if depth <= 64 {
        let sets: Vec<&SelectionSet> = fields.iter().map(|f| &f.node.selection_set.node).collect();
        let mut groups = IndexMap::new();
        exec.collect_fields(&obj.name, &sets, &mut groups, 0);
        for (key, group) in groups {
            let name = group[0].node.name.node.as_str();
            if name == "__typename" {
                out.push(SelectedField {
                    key: key.to_owned(),
                    name: name.to_owned(),
                    shape: None,
                });
            } else if let Some(def) = obj.fields.get(name) {
                out.push(SelectedField {
                    key: key.to_owned(),
                    name: name.to_owned(),
                    shape: Some(shape(exec, &def.ty, &group, depth)),
                });
            }
        }
    }
    Selection {
        type_name: obj.name.clone(),
        fields: out,
    }
}

impl Execution<'_> {
    /// Whether an error was reported under the root field `key`.
    fn failed(&self, key: &str) -> bool {
        self.errors.lock().is_ok_and(|errors| {
            errors
                .iter()
                .any(|e| e.get("path").and_then(|p| p.get(0)).and_then(Json::as_str) == Some(key))
        })
    }

    /// What a completed mutation publishes: each root field that resolved
    /// without an error, to the subscription fields that name it in
    /// `@aws_subscribe`; and its `invalidateSubscriptions` calls. The
    /// result goes out as the mutation's response holds it, keyed by the
    /// mutation's aliases, as AppSync does (aws-appsync-community#160), so
    /// a subscriber reads null for a field the mutation aliased.
    pub(crate) fn publications(
        &self,
        op: &OperationDefinition,
        data: &Json,
        effects: &[Effect],
    ) -> Result<Vec<Publication>, Json> {
        let model = &self.api.schema.model;
        let mut out = Vec::new();
        let invalidations: Vec<&Json> = {
            let mut unique: Vec<&Json> = Vec::new();
            for effect in effects {
                if let Effect::InvalidateSubscriptions { invalidation } = effect
                    && !unique.contains(&invalidation)
                {
                    unique.push(invalidation);
                }
            }
            unique
        };
        if invalidations.len() > MAX_INVALIDATIONS_PER_REQUEST {
            // AppSync's wording is not documented; the limit is.
            return Err(errors::request_error(
                format!(
                    "A request can invalidate subscriptions at most {MAX_INVALIDATIONS_PER_REQUEST} times; it asked for {}.",
                    invalidations.len()
                ),
                &[],
            ));
        }
        for invalidation in invalidations {
            if let Some(field) = invalidation.get("subscriptionField").and_then(Json::as_str) {
                out.push(Publication::Invalidate {
                    subscription_field: field.to_owned(),
                    payload: invalidation.get("payload").cloned().unwrap_or(json!({})),
                });
            }
        }
        let schema = &self.api.schema;
        let Some(mutation) = model.mutation.as_deref().and_then(|n| model.object(n)) else {
            return Ok(out);
        };
        let mut groups = IndexMap::new();
        self.collect_fields(&mutation.name, &[&op.selection_set.node], &mut groups, 0);
        for (key, fields) in groups {
            let targets = schema.subscribers_of(fields[0].node.name.node.as_str());
            // A null result publishes nothing: there is nothing for
            // subscribers to select from (AppSync does not say).
            let Some(value) = data.get(key).filter(|v| !v.is_null()) else {
                continue;
            };
            if targets.is_empty() || self.failed(key) {
                continue;
            }
            let result = Arc::new(value.clone());
            for target in targets {
                out.push(Publication::Result {
                    subscription_field: target.clone(),
                    result: Arc::clone(&result),
                });
            }
        }
        Ok(out)
    }
}
