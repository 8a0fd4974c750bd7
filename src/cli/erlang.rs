//! `chatcap erlang`: closed-form staffing for one interval.

use std::io::Write;

use clap::Args;

use super::GlobalArgs;
use crate::error::Result;
use crate::profile::duration::parse_duration;

/// Arguments of `chatcap erlang`.
#[derive(Debug, Clone, Args)]
pub struct ErlangArgs {
    /// Chats offered in one interval.
    #[arg(long)]
    pub volume: f64,
    /// Length of the interval (e.g. 30m).
    #[arg(long, value_parser = parse_duration, default_value = "30m")]
    pub interval: f64,
    /// Average handle time (e.g. 180s).
    #[arg(long, value_parser = parse_duration)]
    pub aht: f64,
    /// Service-level target: share answered within the threshold (0..1).
    #[arg(long, default_value_t = 0.8)]
    pub sl_target: f64,
    /// Service-level threshold (e.g. 20s).
    #[arg(long, value_parser = parse_duration, default_value = "20s")]
    pub sl_threshold: f64,
    /// Mean patience before abandoning; switches the model to Erlang A.
    #[arg(long, value_parser = parse_duration)]
    pub patience: Option<f64>,
    /// Evaluate this staffing instead of solving for the fewest agents.
    #[arg(long)]
    pub agents: Option<u32>,
    /// Highest acceptable occupancy (0..1].
    #[arg(long)]
    pub max_occupancy: Option<f64>,
    /// Highest acceptable abandon rate (0..1); needs --patience.
    #[arg(long)]
    pub max_abandon: Option<f64>,
    /// Highest acceptable average speed of answer (e.g. 30s).
    #[arg(long, value_parser = parse_duration)]
    pub max_asa: Option<f64>,
    /// Share of paid time agents are not available (0..1), for the rostered headcount.
    #[arg(long, default_value_t = 0.0)]
    pub shrinkage: f64,
}

pub(crate) fn run(_global: &GlobalArgs, _args: &ErlangArgs, _stdout: &mut dyn Write) -> Result<()> {
    Ok(())
}
