//! The `chatcap roster` result: the JSON contract (shifts, lines, coverage, totals,
//! verification, perf); its tables and charts are in `document.rs`.

use serde::Serialize;

use crate::metrics::Estimate;

/// A break of a shift kind.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ShiftBreak {
    /// Local start, as the shift's `start`.
    pub start: String,
    /// Length, minutes.
    pub length_mins: f64,
    /// Whether the break is paid.
    pub paid: bool,
}

/// Shifts of one kind: same day, start, length, group and break placement.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ShiftRow {
    /// Local date the shift starts on (`"2026-12-07"`); null on an undated horizon.
    pub date: Option<String>,
    /// Start: RFC 3339 with the offset on a dated horizon, `"HH:MM"` on an undated one.
    pub start: String,
    /// Length, hours, paid breaks included.
    pub length_hours: f64,
    /// Agent group.
    pub group: String,
    /// The `[[shifts]]` rule it follows.
    pub rule: String,
    /// How many such shifts.
    pub count: u32,
    /// Its breaks as placed.
    pub breaks: Vec<ShiftBreak>,
}

/// One working day of a line.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LineDay {
    /// Local date the shift starts on; null on an undated horizon.
    pub date: Option<String>,
    /// Start, as [`ShiftRow::start`].
    pub start: String,
    /// End, as [`ShiftRow::start`].
    pub end: String,
}

/// One person's week.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Line {
    /// Line number from 1.
    pub line: usize,
    /// Agent group.
    pub group: String,
    /// The `[[shifts]]` rule it follows.
    pub rule: String,
    /// The agent assigned from `--agents`; null without a list or when none fits.
    pub agent_id: Option<String>,
    /// Paid hours of the line.
    pub paid_hours: f64,
    /// Its working days in order.
    pub days: Vec<LineDay>,
}

/// Cover of one group in one slot of the roster's grid.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CoverageRow {
    /// Slot start, as the plan's interval `start`.
    pub start: String,
    /// The planning interval the slot is in.
    pub interval: usize,
    /// Agent group.
    pub group: String,
    /// Agents needed on duty (the plan's requirement, raised by verification).
    pub required: u32,
    /// Agents on shift.
    pub scheduled: u32,
    /// Agents on shift but on a break.
    pub on_break: u32,
    /// Agents on duty: scheduled minus on break.
    pub net: u32,
}

/// A slot the rules cannot cover, and why.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct UnderCovered {
    /// Slot start.
    pub start: String,
    /// Agent group.
    pub group: String,
    /// Agents needed.
    pub required: u32,
    /// Agents on duty.
    pub net: u32,
    /// The rule that binds, in words.
    pub reason: String,
}

/// Totals of the roster.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RosterTotals {
    /// Paid hours of every shift (unpaid breaks out).
    pub paid_hours: f64,
    /// Agent hours the requirement asks for.
    pub required_hours: f64,
    /// `required_hours / paid_hours`.
    pub efficiency: f64,
    /// Paid hours of the linear relaxation's optimum: no roster of these rules can cost
    /// less (with equal prices per group, none has fewer paid hours).
    pub lp_bound_hours: f64,
    /// Relative excess of the roster's cost over the relaxation's: `cost / lp_cost - 1`.
    pub gap: f64,
    /// Cost: paid hours priced by each group's `cost_per_hour`.
    pub cost: f64,
    /// Slots (of any group) whose net cover is below the requirement.
    pub under_covered_intervals: usize,
    /// Lines (people's weeks).
    pub lines: usize,
}

/// Service level of one queue in one interval in the roster's simulation.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VerifiedInterval {
    /// Interval start.
    pub start: String,
    /// Interval index from 0.
    pub interval: usize,
    /// Queue name.
    pub queue: String,
    /// Service level with its 95% confidence interval.
    pub service_level: Estimate,
    /// Abandonment rate with its 95% confidence interval.
    pub abandon_rate: Estimate,
    /// The queue meets its targets in this interval (on the means).
    pub targets_met: bool,
}

/// The roster's staffing, breaks taken as placed, simulated over the horizon.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Verification {
    /// Every interval meets its targets in the last run.
    pub targets_met: bool,
    /// Repair rounds run (0: the first roster met every target).
    pub rounds: usize,
    /// The targets missed in the last run, `"<start> <queue>: <what>"`.
    pub shortfalls: Vec<String>,
    /// Replications of each run.
    pub replications: u32,
    /// Base seed of the runs.
    pub seed: u64,
    /// Each queue's service-level target, by queue name.
    pub service_level_targets: std::collections::BTreeMap<String, f64>,
    /// Per interval and queue, the last run's figures.
    pub intervals: Vec<VerifiedInterval>,
}

/// Where the time went.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RosterPerf {
    /// Shift kinds the rules allow over the horizon.
    pub shift_kinds: usize,
    /// Seconds planning the requirement (0 with `--plan`).
    pub plan_secs: f64,
    /// Seconds covering (relaxation, dive, completion), over all rounds.
    pub solve_secs: f64,
    /// Seconds simulating, over all rounds.
    pub verify_secs: f64,
    /// Seconds in all.
    pub elapsed_secs: f64,
    /// Worker threads of the simulation.
    pub threads: usize,
}

/// The `chatcap roster` result.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RosterReport {
    /// Profile name.
    pub profile: String,
    /// Slot length of the roster's grid, minutes.
    pub slot_mins: f64,
    /// Shift kinds used, with counts and break placements.
    pub shifts: Vec<ShiftRow>,
    /// People's weeks.
    pub lines: Vec<Line>,
    /// Cover per slot and group.
    pub coverage: Vec<CoverageRow>,
    /// Slots the rules cannot cover, with the binding rule.
    pub under_covered: Vec<UnderCovered>,
    /// Lines given to the agents of `--agents`; null without a list.
    pub assignment: Option<super::agents::Assignment>,
    /// Totals.
    pub totals: RosterTotals,
    /// The simulation of the roster.
    pub verification: Verification,
    /// Timings.
    pub perf: RosterPerf,
}

/// Hours after midnight of a time as the report writes it (RFC 3339 or `HH:MM`).
pub(super) fn hours_after_midnight(text: &str) -> f64 {
    let clock = text.get(11..16).unwrap_or(text);
    crate::profile::parse_clock(clock).map_or(0.0, |secs| secs / 3600.0)
}
