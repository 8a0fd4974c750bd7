//! Shift rules (`[[shifts]]`): the shapes of work a roster may be built from. Each rule gives
//! the groups it may staff, a window of start times on a step, the lengths allowed, breaks
//! placed within windows after the start, and weekly limits. The profile checks each rule on
//! its own and against the horizon (every open interval of a group that serves a queue must be
//! coverable by some rule); `chatcap roster` chooses among the shifts they allow.

/// One `[[shifts]]` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRule {
    /// Unique name.
    pub name: String,
    /// The agent groups it may staff (indices into [`super::Profile::agents`]).
    pub groups: Vec<usize>,
    /// Earliest start, seconds after local midnight.
    pub start_from_secs: f64,
    /// Latest start, seconds after local midnight (at or after the earliest).
    pub start_to_secs: f64,
    /// Between allowed starts, seconds (whole intervals).
    pub step_secs: f64,
    /// Allowed lengths, paid breaks included, seconds (whole intervals, at most a day).
    pub lengths_secs: Vec<f64>,
    /// Breaks, in the order their windows come.
    pub breaks: Vec<BreakRule>,
    /// Days worked per week (weekly tours); `None`: days are not limited.
    pub days_per_week: Option<u32>,
    /// Days off in a row each week, with `days_per_week`.
    pub consecutive_days_off: Option<u32>,
    /// Most shifts of this rule starting in one interval.
    pub max_starts_per_interval: Option<u32>,
}

/// A break within a shift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakRule {
    /// Length, seconds.
    pub length_secs: f64,
    /// Earliest start after the shift's start, seconds.
    pub after_from_secs: f64,
    /// Latest start after the shift's start, seconds.
    pub after_to_secs: f64,
    /// Whether the break is paid time.
    pub paid: bool,
}

impl ShiftRule {
    /// The start times the rule allows, seconds after local midnight.
    pub fn starts(&self) -> impl Iterator<Item = f64> + '_ {
        let count = ((self.start_to_secs - self.start_from_secs) / self.step_secs + 1e-9).floor();
        (0..=count as u64).map(move |k| self.start_from_secs + k as f64 * self.step_secs)
    }

    /// Whether a shift of the rule can be on duty at `clock` seconds after local midnight (on
    /// the day it starts, or past midnight on the next).
    pub fn can_cover(&self, clock: f64) -> bool {
        let longest = self.lengths_secs.iter().copied().fold(0.0, f64::max);
        self.starts().any(|s| {
            let (from, to) = (s, s + longest);
            (from..to).contains(&clock) || (from..to).contains(&(clock + super::DAY_SECS))
        })
    }
}
