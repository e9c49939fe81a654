//! `schema.graphql` -> [`SchemaModel`], the type system the executor walks.
//! Built once at load; the async-graphql schema is derived from it in
//! `execution::engine`.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    BaseType, ConstDirective, InputValueDefinition, ServiceDocument, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Pos, Positioned};
use async_graphql_value::ConstValue;
use indexmap::IndexMap;

use crate::graphql::AuthType;
use crate::model::scalars::ScalarKind;

/// A problem in a schema file, with its position.
#[derive(Debug, Clone)]
pub struct SchemaProblem {
    /// Index into the list of schema files.
    pub file: usize,
    pub pos: Option<Pos>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct SchemaModel {
    pub types: HashMap<String, TypeDef>,
    pub query: String,
    pub mutation: Option<String>,
    pub subscription: Option<String>,
    /// Interface or union name -> the object types it can resolve to.
    pub possible_types: HashMap<String, HashSet<String>>,
    /// How many fields object and interface types have in all: every
    /// [`FieldId`] is below it.
    pub field_count: usize,
}

/// A field of an object or interface type, numbered at build so the
/// executable schema can attach resolvers in a flat table without the model
/// knowing what a resolver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldId(pub u32);

impl FieldId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug)]
pub enum TypeDef {
    Scalar(ScalarKind),
    Object(ObjectDef),
    Interface(ObjectDef),
    Union(UnionDef),
    Enum(EnumDef),
    InputObject(InputObjectDef),
}

impl TypeDef {
    pub fn kind_name(&self) -> &'static str {
        match self {
            TypeDef::Scalar(_) => "scalar",
            TypeDef::Object(_) => "object",
            TypeDef::Interface(_) => "interface",
            TypeDef::Union(_) => "union",
            TypeDef::Enum(_) => "enum",
            TypeDef::InputObject(_) => "input object",
        }
    }

    fn is_input(&self) -> bool {
        matches!(
            self,
            TypeDef::Scalar(_) | TypeDef::Enum(_) | TypeDef::InputObject(_)
        )
    }

    fn is_output(&self) -> bool {
        !matches!(self, TypeDef::InputObject(_))
    }
}

#[derive(Debug)]
pub struct ObjectDef {
    pub name: String,
    pub description: Option<String>,
    pub implements: Vec<String>,
    pub fields: IndexMap<String, FieldDef>,
    /// `@aws_*` directives on the type.
    pub auth_directives: Vec<AuthDirective>,
    pub file: usize,
    pub pos: Pos,
}

#[derive(Debug)]
pub struct FieldDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: Type,
    pub args: IndexMap<String, InputValueDef>,
    pub deprecation: Option<String>,
    /// Numbered at the end of [`build`]; see [`FieldId`].
    pub id: FieldId,
    /// `@aws_*` directives on the field.
    pub auth_directives: Vec<AuthDirective>,
    /// Who may read this field, settled at load from the field's directives,
    /// its type's, or the default mode (`crate::auth::settle_field_rules`).
    /// Empty means nobody (Cognito `defaultAction: DENY` on a bare field).
    pub auth_rules: Vec<AuthDirective>,
    /// `@aws_subscribe(mutations: [...])` on a subscription field: the
    /// mutations whose results it receives.
    pub subscribe_mutations: Vec<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct InputValueDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: Type,
    pub default_value: Option<ConstValue>,
    pub pos: Pos,
}

#[derive(Debug)]
pub struct UnionDef {
    pub name: String,
    pub description: Option<String>,
    pub members: Vec<String>,
    pub file: usize,
    pub pos: Pos,
}

#[derive(Debug)]
pub struct EnumDef {
    pub name: String,
    pub description: Option<String>,
    /// Value name -> (description, deprecation reason).
    pub values: IndexMap<String, (Option<String>, Option<String>)>,
}

#[derive(Debug)]
pub struct InputObjectDef {
    pub name: String,
    pub description: Option<String>,
    pub fields: IndexMap<String, InputValueDef>,
    pub file: usize,
}

/// AppSync's directives, predeclared as AppSync does.
pub const APPSYNC_DIRECTIVES: &[&str] = &[
    "aws_subscribe",
    "aws_api_key",
    "aws_iam",
    "aws_oidc",
    "aws_lambda",
    "aws_cognito_user_pools",
    "aws_auth",
    "deprecated",
    "aws_publish",
    "specifiedBy",
];

/// The name at the bottom of a (possibly wrapped) type.
pub fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(inner),
    }
}

/// One `@aws_*` directive: the mode it admits and, for
/// `@aws_cognito_user_pools` and `@aws_auth`, the groups it restricts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthDirective {
    pub mode: AuthType,
    /// `cognito_groups`: `None` admits every user of the pool.
    pub cognito_groups: Option<Vec<String>>,
    /// Set on the rule a bare field inherits from the default mode: only the
    /// default provider passes it, not an additional pool or issuer of the
    /// same mode (AppSync's additional providers need directives).
    pub default_provider_only: bool,
}

impl AuthDirective {
    pub fn mode(mode: AuthType) -> AuthDirective {
        AuthDirective {
            mode,
            cognito_groups: None,
            default_provider_only: false,
        }
    }
}

/// The authorization modes AppSync's `@aws_*` directives name.
fn auth_modes(directives: &[Positioned<ConstDirective>]) -> Vec<AuthDirective> {
    let mut out: Vec<AuthDirective> = Vec::new();
    for d in directives {
        let mode = match d.node.name.node.as_str() {
            "aws_api_key" => AuthType::ApiKey,
            "aws_iam" => AuthType::AwsIam,
            "aws_oidc" => AuthType::OpenidConnect,
            "aws_lambda" => AuthType::AwsLambda,
            "aws_cognito_user_pools" | "aws_auth" => AuthType::AmazonCognitoUserPools,
            _ => continue,
        };
        let groups = d
            .node
            .get_argument("cognito_groups")
            .and_then(|value| match &value.node {
                async_graphql_value::ConstValue::List(items) => Some(
                    items
                        .iter()
                        .filter_map(|item| match item {
                            async_graphql_value::ConstValue::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                async_graphql_value::ConstValue::String(s) => Some(vec![s.clone()]),
                _ => None,
            });
        match out.iter_mut().find(|rule| rule.mode == mode) {
            // `@aws_auth` beside `@aws_cognito_user_pools`: the groups add up.
            Some(rule) => match (&mut rule.cognito_groups, groups) {
                (Some(have), Some(more)) => have.extend(more),
                (have @ Some(_), None) => *have = None,
                _ => {}
            },
            None => out.push(AuthDirective {
                mode,
                cognito_groups: groups,
                default_provider_only: false,
            }),
        }
    }
    out
}

fn deprecation(directives: &[Positioned<ConstDirective>]) -> Option<String> {
    directives
        .iter()
        .find(|d| d.node.name.node.as_str() == "deprecated")
        .map(|d| {
            d.node
                .get_argument("reason")
                .and_then(|v| match &v.node {
                    ConstValue::String(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "No longer supported".to_owned())
        })
}

fn input_value(def: &Positioned<InputValueDefinition>) -> InputValueDef {
    InputValueDef {
        name: def.node.name.node.to_string(),
        description: def.node.description.as_ref().map(|d| d.node.clone()),
        ty: def.node.ty.node.clone(),
        default_value: def.node.default_value.as_ref().map(|v| v.node.clone()),
        pos: def.pos,
    }
}

/// Parses every schema file and builds the model, collecting every problem.
pub fn build(sources: &[String]) -> Result<SchemaModel, Vec<SchemaProblem>> {
    let mut problems = Vec::new();
    let mut docs: Vec<(usize, ServiceDocument)> = Vec::new();
    for (file, src) in sources.iter().enumerate() {
        match async_graphql::parser::parse_schema(src) {
            Ok(doc) => docs.push((file, doc)),
            Err(err) => {
                // The parser's message embeds its own snippet; keep only the
                // expectation, as the position is rendered separately.
                let text = err.to_string();
                let message = text
                    .lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix("= "))
                    .map(|m| format!("syntax error: {m}"))
                    .unwrap_or(text);
                problems.push(SchemaProblem {
                    file,
                    pos: err.positions().next(),
                    message,
                })
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut model = SchemaModel::default();
    for kind in [
        ScalarKind::Int,
        ScalarKind::Float,
        ScalarKind::String,
        ScalarKind::Boolean,
        ScalarKind::Id,
    ]
    .into_iter()
    .chain(ScalarKind::AWS)
    {
        model
            .types
            .insert(kind.name().to_owned(), TypeDef::Scalar(kind));
    }

    let mut declared_directives: HashSet<String> =
        APPSYNC_DIRECTIVES.iter().map(|s| (*s).to_owned()).collect();
    let mut roots: (Option<String>, Option<String>, Option<String>) = (None, None, None);
    let mut directive_uses: Vec<(usize, Pos, String)> = Vec::new();
    let mut extensions = Vec::new();

    for (file, doc) in &docs {
        for def in &doc.definitions {
            match def {
                TypeSystemDefinition::Schema(schema) => {
                    let s = &schema.node;
                    if let Some(q) = &s.query {
                        roots.0 = Some(q.node.to_string());
                    }
                    if let Some(m) = &s.mutation {
                        roots.1 = Some(m.node.to_string());
                    }
                    if let Some(sub) = &s.subscription {
                        roots.2 = Some(sub.node.to_string());
                    }
                }
                TypeSystemDefinition::Directive(d) => {
                    declared_directives.insert(d.node.name.node.to_string());
                }
                TypeSystemDefinition::Type(ty) => {
                    let t = &ty.node;
                    let name = t.name.node.to_string();
                    let description = t.description.as_ref().map(|d| d.node.clone());
                    for d in &t.directives {
                        directive_uses.push((*file, d.pos, d.node.name.node.to_string()));
                    }
                    if t.extend {
                        extensions.push((*file, ty));
                        continue;
                    }
                    if model.types.contains_key(&name) {
                        let message = if ScalarKind::from_name(&name).is_some() {
                            format!(
                                "type `{name}` is predeclared by AppSync and cannot be redefined"
                            )
                        } else {
                            format!("type `{name}` is defined more than once")
                        };
                        problems.push(SchemaProblem {
                            file: *file,
                            pos: Some(t.name.pos),
                            message,
                        });
                        continue;
                    }
                    let def = match &t.kind {
                        TypeKind::Scalar => {
                            problems.push(SchemaProblem {
                                file: *file,
                                pos: Some(t.name.pos),
                                message: format!(
                                    "custom scalar `{name}` is not allowed: AppSync only supports its predeclared scalars"
                                ),
                            });
                            continue;
                        }
                        TypeKind::Object(obj) => TypeDef::Object(object_def(
                            &name,
                            description,
                            &t.directives,
                            &obj.implements,
                            &obj.fields,
                            *file,
                            t.name.pos,
                            &mut directive_uses,
                        )),
                        TypeKind::Interface(obj) => TypeDef::Interface(object_def(
                            &name,
                            description,
                            &t.directives,
                            &obj.implements,
                            &obj.fields,
                            *file,
                            t.name.pos,
                            &mut directive_uses,
                        )),
                        TypeKind::Union(u) => TypeDef::Union(UnionDef {
                            name: name.clone(),
                            description,
                            members: u.members.iter().map(|m| m.node.to_string()).collect(),
                            file: *file,
                            pos: t.name.pos,
                        }),
                        TypeKind::Enum(e) => TypeDef::Enum(EnumDef {
                            name: name.clone(),
                            description,
                            values: e
                                .values
                                .iter()
                                .map(|v| {
                                    (
                                        v.node.value.node.to_string(),
                                        (
                                            v.node.description.as_ref().map(|d| d.node.clone()),
                                            deprecation(&v.node.directives),
                                        ),
                                    )
                                })
                                .collect(),
                        }),
                        TypeKind::InputObject(i) => TypeDef::InputObject(InputObjectDef {
                            name: name.clone(),
                            description,
                            fields: i
                                .fields
                                .iter()
                                .map(|f| (f.node.name.node.to_string(), input_value(f)))
                                .collect(),
                            file: *file,
                        }),
                    };
                    model.types.insert(name, def);
                }
            }
        }
    }

    // `extend type` adds fields (and interfaces) to a type defined anywhere.
    for (file, ty) in extensions {
        let t = &ty.node;
        let name = t.name.node.as_str();
        let extension = match &t.kind {
            TypeKind::Object(ext) => Some((&ext.implements, &ext.fields)),
            TypeKind::Interface(ext) => Some((&ext.implements, &ext.fields)),
            _ => None,
        };
        match (model.types.get_mut(name), &t.kind) {
            (Some(TypeDef::Object(obj)), TypeKind::Object(_))
            | (Some(TypeDef::Interface(obj)), TypeKind::Interface(_)) => {
                let Some((implements, fields)) = extension else {
                    continue;
                };
                let extra = object_def(
                    name,
                    None,
                    &t.directives,
                    implements,
                    fields,
                    file,
                    t.name.pos,
                    &mut directive_uses,
                );
                obj.implements.extend(extra.implements);
                obj.auth_directives.extend(extra.auth_directives);
                for (fname, f) in extra.fields {
                    if obj.fields.contains_key(&fname) {
                        problems.push(SchemaProblem {
                            file,
                            pos: Some(f.pos),
                            message: format!("field `{name}.{fname}` is defined more than once"),
                        });
                    } else {
                        obj.fields.insert(fname, f);
                    }
                }
            }
            (Some(TypeDef::Enum(e)), TypeKind::Enum(ext)) => {
                for v in &ext.values {
                    e.values.insert(
                        v.node.value.node.to_string(),
                        (None, deprecation(&v.node.directives)),
                    );
                }
            }
            (Some(TypeDef::Union(u)), TypeKind::Union(ext)) => {
                u.members
                    .extend(ext.members.iter().map(|m| m.node.to_string()));
            }
            (Some(TypeDef::InputObject(i)), TypeKind::InputObject(ext)) => {
                for f in &ext.fields {
                    i.fields
                        .insert(f.node.name.node.to_string(), input_value(f));
                }
            }
            _ => problems.push(SchemaProblem {
                file,
                pos: Some(t.name.pos),
                message: format!(
                    "cannot extend `{name}`: no {} of that name is defined",
                    kind_word(&t.kind)
                ),
            }),
        }
    }

    for (file, pos, name) in directive_uses {
        if !declared_directives.contains(&name) {
            problems.push(SchemaProblem {
                file,
                pos: Some(pos),
                message: format!("unknown directive `@{name}`"),
            });
        }
    }

    model.query = roots.0.unwrap_or_else(|| "Query".to_owned());
    model.mutation = roots.1.or_else(|| {
        model
            .types
            .contains_key("Mutation")
            .then(|| "Mutation".to_owned())
    });
    model.subscription = roots.2.or_else(|| {
        model
            .types
            .contains_key("Subscription")
            .then(|| "Subscription".to_owned())
    });
    check_references(&mut model, &mut problems);
    check_subscriptions(&model, &mut problems);
    // Types live in a hash map; sort so the report is stable.
    problems.sort_by_key(|p| (p.file, p.pos.map(|p| (p.line, p.column))));
    if problems.is_empty() {
        number_fields(&mut model);
        Ok(model)
    } else {
        Err(problems)
    }
}

/// The `mutations` of `@aws_subscribe`.
fn subscribe_mutations(directives: &[Positioned<ConstDirective>]) -> Vec<String> {
    directives
        .iter()
        .filter(|d| d.node.name.node == "aws_subscribe")
        .filter_map(|d| d.node.get_argument("mutations"))
        .flat_map(|value| match &value.node {
            async_graphql_value::ConstValue::List(items) => items
                .iter()
                .filter_map(|item| match item {
                    async_graphql_value::ConstValue::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            async_graphql_value::ConstValue::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .collect()
}

/// `@aws_subscribe` sits on subscription fields and names mutations that
/// return the subscription's type (AppSync refuses the schema otherwise).
fn check_subscriptions(model: &SchemaModel, problems: &mut Vec<SchemaProblem>) {
    let mutations = model.mutation.as_deref().and_then(|m| model.object(m));
    for def in model.types.values() {
        let TypeDef::Object(obj) = def else { continue };
        for field in obj.fields.values() {
            if field.subscribe_mutations.is_empty() {
                continue;
            }
            let mut problem = |message: String| {
                problems.push(SchemaProblem {
                    file: obj.file,
                    pos: Some(field.pos),
                    message,
                });
            };
            if model.subscription.as_deref() != Some(obj.name.as_str()) {
                problem(format!(
                    "`@aws_subscribe` on `{}.{}`: it belongs on fields of the subscription type",
                    obj.name, field.name
                ));
                continue;
            }
            for name in &field.subscribe_mutations {
                match mutations.and_then(|m| m.fields.get(name)) {
                    None => problem(format!(
                        "`@aws_subscribe` on `{}.{}` names `{name}`, which is not a mutation",
                        obj.name, field.name
                    )),
                    Some(mutation) if named_type(&mutation.ty) != named_type(&field.ty) => {
                        problem(format!(
                            "`{}.{}` returns `{}` but the mutation `{name}` returns `{}`: `@aws_subscribe` needs the same type",
                            obj.name,
                            field.name,
                            named_type(&field.ty),
                            named_type(&mutation.ty)
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

fn kind_word(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Scalar => "scalar",
        TypeKind::Object(_) => "type",
        TypeKind::Interface(_) => "interface",
        TypeKind::Union(_) => "union",
        TypeKind::Enum(_) => "enum",
        TypeKind::InputObject(_) => "input",
    }
}

#[allow(clippy::too_many_arguments)]
fn object_def(
    name: &str,
    description: Option<String>,
    type_directives: &[Positioned<ConstDirective>],
    implements: &[Positioned<async_graphql::Name>],
    fields: &[Positioned<async_graphql::parser::types::FieldDefinition>],
    file: usize,
    pos: Pos,
    directive_uses: &mut Vec<(usize, Pos, String)>,
) -> ObjectDef {
    let mut out = IndexMap::new();
    for f in fields {
        for d in &f.node.directives {
            directive_uses.push((file, d.pos, d.node.name.node.to_string()));
        }
        out.insert(
            f.node.name.node.to_string(),
            FieldDef {
                name: f.node.name.node.to_string(),
                description: f.node.description.as_ref().map(|d| d.node.clone()),
                ty: f.node.ty.node.clone(),
                args: f
                    .node
                    .arguments
                    .iter()
                    .map(|a| (a.node.name.node.to_string(), input_value(a)))
                    .collect(),
                deprecation: deprecation(&f.node.directives),
                id: FieldId(u32::MAX),
                auth_directives: auth_modes(&f.node.directives),
                auth_rules: Vec::new(),
                subscribe_mutations: subscribe_mutations(&f.node.directives),
                pos: f.pos,
            },
        );
    }
    ObjectDef {
        name: name.to_owned(),
        description,
        implements: implements.iter().map(|i| i.node.to_string()).collect(),
        fields: out,
        auth_directives: auth_modes(type_directives),
        file,
        pos,
    }
}

fn number_fields(model: &mut SchemaModel) {
    let mut next = 0u32;
    for def in model.types.values_mut() {
        if let TypeDef::Object(obj) | TypeDef::Interface(obj) = def {
            for field in obj.fields.values_mut() {
                field.id = FieldId(next);
                next += 1;
            }
        }
    }
    model.field_count = next as usize;
}

fn check_references(model: &mut SchemaModel, problems: &mut Vec<SchemaProblem>) {
    let mut possible: HashMap<String, HashSet<String>> = HashMap::new();
    for def in model.types.values() {
        match def {
            TypeDef::Object(obj) | TypeDef::Interface(obj) => {
                let is_object = matches!(def, TypeDef::Object(_));
                for iface in &obj.implements {
                    match model.types.get(iface) {
                        Some(TypeDef::Interface(idef)) => {
                            if is_object {
                                possible
                                    .entry(iface.clone())
                                    .or_default()
                                    .insert(obj.name.clone());
                            }
                            for (fname, ifield) in &idef.fields {
                                if !obj.fields.contains_key(fname) {
                                    problems.push(SchemaProblem {
                                        file: obj.file,
                                        pos: Some(obj.pos),
                                        message: format!(
                                            "type `{}` implements `{iface}` but has no field `{fname}: {}`",
                                            obj.name, ifield.ty
                                        ),
                                    });
                                }
                            }
                        }
                        _ => problems.push(SchemaProblem {
                            file: obj.file,
                            pos: Some(obj.pos),
                            message: format!(
                                "type `{}` implements `{iface}`, which is not an interface",
                                obj.name
                            ),
                        }),
                    }
                }
                for field in obj.fields.values() {
                    let target = named_type(&field.ty);
                    match model.types.get(target) {
                        None => problems.push(SchemaProblem {
                            file: obj.file,
                            pos: Some(field.pos),
                            message: format!(
                                "field `{}.{}` has unknown type `{target}`",
                                obj.name, field.name
                            ),
                        }),
                        Some(t) if !t.is_output() => problems.push(SchemaProblem {
                            file: obj.file,
                            pos: Some(field.pos),
                            message: format!(
                                "field `{}.{}` returns input type `{target}`; fields must return output types",
                                obj.name, field.name
                            ),
                        }),
                        Some(_) => {}
                    }
                    for arg in field.args.values() {
                        check_input_ref(
                            model,
                            obj.file,
                            &arg.ty,
                            arg.pos,
                            &format!("argument `{}.{}({})`", obj.name, field.name, arg.name),
                            problems,
                        );
                    }
                }
            }
            TypeDef::Union(u) => {
                for m in &u.members {
                    match model.types.get(m) {
                        Some(TypeDef::Object(_)) => {
                            possible
                                .entry(u.name.clone())
                                .or_default()
                                .insert(m.clone());
                        }
                        _ => problems.push(SchemaProblem {
                            file: u.file,
                            pos: Some(u.pos),
                            message: format!(
                                "union `{}` has member `{m}`, which is not an object type",
                                u.name
                            ),
                        }),
                    }
                }
            }
            TypeDef::InputObject(i) => {
                for f in i.fields.values() {
                    check_input_ref(
                        model,
                        i.file,
                        &f.ty,
                        f.pos,
                        &format!("input field `{}.{}`", i.name, f.name),
                        problems,
                    );
                }
            }
            TypeDef::Scalar(_) | TypeDef::Enum(_) => {}
        }
    }
    for (root, label) in [
        (Some(model.query.clone()), "query"),
        (model.mutation.clone(), "mutation"),
        (model.subscription.clone(), "subscription"),
    ] {
        if let Some(root) = root
            && !matches!(model.types.get(&root), Some(TypeDef::Object(_)))
        {
            problems.push(SchemaProblem {
                file: 0,
                pos: None,
                message: format!("the {label} root type `{root}` is not defined as an object type"),
            });
        }
    }
    model.possible_types = possible;
}

fn check_input_ref(
    model: &SchemaModel,
    file: usize,
    ty: &Type,
    pos: Pos,
    what: &str,
    problems: &mut Vec<SchemaProblem>,
) {
    let target = named_type(ty);
    match model.types.get(target) {
        None => problems.push(SchemaProblem {
            file,
            pos: Some(pos),
            message: format!("{what} has unknown type `{target}`"),
        }),
        Some(t) if !t.is_input() => problems.push(SchemaProblem {
            file,
            pos: Some(pos),
            message: format!(
                "{what} has output type `{target}`; inputs must be scalars, enums or input objects"
            ),
        }),
        Some(_) => {}
    }
}

impl SchemaModel {
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        match self.types.get(name) {
            Some(TypeDef::Object(o)) => Some(o),
            _ => None,
        }
    }

    /// Whether the object type `object` satisfies the type condition `cond`.
    pub fn satisfies(&self, object: &str, cond: &str) -> bool {
        object == cond
            || self
                .possible_types
                .get(cond)
                .is_some_and(|set| set.contains(object))
    }
}
