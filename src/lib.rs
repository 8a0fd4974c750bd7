//! chatcap: a workforce load-testing and capacity planner for live-chat support.
//!
//! One routing core (`routing`) runs under three drivers: the simulator (`sim`, virtual time),
//! the server (`server`, wall clock) and the load test (`loadtest`, a client of the HTTP API).
//! They share their truth: the profile compiled once (`scenario`), one KPI ledger and one
//! targets judgment (`metrics`), one set of wire types (`api`). docs/architecture.md draws the
//! folders and the arrows between them.

#![warn(unreachable_pub, missing_docs)]

pub mod api;
pub mod chatlog;
pub mod cli;
pub mod erlang;
pub mod error;
pub mod fit;
pub mod loadtest;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod profile;
pub mod report;
pub mod roster;
pub mod routing;
pub mod scenario;
pub mod server;
pub mod sim;

pub use cli::{Cli, run};
pub use error::{Error, Result};
