//! Integration tests, one binary with a module per area. Commands run in-process through
//! `chatcap::run(Cli::parse_from([...]), &mut out)`.

mod cli;
mod dated;
mod deploy;
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
mod plan_speed;
mod profile;
mod report;
mod roster;
mod routing;
mod schema;
mod server;
mod server_edge;
mod shifts;
mod sim;
mod sim_offers;
mod simlog;
mod standins;
mod xlsx;

/// Runs a command line in-process and returns its standard output.
pub fn run_cli(args: &[&str]) -> Result<String, chatcap::Error> {
    use clap::Parser;
    let mut out = Vec::new();
    chatcap::run(
        chatcap::Cli::try_parse_from(args).expect("arguments parse"),
        &mut out,
    )?;
    Ok(String::from_utf8(out).expect("utf-8 output"))
}
