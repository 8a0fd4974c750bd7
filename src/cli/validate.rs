//! `chatcap validate PROFILE`: load a profile and report what is wrong with it, or summarize
//! what it describes so the author can check it reads the file as intended.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::GlobalArgs;
use crate::error::{Error, Result};
use crate::profile::duration::format_duration;
use crate::profile::{self, Profile, table_label};
use crate::report::{Cell, Document, Output, Table, ToDocument};

/// Arguments of `chatcap validate`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ValidateArgs {
    /// The profile (TOML) to check.
    pub profile: PathBuf,
}

/// What `chatcap validate` reports about a valid profile (the JSON contract).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ValidateSummary {
    /// Always true: an invalid profile is an error instead.
    pub valid: bool,
    /// Profile name.
    pub name: String,
    /// The file checked.
    pub source: String,
    /// Number of intervals.
    pub intervals: usize,
    /// Clock time of the first interval; RFC 3339 with the offset on a dated horizon.
    pub start: String,
    /// Clock time at which the last interval ends (with the day when later); RFC 3339 on a
    /// dated horizon.
    pub end: String,
    /// Interval length, seconds.
    pub interval_secs: f64,
    /// Queue names, in file order.
    pub queues: Vec<String>,
    /// Agent group names, in file order.
    pub agent_groups: Vec<String>,
    /// Expected chats over the horizon, all queues.
    pub total_volume: f64,
    /// True when every agent group lists its staffing.
    pub staffing_given: bool,
}

impl ValidateSummary {
    /// Summarizes a validated profile.
    pub(super) fn of(profile: &Profile) -> Self {
        ValidateSummary {
            valid: true,
            name: profile.name.clone(),
            source: profile.source.clone(),
            intervals: profile.intervals,
            start: profile.interval_start_text(0),
            end: end_label(profile),
            interval_secs: profile.interval_secs,
            queues: profile.queues.iter().map(|q| q.name.clone()).collect(),
            agent_groups: profile.agents.iter().map(|a| a.name.clone()).collect(),
            total_volume: profile.total_volume(),
            staffing_given: profile.has_staffing(),
        }
    }
}

/// Clock time at which the horizon ends, marked when it falls on a later day.
fn end_label(profile: &Profile) -> String {
    if profile.calendar.dated {
        return profile.interval_start_text(profile.intervals);
    }
    let label = profile.interval_label(profile.intervals);
    let days = ((profile.start_secs + profile.horizon_secs()) / 86_400.0).floor() as u64;
    match days {
        0 => label,
        1 => format!("{label} next day"),
        n => format!("{label} day {}", n + 1),
    }
}

impl ToDocument for ValidateSummary {
    fn document(&self) -> Document {
        let pairs = vec![
            ("name", Cell::text(&self.name)),
            ("source", Cell::text(&self.source)),
            (
                "intervals",
                Cell::text(format!(
                    "{} x {} from {} to {}",
                    self.intervals,
                    format_duration(self.interval_secs),
                    table_label(&self.start),
                    table_label(&self.end)
                )),
            ),
            ("queues", Cell::text(self.queues.join(", "))),
            ("agent groups", Cell::text(self.agent_groups.join(", "))),
            ("total volume", Cell::num(self.total_volume, 0)),
            (
                "staffing",
                Cell::text(if self.staffing_given {
                    "given"
                } else {
                    "computed by plan"
                }),
            ),
        ];
        Document {
            title: format!("Profile {:?} is valid", self.name),
            tables: vec![Table::key_value("Profile", pairs)],
            ..Document::default()
        }
    }
}

pub(crate) fn run(global: &GlobalArgs, args: &ValidateArgs, stdout: &mut dyn Write) -> Result<()> {
    let profile = profile::load(&args.profile)?;
    let summary = ValidateSummary::of(&profile);
    let output = Output::new(&summary).map_err(|e| Error::Write {
        path: "-".into(),
        cause: std::io::Error::other(e),
    })?;
    super::emit(global, &output, stdout)
}
