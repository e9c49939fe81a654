//! Real-time subscriptions: AppSync's WebSocket protocol ([`protocol`]),
//! the enhanced subscription filters ([`filter`]) that subscription
//! resolvers set through `extensions.setSubscriptionFilter`, what each
//! subscriber receives of a published result ([`projection`]), and the
//! registry that fans publications out to connections ([`hub`]).
//!
//! The executor resolves a `start` into a [`hub::SubscriptionPlan`] and a
//! mutation's results into [`hub::Publication`]s
//! (`execution/subscribe.rs`); the server owns the hub and the sockets
//! (`server/realtime.rs`).
//!
//! Architecture invariant: `filter`, `projection` and `protocol` are pure
//! (values in, values out), and the hub does no IO: it only queues text on
//! each connection's bounded channel, so publishing never waits for a
//! socket.

pub mod filter;
pub mod hub;
pub mod projection;
pub mod protocol;

pub use filter::{FilterError, SubscriptionFilter};
pub use hub::{Hub, Publication, RealtimeLimits, SubscriptionPlan};
pub use protocol::{ClientMessage, ServerMessage};
