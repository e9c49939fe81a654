//! `_source` filtering, and reading values out of a `_source` by dotted path.

use serde_json::{Map, Value};

use crate::opensearch::dsl::glob_match;
use crate::opensearch::error::{Error, Result};
use crate::opensearch::mapping::text_from_json;

/// `_source` filtering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFilter {
    pub disabled: bool,
    pub includes: Vec<String>,
    pub excludes: Vec<String>,
}

pub(super) fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split(',').map(|s| s.trim().to_string()).collect(),
        Value::Array(items) => items.iter().filter_map(text_from_json).collect(),
        _ => Vec::new(),
    }
}

impl SourceFilter {
    pub fn parse(v: &Value) -> Result<SourceFilter> {
        Ok(match v {
            Value::Bool(b) => SourceFilter {
                disabled: !b,
                ..SourceFilter::default()
            },
            Value::String(s) if s == "false" => SourceFilter {
                disabled: true,
                ..SourceFilter::default()
            },
            Value::String(s) if s == "true" => SourceFilter::default(),
            Value::String(_) | Value::Array(_) => SourceFilter {
                includes: strings(v),
                ..SourceFilter::default()
            },
            Value::Object(o) => SourceFilter {
                disabled: false,
                includes: o
                    .get("includes")
                    .or_else(|| o.get("include"))
                    .map(strings)
                    .unwrap_or_default(),
                excludes: o
                    .get("excludes")
                    .or_else(|| o.get("exclude"))
                    .map(strings)
                    .unwrap_or_default(),
            },
            _ => return Err(Error::parsing(format!("[_source] malformed: {v}"))),
        })
    }

    pub fn apply(&self, source: &Value) -> Option<Value> {
        if self.disabled {
            return None;
        }
        if self.includes.is_empty() && self.excludes.is_empty() {
            return Some(source.clone());
        }
        match source {
            Value::Object(map) => Some(Value::Object(self.filter_object(map, "", false))),
            v => Some(v.clone()),
        }
    }

    fn filter_object(
        &self,
        map: &Map<String, Value>,
        prefix: &str,
        parent_in: bool,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in map {
            let path = format!("{prefix}{k}");
            if self.excludes.iter().any(|p| glob_match(p, &path)) {
                continue;
            }
            let included = parent_in
                || self.includes.is_empty()
                || self.includes.iter().any(|p| glob_match(p, &path));
            // An include like `address.city` must keep walking into `address`.
            let may_descend = included
                || self
                    .includes
                    .iter()
                    .any(|p| p.starts_with(&format!("{path}.")) || p.starts_with('*'));
            match v {
                Value::Object(inner) if may_descend => {
                    let sub = self.filter_object(inner, &format!("{path}."), included);
                    if !sub.is_empty() || included {
                        out.insert(k.clone(), Value::Object(sub));
                    }
                }
                Value::Array(items) if may_descend && items.iter().any(Value::is_object) => {
                    let kept: Vec<Value> = items
                        .iter()
                        .filter_map(|item| match item {
                            Value::Object(inner) => {
                                let sub = self.filter_object(inner, &format!("{path}."), included);
                                (!sub.is_empty()).then_some(Value::Object(sub))
                            }
                            other => included.then(|| other.clone()),
                        })
                        .collect();
                    if !kept.is_empty() || included {
                        out.insert(k.clone(), Value::Array(kept));
                    }
                }
                _ if included => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
        out
    }
}

/// Scalars at a dotted path, walking through arrays.
pub fn values_at<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![value];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            match v {
                Value::Object(m) => {
                    if let Some(child) = m.get(part) {
                        next.push(child);
                    }
                }
                Value::Array(items) => {
                    for item in items {
                        if let Some(child) = item.get(part) {
                            next.push(child);
                        }
                    }
                }
                _ => {}
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect(),
            v => vec![v],
        })
        .collect()
}
