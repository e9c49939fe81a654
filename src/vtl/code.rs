//! VTL as a resolver runtime: a resolver's or function's request and
//! response mapping templates behind the [`ResolverCode`] seam.

use serde_json::{Value as Json, json};

use crate::runtime::{CodeError, Context, Evaluation, Outcome, Phase, ResolverCode};
use crate::vtl::json::parse_json_output;
use crate::vtl::template::{Rendered, Template};

/// AppSync's limit on an evaluated template.
pub const MAX_EVALUATED_TEMPLATE_BYTES: usize = 5 * 1024 * 1024;

/// The two mapping templates of a resolver or pipeline function. A pipeline
/// resolver may leave out either (see [`ResolverCode`] for the defaults).
#[derive(Debug, Clone)]
pub struct VtlCode {
    pub request: Option<Template>,
    pub response: Option<Template>,
}

impl VtlCode {
    fn template(&self, phase: Phase) -> Option<&Template> {
        match phase {
            Phase::Request => self.request.as_ref(),
            Phase::Response => self.response.as_ref(),
        }
    }
}

impl ResolverCode for VtlCode {
    fn name(&self, phase: Phase) -> &str {
        self.template(phase).map_or("", Template::name)
    }

    fn evaluate(&self, phase: Phase, ctx: &mut Context) -> Evaluation {
        let Some(template) = self.template(phase) else {
            // The serverless-appsync-plugin's default pipeline templates.
            let value = match phase {
                Phase::Request => json!({}),
                Phase::Response => ctx.prev.get("result").cloned().unwrap_or(Json::Null),
            };
            return Evaluation::of(Outcome::Value(value));
        };
        let out = template.render(ctx);
        let outcome = match out.result {
            Err(e) => Outcome::Failed(e),
            Ok(Rendered::Return(v)) => Outcome::EarlyReturn(v),
            Ok(Rendered::Text(text)) => value_of(template.name(), &text),
        };
        Evaluation {
            outcome,
            appended_errors: out.appended_errors,
            logs: out.logs,
            effects: out.effects,
        }
    }
}

/// A rendered template's text as the JSON value it stands for.
fn value_of(name: &str, text: &str) -> Outcome {
    if text.len() > MAX_EVALUATED_TEMPLATE_BYTES {
        return Outcome::Failed(CodeError::mapping_template("Transformation too large"));
    }
    // An empty template output is a null result.
    if text.trim().is_empty() {
        return Outcome::Value(Json::Null);
    }
    match parse_json_output(name, text) {
        Ok(v) => Outcome::Value(v),
        Err(e) => Outcome::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(request: &str, response: &str) -> VtlCode {
        VtlCode {
            request: Some(Template::parse("req.vtl", request).expect("parses")),
            response: Some(Template::parse("res.vtl", response).expect("parses")),
        }
    }

    #[test]
    fn text_becomes_json_and_empty_text_null() {
        let code = code(r#"{"a": $ctx.args.n}"#, "  ");
        let mut ctx = Context {
            arguments: json!({"n": 2}),
            ..Default::default()
        };
        assert_eq!(
            code.evaluate(Phase::Request, &mut ctx).outcome,
            Outcome::Value(json!({"a": 2}))
        );
        assert_eq!(
            code.evaluate(Phase::Response, &mut ctx).outcome,
            Outcome::Value(Json::Null)
        );
    }

    #[test]
    fn return_is_an_early_return() {
        let code = code("#return({\"x\": 1})", "");
        let mut ctx = Context::default();
        assert_eq!(
            code.evaluate(Phase::Request, &mut ctx).outcome,
            Outcome::EarlyReturn(json!({"x": 1}))
        );
    }

    #[test]
    fn missing_steps_use_the_pipeline_defaults() {
        let code = VtlCode {
            request: None,
            response: None,
        };
        let mut ctx = Context {
            prev: json!({"result": [1, 2]}),
            ..Default::default()
        };
        assert_eq!(
            code.evaluate(Phase::Request, &mut ctx).outcome,
            Outcome::Value(json!({}))
        );
        assert_eq!(
            code.evaluate(Phase::Response, &mut ctx).outcome,
            Outcome::Value(json!([1, 2]))
        );
    }

    #[test]
    fn argument_changes_are_written_back() {
        let code = code(
            r#"$util.qr($ctx.args.input.put("priority", 1)){}"#,
            "$util.toJson($ctx.arguments.input)",
        );
        let mut ctx = Context {
            arguments: json!({"input": {"name": "a"}}),
            ..Default::default()
        };
        code.evaluate(Phase::Request, &mut ctx);
        assert_eq!(
            ctx.arguments,
            json!({"input": {"name": "a", "priority": 1}})
        );
        assert_eq!(
            code.evaluate(Phase::Response, &mut ctx).outcome,
            Outcome::Value(json!({"name": "a", "priority": 1}))
        );
    }

    #[test]
    fn invalid_json_output_is_a_mapping_template_error() {
        let code = code("{not json", "");
        let mut ctx = Context::default();
        match code.evaluate(Phase::Request, &mut ctx).outcome {
            Outcome::Failed(e) => assert_eq!(e.error_type.as_deref(), Some("MappingTemplate")),
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
