//! The seam between the executor and resolver code.
//!
//! A resolver or pipeline function runs in two steps, request and response.
//! The executor (`execution::resolver`) calls the data sources and walks the
//! pipeline; what each step *computes* comes from a [`ResolverCode`], built
//! at load by a runtime: VTL today (`vtl::VtlCode`), APPSYNC_JS next. The
//! executor never sees template text, and a runtime never sees a data
//! source, a cache or the GraphQL tree.
//!
//! Architecture invariant: this module is plain data and one trait; it
//! imports nothing from `execution`, `server`, `stores` or `datasource`, and
//! runtimes are pure: a [`Context`] in, an [`Evaluation`] out.

pub mod direct;
mod host;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub use host::Host;
#[cfg(test)]
pub(crate) use host::ksuid;

/// The AppSync context object (`$ctx` in VTL, `ctx` in JavaScript), built
/// once per resolver run by the executor and shared by every step of it.
/// Deserializes from the `evaluate-mapping-template` / `evaluate-code`
/// context shape.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Context {
    /// `arguments` (alias `args`). Changes a step makes carry to the next
    /// steps of the same run, as in AppSync (Amplify's `@default` relies on
    /// an early pipeline function writing `$ctx.args.input`).
    pub arguments: Json,
    pub source: Json,
    pub result: Json,
    /// Shared with the request: resolvers read it, never write it.
    pub identity: std::sync::Arc<Json>,
    /// Shared by every step of one resolver run (pipeline included); a step
    /// writes its changes back.
    pub stash: serde_json::Map<String, Json>,
    /// `{ "result": ... }` in pipeline functions and the after step.
    pub prev: Json,
    /// `{ "headers": {...}, "domainName": ... }`.
    pub request: Json,
    /// `{ fieldName, parentTypeName, variables, selectionSetList, selectionSetGraphQL }`.
    pub info: Json,
    /// `{ "message": ..., "type": ... }` in response steps after a data-source error.
    pub error: Json,
    /// The API's environment variables (`ctx.env`), string values by name.
    pub env: std::sync::Arc<Json>,
    /// The mode that authorized the request (`util.authType()`); contexts
    /// read from files have none and infer it from `identity`.
    #[serde(skip)]
    pub auth_type: Option<crate::graphql::AuthType>,
}

/// The parts of the context object, in the order AppSync lists them
/// (`args` is VTL's alias of `arguments`).
pub const CONTEXT_PARTS: [&str; 10] = [
    "arguments",
    "source",
    "result",
    "identity",
    "stash",
    "prev",
    "request",
    "info",
    "error",
    "env",
];

impl Context {
    /// What `util.authType()` reports.
    pub fn auth_type(&self) -> crate::graphql::AuthType {
        self.auth_type
            .unwrap_or_else(|| crate::graphql::AuthType::from_identity(&self.identity))
    }
}

/// An error raised by resolver code: `util.error`, `util.appendError`,
/// `util.unauthorized`, or an evaluation failure (`errorType:
/// "MappingTemplate"` in VTL).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeError {
    pub message: String,
    pub error_type: Option<String>,
    /// Filtered by the field's selection set when it reaches the client.
    pub data: Option<Json>,
    /// Passed through unfiltered.
    pub error_info: Option<Json>,
}

impl CodeError {
    pub fn new(message: impl Into<String>, error_type: Option<&str>) -> Self {
        CodeError {
            message: message.into(),
            error_type: error_type.map(str::to_owned),
            data: None,
            error_info: None,
        }
    }

    /// AppSync's shape for template evaluation failures.
    pub fn mapping_template(message: impl Into<String>) -> Self {
        Self::new(message, Some("MappingTemplate"))
    }

    /// What `util.unauthorized()` raises.
    pub fn unauthorized() -> Self {
        Self::new("Unauthorized", Some("Unauthorized"))
    }

    /// Whether this is `util.unauthorized()`, which AppSync reports with a
    /// message naming the field.
    pub fn is_unauthorized(&self) -> bool {
        self.error_type.as_deref() == Some("Unauthorized") && self.message == "Unauthorized"
    }
}

/// Side effects code asks the executor to carry out after a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Effect {
    /// `extensions.evictFromApiCache(typeName, fieldName, keys)`.
    #[serde(rename_all = "camelCase")]
    EvictFromApiCache {
        type_name: String,
        field_name: String,
        /// Caching-key name (e.g. `"ctx.args.id"`) to value, in the order given.
        keys: indexmap::IndexMap<String, Json>,
    },
    /// `extensions.setSubscriptionFilter(filter)`.
    SetSubscriptionFilter { filter: Json },
    /// `extensions.setSubscriptionInvalidationFilter(filter)`.
    SetSubscriptionInvalidationFilter { filter: Json },
    /// `extensions.invalidateSubscriptions({subscriptionField, payload})`.
    InvalidateSubscriptions { invalidation: Json },
}

/// Which step of a resolver or function runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Builds the data-source request (a pipeline resolver's before step).
    Request,
    /// Shapes the result (a pipeline resolver's after step).
    Response,
}

/// What a step computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The step's value: the data-source request, or the field's result.
    Value(Json),
    /// An early return (`#return` in VTL, `runtime.earlyReturn` in JS): a
    /// request step's value skips the data source and the response step.
    EarlyReturn(Json),
    /// `runtime.earlyReturn(value, {skipTo: 'END'})` in JS, or an early
    /// return from a JS pipeline's before step: the remaining functions are
    /// skipped and the after step runs with `value` as `ctx.prev.result`.
    /// Outside a pipeline it is an [`Outcome::EarlyReturn`].
    SkipToEnd(Json),
    /// The error that stopped the step.
    Failed(CodeError),
}

/// The result of one step, with what the code recorded on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub outcome: Outcome,
    /// `util.appendError` entries, in order.
    pub appended_errors: Vec<CodeError>,
    /// Log lines (`$util.log.*`, `console.log`), already formatted.
    pub logs: Vec<String>,
    pub effects: Vec<Effect>,
}

impl Evaluation {
    /// A step that computed `outcome` and recorded nothing else.
    pub fn of(outcome: Outcome) -> Self {
        Evaluation {
            outcome,
            appended_errors: Vec::new(),
            logs: Vec::new(),
            effects: Vec::new(),
        }
    }
}

/// The code of one resolver or pipeline function, compiled at load by its
/// runtime. A step that is absent (a pipeline resolver without a before or
/// after template) behaves as AppSync's defaults: the request step gives
/// `{}` and the response step gives `ctx.prev.result`.
pub trait ResolverCode: Send + Sync + fmt::Debug {
    /// The file a step's code came from, for logs.
    fn name(&self, phase: Phase) -> &str;

    /// Runs one step against the run's context; the step's changes to the
    /// stash and arguments are written back to `ctx`.
    fn evaluate(&self, phase: Phase, ctx: &mut Context) -> Evaluation;

    /// Whether the data-source requests this code builds carry their own
    /// `version`. VTL requests must (AppSync rejects one without); APPSYNC_JS
    /// requests never do, and the executor reads them as 2018-05-29.
    fn requests_carry_version(&self) -> bool {
        true
    }
}
