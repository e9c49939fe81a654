//! Public entry points: parse a template once, render it many times.

use std::fmt;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::vtl::eval::{self, Names, Observes, Outcome, Program, Renderer, Vars};
use crate::vtl::parser;
use crate::vtl::runtime::{Effect, Host, RenderState, TemplateError};
use crate::vtl::value::{Map, Namespace, Value};

pub use crate::vtl::json::parse_json_output;

/// AppSync's limit on a request or response mapping template.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// A parsed template. `Send + Sync` and cheap to clone, so one parse serves
/// every request.
#[derive(Debug, Clone)]
pub struct Template {
    program: Arc<Program>,
}

/// A template that failed to parse. `{}` gives `name:line:column: message`;
/// `{:#}` adds the source line with the error underlined.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ParseError {
    /// The template's name (usually its file name).
    pub name: String,
    pub message: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The offending source line, without its newline.
    pub source_line: String,
    /// How many characters to underline from `column` (at least 1).
    pub width: usize,
}

impl ParseError {
    fn new(name: &str, source: &str, message: String, start: usize, end: usize) -> ParseError {
        let (line, column) = eval::line_col(source, start);
        let line_text = source.lines().nth(line - 1).unwrap_or("").to_string();
        let (_, end_column) = eval::line_col(source, end);
        let (end_line, _) = eval::line_col(source, end);
        let line_chars = line_text.chars().count();
        let width = if end_line == line && end_column > column {
            end_column - column
        } else {
            line_chars.saturating_sub(column - 1).max(1)
        };
        ParseError {
            name: name.to_owned(),
            message,
            line,
            column,
            source_line: line_text,
            width: width.max(1),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.name, self.line, self.column, self.message
        )?;
        if f.alternate() {
            let gutter = self.line.to_string().len();
            // Tabs would misalign the caret; show them as single spaces.
            let shown = self.source_line.replace('\t', " ");
            write!(
                f,
                "\n{:gutter$} |\n{} | {}\n{:gutter$} | {:pad$}{} {}",
                "",
                self.line,
                shown,
                "",
                "",
                "^".repeat(self.width),
                self.message,
                pad = self.column - 1,
            )?;
        }
        Ok(())
    }
}

pub use crate::runtime::Context;

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
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(ParseError::new(
                name,
                source,
                format!(
                    "the template is {} bytes; AppSync allows at most {MAX_TEMPLATE_BYTES} bytes (64 KB)",
                    source.len()
                ),
                0,
                0,
            ));
        }
        let (nodes, macros) = parser::parse_template(source).map_err(|e| {
            ParseError::new(
                name,
                source,
                e.message,
                e.span.start as usize,
                e.span.end as usize,
            )
        })?;
        Ok(Template {
            program: Arc::new(Program {
                name: name.to_owned(),
                source: Arc::from(source),
                nodes,
                macros,
                names: Names::default(),
                observes: Observes::of(source),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.program.name
    }

    /// Renders with the real clock and real randomness ([`Host::system`]).
    pub fn render(&self, ctx: &mut Context) -> RenderOutput {
        self.render_with(ctx, &mut Host::system())
    }

    /// Renders with the clock and randomness of `host`; a seeded host with a
    /// fixed clock ([`Host::seeded`]) makes the output reproducible.
    pub fn render_with(&self, ctx: &mut Context, host: &mut Host) -> RenderOutput {
        let ctx_map = context_value(ctx, self.program.observes);
        let names = &self.program.names;
        let mut vars = Vars::with_capacity_and_hasher(16, Default::default());
        vars.insert(names.ctx.clone(), ctx_map.clone());
        vars.insert(names.context.clone(), ctx_map.clone());
        vars.insert(names.util.clone(), Value::Builtin(Namespace::Util));
        vars.insert(names.utils.clone(), Value::Builtin(Namespace::Util));
        vars.insert(
            names.extensions.clone(),
            Value::Builtin(Namespace::Extensions),
        );
        let mut state = RenderState::new(host);
        state.auth_type = ctx.auth_type();
        let mut renderer = Renderer::new(&self.program, state, vars);
        let result = renderer.run();
        let state = renderer.state;
        // The stash and the arguments outlive this template (pipelines):
        // write changes back. AppSync carries `$ctx.args` changes from one
        // pipeline function to the next, as it does the stash.
        if let Value::Map(m) = &ctx_map {
            let m = m.borrow();
            if let Some(Value::Map(stash)) = m.get("stash")
                && let Some(Json::Object(obj)) = eval::value_to_json(&Value::Map(stash.clone()))
            {
                ctx.stash = obj;
            }
            if let Some(args @ Value::Map(_)) = m.get("arguments")
                && let Some(args) = eval::value_to_json(args)
            {
                ctx.arguments = args;
            }
        }
        RenderOutput {
            result: match result {
                Ok(Outcome::Text(t)) => Ok(Rendered::Text(t)),
                Ok(Outcome::Return(j)) => Ok(Rendered::Return(j)),
                Err(e) => Err(*e),
            },
            appended_errors: state.appended_errors,
            logs: state.logs,
            effects: state.effects,
        }
    }
}

fn map_or_empty(j: &Json) -> Value {
    match j {
        Json::Null => Value::map(Map::new()),
        other => Value::from_json(other),
    }
}

/// `$ctx`: `arguments` and `args` are the same map. Parts the template
/// cannot observe are left null rather than converted.
fn context_value(ctx: &Context, observes: Observes) -> Value {
    let args = map_or_empty(&ctx.arguments);
    let stash = Value::map(
        ctx.stash
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect(),
    );
    let mut m = Map::with_capacity(10);
    m.insert("arguments".into(), args.clone());
    m.insert("args".into(), args);
    m.insert("source".into(), Value::from_json(&ctx.source));
    m.insert("result".into(), Value::from_json(&ctx.result));
    let part = |observed: bool, json: &Json| {
        if observed {
            Value::from_json(json)
        } else {
            Value::Null
        }
    };
    m.insert("identity".into(), part(observes.identity, &ctx.identity));
    m.insert("stash".into(), stash);
    m.insert("prev".into(), Value::from_json(&ctx.prev));
    m.insert("request".into(), part(observes.request, &ctx.request));
    m.insert("info".into(), Value::from_json(&ctx.info));
    m.insert("error".into(), Value::from_json(&ctx.error));
    m.insert("env".into(), Value::from_json(&ctx.env));
    Value::map(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_skipped_only_when_no_reference_reaches_them() {
        let cases = [
            ("\"ping\"", false, false),
            (
                "$util.toJson($ctx.args.id) $context.stash.x ${ctx.result}",
                false,
                false,
            ),
            ("$ctx.identity.sub", true, false),
            ("$ctx.request.headers", false, true),
            ("$util.toJson($ctx)", true, true),
            ("${ctx}", true, true),
            ("#set($c = $context) $c.x", true, true),
            ("#foreach($e in $ctx.entrySet())$e#end", true, true),
            ("$ctx.get(\"ident\")", true, true),
            ("#macro(m $c)$c#end #m($ctx.args)", false, false),
            ("$!ctx.identity", true, false),
        ];
        for (source, identity, request) in cases {
            assert_eq!(
                Observes::of(source),
                Observes { identity, request },
                "{source}"
            );
        }
        // A skipped part reads as null only where nothing can read it.
        let mut ctx = Context {
            identity: Arc::new(serde_json::json!({"sub": "alice"})),
            ..Context::default()
        };
        let whole = Template::parse("t", "$util.toJson($ctx.identity.sub)").unwrap();
        assert_eq!(
            whole.render(&mut ctx).result.expect("rendered"),
            Rendered::Text("\"alice\"".to_owned())
        );
    }

    #[test]
    fn template_is_send_sync() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Template>();
    }
}
