//! Public entry points: parse a template once, render it many times.
//! (Interface placeholder: the parser and evaluator replace the bodies.)

use serde::Deserialize;
use serde_json::Value as Json;

use crate::vtl::runtime::{Effect, TemplateError};

/// A parsed template. `Send + Sync`, so one parse serves every request.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    source: String,
}

/// A template that failed to parse. `{:#}` renders file:line:column and a snippet.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ParseError {
    pub name: String,
    pub message: String,
}

/// The AppSync context object (`$ctx`), as JSON so it can cross `await`s.
/// Deserializes from the `evaluate-mapping-template` context shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Context {
    pub arguments: Json,
    pub source: Json,
    pub result: Json,
    pub identity: Json,
    /// Shared by every template of one resolver run (pipeline included);
    /// `render` writes the template's changes back.
    pub stash: serde_json::Map<String, Json>,
    /// `{ "result": ... }` in pipeline functions and the after template.
    pub prev: Json,
    /// `{ "headers": {...}, "domainName": ... }`.
    pub request: Json,
    /// `{ fieldName, parentTypeName, variables, selectionSetList, selectionSetGraphQL }`.
    pub info: Json,
    /// `{ "message": ..., "type": ... }` in response templates after a data-source error.
    pub error: Json,
}

/// The outcome of one render.
#[derive(Debug)]
pub struct RenderOutput {
    /// The text or `#return` value, or the error that stopped rendering.
    pub result: Result<Rendered, TemplateError>,
    pub appended_errors: Vec<TemplateError>,
    pub logs: Vec<String>,
    pub effects: Vec<Effect>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Text(String),
    /// `#return(value)`; `#return` alone gives `Json::Null`.
    Return(Json),
}

impl Template {
    pub fn parse(name: &str, source: &str) -> Result<Template, ParseError> {
        Ok(Template {
            name: name.to_owned(),
            source: source.to_owned(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renders with the system clock.
    pub fn render(&self, ctx: &mut Context) -> RenderOutput {
        self.render_at(ctx, 0)
    }

    /// Renders with a fixed clock (epoch milliseconds), for reproducible output.
    pub fn render_at(&self, _ctx: &mut Context, _now_epoch_millis: i64) -> RenderOutput {
        RenderOutput {
            result: Ok(Rendered::Text(self.source.clone())),
            appended_errors: Vec::new(),
            logs: Vec::new(),
            effects: Vec::new(),
        }
    }
}

/// Parses a rendered template as JSON with AppSync's error messages
/// (duplicate keys, trailing characters, invalid JSON).
pub fn parse_json_output(_template_name: &str, text: &str) -> Result<Json, TemplateError> {
    serde_json::from_str(text).map_err(|e| TemplateError::mapping_template(e.to_string()))
}
