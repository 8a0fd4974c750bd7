//! Profiles: the scenario a planner describes in TOML (demand per interval, handle times,
//! patience, routing policy, agent groups), checked once and turned into typed structs that the
//! rest of chatcap can trust without re-checking.
//!
//! Loading has two stages. First the file is deserialized into raw serde structs that reject
//! unknown keys (a typo such as `handel_time` is an error, not a silently ignored key); then one
//! validation pass checks every value and builds a [`Profile`]. Every error
//! is a single line naming the file, the line, the field path (`queues[1] "returns":
//! handle_time.mean`), the bad value and what would be right.
//!
//! The format, every key with its default and range, is documented in `docs/profile.md`.

mod calendar;
pub mod duration;
mod forecast;
mod locate;
pub mod policy_names;
mod raw;
pub mod shifts;
mod validate;
mod when;

pub use validate::{DEFAULT_MAX_QUEUE, MAX_REPLICATIONS};

pub(crate) use validate::MAX_CONCURRENCY;

pub use calendar::{Calendar, table_label};
pub use when::StartAt;

use std::fmt;
use std::path::Path;

use crate::routing::{AcceptMode, AgentSelection, ChatOrder, TransferPlace};

/// The shipped default profile, compiled into the binary.
pub const DEFAULT_PROFILE_TOML: &str = include_str!("../../profiles/default.toml");

/// The `source` of the embedded default profile.
pub const DEFAULT_SOURCE: &str = "<embedded default>";

/// A profile or forecast that cannot be used. Every message is one line naming the file and,
/// where known, the line and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The TOML is malformed, has an unknown key or a value of the wrong type, or a value is out
    /// of range or inconsistent with another.
    #[error("{}: {field}{}{message}", location(file, *line), if field.is_empty() { "" } else { " " })]
    Invalid {
        /// The profile file (or `<embedded default>`).
        file: String,
        /// 1-based line, where known.
        line: Option<usize>,
        /// The field path, e.g. `queues[0] "orders": handle_time.dist`; empty for syntax errors.
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// A forecast CSV row or header is malformed or does not fit the profile.
    #[error("{}: {message}", location(path, *line))]
    Forecast {
        /// The CSV file.
        path: String,
        /// 1-based line, where known.
        line: Option<usize>,
        /// What is wrong and what would be right.
        message: String,
    },
}

fn location(file: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    }
}

impl ProfileError {
    /// The field path the error is about (empty when it is not about one field).
    pub fn field(&self) -> &str {
        match self {
            ProfileError::Invalid { field, .. } => field,
            _ => "",
        }
    }

    /// The 1-based line in the profile or forecast file, where known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ProfileError::Invalid { line, .. } | ProfileError::Forecast { line, .. } => *line,
            ProfileError::Read { .. } => None,
        }
    }
}

/// A validated scenario: what to plan or simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Name shown in reports.
    pub name: String,
    /// The file it came from, or `<embedded default>`.
    pub source: String,
    /// Length of one planning interval, seconds (> 0).
    pub interval_secs: f64,
    /// Clock time of the first interval, seconds after midnight (`"08:00"` is 28800).
    pub start_secs: f64,
    /// Number of intervals (>= 1).
    pub intervals: usize,
    /// Where the horizon sits in calendar time (its first instant and time zone).
    pub calendar: Calendar,
    /// Per interval, whether it is within opening hours (`[hours]`; all true without them).
    /// Closed intervals have no arrivals and need no agents.
    pub open: Vec<bool>,
    /// Profile-wide service goals.
    pub targets: Targets,
    /// Routing policy.
    pub routing: RoutingSettings,
    /// Replications, seed and warm-up.
    pub simulation: SimulationSettings,
    /// The queues, in file order (at least one).
    pub queues: Vec<QueueSpec>,
    /// The agent groups, in file order (at least one).
    pub agents: Vec<AgentGroupSpec>,
    /// Shift rules for `chatcap roster`, in file order (none without `[[shifts]]`).
    pub shifts: Vec<shifts::ShiftRule>,
}

impl Profile {
    /// Per queue, the agent groups holding its skill (indices into `agents`).
    pub fn serving_groups(&self) -> Vec<Vec<usize>> {
        self.queues
            .iter()
            .map(|q| {
                self.agents
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.skills.iter().any(|s| s.skill == q.skill))
                    .map(|(g, _)| g)
                    .collect()
            })
            .collect()
    }

    /// Position of the queue called `name` in [`Profile::queues`].
    pub fn queue_index(&self, name: &str) -> Option<usize> {
        self.queues.iter().position(|q| q.name == name)
    }

    /// Expected chats over the whole horizon, all queues.
    pub fn total_volume(&self) -> f64 {
        self.queues
            .iter()
            .map(|q| q.volume.iter().sum::<f64>())
            .sum()
    }

    /// True when every agent group has a staffing list.
    pub fn has_staffing(&self) -> bool {
        self.agents.iter().all(|a| a.staffing.is_some())
    }
}

pub(crate) const DAY_SECS: f64 = 86_400.0;

/// Longest duration a profile or forecast may give: a year. Anything longer is a slip of the
/// unit, and sampled times must stay far from the end of the simulator's microsecond clock.
pub(crate) const MAX_DURATION_SECS: f64 = 365.0 * DAY_SECS;

/// Shortest non-zero duration (interval, timeout, mean): the simulator's clock ticks in
/// microseconds, and anything far below a millisecond would vanish in it.
pub(crate) const MIN_POSITIVE_SECS: f64 = 0.001;

/// Parses a clock time `"HH:MM"` (or `"HH:MM:SS"`) into seconds after midnight.
pub fn parse_clock(text: &str) -> Result<f64, String> {
    let bad = || format!("{text:?} is not a clock time; write \"HH:MM\" between 00:00 and 23:59");
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut numbers = [0u64; 3];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        *slot = part.parse().map_err(|_| bad())?;
    }
    let [h, m, s] = numbers;
    if h > 23 || m > 59 || s > 59 {
        return Err(bad());
    }
    Ok((h * 3600 + m * 60 + s) as f64)
}

/// `"HH:MM"` (or `"HH:MM:SS"` off a whole minute) for a time in seconds after midnight; wraps
/// past midnight.
pub fn clock_label(secs: f64) -> String {
    let total = secs.rem_euclid(DAY_SECS).round() as u64 % 86_400;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Service goals, the one type the planner, the simulator and `chatcap erlang` judge.
pub use crate::metrics::Targets;

/// Routing policy of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RoutingSettings {
    /// How an agent is picked for a chat.
    pub agent_selection: AgentSelection,
    /// Auto-assign or offer with timeout.
    pub accept: AcceptMode,
    /// How waiting chats are ordered (priority weight or strict).
    pub order: ChatOrder,
    /// Whether a transferred chat keeps its place.
    pub transfer_place: TransferPlace,
}

/// Simulation settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulationSettings {
    /// Independent replications (>= 1).
    pub replications: u32,
    /// Base random seed.
    pub seed: u64,
    /// Statistics before this time are discarded, seconds (shorter than the horizon).
    pub warmup_secs: f64,
}

impl Default for SimulationSettings {
    fn default() -> Self {
        SimulationSettings {
            replications: 20,
            seed: 1,
            warmup_secs: 0.0,
        }
    }
}

/// The family of a duration distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DistKind {
    /// Memoryless; cv is 1.
    Exponential,
    /// Right-skewed, the usual fit for handle times.
    Lognormal,
    /// Gamma with the given mean and cv.
    Gamma,
    /// Weibull with the given mean and cv.
    Weibull,
    /// Always the mean; cv is 0.
    Deterministic,
    /// Resampled uniformly from observed values.
    Empirical,
}

impl DistKind {
    /// Every kind with its profile spelling.
    pub const ALL: [(&'static str, DistKind); 6] = [
        ("exponential", DistKind::Exponential),
        ("lognormal", DistKind::Lognormal),
        ("gamma", DistKind::Gamma),
        ("weibull", DistKind::Weibull),
        ("deterministic", DistKind::Deterministic),
        ("empirical", DistKind::Empirical),
    ];

    /// The profile spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(s, _)| *s)
            .unwrap_or("exponential")
    }
}

impl fmt::Display for DistKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A duration distribution given as planners think of it: mean and coefficient of variation.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    /// The family.
    pub kind: DistKind,
    /// Mean, seconds.
    pub mean_secs: f64,
    /// Coefficient of variation (standard deviation / mean).
    pub cv: f64,
    /// Observed values in seconds (empirical only; mean and cv are computed from them).
    pub values_secs: Vec<f64>,
}

/// One chat queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    /// Unique name.
    pub name: String,
    /// The skill an agent needs to take its chats (defaults to the queue name).
    pub skill: String,
    /// Priority; higher is served first (see `priority_weight`).
    pub priority: i32,
    /// Expected chats per interval; one entry per interval.
    pub volume: Vec<f64>,
    /// Forecast uncertainty (gamma mixing of the rate); 0 is pure Poisson.
    pub volume_cv: f64,
    /// Handle time at concurrency 1.
    pub handle_time: Dist,
    /// Mean handle time per interval: `handle_time.mean_secs` unless the forecast gives `aht_secs`.
    pub aht_by_interval: Vec<f64>,
    /// Time a customer waits before abandoning; `None`: nobody abandons.
    pub patience: Option<Dist>,
    /// Time an agent takes to accept an offer.
    pub accept_delay: Option<Dist>,
    /// Time from answer to the agent's first message.
    pub first_response: Option<Dist>,
    /// Bot in front of the queue.
    pub bot: Option<BotSpec>,
    /// Share of handled chats moved to another queue.
    pub transfer: Option<TransferSpec>,
    /// Longest queue accepted; further chats are rejected ([`DEFAULT_MAX_QUEUE`] unless given).
    pub max_queue: u32,
    /// Profile targets with this queue's overrides applied.
    pub targets: Targets,
    /// Customer satisfaction model.
    pub csat: Option<CsatSpec>,
}

/// A bot that resolves a share of chats before they reach the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct BotSpec {
    /// Share of chats the bot resolves, in [0, 1].
    pub resolve_share: f64,
    /// Time the bot spends on a chat.
    pub time: Dist,
}

/// Transfers from one queue to another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransferSpec {
    /// Share of handled chats transferred, in [0, 1].
    pub share: f64,
    /// Index of the target queue in [`Profile::queues`]; never the queue itself.
    pub to: usize,
}

/// Customer satisfaction: a survey score that falls with the wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CsatSpec {
    /// Share of customers answering the survey, in [0, 1].
    pub response_share: f64,
    /// Score (1..5) at zero wait.
    pub score: f64,
    /// Score lost per minute of waiting.
    pub drop_per_minute: f64,
    /// Lowest score, in [1, score].
    pub floor: f64,
}

impl CsatSpec {
    /// Expected score after waiting `wait_secs`.
    pub fn score_after(&self, wait_secs: f64) -> f64 {
        (self.score - self.drop_per_minute * wait_secs.max(0.0) / 60.0).max(self.floor)
    }
}

/// A skill held by an agent group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillSpec {
    /// The skill (a queue's `skill`).
    pub skill: String,
    /// 1..=10, default 5; used by `most-skilled` selection.
    pub proficiency: u8,
}

/// How an agent slows down as it holds more chats at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Slowdown {
    /// f(n) = 1 + s (n - 1).
    Linear(f64),
    /// f(n) = levels[n - 1]; starts at 1.0, at least `concurrency` entries.
    Levels(Vec<f64>),
}

impl Slowdown {
    /// Slowdown factor with `active` chats held: each chat progresses at rate 1 / factor.
    /// Zero active chats counts as one; levels beyond the list repeat its last entry.
    pub fn factor(&self, active: u32) -> f64 {
        let n = active.max(1);
        match self {
            Slowdown::Linear(s) => 1.0 + s * f64::from(n - 1),
            Slowdown::Levels(levels) => {
                let index = (n as usize - 1).min(levels.len().saturating_sub(1));
                levels.get(index).copied().unwrap_or(1.0)
            }
        }
    }

    /// The factors for 0 to `cap` chats held, indexed by the number held: the table the
    /// simulator and the closed-form pool model read.
    pub fn table(&self, cap: u32) -> Vec<f64> {
        (0..=cap).map(|n| self.factor(n)).collect()
    }
}

/// A group of interchangeable agents.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentGroupSpec {
    /// Unique name.
    pub name: String,
    /// Skills held (at least one).
    pub skills: Vec<SkillSpec>,
    /// Chats an agent holds at once, 1..=50.
    pub concurrency: u32,
    /// Concurrency slowdown.
    pub slowdown: Slowdown,
    /// Share of paid time not available, in [0, 1).
    pub shrinkage: f64,
    /// Agents on duty per interval (one entry per interval); `None`: the planner computes it.
    pub staffing: Option<Vec<u32>>,
    /// Fewest agents the planner puts on duty in an open interval (default 0).
    pub min_on_duty: u32,
    /// Most agents the planner puts on duty in any interval; `None`: no bound.
    pub max_on_duty: Option<u32>,
    /// Cost of one paid agent hour (default 1); the planner minimises the total over groups.
    pub cost_per_hour: f64,
}

impl AgentGroupSpec {
    /// The agents the planner may put on duty in an interval, `(fewest, most)`: the group's
    /// bounds, with no floor in a closed interval.
    pub fn on_duty_bounds(&self, open: bool) -> (u32, u32) {
        let least = if open { self.min_on_duty } else { 0 };
        (least, self.max_on_duty.unwrap_or(u32::MAX))
    }

    /// Proficiency in `skill`, if the group holds it.
    pub fn proficiency(&self, skill: &str) -> Option<u8> {
        self.skills
            .iter()
            .find(|s| s.skill == skill)
            .map(|s| s.proficiency)
    }
}

/// How a profile read from standard input is named in errors and reports.
pub const STDIN_SOURCE: &str = "<stdin>";

/// Reads and validates a profile file; a relative `forecast` is resolved next to it. The path
/// `-` reads standard input (a relative `forecast` then resolves in the current directory).
pub fn load(path: &Path) -> Result<Profile, ProfileError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            ProfileError::Read {
                path: STDIN_SOURCE.to_string(),
                message: read_hint(&e, "pipe a TOML profile into standard input"),
            }
        })?;
        return parse(&text, STDIN_SOURCE, None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Read {
        path: path.display().to_string(),
        message: read_hint(&e, "check the path and permissions"),
    })?;
    parse(&text, &path.display().to_string(), path.parent())
}

/// The message for a file that could not be read: text that is not UTF-8 gets its own fix.
pub(crate) fn read_hint(e: &std::io::Error, otherwise: &str) -> String {
    if e.kind() == std::io::ErrorKind::InvalidData {
        "is not UTF-8 text; save it as UTF-8".to_string()
    } else {
        format!("{e}; {otherwise}")
    }
}

/// Parses and validates profile text. `source` names it in errors; `base_dir` resolves a
/// relative `forecast = "x.csv"` (the current directory when `None`).
pub fn parse(text: &str, source: &str, base_dir: Option<&Path>) -> Result<Profile, ProfileError> {
    let locator = locate::Locator::new(text, source)?;
    let raw: raw::RawProfile = toml::from_str(text).map_err(|e| locator.serde_error(&e))?;
    validate::validate(raw, source, base_dir, &locator)
}

/// The shipped default profile (`profiles/default.toml`, compiled in).
pub fn default_profile() -> Result<Profile, ProfileError> {
    parse(DEFAULT_PROFILE_TOML, DEFAULT_SOURCE, None)
}

/// Loads `path`, or the embedded default when `None`.
pub fn load_or_default(path: Option<&Path>) -> Result<Profile, ProfileError> {
    match path {
        Some(path) => load(path),
        None => default_profile(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_parse_and_format() {
        assert_eq!(parse_clock("08:00"), Ok(28_800.0));
        assert_eq!(parse_clock("23:59"), Ok(86_340.0));
        assert_eq!(parse_clock("00:00:30"), Ok(30.0));
        for bad in [
            "24:00",
            "8:00",
            "08:60",
            "08",
            "08:00:00:00",
            "ab:cd",
            "",
            "08:5",
        ] {
            let e = parse_clock(bad).unwrap_err();
            assert!(e.contains("HH:MM"), "{bad:?}: {e}");
        }
        assert_eq!(clock_label(28_800.0), "08:00");
        assert_eq!(clock_label(86_400.0 + 1800.0), "00:30");
        assert_eq!(clock_label(45.0), "00:00:45");
    }

    #[test]
    fn error_messages_are_one_line_with_location() {
        let e = ProfileError::Invalid {
            file: "p.toml".into(),
            line: Some(3),
            field: "targets.service_level".into(),
            message: "= 2 is above 1".into(),
        };
        assert_eq!(
            e.to_string(),
            "p.toml:3: targets.service_level = 2 is above 1"
        );
        assert_eq!(e.field(), "targets.service_level");
        assert_eq!(e.line(), Some(3));
        let e = ProfileError::Invalid {
            file: "p.toml".into(),
            line: None,
            field: String::new(),
            message: "invalid TOML".into(),
        };
        assert_eq!(e.to_string(), "p.toml: invalid TOML");
        let e = ProfileError::Forecast {
            path: "f.csv".into(),
            line: Some(7),
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "f.csv:7: bad");
    }

    #[test]
    fn csat_score_falls_with_wait_to_the_floor() {
        let c = CsatSpec {
            response_share: 0.3,
            score: 4.6,
            drop_per_minute: 0.1,
            floor: 1.0,
        };
        assert_eq!(c.score_after(0.0), 4.6);
        assert!((c.score_after(120.0) - 4.4).abs() < 1e-12);
        assert_eq!(c.score_after(10_000.0), 1.0);
    }
}
