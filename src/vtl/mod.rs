//! The VTL (Apache Velocity 1.7) engine with AppSync's `$util`, `$ctx` and
//! `$extensions`.
//!
//! Architecture invariant: this module is pure. It does no IO, has no async,
//! and knows nothing of servers, GraphQL executors or stores: text and values
//! in, text (or a raised error) out.
//!
//! Parse once at load, render per request:
//!
//! ```
//! use appsync_local::vtl::{Context, Host, Rendered, Template, parse_json_output};
//!
//! let template = Template::parse(
//!     "Query.getPost.req.vtl",
//!     r#"{"operation": "GetItem", "key": {"id": {"S": "$ctx.args.id"}}}"#,
//! )
//! .expect("the template parses");
//! let mut ctx = Context {
//!     arguments: serde_json::json!({"id": "post-1"}),
//!     ..Context::default()
//! };
//! // A fixed clock and a seeded generator; `render` uses the real ones.
//! let out = template.render_with(&mut ctx, &mut Host::seeded(0, 42));
//! let Ok(Rendered::Text(text)) = out.result else { panic!("rendered text") };
//! let request = parse_json_output(template.name(), &text).expect("valid JSON");
//! assert_eq!(request["key"]["id"]["S"], "post-1");
//! ```
//!
//! Renders are reproducible: the clock and randomness come from the
//! [`Host`] a render is given.
//!
//! Layout: `parser` builds the `ast` (checked at load, with
//! `file:line:column` errors); `eval` walks it with Velocity 1.7 semantics;
//! `methods` holds the Java methods of strings, lists, maps and numbers;
//! `json` reads a rendered template the way AppSync does; `util` is the
//! `$util`/`$extensions` library.

mod ast;
mod code;
mod eval;
mod json;
pub(crate) mod methods;
mod parser;
pub mod runtime;
pub mod template;
pub mod util;
pub mod value;

pub use code::{MAX_EVALUATED_TEMPLATE_BYTES, VtlCode};
pub use runtime::{Effect, Host, TemplateError};
pub use template::{Context, ParseError, RenderOutput, Rendered, Template, parse_json_output};
pub use value::Value;
