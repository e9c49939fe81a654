//! DynamoDB expressions: lexer, parser with DynamoDB's validation messages,
//! and evaluation against items.
//!
//! The parser resolves `#names` and `:values` while parsing and records which
//! ones were used, so a request can report unused ones across all its
//! expressions. Semantic problems are collected and reported in DynamoDB's
//! order of precedence after a successful parse; syntax errors win over all.
//!
//! - `ast`: the parsed forms (conditions, operands, paths, update actions);
//! - `context`: a request's `ExpressionAttributeNames`/`Values` and their use;
//! - `lexer` and `parser`: text to AST, with DynamoDB's messages;
//! - `key_condition`: a condition checked against a key schema;
//! - `eval`, `projection`, `update`: conditions, projections and updates
//!   applied to items.

mod ast;
mod context;
mod eval;
mod key_condition;
mod lexer;
mod parser;
mod projection;
mod update;

pub use ast::{Comparator, Condition, ExpressionKind, Operand, Path, PathElement, UpdateAction};
pub use context::ExpressionContext;
pub use eval::{evaluate, resolve};
pub use key_condition::{KeyCondition, SortKeyCondition, key_condition};
pub use parser::{parse_condition, parse_projection, parse_update};
pub use projection::project;
pub use update::{apply_update, updated_attributes};
