//! `chatcap erlang`: closed-form staffing for one interval.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::GlobalArgs;
use crate::erlang::{
    self, Evaluation, Load, Model, Targets, evaluate, required_agents, square_root_estimate,
};
use crate::error::{Error, Result};
use crate::profile::duration::{format_duration, parse_duration};
use crate::report::{Cell, Document, Output, Table, ToDocument};

/// Arguments of `chatcap erlang`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ErlangArgs {
    /// Chats offered in one interval.
    #[arg(long, allow_negative_numbers = true)]
    pub volume: f64,
    /// Length of the interval (e.g. 30m).
    #[arg(long, value_parser = parse_duration, default_value = "30m", allow_hyphen_values = true)]
    pub interval: f64,
    /// Average handle time (e.g. 180s).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub aht: f64,
    /// Service-level target: share answered within the threshold (0..1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.8)]
    pub sl_target: f64,
    /// Service-level threshold (e.g. 20s).
    #[arg(long, value_parser = parse_duration, default_value = "20s", allow_hyphen_values = true)]
    pub sl_threshold: f64,
    /// Mean patience before abandoning; switches the model to Erlang A.
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub patience: Option<f64>,
    /// Evaluate this staffing instead of solving for the fewest agents.
    #[arg(long, allow_negative_numbers = true)]
    pub agents: Option<u32>,
    /// Highest acceptable occupancy (0..1].
    #[arg(long, allow_negative_numbers = true)]
    pub max_occupancy: Option<f64>,
    /// Highest acceptable abandon rate (0..1); needs --patience.
    #[arg(long, allow_negative_numbers = true)]
    pub max_abandon: Option<f64>,
    /// Highest acceptable average speed of answer (e.g. 30s).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub max_asa: Option<f64>,
    /// Share of paid time agents are not available (0 to 0.95), for the rostered headcount.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub shrinkage: f64,
}

/// What `chatcap erlang` reports: the figures of one staffing plus how it was obtained.
#[derive(Debug, Clone, Serialize)]
struct ErlangReport {
    /// The figures of the staffing (DESIGN.md section 6 keys).
    #[serde(flatten)]
    evaluation: Evaluation,
    /// `solve` when chatcap chose the agents, `evaluate` when `--agents` gave them.
    mode: &'static str,
    /// Whether the staffing meets every target given.
    targets_met: bool,
    /// One line per target missed (empty when every target is met).
    shortfalls: Vec<String>,
    /// The square-root staffing estimate (Halfin–Whitt), ignoring patience, abandon and ASA.
    square_root_estimate: u32,
    /// The inputs, in seconds and shares.
    inputs: Inputs,
}

/// The command's inputs echoed back, durations in seconds.
#[derive(Debug, Clone, Serialize)]
struct Inputs {
    /// Chats offered in the interval.
    volume: f64,
    /// Interval length in seconds.
    interval_secs: f64,
    /// Average handle time in seconds.
    aht_secs: f64,
    /// Mean patience in seconds; absent for Erlang C.
    patience_secs: Option<f64>,
    /// Service-level target share.
    sl_target: f64,
    /// Service-level threshold in seconds.
    sl_threshold_secs: f64,
    /// Highest acceptable abandon rate.
    max_abandon: Option<f64>,
    /// Highest acceptable occupancy.
    max_occupancy: Option<f64>,
    /// Highest acceptable average speed of answer in seconds.
    max_asa_secs: Option<f64>,
    /// Share of paid time agents are unavailable.
    shrinkage: f64,
}

pub(crate) fn run(global: &GlobalArgs, args: &ErlangArgs, stdout: &mut dyn Write) -> Result<()> {
    let load = Load::from_volume(args.volume, args.interval, args.aht, args.patience)?;
    let targets = Targets {
        service_level: args.sl_target,
        threshold_secs: args.sl_threshold,
        max_abandon: args.max_abandon,
        max_occupancy: args.max_occupancy,
        max_asa_secs: args.max_asa,
        short_abandon_secs: 0.0,
    };
    targets.validate(&load)?;
    erlang::check_shrinkage(args.shrinkage)?;
    let (mode, agents) = match args.agents {
        Some(0) => {
            return Err(Error::invalid(
                "--agents",
                "0 agents cannot answer any chat; give at least 1, or omit --agents to solve for \
                 the fewest agents",
            ));
        }
        Some(agents) if agents > erlang::AGENT_CAP => {
            return Err(Error::invalid(
                "--agents",
                format!(
                    "{agents} is more than the largest staffing chatcap solves for; give at most {}",
                    erlang::AGENT_CAP
                ),
            ));
        }
        Some(agents) => ("evaluate", agents),
        None => ("solve", required_agents(&load, &targets)?),
    };
    let evaluation =
        evaluate(&load, agents, targets.threshold_secs)?.with_shrinkage(args.shrinkage)?;
    let shortfalls = targets.shortfalls(&evaluation);
    let report = ErlangReport {
        targets_met: shortfalls.is_empty(),
        shortfalls,
        mode,
        square_root_estimate: square_root_estimate(&load, &targets),
        inputs: Inputs {
            volume: args.volume,
            interval_secs: args.interval,
            aht_secs: args.aht,
            patience_secs: args.patience,
            sl_target: args.sl_target,
            sl_threshold_secs: args.sl_threshold,
            max_abandon: args.max_abandon,
            max_occupancy: args.max_occupancy,
            max_asa_secs: args.max_asa,
            shrinkage: args.shrinkage,
        },
        evaluation,
    };
    let output = Output::new(&report).map_err(|source| Error::Write {
        path: global.out.clone().unwrap_or_else(|| PathBuf::from("-")),
        cause: io::Error::other(source),
    })?;
    super::emit(global, &output, stdout)
}

impl ToDocument for ErlangReport {
    fn document(&self) -> Document {
        let ev = &self.evaluation;
        let inputs = &self.inputs;
        let threshold = format_duration(inputs.sl_threshold_secs);
        let title = match ev.model {
            Model::ErlangC => "Erlang C staffing (nobody abandons)".to_string(),
            Model::ErlangA => format!(
                "Erlang A staffing (mean patience {})",
                format_duration(inputs.patience_secs.unwrap_or(0.0))
            ),
        };
        let mut notes = Vec::new();
        match (self.mode, self.targets_met) {
            ("solve", _) => notes.push(format!(
                "{} agents on duty are the fewest meeting every target ({:.1}% within {threshold}{}).",
                ev.agents,
                inputs.sl_target * 100.0,
                limits_text(inputs)
            )),
            (_, true) => notes.push(format!(
                "{} agents on duty meet every target ({:.1}% within {threshold}{}).",
                ev.agents,
                inputs.sl_target * 100.0,
                limits_text(inputs)
            )),
            (_, false) => {
                notes.push(format!("{} agents on duty miss a target:", ev.agents));
                notes.extend(self.shortfalls.iter().map(|s| format!("  - {s}")));
            }
        }
        let mut rows = vec![
            ("model", Cell::text(ev.model.name())),
            ("offered load (Erlangs)", Cell::num(ev.traffic_erlangs, 3)),
            ("agents on duty", Cell::Int(i64::from(ev.agents))),
            (
                "rostered agents",
                Cell::text(format!(
                    "{} (shrinkage {:.1}%)",
                    ev.rostered_agents,
                    inputs.shrinkage * 100.0
                )),
            ),
            ("service level (of offered)", Cell::Pct(ev.service_level)),
            (
                "service level (of answered)",
                Cell::Pct(ev.service_level_answered),
            ),
            ("probability of waiting", Cell::Pct(ev.prob_wait)),
            ("abandon rate", Cell::Pct(ev.prob_abandon)),
            ("ASA of answered (s)", Cell::num(ev.asa_secs, 1)),
            ("mean wait of all (s)", Cell::num(ev.mean_wait_secs, 1)),
            ("occupancy", Cell::Pct(ev.occupancy)),
            (
                "square-root estimate",
                Cell::Int(i64::from(self.square_root_estimate)),
            ),
        ];
        if ev.model == Model::ErlangC {
            rows.retain(|(key, _)| *key != "abandon rate");
        }
        let table = Table::key_value(
            format!(
                "{} chats in {}, AHT {}, service level within {threshold}",
                inputs.volume,
                format_duration(inputs.interval_secs),
                format_duration(inputs.aht_secs)
            ),
            rows,
        );
        Document {
            title,
            notes,
            tables: vec![table],
            ..Document::default()
        }
    }
}

/// ", abandon ≤ 5.0%, occupancy ≤ 85.0%, ASA ≤ 30s" for the limits given.
fn limits_text(inputs: &Inputs) -> String {
    let mut text = String::new();
    if let Some(m) = inputs.max_abandon {
        text.push_str(&format!(", abandon ≤ {:.1}%", m * 100.0));
    }
    if let Some(m) = inputs.max_occupancy {
        text.push_str(&format!(", occupancy ≤ {:.1}%", m * 100.0));
    }
    if let Some(m) = inputs.max_asa_secs {
        text.push_str(&format!(", ASA ≤ {}", format_duration(m)));
    }
    text
}
