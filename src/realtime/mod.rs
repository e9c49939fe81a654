//! Real-time subscriptions (issue 16), built up in parts. For now: the
//! enhanced subscription filters ([`filter`]), which subscription resolvers
//! set through `extensions.setSubscriptionFilter` and which every published
//! payload will be checked against. The WebSocket protocol, `@aws_subscribe`
//! publishing and invalidation come next.
//!
//! Architecture invariant: `filter` is pure (JSON in, a decision out), so
//! publishing can evaluate it on any thread without IO.

pub mod filter;

pub use filter::{FilterError, SubscriptionFilter};
