//! `$ctx.info.selectionSetList` and `$ctx.info.selectionSetGraphQL`.

use std::collections::HashSet;
use std::fmt::Write;

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use serde_json::{Map, Value as Json};

use crate::execution::executor::is_skipped;
use crate::model::schema::{SchemaModel, TypeDef, named_type};

/// Alias-aware paths such as `"author/authorId"`. Fragments on the field's
/// own type are expanded; fragments on other types (the concrete types of an
/// interface or union) are left out, as AppSync lists only the declared
/// type's fields. Introspection fields such as `__typename` are left out
/// because templates use the list to choose attributes to fetch.
pub fn selection_set_list(
    model: &SchemaModel,
    doc: &ExecutableDocument,
    variables: &Map<String, Json>,
    type_name: &str,
    sets: &[&SelectionSet],
) -> Vec<Json> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for set in sets {
        walk(
            model, doc, variables, "", type_name, set, &mut out, &mut seen, 0,
        );
    }
    out.into_iter().map(Json::String).collect()
}

#[allow(clippy::too_many_arguments)]
fn walk(
    model: &SchemaModel,
    doc: &ExecutableDocument,
    variables: &Map<String, Json>,
    prefix: &str,
    type_name: &str,
    set: &SelectionSet,
    out: &mut Vec<String>,
    seen: &mut HashSet<String>,
    depth: usize,
) {
    // Fragment cycles are rejected by validation; this guards anyway.
    if depth > 64 {
        return;
    }
    for sel in &set.items {
        match &sel.node {
            Selection::Field(f) => {
                if is_skipped(&f.node.directives, variables) {
                    continue;
                }
                let name = f.node.name.node.as_str();
                if name.starts_with("__") {
                    continue;
                }
                let key = f.node.response_key().node.as_str();
                let path = format!("{prefix}{key}");
                if seen.insert(path.clone()) {
                    out.push(path.clone());
                }
                if !f.node.selection_set.node.items.is_empty() {
                    let child = field_type(model, type_name, name);
                    if let Some(child) = child {
                        walk(
                            model,
                            doc,
                            variables,
                            &format!("{path}/"),
                            child,
                            &f.node.selection_set.node,
                            out,
                            seen,
                            depth + 1,
                        );
                    }
                }
            }
            Selection::InlineFragment(frag) => {
                if is_skipped(&frag.node.directives, variables) {
                    continue;
                }
                let applies = frag
                    .node
                    .type_condition
                    .as_ref()
                    .is_none_or(|c| c.node.on.node.as_str() == type_name);
                if applies {
                    walk(
                        model,
                        doc,
                        variables,
                        prefix,
                        type_name,
                        &frag.node.selection_set.node,
                        out,
                        seen,
                        depth + 1,
                    );
                }
            }
            Selection::FragmentSpread(spread) => {
                if is_skipped(&spread.node.directives, variables) {
                    continue;
                }
                if let Some(frag) = doc.fragments.get(&spread.node.fragment_name.node)
                    && frag.node.type_condition.node.on.node.as_str() == type_name
                {
                    walk(
                        model,
                        doc,
                        variables,
                        prefix,
                        type_name,
                        &frag.node.selection_set.node,
                        out,
                        seen,
                        depth + 1,
                    );
                }
            }
        }
    }
}

fn field_type<'m>(model: &'m SchemaModel, type_name: &str, field: &str) -> Option<&'m str> {
    match model.types.get(type_name)? {
        TypeDef::Object(o) | TypeDef::Interface(o) => {
            o.fields.get(field).map(|f| named_type(&f.ty))
        }
        _ => None,
    }
}

/// The selection set as GraphQL text: fragment spreads are not expanded,
/// inline fragments are kept.
pub fn selection_set_graphql(sets: &[&Positioned<Field>]) -> String {
    let mut out = String::new();
    let items: Vec<&Positioned<Selection>> = sets
        .iter()
        .flat_map(|f| f.node.selection_set.node.items.iter())
        .collect();
    if items.is_empty() {
        return out;
    }
    print_items(&items, 0, &mut out);
    out
}

fn print_items(items: &[&Positioned<Selection>], indent: usize, out: &mut String) {
    out.push_str("{\n");
    for sel in items {
        for _ in 0..indent + 1 {
            out.push_str("  ");
        }
        match &sel.node {
            Selection::Field(f) => {
                let f = &f.node;
                if let Some(alias) = &f.alias {
                    let _ = write!(out, "{}: ", alias.node);
                }
                out.push_str(f.name.node.as_str());
                if !f.arguments.is_empty() {
                    out.push('(');
                    for (i, (name, value)) in f.arguments.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        let _ = write!(out, "{}: {}", name.node, value.node);
                    }
                    out.push(')');
                }
                print_directives(&f.directives, out);
                if !f.selection_set.node.items.is_empty() {
                    out.push(' ');
                    let child: Vec<_> = f.selection_set.node.items.iter().collect();
                    print_items(&child, indent + 1, out);
                }
            }
            Selection::InlineFragment(frag) => {
                out.push_str("...");
                if let Some(cond) = &frag.node.type_condition {
                    let _ = write!(out, " on {}", cond.node.on.node);
                }
                print_directives(&frag.node.directives, out);
                out.push(' ');
                let child: Vec<_> = frag.node.selection_set.node.items.iter().collect();
                print_items(&child, indent + 1, out);
            }
            Selection::FragmentSpread(spread) => {
                let _ = write!(out, "... {}", spread.node.fragment_name.node);
                print_directives(&spread.node.directives, out);
            }
        }
        out.push('\n');
    }
    for _ in 0..indent {
        out.push_str("  ");
    }
    out.push('}');
}

fn print_directives(
    directives: &[Positioned<async_graphql::parser::types::Directive>],
    out: &mut String,
) {
    for d in directives {
        let _ = write!(out, " @{}", d.node.name.node);
        if !d.node.arguments.is_empty() {
            out.push('(');
            for (i, (name, value)) in d.node.arguments.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: {}", name.node, value.node);
            }
            out.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::{DocumentOperations, Selection};
    use serde_json::json;

    use super::*;
    use crate::model::schema::build;

    const SDL: &str = "
        type Comment { id: ID }
        type Author { authorId: ID name: String }
        type Post { postId: ID title: String content: String
                    author(id: ID): Author secondAuthor(id: ID): Author comments: [Comment] }
        type Query { getPost(id: ID): Post }";

    // The example from AppSync's resolver context reference.
    const QUERY: &str = r#"query($postId: ID, $authorId: ID) {
  getPost(id: $postId) {
    postId
    title
    secondTitle: title
    content
    author(id: $authorId) {
      authorId
      name
    }
    secondAuthor(id: "789") {
      authorId
    }
    ... on Post {
      inlineFrag: comments {
        id
      }
    }
    ... postFrag
  }
}

fragment postFrag on Post {
  postFrag: comments {
    id
  }
}"#;

    #[test]
    fn selection_set_matches_appsync_example() {
        let model = match build(&[SDL.to_owned()]) {
            Ok(m) => m,
            Err(e) => panic!("{e:?}"),
        };
        let doc = parse_query(QUERY).expect("query parses");
        let DocumentOperations::Single(op) = &doc.operations else {
            panic!("one operation")
        };
        let Selection::Field(field) = &op.node.selection_set.node.items[0].node else {
            panic!("a field")
        };
        let list = selection_set_list(
            &model,
            &doc,
            &Map::new(),
            "Post",
            &[&field.node.selection_set.node],
        );
        assert_eq!(
            Json::Array(list),
            json!([
                "postId",
                "title",
                "secondTitle",
                "content",
                "author",
                "author/authorId",
                "author/name",
                "secondAuthor",
                "secondAuthor/authorId",
                "inlineFrag",
                "inlineFrag/id",
                "postFrag",
                "postFrag/id"
            ])
        );
        assert_eq!(
            selection_set_graphql(&[field]),
            "{\n  postId\n  title\n  secondTitle: title\n  content\n  author(id: $authorId) {\n    authorId\n    name\n  }\n  secondAuthor(id: \"789\") {\n    authorId\n  }\n  ... on Post {\n    inlineFrag: comments {\n      id\n    }\n  }\n  ... postFrag\n}"
        );
    }
}
