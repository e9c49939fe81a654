//! What a render produces besides text, and the per-render state that
//! `$util` helpers read and write (clock, appended errors, logs, effects).

// The error and effect types are the runtime seam's, shared with every
// resolver runtime; VTL keeps its historical name for the error.
pub use crate::runtime::{CodeError as TemplateError, Effect};

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
