//! Our executor: runs a validated operation over the
//! [`SchemaModel`](crate::model::schema::SchemaModel).
//!
//! Sibling fields resolve concurrently at every level (mutation root fields
//! serially); a null list item stays null at its position; a null in a
//! non-null position bubbles to the nearest nullable parent.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::Pos;
use async_graphql::Positioned;
use async_graphql::futures_util::future::join_all;
use async_graphql::parser::types::{
    BaseType, Directive, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql_value::Value;
use indexmap::IndexMap;
use serde_json::{Map, Value as Json};

use crate::execution::Api;
use crate::execution::errors::{self, FieldError, Path};
use crate::graphql::{BoxFuture, RequestContext};
use crate::metrics::Limit;
use crate::model::schema::{FieldDef, ObjectDef, TypeDef};

/// A non-null violation travelling up to the nearest nullable parent; the
/// error itself is already recorded.
#[derive(Debug)]
pub struct Bubble;

type Completed = Result<Json, Bubble>;

static NULL: Json = Json::Null;

/// Everything one request's execution reads, plus the errors it collects.
pub struct Execution<'a> {
    pub api: &'a Api,
    pub doc: &'a ExecutableDocument,
    pub operation: &'a OperationDefinition,
    pub variables: Map<String, Json>,
    pub context: &'a RequestContext,
    /// `$ctx.request`, built once per request.
    pub request_json: Json,
    pub errors: Mutex<Vec<Json>>,
    pub resolver_count: AtomicUsize,
    /// `$extensions` requests from the templates, carried out at the end.
    pub effects: Mutex<Vec<crate::vtl::runtime::Effect>>,
    /// Requests waiting to be merged into batch calls.
    pub batcher: crate::execution::batch::Batcher,
}

/// `@skip(if:)` / `@include(if:)` with literals or variables.
pub fn is_skipped(directives: &[Positioned<Directive>], variables: &Map<String, Json>) -> bool {
    directives.iter().any(|d| {
        let cond = d.node.get_argument("if").map(|v| match &v.node {
            Value::Boolean(b) => *b,
            Value::Variable(name) => variables
                .get(name.as_str())
                .and_then(Json::as_bool)
                .unwrap_or(false),
            _ => false,
        });
        matches!(
            (d.node.name.node.as_str(), cond),
            ("skip", Some(true)) | ("include", Some(false))
        )
    })
}

type FieldGroups<'b> = IndexMap<&'b str, Vec<&'b Positioned<Field>>>;

impl<'a> Execution<'a> {
    pub fn push_error(&self, err: Json) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(err);
        }
    }

    /// A null in a non-null position. Like graphql-java (AppSync's engine),
    /// a field gets at most one error: when the null comes from an error
    /// already reported at this path, the violation is not added.
    fn push_non_null_violation(&self, path: &Path<'_>, type_name: &str, parent_type: &str) {
        let Ok(mut errors) = self.errors.lock() else {
            return;
        };
        let at = path.to_json();
        if errors.iter().any(|e| e.get("path") == Some(&at)) {
            return;
        }
        errors.push(errors::non_null_violation(path, type_name, parent_type));
    }

    pub fn push_field_error(&self, path: &Path<'_>, pos: Pos, err: FieldError) {
        self.push_error(errors::field_error(path, pos, err));
    }

    /// Runs the operation; returns `data` (null when the root bubbled).
    pub async fn run(&self, skip_root: &[&str]) -> Json {
        let Some(root) = self.root_type() else {
            return Json::Null;
        };
        let mut groups = IndexMap::new();
        self.collect_fields(
            &root.name,
            &[&self.operation.selection_set.node],
            &mut groups,
            0,
        );
        groups.retain(|key, fields| {
            !skip_root.contains(key) && !skip_root.contains(&fields[0].node.name.node.as_str())
        });
        let serial = self.operation.ty == OperationType::Mutation;
        match self.execute_groups(root, &NULL, groups, None, serial).await {
            Ok(v) => v,
            Err(Bubble) => Json::Null,
        }
    }

    fn root_type(&self) -> Option<&'a ObjectDef> {
        let model = &self.api.schema.model;
        let name = match self.operation.ty {
            OperationType::Query => Some(model.query.as_str()),
            OperationType::Mutation => model.mutation.as_deref(),
            OperationType::Subscription => model.subscription.as_deref(),
        }?;
        model.object(name)
    }

    /// GraphQL's CollectFields: groups by response key, honouring
    /// @skip/@include and fragment type conditions.
    pub fn collect_fields<'b>(
        &'b self,
        type_name: &str,
        sets: &[&'b SelectionSet],
        out: &mut FieldGroups<'b>,
        depth: usize,
    ) where
        'a: 'b,
    {
        if depth > 64 {
            return;
        }
        for set in sets {
            for sel in &set.items {
                match &sel.node {
                    Selection::Field(f) => {
                        if is_skipped(&f.node.directives, &self.variables) {
                            continue;
                        }
                        out.entry(f.node.response_key().node.as_str())
                            .or_default()
                            .push(f);
                    }
                    Selection::InlineFragment(frag) => {
                        if is_skipped(&frag.node.directives, &self.variables) {
                            continue;
                        }
                        let applies = frag.node.type_condition.as_ref().is_none_or(|c| {
                            self.api
                                .schema
                                .model
                                .satisfies(type_name, c.node.on.node.as_str())
                        });
                        if applies {
                            self.collect_fields(
                                type_name,
                                &[&frag.node.selection_set.node],
                                out,
                                depth + 1,
                            );
                        }
                    }
                    Selection::FragmentSpread(spread) => {
                        if is_skipped(&spread.node.directives, &self.variables) {
                            continue;
                        }
                        if let Some(frag) = self.doc.fragments.get(&spread.node.fragment_name.node)
                            && self.api.schema.model.satisfies(
                                type_name,
                                frag.node.type_condition.node.on.node.as_str(),
                            )
                        {
                            self.collect_fields(
                                type_name,
                                &[&frag.node.selection_set.node],
                                out,
                                depth + 1,
                            );
                        }
                    }
                }
            }
        }
    }

    fn execute_groups<'b>(
        &'b self,
        obj: &'b ObjectDef,
        parent: &'b Json,
        groups: FieldGroups<'b>,
        path: Option<&'b Path<'b>>,
        serial: bool,
    ) -> BoxFuture<'b, Completed>
    where
        'a: 'b,
    {
        Box::pin(async move {
            let mut out = Map::with_capacity(groups.len());
            let mut bubbled = false;
            if serial {
                for (key, fields) in groups {
                    match self.execute_field(obj, parent, key, fields, path).await {
                        Ok(v) => {
                            out.insert(key.to_owned(), v);
                        }
                        Err(Bubble) => bubbled = true,
                    }
                }
            } else {
                // Leaf fields without resolvers complete right away; only
                // fields that resolve or nest become futures.
                let mut results: Vec<(&str, Option<Completed>)> = Vec::with_capacity(groups.len());
                let mut pending = Vec::new();
                for (key, fields) in groups {
                    match self.try_execute_leaf(obj, parent, key, &fields, path) {
                        Some(done) => results.push((key, Some(done))),
                        None => {
                            results.push((key, None));
                            pending.push(self.execute_field(obj, parent, key, fields, path));
                        }
                    }
                }
                let resolved = if pending.len() == 1 {
                    let mut out = Vec::with_capacity(1);
                    for f in pending {
                        out.push(f.await);
                    }
                    out
                } else {
                    join_all(pending).await
                };
                let mut resolved = resolved.into_iter();
                for (key, res) in results {
                    let res = match res {
                        Some(r) => r,
                        None => resolved.next().unwrap_or(Ok(Json::Null)),
                    };
                    match res {
                        Ok(v) => {
                            out.insert(key.to_owned(), v);
                        }
                        Err(Bubble) => bubbled = true,
                    }
                }
            }
            if bubbled {
                Err(Bubble)
            } else {
                Ok(Json::Object(out))
            }
        })
    }

    fn execute_field<'b>(
        &'b self,
        obj: &'b ObjectDef,
        parent: &'b Json,
        key: &'b str,
        fields: Vec<&'b Positioned<Field>>,
        parent_path: Option<&'b Path<'b>>,
    ) -> BoxFuture<'b, Completed>
    where
        'a: 'b,
    {
        Box::pin(async move {
            let field = fields[0];
            let name = field.node.name.node.as_str();
            if name == "__typename" {
                return Ok(Json::String(obj.name.clone()));
            }
            let path = match parent_path {
                Some(p) => p.key(key),
                None => Path::root(key),
            };
            let Some(def) = obj.fields.get(name) else {
                // Validation rejects unknown fields; nothing to resolve.
                return Ok(Json::Null);
            };
            if !self.authorized(obj, def) {
                self.push_field_error(
                    &path,
                    field.pos,
                    FieldError::unauthorized_field(name, &obj.name),
                );
                return self.null_for(def, obj, &path);
            }
            let limit = self.api.limits.query_depth;
            if limit > 0 && path.depth() > limit {
                self.api.metrics.record_rejection(Limit::QueryDepthLimit);
                self.push_field_error(
                    &path,
                    field.pos,
                    // AppSync's message text is not documented; this is a guess.
                    FieldError::new(
                        format!("The query exceeds the maximum depth of {limit}."),
                        Some("QueryDepthLimitReached"),
                    ),
                );
                return self.null_for(def, obj, &path);
            }
            let owned;
            let value: &Json = match self.api.schema.resolver(def) {
                Some(plan) => {
                    let count = self.resolver_count.fetch_add(1, Ordering::Relaxed) + 1;
                    if count > self.api.limits.resolver_count {
                        self.api.metrics.record_rejection(Limit::ResolverCountLimit);
                        self.push_field_error(
                            &path,
                            field.pos,
                            // AppSync's message text is not documented; this is a guess.
                            FieldError::new(
                                format!(
                                    "The number of resolvers in the query exceeds the limit of {}.",
                                    self.api.limits.resolver_count
                                ),
                                Some("ResolverExecutionLimitReached"),
                            ),
                        );
                        return self.null_for(def, obj, &path);
                    }
                    let (v, errs) = plan.run(self, obj, def, &fields, parent).await;
                    for mut e in errs {
                        // Error data is filtered by the field's selection
                        // set, as AppSync does; errorInfo is not.
                        if let Some(data) = e.data.take() {
                            e.data = Some(self.filter_data(&def.ty.base, &fields, data, 0));
                        }
                        self.push_field_error(&path, field.pos, e);
                    }
                    owned = v;
                    &owned
                }
                None => parent.get(name).unwrap_or(&NULL),
            };
            self.complete(
                &def.ty.base,
                def.ty.nullable,
                &obj.name,
                &fields,
                value,
                &path,
            )
            .await
        })
    }

    /// Whether the request's principal may read the field (decided by
    /// `crate::auth`).
    pub(crate) fn authorized(&self, obj: &ObjectDef, def: &FieldDef) -> bool {
        let principal = &self.context.principal;
        crate::auth::field_allowed(&def.auth_rules, principal)
            && !crate::auth::field_denied(principal, &obj.name, &def.name)
    }

    fn is_leaf(&self, base: &BaseType) -> bool {
        match base {
            BaseType::List(inner) => self.is_leaf(&inner.base),
            BaseType::Named(name) => matches!(
                self.api.schema.model.types.get(name.as_str()),
                Some(TypeDef::Scalar(_) | TypeDef::Enum(_))
            ),
        }
    }

    /// Completes a field synchronously when it has no resolver and a leaf
    /// type; `None` means it needs the async path.
    fn try_execute_leaf<'b>(
        &'b self,
        obj: &'b ObjectDef,
        parent: &'b Json,
        key: &'b str,
        fields: &[&'b Positioned<Field>],
        parent_path: Option<&'b Path<'b>>,
    ) -> Option<Completed>
    where
        'a: 'b,
    {
        let field = fields[0];
        let name = field.node.name.node.as_str();
        if name == "__typename" {
            return Some(Ok(Json::String(obj.name.clone())));
        }
        let def = obj.fields.get(name)?;
        if self.api.schema.resolver(def).is_some()
            || !self.is_leaf(&def.ty.base)
            || !self.authorized(obj, def)
        {
            return None;
        }
        let path = match parent_path {
            Some(p) => p.key(key),
            None => Path::root(key),
        };
        let limit = self.api.limits.query_depth;
        if limit > 0 && path.depth() > limit {
            return None;
        }
        // A list checked against maxListFanOut takes the async path, which
        // knows the field's position for the error.
        if self.api.limits.guards.max_list_fan_out.is_some()
            && matches!(def.ty.base, BaseType::List(_))
        {
            return None;
        }
        let value = parent.get(name).unwrap_or(&NULL);
        Some(self.complete_sync(&def.ty.base, def.ty.nullable, &obj.name, value, &path))
    }

    /// [`Self::complete`] for leaf types, without futures.
    fn complete_sync(
        &self,
        base: &BaseType,
        nullable: bool,
        parent_type: &str,
        value: &Json,
        path: &Path<'_>,
    ) -> Completed {
        let res = if value.is_null() {
            Ok(Json::Null)
        } else {
            match base {
                BaseType::List(inner) => match value {
                    Json::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(idx, item)| {
                            let item_path = path.index(idx);
                            self.complete_sync(
                                &inner.base,
                                inner.nullable,
                                parent_type,
                                item,
                                &item_path,
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(Json::Array),
                    _ => {
                        self.push_error(errors::serialization_error(
                            path,
                            "type mismatch error, expected type LIST",
                        ));
                        Err(Bubble)
                    }
                },
                BaseType::Named(name) => self.complete_leaf(name, value, path),
            }
        };
        match res {
            Err(Bubble) if nullable => Ok(Json::Null),
            Ok(Json::Null) if !nullable => {
                self.push_non_null_violation(path, &base.to_string(), parent_type);
                Err(Bubble)
            }
            other => other,
        }
    }

    /// Serializes a scalar or enum value.
    fn complete_leaf(&self, name: &str, value: &Json, path: &Path<'_>) -> Completed {
        match self.api.schema.model.types.get(name) {
            Some(TypeDef::Scalar(kind)) => kind.serialize(value).map_err(|_| {
                self.push_error(errors::serialization_error(
                    path,
                    &format!(
                        "Unable to serialize `{}` as a valid {name}.",
                        display(value)
                    ),
                ));
                Bubble
            }),
            Some(TypeDef::Enum(e)) => match value {
                Json::String(s) if e.values.contains_key(s) => Ok(value.clone()),
                _ => {
                    self.push_error(errors::serialization_error(
                        path,
                        &format!(
                            "Invalid input for Enum '{name}'. No value found for name '{}'",
                            display(value)
                        ),
                    ));
                    Err(Bubble)
                }
            },
            _ => Ok(Json::Null),
        }
    }

    /// Keeps only what the selection set asks for, under response keys.
    fn filter_data<'b>(
        &'b self,
        base: &BaseType,
        fields: &[&'b Positioned<Field>],
        value: Json,
        depth: usize,
    ) -> Json
    where
        'a: 'b,
    {
        if depth > 64 {
            return Json::Null;
        }
        match (base, value) {
            (BaseType::List(inner), Json::Array(items)) => Json::Array(
                items
                    .into_iter()
                    .map(|item| self.filter_data(&inner.base, fields, item, depth + 1))
                    .collect(),
            ),
            (BaseType::Named(name), Json::Object(mut map)) => {
                let model = &self.api.schema.model;
                let obj = match model.types.get(name.as_str()) {
                    Some(TypeDef::Object(o)) => Some(o),
                    Some(TypeDef::Interface(_) | TypeDef::Union(_)) => map
                        .get("__typename")
                        .and_then(Json::as_str)
                        .and_then(|t| model.object(t)),
                    _ => None,
                };
                let Some(obj) = obj else {
                    return Json::Object(map);
                };
                let sets: Vec<&SelectionSet> =
                    fields.iter().map(|f| &f.node.selection_set.node).collect();
                let mut groups = IndexMap::new();
                self.collect_fields(&obj.name, &sets, &mut groups, 0);
                let mut out = Map::new();
                for (key, group) in groups {
                    let fname = group[0].node.name.node.as_str();
                    if fname == "__typename" {
                        out.insert(key.to_owned(), Json::String(obj.name.clone()));
                        continue;
                    }
                    let Some(fdef) = obj.fields.get(fname) else {
                        continue;
                    };
                    if let Some(v) = map.remove(fname) {
                        out.insert(
                            key.to_owned(),
                            self.filter_data(&fdef.ty.base, &group, v, depth + 1),
                        );
                    }
                }
                Json::Object(out)
            }
            (_, other) => other,
        }
    }

    /// The field is null after an error: fine if nullable, else a violation.
    fn null_for(&self, def: &FieldDef, obj: &ObjectDef, path: &Path<'_>) -> Completed {
        if def.ty.nullable {
            Ok(Json::Null)
        } else {
            self.push_non_null_violation(path, &def.ty.base.to_string(), &obj.name);
            Err(Bubble)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn complete<'b>(
        &'b self,
        base: &'b BaseType,
        nullable: bool,
        parent_type: &'b str,
        fields: &'b [&'b Positioned<Field>],
        value: &'b Json,
        path: &'b Path<'b>,
    ) -> BoxFuture<'b, Completed>
    where
        'a: 'b,
    {
        Box::pin(async move {
            let res = self
                .complete_inner(base, parent_type, fields, value, path)
                .await;
            match res {
                Err(Bubble) if nullable => Ok(Json::Null),
                Ok(Json::Null) if !nullable => {
                    self.push_non_null_violation(path, &base.to_string(), parent_type);
                    Err(Bubble)
                }
                other => other,
            }
        })
    }

    async fn complete_inner<'b>(
        &'b self,
        base: &'b BaseType,
        parent_type: &'b str,
        fields: &'b [&'b Positioned<Field>],
        value: &'b Json,
        path: &'b Path<'b>,
    ) -> Completed
    where
        'a: 'b,
    {
        if value.is_null() {
            return Ok(Json::Null);
        }
        let pos = fields[0].pos;
        match base {
            BaseType::List(inner) => {
                let Json::Array(items) = value else {
                    self.push_error(errors::serialization_error(
                        path,
                        "type mismatch error, expected type LIST",
                    ));
                    return Err(Bubble);
                };
                // Local guard: a list longer than maxListFanOut is null with
                // an error, so its items' resolvers never run; a non-null
                // list then bubbles like any failed field.
                if let Some(limit) = self.api.limits.guards.max_list_fan_out
                    && items.len() > limit
                {
                    self.api.metrics.record_rejection(Limit::MaxListFanOut);
                    self.push_field_error(path, pos, FieldError::list_fan_out(limit, items.len()));
                    return Ok(Json::Null);
                }
                let futures = items.iter().enumerate().map(|(idx, item)| {
                    Box::pin(async move {
                        let item_path = path.index(idx);
                        self.complete(
                            &inner.base,
                            inner.nullable,
                            parent_type,
                            fields,
                            item,
                            &item_path,
                        )
                        .await
                    }) as BoxFuture<'b, Completed>
                });
                let results = join_all(futures).await;
                let mut out = Vec::with_capacity(results.len());
                for r in results {
                    out.push(r?);
                }
                Ok(Json::Array(out))
            }
            BaseType::Named(name) => match self.api.schema.model.types.get(name.as_str()) {
                Some(TypeDef::Scalar(_) | TypeDef::Enum(_)) => {
                    self.complete_leaf(name, value, path)
                }
                Some(TypeDef::Object(obj)) => self.complete_object(obj, fields, value, path).await,
                Some(TypeDef::Interface(_) | TypeDef::Union(_)) => {
                    let concrete = value
                        .get("__typename")
                        .and_then(Json::as_str)
                        .filter(|t| self.api.schema.model.satisfies(t, name.as_str()))
                        .and_then(|t| self.api.schema.model.object(t));
                    match concrete {
                        Some(obj) => self.complete_object(obj, fields, value, path).await,
                        None => {
                            // AppSync picks the concrete type from `__typename`;
                            // the wording of this error is a guess.
                            self.push_field_error(
                                path,
                                pos,
                                FieldError::new(
                                    format!(
                                        "Could not determine the concrete type of abstract type '{name}': the value has no valid '__typename'."
                                    ),
                                    None,
                                ),
                            );
                            Err(Bubble)
                        }
                    }
                }
                Some(TypeDef::InputObject(_)) | None => Ok(Json::Null),
            },
        }
    }

    async fn complete_object<'b>(
        &'b self,
        obj: &'b ObjectDef,
        fields: &'b [&'b Positioned<Field>],
        value: &'b Json,
        path: &'b Path<'b>,
    ) -> Completed
    where
        'a: 'b,
    {
        if !value.is_object() {
            self.push_error(errors::serialization_error(
                path,
                &format!("type mismatch error, expected type {}", obj.name),
            ));
            return Err(Bubble);
        }
        let sets: Vec<&SelectionSet> = fields.iter().map(|f| &f.node.selection_set.node).collect();
        let mut groups = IndexMap::new();
        self.collect_fields(&obj.name, &sets, &mut groups, 0);
        self.execute_groups(obj, value, groups, Some(path), false)
            .await
    }
}

fn display(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}
