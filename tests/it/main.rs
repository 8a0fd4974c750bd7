//! Integration tests, one binary with a module per area. Commands run in-process through
//! `chatcap::run(Cli::parse_from([...]), &mut out)`.

mod cli;
mod dated;
mod erlang;
mod fit;
mod fit_coverage;
mod fit_ingest;
mod fit_roundtrip;
mod fit_stats;
mod fit_volume;
mod loadtest;
mod output;
mod plan;
mod plan_bounds;
mod profile;
mod report;
mod routing;
mod schema;
mod server;
mod server_edge;
mod shifts;
mod sim;
mod simlog;
mod xlsx;
