//! Real-time subscriptions (issue 16), built up in parts. So far, the pure
//! parts: the enhanced subscription filters ([`filter`]), which
//! subscription resolvers set through `extensions.setSubscriptionFilter`
//! and which every published payload is checked against; and the WebSocket
//! protocol's messages, connection authorization and argument filtering
//! ([`protocol`]). The schema model records `@aws_subscribe`
//! (`FieldDef::subscribe_mutations`, checked at load). The WebSocket
//! endpoint, publishing and invalidation come next.
//!
//! Architecture invariant: `filter` and `protocol` are pure (values in,
//! values out), so publishing can evaluate them on any thread without IO.

pub mod filter;
pub mod protocol;

pub use filter::{FilterError, SubscriptionFilter};
pub use protocol::{ClientMessage, ServerMessage};
