//! What a render produces besides text, and the per-render state that
//! `$util` helpers read and write (clock, appended errors, logs, effects).

// The error and effect types are the runtime seam's, shared with every
// resolver runtime; VTL keeps its historical name for the error.
pub use crate::runtime::{CodeError as TemplateError, Effect, Host};

use crate::graphql::AuthType;

/// Per-render state handed to `$util` helpers: the host, the render's
/// instant, and what the render collects besides its text.
#[derive(Debug)]
pub(crate) struct RenderState<'h> {
    pub host: &'h mut Host,
    /// Read from the host once per render, so every `$util.time` call of a
    /// render sees the same instant.
    pub now_epoch_millis: i64,
    /// `$util.appendError` entries, in order.
    pub appended_errors: Vec<TemplateError>,
    /// `$util.log.*` lines, already formatted.
    pub logs: Vec<String>,
    pub effects: Vec<Effect>,
    /// The request's mode, for `$util.authType()`.
    pub auth_type: AuthType,
}

impl<'h> RenderState<'h> {
    pub fn new(host: &'h mut Host) -> Self {
        RenderState {
            now_epoch_millis: host.now_epoch_millis(),
            host,
            appended_errors: Vec::new(),
            logs: Vec::new(),
            effects: Vec::new(),
            auth_type: AuthType::ApiKey,
        }
    }
}
