//! appsync-local: run an AWS AppSync API on your machine.
//!
//! See ARCHITECTURE.md for the map of modules and their invariants.

pub mod cli;
pub mod dynamodb;
pub mod opensearch;
pub mod vtl;
