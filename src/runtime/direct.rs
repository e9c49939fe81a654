//! Direct Lambda resolvers: a Lambda data source with no code and no
//! templates. AppSync then sends the context itself as the event and
//! returns the function's result, as if these templates ran:
//!
//! ```text
//! request:  {"operation": "Invoke" | "BatchInvoke", "payload": <context>}
//! response: #if($ctx.error) $util.error($ctx.error.message, $ctx.error.type, $ctx.result) #end
//!           $util.toJson($ctx.result)
//! ```
//!
//! Batched, each item's element may also be the per-item form
//! `{data, errorMessage, errorType}`, which fails that item alone.

use serde_json::{Map, Value as Json, json};

use super::{CodeError, Context, Evaluation, Outcome, Phase, ResolverCode};

#[derive(Debug)]
pub struct DirectLambda {
    /// `maxBatchSize` > 0: items are sent as a list, with `BatchInvoke`.
    pub batched: bool,
}

/// AppSync's fixed text for a function that throws `UnauthorizedException`.
const UNAUTHORIZED: &str = "You are not authorized to make this call.";

/// Whether a batch element is the per-item form rather than a plain value.
/// AppSync's rule for an object that merely has a `data` key is not
/// documented; we read an object as the form when it has `data` or
/// `errorMessage` and no keys beyond the form's three, so a plain object
/// result (which has other keys) stays a value.
fn per_item_form(value: &Json) -> Option<&Map<String, Json>> {
    let Json::Object(fields) = value else {
        return None;
    };
    let only_form_keys = fields
        .keys()
        .all(|k| matches!(k.as_str(), "data" | "errorMessage" | "errorType"));
    let has_form_key = fields.contains_key("data") || fields.contains_key("errorMessage");
    (only_form_keys && has_form_key).then_some(fields)
}

fn error(message: &str, error_type: Option<&str>, data: &Json) -> Outcome {
    let message = if error_type == Some("UnauthorizedException") {
        UNAUTHORIZED
    } else {
        message
    };
    let mut err = CodeError::new(message, error_type);
    err.data = Some(data.clone()).filter(|d| !d.is_null());
    Outcome::Failed(err)
}

impl ResolverCode for DirectLambda {
    fn name(&self, _phase: Phase) -> &str {
        "direct Lambda resolver"
    }

    fn evaluate(&self, phase: Phase, ctx: &mut Context) -> Evaluation {
        Evaluation::of(match phase {
            Phase::Request => {
                let payload = json!({
                    "arguments": ctx.arguments,
                    "identity": *ctx.identity,
                    "source": ctx.source,
                    "request": ctx.request,
                    "prev": ctx.prev,
                    "info": ctx.info,
                    "stash": ctx.stash,
                });
                Outcome::Value(json!({
                    "version": "2018-05-29",
                    "operation": if self.batched { "BatchInvoke" } else { "Invoke" },
                    "payload": payload,
                }))
            }
            Phase::Response => {
                if !ctx.error.is_null() {
                    let message = ctx.error["message"].as_str().unwrap_or_default();
                    error(message, ctx.error["type"].as_str(), &ctx.result)
                } else if let Some(item) =
                    self.batched.then(|| per_item_form(&ctx.result)).flatten()
                {
                    let data = item.get("data").cloned().unwrap_or_default();
                    match item.get("errorMessage") {
                        Some(Json::Null) | None => Outcome::Value(data),
                        Some(message) => {
                            let message = match message {
                                Json::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            error(
                                &message,
                                item.get("errorType").and_then(Json::as_str),
                                &data,
                            )
                        }
                    }
                } else {
                    Outcome::Value(ctx.result.clone())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond(batched: bool, result: Json, error: Json) -> Outcome {
        let mut ctx = Context {
            result,
            error,
            ..Context::default()
        };
        DirectLambda { batched }
            .evaluate(Phase::Response, &mut ctx)
            .outcome
    }

    #[test]
    fn the_request_is_the_context() {
        let mut ctx = Context {
            arguments: json!({"id": "1"}),
            ..Context::default()
        };
        let Outcome::Value(request) = (DirectLambda { batched: true })
            .evaluate(Phase::Request, &mut ctx)
            .outcome
        else {
            panic!("the request step gives a value");
        };
        assert_eq!(request["operation"], "BatchInvoke");
        assert_eq!(request["payload"]["arguments"], json!({"id": "1"}));
        let keys: Vec<&String> = request["payload"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "arguments",
                "identity",
                "source",
                "request",
                "prev",
                "info",
                "stash"
            ]
        );
    }

    #[test]
    fn batch_elements_are_values_or_per_item_errors() {
        assert_eq!(
            respond(true, json!("plain"), Json::Null),
            Outcome::Value(json!("plain"))
        );
        assert_eq!(
            respond(
                true,
                json!({"data": {"a": 1}, "errorMessage": null}),
                Json::Null
            ),
            Outcome::Value(json!({"a": 1}))
        );
        let Outcome::Failed(err) = respond(
            true,
            json!({"data": null, "errorMessage": "gone", "errorType": "NotFound"}),
            Json::Null,
        ) else {
            panic!("an errorMessage fails the item");
        };
        assert_eq!(
            (err.message.as_str(), err.error_type.as_deref()),
            ("gone", Some("NotFound"))
        );
        // An object with other keys is a value, batched or not.
        let value = json!({"data": 1, "other": 2});
        assert_eq!(
            respond(true, value.clone(), Json::Null),
            Outcome::Value(value)
        );
        // Unbatched, the form is not read.
        let form = json!({"data": null, "errorMessage": "x"});
        assert_eq!(
            respond(false, form.clone(), Json::Null),
            Outcome::Value(form)
        );
    }

    #[test]
    fn function_errors_keep_their_type_and_unauthorized_its_fixed_text() {
        let Outcome::Failed(err) = respond(
            false,
            Json::Null,
            json!({"message": "card declined", "type": "PaymentDeclined"}),
        ) else {
            panic!("an error fails the field");
        };
        assert_eq!(err.error_type.as_deref(), Some("PaymentDeclined"));
        assert_eq!(err.message, "card declined");
        let Outcome::Failed(err) = respond(
            false,
            Json::Null,
            json!({"message": "nope", "type": "UnauthorizedException"}),
        ) else {
            panic!("an error fails the field");
        };
        assert_eq!(err.message, UNAUTHORIZED);
    }
}
