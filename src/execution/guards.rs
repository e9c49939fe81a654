//! Gateway guards beyond AppSync, for a shared dev or demo server: the
//! manifest's local `guards` block. AppSync has none of these, so every
//! guard is off unless the manifest sets it: a default would reject queries
//! that AppSync accepts.
//!
//! The request-level guards are checked before execution, cheapest first:
//! `maxQueryBytes` and `maxQueryTokens` on the query text before it is
//! parsed, then `maxAliases` and `maxRootFields` on the chosen operation
//! after validation. Each check reports which guard failed, as Apollo
//! Router's operation limits do; `errors::guard_error` shapes the error.
//! `maxListFanOut` is checked by the executor as lists complete.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};

use crate::execution::lexer::count_tokens;
use crate::metrics::Limit;

/// The guards of one API; `None` is off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Guards {
    pub max_aliases: Option<usize>,
    pub max_root_fields: Option<usize>,
    pub max_query_bytes: Option<usize>,
    pub max_query_tokens: Option<usize>,
    pub max_list_fan_out: Option<usize>,
}

/// A request rejected before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardViolation {
    #[error("The query is {actual} bytes long, more than the limit of {limit} bytes.")]
    QueryBytes { actual: usize, limit: usize },
    #[error("The query has {actual} tokens, more than the limit of {limit} tokens.")]
    QueryTokens { actual: usize, limit: usize },
    #[error("The operation uses {actual} aliases, more than the limit of {limit}.")]
    Aliases { actual: usize, limit: usize },
    #[error("The operation selects {actual} root fields, more than the limit of {limit}.")]
    RootFields { actual: usize, limit: usize },
}

impl GuardViolation {
    /// The stable `errorType` of the GraphQL error.
    pub fn error_type(&self) -> &'static str {
        match self {
            GuardViolation::QueryBytes { .. } | GuardViolation::QueryTokens { .. } => {
                "QueryTooLarge"
            }
            GuardViolation::Aliases { .. } => "MaxAliasesExceeded",
            GuardViolation::RootFields { .. } => "MaxRootFieldsExceeded",
        }
    }

    /// The guard that failed, as the manifest and `/metrics` name it.
    pub fn limit(&self) -> Limit {
        match self {
            GuardViolation::QueryBytes { .. } => Limit::MaxQueryBytes,
            GuardViolation::QueryTokens { .. } => Limit::MaxQueryTokens,
            GuardViolation::Aliases { .. } => Limit::MaxAliases,
            GuardViolation::RootFields { .. } => Limit::MaxRootFields,
        }
    }

    /// `(limit, actual)`, for `errorInfo`.
    pub fn figures(&self) -> (usize, usize) {
        match *self {
            GuardViolation::QueryBytes { actual, limit }
            | GuardViolation::QueryTokens { actual, limit }
            | GuardViolation::Aliases { actual, limit }
            | GuardViolation::RootFields { actual, limit } => (limit, actual),
        }
    }
}

impl Guards {
    /// The guards on the query text, checked before parsing.
    pub fn check_text(&self, query: &str) -> Result<(), GuardViolation> {
        if let Some(limit) = self.max_query_bytes
            && query.len() > limit
        {
            return Err(GuardViolation::QueryBytes {
                actual: query.len(),
                limit,
            });
        }
        if let Some(limit) = self.max_query_tokens {
            let actual = count_tokens(query);
            if actual > limit {
                return Err(GuardViolation::QueryTokens { actual, limit });
            }
        }
        Ok(())
    }

    /// The guards on the shape of a validated operation.
    pub fn check_operation(
        &self,
        doc: &ExecutableDocument,
        op: &OperationDefinition,
    ) -> Result<(), GuardViolation> {
        if let Some(limit) = self.max_root_fields {
            let actual = root_fields(doc, op);
            if actual > limit {
                return Err(GuardViolation::RootFields { actual, limit });
            }
        }
        if let Some(limit) = self.max_aliases {
            let actual = aliases(doc, op);
            if actual > limit {
                return Err(GuardViolation::Aliases { actual, limit });
            }
        }
        Ok(())
    }
}

/// Fragment nesting beyond this is not followed; validation already rejects
/// fragment cycles, so this only bounds pathological documents.
const MAX_FRAGMENT_NESTING: usize = 64;

/// Root fields are the distinct response keys at the root, fragments
/// expanded, as the executor would run them. `@skip`/`@include` are ignored:
/// the guard judges the document, not one set of variables.
fn root_fields(doc: &ExecutableDocument, op: &OperationDefinition) -> usize {
    fn walk<'d>(
        doc: &'d ExecutableDocument,
        set: &'d SelectionSet,
        keys: &mut HashSet<&'d str>,
        nesting: usize,
    ) {
        if nesting > MAX_FRAGMENT_NESTING {
            return;
        }
        for sel in &set.items {
            match &sel.node {
                Selection::Field(f) => {
                    keys.insert(f.node.response_key().node.as_str());
                }
                Selection::InlineFragment(frag) => {
                    walk(doc, &frag.node.selection_set.node, keys, nesting + 1)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(frag) = doc.fragments.get(&spread.node.fragment_name.node) {
                        walk(doc, &frag.node.selection_set.node, keys, nesting + 1);
                    }
                }
            }
        }
    }
    let mut keys = HashSet::new();
    walk(doc, &op.selection_set.node, &mut keys, 0);
    keys.len()
}

/// Every aliased field the operation would run, counting a fragment once
/// per spread (each spread runs its fields again). Counts per fragment are
/// memoised, so a document that doubles fragments cannot make this slow.
fn aliases(doc: &ExecutableDocument, op: &OperationDefinition) -> usize {
    fn walk<'d>(
        doc: &'d ExecutableDocument,
        set: &'d SelectionSet,
        memo: &mut HashMap<&'d str, usize>,
        nesting: usize,
    ) -> usize {
        if nesting > MAX_FRAGMENT_NESTING {
            return 0;
        }
        let mut n = 0usize;
        for sel in &set.items {
            n =
                n.saturating_add(match &sel.node {
                    Selection::Field(f) => usize::from(f.node.alias.is_some())
                        .saturating_add(walk(doc, &f.node.selection_set.node, memo, nesting)),
                    Selection::InlineFragment(frag) => {
                        walk(doc, &frag.node.selection_set.node, memo, nesting)
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = spread.node.fragment_name.node.as_str();
                        match memo.get(name) {
                            Some(n) => *n,
                            None => match doc.fragments.get(&spread.node.fragment_name.node) {
                                Some(frag) => {
                                    let n =
                                        walk(doc, &frag.node.selection_set.node, memo, nesting + 1);
                                    memo.insert(name, n);
                                    n
                                }
                                None => 0,
                            },
                        }
                    }
                });
        }
        n
    }
    walk(doc, &op.selection_set.node, &mut HashMap::new(), 0)
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;
    use crate::execution::engine::find_operation;

    fn check(query: &str, guards: Guards) -> Result<(), GuardViolation> {
        let doc = parse_query(query).expect("a valid query");
        let (doc, op) = find_operation(&doc, None).expect("one operation");
        guards.check_operation(doc, op)
    }

    #[test]
    fn counts_root_fields_through_fragments() {
        let guards = Guards {
            max_root_fields: Some(2),
            ..Guards::default()
        };
        assert_eq!(check("{ a b a }", guards), Ok(()));
        assert_eq!(
            check(
                "{ a ... on Query { b } ...F } fragment F on Query { c }",
                guards
            ),
            Err(GuardViolation::RootFields {
                actual: 3,
                limit: 2
            })
        );
    }

    #[test]
    fn counts_aliases_once_per_spread() {
        let guards = Guards {
            max_aliases: Some(3),
            ..Guards::default()
        };
        assert_eq!(
            check(
                "{ x: a { y: b } ...F } fragment F on Query { z: c }",
                guards
            ),
            Ok(())
        );
        assert_eq!(
            check(
                "{ x: a ...F ...F } fragment F on Query { y: b { z: c } }",
                guards
            ),
            Err(GuardViolation::Aliases {
                actual: 5,
                limit: 3
            })
        );
    }

    #[test]
    fn doubling_fragments_stay_cheap() {
        let mut query = String::from("{ ...F0 }\n");
        for i in 0..40 {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str("fragment F40 on Query { a: b }\n");
        let guards = Guards {
            max_aliases: Some(1000),
            ..Guards::default()
        };
        assert!(matches!(
            check(&query, guards),
            Err(GuardViolation::Aliases { limit: 1000, .. })
        ));
    }
}
