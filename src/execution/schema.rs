//! The executable schema: the model plus the resolver plans by field.

use std::collections::HashMap;
use std::sync::Arc;

use crate::execution::resolver::ResolverPlan;
use crate::model::schema::{FieldDef, SchemaModel, TypeDef};

/// What `execution` runs: the schema model, which knows nothing of
/// execution, and the resolver attached to each field, in a flat table
/// indexed by [`FieldId`](crate::model::schema::FieldId) so a lookup costs
/// no hashing.
#[derive(Debug)]
pub struct ExecutableSchema {
    pub model: SchemaModel,
    resolvers: Vec<Option<Arc<ResolverPlan>>>,
    /// A mutation field's name to the subscription fields whose
    /// `@aws_subscribe` names it: what its result is published to.
    subscribers: HashMap<String, Vec<String>>,
}

impl ExecutableSchema {
    pub fn new(model: SchemaModel) -> Self {
        let resolvers = vec![None; model.field_count];
        let mut subscribers: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(subscription) = model.subscription.as_deref().and_then(|n| model.object(n)) {
            for field in subscription.fields.values() {
                for mutation in &field.subscribe_mutations {
                    subscribers
                        .entry(mutation.clone())
                        .or_default()
                        .push(field.name.clone());
                }
            }
        }
        ExecutableSchema {
            model,
            resolvers,
            subscribers,
        }
    }

    /// The subscription fields a mutation field's result is published to.
    pub fn subscribers_of(&self, mutation_field: &str) -> &[String] {
        self.subscribers
            .get(mutation_field)
            .map_or(&[], Vec::as_slice)
    }

    /// Attaches a resolver to `type_name.field_name`; `false` when the
    /// schema has no such object field (the loader reports it before).
    pub fn attach(&mut self, plan: ResolverPlan) -> bool {
        let Some(TypeDef::Object(obj)) = self.model.types.get(&plan.type_name) else {
            return false;
        };
        let Some(field) = obj.fields.get(&plan.field_name) else {
            return false;
        };
        self.resolvers[field.id.index()] = Some(Arc::new(plan));
        true
    }

    /// The resolver attached to a field of this schema's model.
    pub fn resolver(&self, field: &FieldDef) -> Option<&Arc<ResolverPlan>> {
        self.resolvers.get(field.id.index())?.as_ref()
    }

    /// Every attached resolver.
    pub fn resolvers(&self) -> impl Iterator<Item = &ResolverPlan> {
        self.resolvers.iter().flatten().map(|p| &**p)
    }

    /// How many fields have a resolver attached.
    pub fn resolver_count(&self) -> usize {
        self.resolvers.iter().flatten().count()
    }
}
