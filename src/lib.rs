//! appsync-local: run an AWS AppSync API on your machine.
//!
//! See ARCHITECTURE.md for the map of modules and their invariants.

pub mod auth;
pub mod cache;
pub mod cli;
pub(crate) mod datasource;
pub mod dynamodb;
pub mod execution;
pub mod graphql;
pub mod js;
pub mod lambda;
pub mod loader;
pub(crate) mod metrics;
pub mod model;
pub mod opensearch;
pub(crate) mod outbound;
pub mod realtime;
pub mod runtime;
pub mod seed;
pub mod server;
pub mod stores;
pub mod testing;
pub mod vtl;
