//! Service goals and the one judgment of whether a figure meets its goal. The profile's
//! `[targets]`, `chatcap erlang`'s flags, the closed-form start of the plan, its simulated
//! search and its verification all judge through [`Goal::met_by`], so a staffing that meets
//! its targets in one place meets them in every other.

/// Slack when comparing a figure with its goal, so that a figure landing exactly on it (an
/// occupancy of 8.5 / 10 against 0.85, a service level of 16 / 20 against 0.8) meets it
/// whatever the rounding of its last bit.
pub const TARGET_TOLERANCE: f64 = 1e-12;

/// Service goals a queue's figures are measured against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Targets {
    /// Share of chats to answer within `threshold_secs`, in (0, 1].
    pub service_level: f64,
    /// Service-level threshold, seconds.
    pub threshold_secs: f64,
    /// Highest acceptable abandon rate, in [0, 1].
    pub max_abandon: Option<f64>,
    /// Highest acceptable occupancy, in (0, 1].
    pub max_occupancy: Option<f64>,
    /// Highest acceptable average speed of answer, seconds.
    pub max_asa_secs: Option<f64>,
    /// Abandons quicker than this are left out of the service level, seconds.
    pub short_abandon_secs: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            service_level: 0.8,
            threshold_secs: 30.0,
            max_abandon: None,
            max_occupancy: None,
            max_asa_secs: None,
            short_abandon_secs: 0.0,
        }
    }
}

/// A figure a target bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Answered within the threshold over offered.
    ServiceLevel,
    /// Abandoned over offered.
    AbandonRate,
    /// Mean wait of answered chats, seconds.
    Asa,
    /// Busy slot time over staffed slot time.
    Occupancy,
}

impl Figure {
    /// Every figure, in the order targets are judged and reported.
    pub const ALL: [Figure; 4] = [
        Figure::ServiceLevel,
        Figure::AbandonRate,
        Figure::Asa,
        Figure::Occupancy,
    ];
}

/// What one figure must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// At least this (a service level).
    AtLeast(f64),
    /// At most this (an abandon rate, an ASA, an occupancy).
    AtMost(f64),
}

impl Goal {
    /// Whether `value` meets the goal, within [`TARGET_TOLERANCE`]; a NaN meets nothing.
    #[inline]
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Goal::AtLeast(target) => value + TARGET_TOLERANCE >= target,
            Goal::AtMost(limit) => value <= limit + TARGET_TOLERANCE,
        }
    }

    /// The bound itself.
    pub fn value(self) -> f64 {
        match self {
            Goal::AtLeast(v) | Goal::AtMost(v) => v,
        }
    }
}

impl Targets {
    /// The goal on `figure`, if the targets set one.
    pub fn goal(&self, figure: Figure) -> Option<Goal> {
        match figure {
            Figure::ServiceLevel => Some(Goal::AtLeast(self.service_level)),
            Figure::AbandonRate => self.max_abandon.map(Goal::AtMost),
            Figure::Asa => self.max_asa_secs.map(Goal::AtMost),
            Figure::Occupancy => self.max_occupancy.map(Goal::AtMost),
        }
    }

    /// Whether the figures `value` gives meet every goal set.
    pub fn meets(&self, value: impl Fn(Figure) -> f64) -> bool {
        Figure::ALL
            .into_iter()
            .all(|f| self.goal(f).is_none_or(|goal| goal.met_by(value(f))))
    }

    /// Targets that hold where both `self` and `other` hold: the higher service level within
    /// the shorter threshold, the lower of each limit.
    pub fn strictest(self, other: Targets) -> Targets {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Targets {
            service_level: self.service_level.max(other.service_level),
            threshold_secs: self.threshold_secs.min(other.threshold_secs),
            max_abandon: min(self.max_abandon, other.max_abandon),
            max_occupancy: min(self.max_occupancy, other.max_occupancy),
            max_asa_secs: min(self.max_asa_secs, other.max_asa_secs),
            short_abandon_secs: self.short_abandon_secs.min(other.short_abandon_secs),
        }
    }
}
