//! The VTL (Apache Velocity 1.7) engine with AppSync's `$util`, `$ctx` and
//! `$extensions`.
//!
//! Architecture invariant: this module is pure. It does no IO, has no async,
//! and knows nothing of servers, GraphQL executors or stores: text and values
//! in, text (or a raised error) out.

mod ast;
mod eval;
mod json;
mod methods;
mod parser;
pub mod runtime;
pub mod template;
pub mod util;
pub mod value;

pub use runtime::{Effect, Host, TemplateError};
pub use template::{Context, ParseError, RenderOutput, Rendered, Template, parse_json_output};
pub use value::Value;
