//! chatcap: a workforce load-testing and capacity planner for live-chat support.
//!
//! The crate is layered (see DESIGN.md); dependencies point down only:
//!
//! ```text
//! cli        parse args, pick output format, write results
//!  ├─ report   one file per format: table, csv, json, markdown, html
//!  ├─ loadtest goose customers and agents against the chat API, forecast comparison
//!  ├─ server   axum HTTP API over the routing core (wall clock, tokio)
//!  ├─ sim      event queue, driver, replications, metric collection
//!  ├─ metrics  KPI definitions shared by simulator, server and load test
//!  ├─ erlang   Erlang B, C, A closed forms and staffing solvers
//!  ├─ model    arrivals, duration distributions, patience, concurrency slowdown
//!  ├─ profile  scenario schema, validation, forecast CSV import
//!  └─ routing  the pure routing core: queues, agents, chats, policies, timers
//! ```

pub mod api;
pub mod cli;
pub mod erlang;
pub mod error;
pub mod loadtest;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod profile;
pub mod report;
pub mod routing;
pub mod scenario;
pub mod server;
pub mod sim;

pub use cli::{Cli, run};
pub use error::{Error, Result};
