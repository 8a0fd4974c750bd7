//! Erlang B, C and A closed forms and staffing solvers.
//!
//! These give the quick, exact answer for one interval with exponential handle times and
//! patience: `chatcap erlang` prints it, and the staffing planner uses it as a seed before
//! simulating. Every formula is evaluated in a numerically stable form (Erlang B by its
//! recursion, Erlang A by log-scaled birth–death sums) so that results stay finite and accurate
//! from 1 to well beyond 5,000 agents and for loads above the staffing.
//!
//! - [`erlang_b`], [`erlang_c`]: blocking and waiting probabilities.
//! - [`evaluate`]: every figure of one staffing ([`Evaluation`]), Erlang C without patience,
//!   Erlang A (M/M/n+M) with it.
//! - [`required_agents`]: the fewest agents meeting every [`Targets`] entry; [`rostered`] adds
//!   shrinkage; [`square_root_estimate`] and [`halfin_whitt_alpha`] give the quick
//!   approximation.

mod erlang_a;
mod erlang_c;
mod staffing;

use serde::Serialize;

use crate::metrics::{Figure, Goal};

pub use erlang_c::{erlang_b, erlang_c};
pub use staffing::{
    AGENT_CAP, halfin_whitt_alpha, required_agents, rostered, square_root_estimate,
    square_root_staffing,
};

/// Inputs the closed forms cannot answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErlangError {
    /// An input is out of its domain.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The input's name.
        field: &'static str,
        /// What is wrong and what would be right.
        message: String,
    },
    /// Erlang C was asked about a staffing that cannot carry the load.
    #[error(
        "invalid --agents: {agents} agents cannot keep up with {traffic_erlangs:.3} Erlangs of \
         traffic, so the Erlang C queue is unstable and grows without bound; give --agents \
         {min_agents} or more, or add --patience so that waiting chats abandon (Erlang A)"
    )]
    Unstable {
        /// The staffing asked about.
        agents: u32,
        /// The offered load in Erlangs.
        traffic_erlangs: f64,
        /// The fewest agents giving a stable queue.
        min_agents: u32,
    },
    /// No staffing up to [`AGENT_CAP`] agents meets the targets.
    #[error("no staffing up to {cap} agents meets the targets: {reason}")]
    Unreachable {
        /// The largest staffing tried.
        cap: u32,
        /// Which target fails, and what to relax.
        reason: String,
    },
}

/// Shorthand for [`ErlangError::Invalid`].
fn invalid(field: &'static str, message: impl Into<String>) -> ErlangError {
    ErlangError::Invalid {
        field,
        message: message.into(),
    }
}

/// The queueing model behind an [`Evaluation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Model {
    /// M/M/n: nobody abandons.
    #[serde(rename = "erlang-c")]
    ErlangC,
    /// M/M/n+M: exponential patience, waiting chats abandon.
    #[serde(rename = "erlang-a")]
    ErlangA,
}

impl Model {
    /// The name used in JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Model::ErlangC => "erlang-c",
            Model::ErlangA => "erlang-a",
        }
    }
}

/// The offered load of one interval: Poisson arrivals, exponential handle time and, for
/// Erlang A, exponential patience.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Arrivals per second (λ).
    pub arrival_rate_per_sec: f64,
    /// Average handle time in seconds (1/μ).
    pub aht_secs: f64,
    /// Mean patience in seconds (1/θ); `None` means nobody abandons (Erlang C).
    pub patience_secs: Option<f64>,
}

impl Load {
    /// The load of `volume` chats spread evenly over `interval_secs`, validated.
    pub fn from_volume(
        volume: f64,
        interval_secs: f64,
        aht_secs: f64,
        patience_secs: Option<f64>,
    ) -> Result<Load, ErlangError> {
        if !volume.is_finite() {
            return Err(invalid(
                "--volume",
                format!("{volume} is not a finite number; give the chats offered, e.g. 100"),
            ));
        }
        if volume < 0.0 {
            return Err(invalid(
                "--volume",
                format!("{volume} is negative; give the chats offered in the interval, e.g. 100"),
            ));
        }
        if !(interval_secs.is_finite() && interval_secs > 0.0) {
            return Err(invalid(
                "--interval",
                format!("{interval_secs} s is not a positive length; give e.g. 30m"),
            ));
        }
        let load = Load {
            arrival_rate_per_sec: volume / interval_secs,
            aht_secs,
            patience_secs,
        };
        load.validate()?;
        Ok(load)
    }

    /// Checks that the rate is finite and non-negative and that AHT and patience are positive.
    pub fn validate(&self) -> Result<(), ErlangError> {
        let rate = self.arrival_rate_per_sec;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(invalid(
                "--volume",
                format!("arrival rate {rate} per second must be finite and not negative"),
            ));
        }
        let aht = self.aht_secs;
        if !(aht.is_finite() && aht > 0.0) {
            return Err(invalid(
                "--aht",
                format!("{aht} s is not a positive handle time; give e.g. 180s"),
            ));
        }
        if let Some(patience) = self.patience_secs
            && !(patience.is_finite() && patience > 0.0)
        {
            return Err(invalid(
                "--patience",
                format!(
                    "{patience} s is not a positive mean patience; give e.g. 120s, or omit \
                     --patience for Erlang C"
                ),
            ));
        }
        Ok(())
    }

    /// Offered traffic in Erlangs: A = λ·AHT.
    pub fn traffic_erlangs(&self) -> f64 {
        self.arrival_rate_per_sec * self.aht_secs
    }

    /// Erlang A when a patience is given, Erlang C otherwise.
    pub fn model(&self) -> Model {
        if self.patience_secs.is_some() {
            Model::ErlangA
        } else {
            Model::ErlangC
        }
    }
}

/// The service goals a staffing must meet: the crate's one targets type. `chatcap erlang`
/// leaves `short_abandon_secs` at 0: Erlang A counts every abandon.
pub use crate::metrics::Targets;

/// What `chatcap erlang` checks and says of targets, beside the figures' judgment.
impl Targets {
    /// Checks every target's range, and that `max_abandon` comes with a patience.
    pub fn validate(&self, load: &Load) -> Result<(), ErlangError> {
        check_share("--sl-target", self.service_level, "0.8")?;
        if self.service_level >= 1.0 {
            return Err(invalid(
                "--sl-target",
                "1 (every chat answered within the threshold) is reached by no finite staffing: \
                 some chat always waits longer; give a share below 1, e.g. 0.8 or 0.99",
            ));
        }
        check_threshold(self.threshold_secs)?;
        if let Some(max_abandon) = self.max_abandon {
            check_share("--max-abandon", max_abandon, "0.05")?;
            if load.patience_secs.is_none() {
                return Err(invalid(
                    "--max-abandon",
                    format!(
                        "{max_abandon} needs a patience: without one nobody abandons (Erlang C); \
                         add --patience with the mean time chats wait before leaving, e.g. \
                         --patience 2m"
                    ),
                ));
            }
        }
        if let Some(max_occupancy) = self.max_occupancy {
            check_share("--max-occupancy", max_occupancy, "0.85")?;
        }
        if let Some(max_asa) = self.max_asa_secs
            && !(max_asa.is_finite() && max_asa > 0.0)
        {
            return Err(invalid(
                "--max-asa",
                format!("{max_asa} s is not a positive average speed of answer; give e.g. 30s"),
            ));
        }
        Ok(())
    }

    /// True when `evaluation` meets every target, as every other judge of targets says
    /// ([`crate::metrics::Goal::met_by`]).
    pub fn met_by(&self, evaluation: &Evaluation) -> bool {
        self.meets(|figure| evaluation.figure(figure))
    }

    /// One line per target `evaluation` misses, e.g. `"service level 79.6% is below the 80.0%
    /// target"`; empty exactly when [`Targets::met_by`] holds.
    pub fn shortfalls(&self, evaluation: &Evaluation) -> Vec<String> {
        let mut lines = Vec::new();
        if !at_least(evaluation.service_level, self.service_level) {
            lines.push(format!(
                "service level {:.1}% is below the {:.1}% target",
                evaluation.service_level * 100.0,
                self.service_level * 100.0
            ));
        }
        if let Some(m) = self.max_abandon
            && !at_most(evaluation.prob_abandon, m)
        {
            lines.push(format!(
                "abandon rate {:.2}% is above the {:.2}% limit",
                evaluation.prob_abandon * 100.0,
                m * 100.0
            ));
        }
        if let Some(m) = self.max_occupancy
            && !at_most(evaluation.occupancy, m)
        {
            lines.push(format!(
                "occupancy {:.1}% is above the {:.1}% limit",
                evaluation.occupancy * 100.0,
                m * 100.0
            ));
        }
        if let Some(m) = self.max_asa_secs
            && !at_most(evaluation.asa_secs, m)
        {
            lines.push(format!(
                "average speed of answer {:.1} s is above the {m} s limit",
                evaluation.asa_secs
            ));
        }
        lines
    }
}

/// `value` reaches `target`, as [`Targets::met_by`] judges.
fn at_least(value: f64, target: f64) -> bool {
    Goal::AtLeast(target).met_by(value)
}

/// `value` stays under `limit`, as [`Targets::met_by`] judges.
fn at_most(value: f64, limit: f64) -> bool {
    Goal::AtMost(limit).met_by(value)
}

fn check_share(field: &'static str, value: f64, example: &str) -> Result<(), ErlangError> {
    if !value.is_finite() {
        return Err(invalid(
            field,
            format!("{value} is not a number; give a share between 0 and 1, e.g. {example}"),
        ));
    }
    if value > 1.0 {
        return Err(invalid(
            field,
            format!("{value} is above 1; give a share between 0 and 1, e.g. {example}"),
        ));
    }
    if value <= 0.0 {
        return Err(invalid(
            field,
            format!("{value} is not above 0; give a share between 0 and 1, e.g. {example}"),
        ));
    }
    Ok(())
}

fn check_threshold(threshold_secs: f64) -> Result<(), ErlangError> {
    if !(threshold_secs.is_finite() && threshold_secs >= 0.0) {
        return Err(invalid(
            "--sl-threshold",
            format!("{threshold_secs} s must be a finite time of at least 0; give e.g. 20s"),
        ));
    }
    Ok(())
}

/// Highest shrinkage: above it, paid headcount would be more than 20 times the agents on duty.
pub const MAX_SHRINKAGE: f64 = 0.95;

/// Checks a shrinkage share: in [0, [`MAX_SHRINKAGE`]].
pub fn check_shrinkage(shrinkage: f64) -> Result<(), ErlangError> {
    let hint = format!(
        "give the share of paid time agents are unavailable, from 0 to {MAX_SHRINKAGE}, e.g. 0.3"
    );
    if !shrinkage.is_finite() {
        return Err(invalid(
            "--shrinkage",
            format!("{shrinkage} is not a number; {hint}"),
        ));
    }
    if shrinkage < 0.0 {
        return Err(invalid(
            "--shrinkage",
            format!("{shrinkage} is negative; {hint}"),
        ));
    }
    if shrinkage > MAX_SHRINKAGE {
        return Err(invalid(
            "--shrinkage",
            format!("{shrinkage} leaves almost no time on the phones; {hint}"),
        ));
    }
    Ok(())
}

/// Every figure of one staffing in one interval (DESIGN.md section 6 keys).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// `erlang-c` (nobody abandons) or `erlang-a` (exponential patience).
    pub model: Model,
    /// Offered load A = λ·AHT in Erlangs.
    pub traffic_erlangs: f64,
    /// Agents on duty.
    pub agents: u32,
    /// Paid headcount after shrinkage (equal to `agents` until [`Evaluation::with_shrinkage`]).
    pub rostered_agents: u32,
    /// Chats answered within the threshold over all chats offered.
    pub service_level: f64,
    /// Chats answered within the threshold over chats answered.
    pub service_level_answered: f64,
    /// Share of chats that wait at all.
    pub prob_wait: f64,
    /// Share of chats that abandon (0 for Erlang C).
    pub prob_abandon: f64,
    /// Average speed of answer: mean wait of answered chats, in seconds.
    pub asa_secs: f64,
    /// Mean wait of all chats (answered and abandoned), in seconds.
    pub mean_wait_secs: f64,
    /// Carried load per agent: busy time over staffed time.
    pub occupancy: f64,
}

impl Evaluation {
    /// The figure a target bounds.
    pub fn figure(&self, figure: Figure) -> f64 {
        match figure {
            Figure::ServiceLevel => self.service_level,
            Figure::AbandonRate => self.prob_abandon,
            Figure::Asa => self.asa_secs,
            Figure::Occupancy => self.occupancy,
        }
    }

    /// The same figures with `rostered_agents` = [`rostered`]`(agents, shrinkage)`.
    pub fn with_shrinkage(mut self, shrinkage: f64) -> Result<Evaluation, ErlangError> {
        self.rostered_agents = rostered(self.agents, shrinkage)?;
        Ok(self)
    }

    /// The figures with no load at all: nothing waits, nothing abandons, nobody is busy.
    fn idle(model: Model, agents: u32) -> Evaluation {
        Evaluation {
            model,
            traffic_erlangs: 0.0,
            agents,
            rostered_agents: agents,
            service_level: 1.0,
            service_level_answered: 1.0,
            prob_wait: 0.0,
            prob_abandon: 0.0,
            asa_secs: 0.0,
            mean_wait_secs: 0.0,
            occupancy: 0.0,
        }
    }
}

/// Every figure of `agents` agents facing `load`, with the service level measured at
/// `threshold_secs`: Erlang C when the load has no patience, Erlang A otherwise.
///
/// With zero arrivals any staffing, even 0 agents, gives the idle figures (service level 1,
/// occupancy 0). Otherwise `agents` must be at least 1, and for Erlang C above the load
/// ([`ErlangError::Unstable`] names the fewest stable staffing).
pub fn evaluate(load: &Load, agents: u32, threshold_secs: f64) -> Result<Evaluation, ErlangError> {
    load.validate()?;
    check_threshold(threshold_secs)?;
    if load.arrival_rate_per_sec > 0.0 && agents == 0 {
        return Err(invalid(
            "--agents",
            "0 agents cannot answer any chat; give at least 1, or omit --agents to solve for \
             the fewest agents",
        ));
    }
    evaluate_unchecked(load, agents, threshold_secs)
}

/// [`evaluate`] for inputs already validated.
fn evaluate_unchecked(
    load: &Load,
    agents: u32,
    threshold_secs: f64,
) -> Result<Evaluation, ErlangError> {
    if load.arrival_rate_per_sec == 0.0 {
        return Ok(Evaluation::idle(load.model(), agents));
    }
    match load.patience_secs {
        None => erlang_c::evaluate(load, agents, threshold_secs),
        Some(patience) => erlang_a::evaluate(load, patience, agents, threshold_secs),
    }
}
