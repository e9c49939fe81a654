//! The only module that touches async-graphql's request pipeline.
//!
//! async-graphql parses and validates every request and answers
//! introspection; execution is ours, because its dynamic executor resolves
//! nested siblings serially and cannot put a null item in a list of objects
//! (upstream #1577). A per-request extension captures the validated document
//! and skips async-graphql's execution unless the operation asks for
//! `__schema` or `__type`.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::dynamic::{
    self, Enum, EnumItem, Field, FieldFuture, InputObject, InputValue, Interface, InterfaceField,
    Object, Scalar, SchemaError, Subscription, SubscriptionField, SubscriptionFieldFuture, TypeRef,
    Union,
};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
    Type,
};
use async_graphql::{Response, ServerResult, Variables};
use async_graphql_value::{ConstValue, Value};
use moka::Equivalent;
use moka::future::Cache;
use serde_json::{Map, Value as Json};

use crate::execution::errors;
use crate::graphql::GraphQLRequest;
use crate::model::scalars::ScalarKind;
use crate::model::schema::{InputValueDef, SchemaModel, TypeDef};

/// The async-graphql schema derived from the model, used for parsing,
/// validation and introspection only.
pub struct Engine {
    schema: dynamic::Schema,
    /// Documents that passed validation. Validation does not depend on
    /// variable values here, because the executor coerces and checks
    /// variables itself, so a hit skips async-graphql entirely.
    validated: ValidatedDocuments,
}

/// The schema async-graphql cannot build from the model.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// Bounds the validated-document cache.
const MAX_CACHED_DOCUMENTS: u64 = 1024;

/// Validated documents by query text and operation name, at most
/// `capacity` of them. When full, moka's TinyLFU admits a new document only
/// if it is asked for more often than the one it would evict, so a stream of
/// one-off queries cannot push out the ones clients repeat.
struct ValidatedDocuments(Cache<DocumentKey, Arc<ExecutableDocument>>);

#[derive(PartialEq, Eq)]
struct DocumentKey {
    query: String,
    operation_name: Option<String>,
}

/// A [`DocumentKey`] made of the request's own strings, so a lookup
/// allocates nothing.
#[derive(Hash, PartialEq, Eq)]
struct DocumentKeyRef<'a> {
    query: &'a str,
    operation_name: Option<&'a str>,
}

impl DocumentKey {
    fn borrowed(&self) -> DocumentKeyRef<'_> {
        DocumentKeyRef {
            query: &self.query,
            operation_name: self.operation_name.as_deref(),
        }
    }
}

// Hashed through the borrowed form, which moka's `Equivalent` lookups
// require to hash alike.
impl Hash for DocumentKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.borrowed().hash(state);
    }
}

impl Equivalent<DocumentKey> for DocumentKeyRef<'_> {
    fn equivalent(&self, key: &DocumentKey) -> bool {
        *self == key.borrowed()
    }
}

impl ValidatedDocuments {
    fn new(capacity: u64) -> ValidatedDocuments {
        ValidatedDocuments(Cache::new(capacity))
    }

    async fn get(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Option<Arc<ExecutableDocument>> {
        self.0
            .get(&DocumentKeyRef {
                query,
                operation_name,
            })
            .await
    }

    async fn insert(&self, request: &GraphQLRequest, doc: Arc<ExecutableDocument>) {
        let key = DocumentKey {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
        };
        self.0.insert(key, doc).await;
    }
}

/// A request that failed parsing or validation.
pub struct Invalid {
    pub errors: Vec<Json>,
    /// The parsed document when only validation failed.
    pub doc: Option<ExecutableDocument>,
}

/// A request that passed validation.
pub struct Validated {
    pub doc: Arc<ExecutableDocument>,
    /// Root response keys answered by async-graphql's introspection, with
    /// their values.
    pub introspection: Map<String, Json>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

#[derive(Default)]
struct Slot {
    doc: Mutex<Option<ExecutableDocument>>,
    parse_failed: AtomicBool,
    executed: Mutex<Option<Response>>,
    reached_execute: AtomicBool,
}

struct CaptureFactory;

impl ExtensionFactory for CaptureFactory {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Capture)
    }
}

struct Capture;

#[async_graphql::async_trait::async_trait]
impl Extension for Capture {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let res = next.run(ctx, query, variables).await;
        if let Some(slot) = ctx.data_opt::<Arc<Slot>>() {
            match &res {
                Ok(doc) => {
                    if let Ok(mut d) = slot.doc.lock() {
                        *d = Some(doc.clone());
                    }
                }
                Err(_) => slot.parse_failed.store(true, Ordering::Relaxed),
            }
        }
        res
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let Some(slot) = ctx.data_opt::<Arc<Slot>>() else {
            return next.run(ctx, operation_name).await;
        };
        slot.reached_execute.store(true, Ordering::Relaxed);
        let wants_introspection = slot
            .doc
            .lock()
            .ok()
            .and_then(|d| {
                d.as_ref()
                    .and_then(|doc| find_operation(doc, operation_name))
                    .map(|(doc, op)| !introspection_keys(doc, op).is_empty())
            })
            .unwrap_or(false);
        if wants_introspection {
            let resp = next.run(ctx, operation_name).await;
            if let Ok(mut e) = slot.executed.lock() {
                *e = Some(resp);
            }
        }
        Response::default()
    }
}

/// The operation a request selects (validation already checked it exists).
pub fn find_operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<(&'d ExecutableDocument, &'d OperationDefinition)> {
    let op = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => &op.node,
        (DocumentOperations::Multiple(ops), Some(name)) => &ops.get(name)?.node,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => &ops.values().next()?.node,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some((doc, op))
}

/// Response keys of root fields named `__schema` or `__type`.
pub fn introspection_keys(doc: &ExecutableDocument, op: &OperationDefinition) -> Vec<String> {
    fn walk(doc: &ExecutableDocument, set: &SelectionSet, out: &mut Vec<String>, depth: usize) {
        if depth > 32 {
            return;
        }
        for sel in &set.items {
            match &sel.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    if name == "__schema" || name == "__type" {
                        out.push(f.node.response_key().node.to_string());
                    }
                }
                Selection::InlineFragment(frag) => {
                    walk(doc, &frag.node.selection_set.node, out, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(frag) = doc.fragments.get(&spread.node.fragment_name.node) {
                        walk(doc, &frag.node.selection_set.node, out, depth + 1);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(doc, &op.selection_set.node, &mut out, 0);
    out
}

/// graphql-java's `a/b` path of the field at (or whose argument is at) `pos`,
/// used in validation messages (`... @ 'getPost/foo'`).
pub fn field_path_at(doc: &ExecutableDocument, pos: async_graphql::Pos) -> Option<String> {
    fn walk(
        set: &SelectionSet,
        pos: async_graphql::Pos,
        prefix: &str,
        depth: usize,
    ) -> Option<String> {
        if depth > 64 {
            return None;
        }
        for sel in &set.items {
            match &sel.node {
                Selection::Field(f) => {
                    let path = format!("{prefix}{}", f.node.name.node);
                    let here = f.pos == pos
                        || f.node
                            .arguments
                            .iter()
                            .any(|(n, v)| n.pos == pos || v.pos == pos);
                    if here {
                        return Some(path);
                    }
                    if let Some(p) = walk(
                        &f.node.selection_set.node,
                        pos,
                        &format!("{path}/"),
                        depth + 1,
                    ) {
                        return Some(p);
                    }
                }
                Selection::InlineFragment(frag) => {
                    if let Some(p) = walk(&frag.node.selection_set.node, pos, prefix, depth + 1) {
                        return Some(p);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if sel.pos == pos || spread.pos == pos {
                        return Some(prefix.trim_end_matches('/').to_owned());
                    }
                }
            }
        }
        None
    }
    doc.operations
        .iter()
        .find_map(|(_, op)| walk(&op.node.selection_set.node, pos, "", 0))
        .or_else(|| {
            doc.fragments
                .values()
                .find_map(|f| walk(&f.node.selection_set.node, pos, "", 0))
        })
}

/// The literal of the argument at `pos`, for WrongType messages.
fn argument_at(doc: &ExecutableDocument, pos: async_graphql::Pos) -> Option<&Value> {
    fn walk(set: &SelectionSet, pos: async_graphql::Pos, depth: usize) -> Option<&Value> {
        if depth > 64 {
            return None;
        }
        set.items.iter().find_map(|sel| match &sel.node {
            Selection::Field(f) => f
                .node
                .arguments
                .iter()
                .find(|(n, v)| n.pos == pos || v.pos == pos)
                .map(|(_, v)| &v.node)
                .or_else(|| walk(&f.node.selection_set.node, pos, depth + 1)),
            Selection::InlineFragment(frag) => walk(&frag.node.selection_set.node, pos, depth + 1),
            Selection::FragmentSpread(_) => None,
        })
    }
    doc.operations
        .iter()
        .find_map(|(_, op)| walk(&op.node.selection_set.node, pos, 0))
        .or_else(|| {
            doc.fragments
                .values()
                .find_map(|f| walk(&f.node.selection_set.node, pos, 0))
        })
}

fn type_ref(ty: &Type) -> TypeRef {
    let inner = match &ty.base {
        BaseType::Named(n) => TypeRef::Named(n.to_string().into()),
        BaseType::List(i) => TypeRef::List(Box::new(type_ref(i))),
    };
    if ty.nullable {
        inner
    } else {
        TypeRef::NonNull(Box::new(inner))
    }
}

fn input_value(def: &InputValueDef) -> InputValue {
    let mut v = InputValue::new(def.name.clone(), type_ref(&def.ty));
    if let Some(d) = &def.description {
        v = v.description(d.clone());
    }
    if let Some(default) = &def.default_value {
        v = v.default_value(default.clone());
    }
    v
}

fn validator(kind: ScalarKind) -> impl Fn(&ConstValue) -> bool + Send + Sync + 'static {
    move |value| match value {
        ConstValue::String(s) => kind.valid_str(s),
        ConstValue::Number(n) => kind == ScalarKind::AwsTimestamp && n.is_i64(),
        _ => false,
    }
}

impl Engine {
    pub fn build(model: &SchemaModel) -> Result<Engine, EngineError> {
        let mut builder = dynamic::Schema::build(
            &model.query,
            model.mutation.as_deref(),
            model.subscription.as_deref(),
        )
        .extension(CaptureFactory);
        for kind in ScalarKind::AWS {
            let mut scalar = Scalar::new(kind.name()).validator(validator(kind));
            if let Some(d) = kind.description() {
                scalar = scalar.description(d);
            }
            builder = builder.register(scalar);
        }
        let mut names: Vec<&String> = model.types.keys().collect();
        names.sort();
        for name in names {
            let Some(def) = model.types.get(name) else {
                continue;
            };
            builder = match def {
                TypeDef::Scalar(_) => builder,
                TypeDef::Object(obj) if Some(&obj.name) == model.subscription.as_ref() => {
                    let mut sub = Subscription::new(obj.name.clone());
                    for f in obj.fields.values() {
                        let mut field =
                            SubscriptionField::new(f.name.clone(), type_ref(&f.ty), |_| {
                                SubscriptionFieldFuture::new(async {
                                    Ok(async_graphql::futures_util::stream::empty::<
                                        async_graphql::Result<ConstValue>,
                                    >())
                                })
                            });
                        for a in f.args.values() {
                            field = field.argument(input_value(a));
                        }
                        if let Some(d) = &f.description {
                            field = field.description(d.clone());
                        }
                        sub = sub.field(field);
                    }
                    if let Some(d) = &obj.description {
                        sub = sub.description(d.clone());
                    }
                    builder.register(sub)
                }
                TypeDef::Object(obj) => {
                    let mut o = Object::new(obj.name.clone());
                    for f in obj.fields.values() {
                        let mut field = Field::new(f.name.clone(), type_ref(&f.ty), |_| {
                            FieldFuture::from_value(None)
                        });
                        for a in f.args.values() {
                            field = field.argument(input_value(a));
                        }
                        if let Some(d) = &f.description {
                            field = field.description(d.clone());
                        }
                        if let Some(reason) = &f.deprecation {
                            field = field.deprecation(Some(reason));
                        }
                        o = o.field(field);
                    }
                    for i in &obj.implements {
                        o = o.implement(i.clone());
                    }
                    if let Some(d) = &obj.description {
                        o = o.description(d.clone());
                    }
                    builder.register(o)
                }
                TypeDef::Interface(obj) => {
                    let mut o = Interface::new(obj.name.clone());
                    for f in obj.fields.values() {
                        let mut field = InterfaceField::new(f.name.clone(), type_ref(&f.ty));
                        for a in f.args.values() {
                            field = field.argument(input_value(a));
                        }
                        if let Some(d) = &f.description {
                            field = field.description(d.clone());
                        }
                        if let Some(reason) = &f.deprecation {
                            field = field.deprecation(Some(reason));
                        }
                        o = o.field(field);
                    }
                    for i in &obj.implements {
                        o = o.implement(i.clone());
                    }
                    if let Some(d) = &obj.description {
                        o = o.description(d.clone());
                    }
                    builder.register(o)
                }
                TypeDef::Union(u) => {
                    let mut un = Union::new(u.name.clone());
                    for m in &u.members {
                        un = un.possible_type(m.clone());
                    }
                    if let Some(d) = &u.description {
                        un = un.description(d.clone());
                    }
                    builder.register(un)
                }
                TypeDef::Enum(e) => {
                    let mut en = Enum::new(e.name.clone());
                    for (value, (desc, deprecation)) in &e.values {
                        let mut item = EnumItem::new(value.clone());
                        if let Some(d) = desc {
                            item = item.description(d.clone());
                        }
                        if let Some(reason) = deprecation {
                            item = item.deprecation(Some(reason));
                        }
                        en = en.item(item);
                    }
                    if let Some(d) = &e.description {
                        en = en.description(d.clone());
                    }
                    builder.register(en)
                }
                TypeDef::InputObject(i) => {
                    let mut io = InputObject::new(i.name.clone());
                    for f in i.fields.values() {
                        io = io.field(input_value(f));
                    }
                    if let Some(d) = &i.description {
                        io = io.description(d.clone());
                    }
                    builder.register(io)
                }
            };
        }
        let schema = builder.finish()?;
        Ok(Engine {
            schema,
            validated: ValidatedDocuments::new(MAX_CACHED_DOCUMENTS),
        })
    }

    /// Parses and validates a request; on success also answers its
    /// introspection fields. Errors come back in AppSync's shape.
    pub async fn validate(&self, request: &GraphQLRequest) -> Result<Validated, Invalid> {
        let cached = self
            .validated
            .get(&request.query, request.operation_name.as_deref())
            .await;
        if let Some(doc) = cached {
            return Ok(Validated {
                doc,
                introspection: Map::new(),
            });
        }
        let slot = Arc::new(Slot::default());
        let variables = request
            .variables
            .clone()
            .map(|v| Variables::from_json(Json::Object(v)))
            .unwrap_or_default();
        let mut req = async_graphql::Request::new(request.query.clone())
            .variables(variables)
            .data(slot.clone());
        if let Some(name) = &request.operation_name {
            req = req.operation_name(name.clone());
        }
        let resp = self.schema.execute(req).await;
        let reached = slot.reached_execute.load(Ordering::Relaxed);
        let doc = slot.doc.lock().ok().and_then(|mut d| d.take());
        let (true, Some(_)) = (reached, doc.as_ref()) else {
            let parse_failed = slot.parse_failed.load(Ordering::Relaxed);
            let errors = resp
                .errors
                .iter()
                .map(|e| {
                    let message = if parse_failed {
                        let detail = e.message.lines().last().unwrap_or("").trim();
                        let detail = detail.trim_start_matches("= ");
                        match e.locations.first() {
                            Some(p) => format!(
                                "Invalid Syntax : {detail} at line {} column {}",
                                p.line, p.column
                            ),
                            None => format!("Invalid Syntax : {detail}"),
                        }
                    } else {
                        let at = e.locations.first().copied();
                        let path = doc.as_ref().zip(at).and_then(|(d, p)| field_path_at(d, p));
                        let literal = doc
                            .as_ref()
                            .zip(at)
                            .and_then(|(d, p)| argument_at(d, p))
                            .map(errors::java_literal);
                        errors::validation_message(&e.message, path.as_deref(), literal.as_deref())
                    };
                    errors::request_error(message, &e.locations)
                })
                .collect();
            return Err(Invalid { errors, doc });
        };
        let Some(doc) = doc else {
            return Err(Invalid {
                errors: Vec::new(),
                doc: None,
            });
        };
        let mut introspection = Map::new();
        let executed = slot.executed.lock().ok().and_then(|mut e| e.take());
        let doc = Arc::new(doc);
        // Introspection answers come from async-graphql each time, so only
        // documents without them are cached.
        if executed.is_none() {
            self.validated.insert(request, doc.clone()).await;
        }
        if let Some(resp) = executed
            && let ConstValue::Object(data) = resp.data
            && let Some((doc, op)) = find_operation(&doc, request.operation_name.as_deref())
        {
            for key in introspection_keys(doc, op) {
                if let Some(v) = data.get(key.as_str()) {
                    introspection.insert(key, v.clone().into_json().unwrap_or(Json::Null));
                }
            }
        }
        Ok(Validated { doc, introspection })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema;

    fn engine() -> Engine {
        let sdl = "type Query { a: Int b(x: Int!): String }".to_owned();
        let model = schema::build(&[sdl]).unwrap_or_else(|problems| panic!("{problems:?}"));
        Engine::build(&model).unwrap_or_else(|e| panic!("{e}"))
    }

    fn request(query: &str, operation_name: Option<&str>) -> GraphQLRequest {
        GraphQLRequest {
            query: query.to_owned(),
            operation_name: operation_name.map(str::to_owned),
            ..GraphQLRequest::default()
        }
    }

    async fn validated(engine: &Engine, request: &GraphQLRequest) -> Arc<ExecutableDocument> {
        match engine.validate(request).await {
            Ok(validated) => validated.doc,
            Err(invalid) => panic!("{:?}", invalid.errors),
        }
    }

    async fn cached_documents(engine: &Engine) -> u64 {
        engine.validated.0.run_pending_tasks().await;
        engine.validated.0.entry_count()
    }

    #[tokio::test]
    async fn a_validated_document_is_served_again_by_text_and_operation() {
        let engine = engine();
        let text = "query A { a } query B { b(x: 1) }";
        let a = validated(&engine, &request(text, Some("A"))).await;
        let again = validated(&engine, &request(text, Some("A"))).await;
        assert!(Arc::ptr_eq(&a, &again));
        let b = validated(&engine, &request(text, Some("B"))).await;
        assert!(!Arc::ptr_eq(&a, &b));
        // The text alone never picks an operation of a document with two.
        assert!(engine.validate(&request(text, None)).await.is_err());
        assert_eq!(cached_documents(&engine).await, 2);
    }

    #[tokio::test]
    async fn invalid_and_introspection_documents_are_not_kept() {
        let engine = engine();
        assert!(engine.validate(&request("{ a", None)).await.is_err());
        assert!(engine.validate(&request("{ c }", None)).await.is_err());
        let introspection = request("{ __schema { queryType { name } } }", None);
        for _ in 0..2 {
            let Ok(answer) = engine.validate(&introspection).await else {
                panic!("introspection is valid");
            };
            assert!(answer.introspection.contains_key("__schema"));
        }
        assert_eq!(cached_documents(&engine).await, 0);
    }

    #[tokio::test]
    async fn the_document_cache_is_bounded_and_keeps_its_hits() {
        let cache = ValidatedDocuments::new(16);
        let doc = |query: &str| match async_graphql::parser::parse_query(query) {
            Ok(doc) => Arc::new(doc),
            Err(e) => panic!("{e}"),
        };
        let hot = request("{ a }", None);
        cache.insert(&hot, doc("{ a }")).await;
        for i in 0..200 {
            let query = format!("{{ a{i}: a }}");
            cache.insert(&request(&query, None), doc(&query)).await;
            assert!(cache.get("{ a }", None).await.is_some(), "lost at {i}");
            cache.0.run_pending_tasks().await;
            assert!(
                cache.0.entry_count() <= 16,
                "{} at {i}",
                cache.0.entry_count()
            );
        }
        assert!(cache.get("{ a }", Some("A")).await.is_none());
        assert!(cache.get("{ b }", None).await.is_none());
    }
}
