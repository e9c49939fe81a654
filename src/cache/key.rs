//! Canonical cache keys: the same request always gives the same key, however
//! its arguments, variables or whitespace are ordered.

use std::fmt::Write as _;

use async_graphql::Positioned;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql_value::{ConstValue, Value};
use serde_json::Value as Json;

/// Writes `value` as JSON with object keys sorted, so `{"a":1,"b":2}` and
/// `{"b":2,"a":1}` give the same text.
pub fn canonical_json(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        Json::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push_str(&Json::String(s.to_owned()).to_string());
}

/// The operation and every fragment of the document, printed with
/// insignificant whitespace and commas dropped and arguments (and input
/// object fields) sorted by name. Selections keep their order, since it
/// decides the order of the response's keys.
pub fn normalized_operation(doc: &ExecutableDocument, op: &OperationDefinition) -> String {
    let mut out = String::new();
    let _ = write!(out, "{}", op.ty);
    if !op.variable_definitions.is_empty() {
        out.push('(');
        for def in &op.variable_definitions {
            let def = &def.node;
            let _ = write!(out, "${}:{}", def.name.node, def.var_type.node);
            if let Some(default) = &def.default_value {
                out.push('=');
                const_value(&default.node, &mut out);
            }
            out.push(' ');
        }
        out.push(')');
    }
    directives(&op.directives, &mut out);
    selection_set(&op.selection_set.node, &mut out);
    let mut fragments: Vec<_> = doc.fragments.iter().collect();
    fragments.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    for (name, fragment) in fragments {
        let fragment = &fragment.node;
        let _ = write!(
            out,
            " fragment {name} on {}",
            fragment.type_condition.node.on.node
        );
        directives(&fragment.directives, &mut out);
        selection_set(&fragment.selection_set.node, &mut out);
    }
    out
}

fn selection_set(set: &SelectionSet, out: &mut String) {
    if set.items.is_empty() {
        return;
    }
    out.push('{');
    for (i, item) in set.items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match &item.node {
            Selection::Field(f) => {
                let f = &f.node;
                if let Some(alias) = &f.alias {
                    let _ = write!(out, "{}:", alias.node);
                }
                out.push_str(&f.name.node);
                let mut args: Vec<_> = f.arguments.iter().collect();
                args.sort_by(|a, b| a.0.node.as_str().cmp(b.0.node.as_str()));
                if !args.is_empty() {
                    out.push('(');
                    for (j, (name, v)) in args.into_iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{}:", name.node);
                        value(&v.node, out);
                    }
                    out.push(')');
                }
                directives(&f.directives, out);
                selection_set(&f.selection_set.node, out);
            }
            Selection::FragmentSpread(s) => {
                let _ = write!(out, "...{}", s.node.fragment_name.node);
                directives(&s.node.directives, out);
            }
            Selection::InlineFragment(frag) => {
                out.push_str("...");
                if let Some(cond) = &frag.node.type_condition {
                    let _ = write!(out, " on {}", cond.node.on.node);
                }
                directives(&frag.node.directives, out);
                selection_set(&frag.node.selection_set.node, out);
            }
        }
    }
    out.push('}');
}

fn directives(list: &[Positioned<Directive>], out: &mut String) {
    for d in list {
        let _ = write!(out, "@{}", d.node.name.node);
        let mut args: Vec<_> = d.node.arguments.iter().collect();
        args.sort_by(|a, b| a.0.node.as_str().cmp(b.0.node.as_str()));
        if !args.is_empty() {
            out.push('(');
            for (j, (name, v)) in args.into_iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", name.node);
                value(&v.node, out);
            }
            out.push(')');
        }
    }
}

fn value(v: &Value, out: &mut String) {
    match v {
        Value::Variable(name) => {
            let _ = write!(out, "${name}");
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}:");
                value(item, out);
            }
            out.push('}');
        }
        Value::String(s) => write_string(s, out),
        Value::Enum(e) => out.push_str(e),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn const_value(v: &ConstValue, out: &mut String) {
    value(&v.clone().into_value(), out);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn normalized(query: &str) -> String {
        let doc = async_graphql::parser::parse_query(query).expect("valid query");
        let (_, op) = doc.operations.iter().next().expect("one operation");
        normalized_operation(&doc, &op.node)
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let mut a = String::new();
        let mut b = String::new();
        canonical_json(&json!({"b": [{"y": 1, "x": 2}], "a": "s"}), &mut a);
        canonical_json(&json!({"a": "s", "b": [{"x": 2, "y": 1}]}), &mut b);
        assert_eq!(a, b);
        assert_eq!(a, r#"{"a":"s","b":[{"x":2,"y":1}]}"#);
    }

    #[test]
    fn argument_order_whitespace_and_commas_do_not_matter() {
        let a = normalized("query Q { get(id: 1, kind: \"x\", f: {b: 1, a: 2}) { id name } }");
        let b = normalized("query Q{get(kind:\"x\" f:{a:2 b:1} id:1){\n  id,\n  name\n}}");
        assert_eq!(a, b);
        assert_eq!(a, "query{get(f:{a:2,b:1},id:1,kind:\"x\"){id name}}");
    }

    #[test]
    fn selection_order_and_aliases_do_matter() {
        assert_ne!(normalized("{ a b }"), normalized("{ b a }"));
        assert_ne!(normalized("{ x: a }"), normalized("{ a }"));
        assert_ne!(normalized("{ a(id: 1) }"), normalized("{ a(id: 2) }"));
    }
}
