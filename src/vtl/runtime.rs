//! What a render produces besides text, and the per-render state that
//! `$util` helpers read and write (clock, appended errors, logs, effects).

use serde::Serialize;
use serde_json::Value as Json;

/// An error raised by a template: `$util.error`, `$util.appendError`,
/// `$util.unauthorized`, or an evaluation failure (`errorType: "MappingTemplate"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateError {
    pub message: String,
    pub error_type: Option<String>,
    /// Filtered by the field's selection set when it reaches the client.
    pub data: Option<Json>,
    /// Passed through unfiltered.
    pub error_info: Option<Json>,
}

impl TemplateError {
    pub fn new(message: impl Into<String>, error_type: Option<&str>) -> Self {
        TemplateError {
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

    /// What `$util.unauthorized()` raises.
    pub fn unauthorized() -> Self {
        Self::new("Unauthorized", Some("Unauthorized"))
    }
}

/// Side effects a template asks the runtime to carry out after rendering.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Effect {
    /// `$extensions.evictFromApiCache(typeName, fieldName, keys)`.
    #[serde(rename_all = "camelCase")]
    EvictFromApiCache {
        type_name: String,
        field_name: String,
        /// Caching-key name (e.g. `"ctx.args.id"`) to value, in the order given.
        keys: indexmap::IndexMap<String, Json>,
    },
    /// `$extensions.setSubscriptionFilter(filter)`.
    SetSubscriptionFilter { filter: Json },
    /// `$extensions.setSubscriptionInvalidationFilter(filter)`.
    SetSubscriptionInvalidationFilter { filter: Json },
    /// `$extensions.invalidateSubscriptions({subscriptionField, payload})`.
    InvalidateSubscriptions { invalidation: Json },
}

/// Per-render state handed to `$util` helpers. Built fresh for each render.
#[derive(Debug)]
pub struct Host {
    /// The render's clock, milliseconds since the Unix epoch. Fixed per render
    /// so tests can pin it; the server passes the real time.
    pub now_epoch_millis: i64,
    /// `$util.appendError` entries, in order.
    pub appended_errors: Vec<TemplateError>,
    /// `$util.log.*` lines, already formatted.
    pub logs: Vec<String>,
    pub effects: Vec<Effect>,
}

impl Host {
    pub fn new(now_epoch_millis: i64) -> Self {
        Host {
            now_epoch_millis,
            appended_errors: Vec::new(),
            logs: Vec::new(),
            effects: Vec::new(),
        }
    }
}
