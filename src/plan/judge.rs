//! How the planner judges one interval: its targets, the per-replication counts they are read
//! from, and the verdict of a candidate staffing.
//!
//! Two judgments exist. The usual one asks whether every target is met (on the mean over
//! replications, or on its 95% bound). When no staffing within the search limit meets the
//! targets, the interval is unreachable, and the fallback asks instead whether a candidate is
//! *as good as the largest staffing tried*: every target figure either meets its target or is
//! not significantly worse than at that staffing. Candidates share their random streams
//! (common random numbers), so the comparison is paired replication by replication, and "more
//! agents stop helping" has a precise meaning: the paired difference is within noise.
//!
//! A candidate need not run on every replication to be judged: [`judge_early`] settles the
//! verdict on the first few when the judgment on all of them is already certain (a pass at
//! 99%, a miss at the confidence the search asks for), read from the paired differences to a
//! candidate that ran on all (same random streams), so only candidates near the boundary pay
//! for every replication.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::metrics::{Estimate, Figure, Goal, QueueTally, Targets, ratio, student_t_975};
use crate::profile::Profile;
use crate::sim::ReplicationTallies;
use crate::sim::targets::{distinct, strictest_occupancy};

/// Verdict of one candidate in one interval.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Verdict {
    pub feasible: bool,
    /// Queues missing a target.
    pub failing_queues: Vec<usize>,
    /// Groups above their occupancy limit.
    pub failing_groups: Vec<usize>,
}

/// The counts of one replication in one interval that the targets need.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct QueueCounts {
    offered: u64,
    answered: u64,
    answered_within: u64,
    abandoned: u64,
    /// Still unresolved when the evaluation stopped, stranded included.
    unresolved: u64,
    wait_sum_answered: f64,
}

impl QueueCounts {
    fn of(t: &QueueTally) -> QueueCounts {
        let resolved = t.rejected() + t.answered() + t.abandoned() + t.short_abandoned();
        QueueCounts {
            offered: t.offered(),
            answered: t.answered(),
            answered_within: t.answered_within(),
            abandoned: t.abandoned(),
            unresolved: t.offered().saturating_sub(resolved).max(t.stranded()),
            wait_sum_answered: t.wait_sum_answered(),
        }
    }

    /// Unresolved chats have waited past the threshold: misses, and counted as abandons.
    fn service_level(&self) -> f64 {
        let den = self.answered + self.abandoned + self.unresolved;
        ratio(self.answered_within as f64, den as f64)
    }

    fn abandon_rate(&self) -> f64 {
        ratio(
            (self.abandoned + self.unresolved) as f64,
            self.offered as f64,
        )
    }

    fn asa_secs(&self) -> f64 {
        ratio(self.wait_sum_answered, self.answered as f64)
    }
}

/// Busy and staffed slot time of one group in one interval.
#[derive(Debug, Clone, Copy, Default)]
struct GroupCounts {
    staffed_slot_secs: f64,
    busy_slot_secs: f64,
}

impl GroupCounts {
    fn occupancy(&self) -> f64 {
        ratio(self.busy_slot_secs, self.staffed_slot_secs)
    }
}

/// One replication's counts in one interval.
#[derive(Debug, Clone, Default)]
pub(crate) struct IntervalCounts {
    queues: Vec<QueueCounts>,
    groups: Vec<GroupCounts>,
}

pub(crate) fn interval_counts(
    t: &ReplicationTallies,
    i: usize,
    nq: usize,
    ng: usize,
) -> IntervalCounts {
    IntervalCounts {
        queues: (0..nq)
            .map(|q| QueueCounts::of(&t.queues[i * nq + q]))
            .collect(),
        groups: (0..ng)
            .map(|g| {
                let a = &t.agents[i * ng + g];
                GroupCounts {
                    staffed_slot_secs: a.staffed_slot_secs(),
                    busy_slot_secs: a.busy_slot_secs(),
                }
            })
            .collect(),
    }
}

/// The targets of one interval, resolved per queue and per group.
#[derive(Debug, Clone)]
pub(crate) struct IntervalTargets {
    /// Per queue: its targets (occupancy is judged per group).
    pub queues: Vec<Targets>,
    /// Per group: the strictest max occupancy of the queues it serves.
    pub groups: Vec<Option<f64>>,
    /// Per queue: the groups that serve it.
    pub servers: Vec<Vec<usize>>,
    /// Queue names, for the words of a verdict.
    names: Vec<String>,
    /// Group names, likewise.
    group_names: Vec<String>,
}

impl IntervalTargets {
    pub(crate) fn of(profile: &Profile) -> IntervalTargets {
        let servers = profile.serving_groups();
        let queues: Vec<Targets> = profile.queues.iter().map(|q| q.targets).collect();
        IntervalTargets {
            groups: strictest_occupancy(&queues, &servers, profile.agents.len()),
            queues,
            servers,
            names: profile.queues.iter().map(|q| q.name.clone()).collect(),
            group_names: profile.agents.iter().map(|g| g.name.clone()).collect(),
        }
    }

    /// Every target that applies, in a fixed order.
    fn all(&self) -> Vec<Target> {
        let mut out = Vec::new();
        for (q, t) in self.queues.iter().enumerate() {
            out.push(Target::ServiceLevel(q));
            if t.max_abandon.is_some() {
                out.push(Target::Abandon(q));
            }
            if t.max_asa_secs.is_some() {
                out.push(Target::Asa(q));
            }
        }
        for (g, limit) in self.groups.iter().enumerate() {
            if limit.is_some() {
                out.push(Target::Occupancy(g));
            }
        }
        out
    }
}

/// One target of an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    ServiceLevel(usize),
    Abandon(usize),
    Asa(usize),
    Occupancy(usize),
}

impl Target {
    fn value(self, r: &IntervalCounts) -> f64 {
        match self {
            Target::ServiceLevel(q) => r.queues[q].service_level(),
            Target::Abandon(q) => r.queues[q].abandon_rate(),
            Target::Asa(q) => r.queues[q].asa_secs(),
            Target::Occupancy(g) => r.groups[g].occupancy(),
        }
    }

    fn estimate(self, reps: &[IntervalCounts]) -> Estimate {
        Estimate::from_samples(reps.iter().map(|r| self.value(r)))
    }

    /// What the figure must be (a target [`IntervalTargets::all`] lists is always set).
    fn goal(self, t: &IntervalTargets) -> Goal {
        let queue_goal = |q: usize, figure| t.queues[q].goal(figure);
        let goal = match self {
            Target::ServiceLevel(q) => queue_goal(q, Figure::ServiceLevel),
            Target::Abandon(q) => queue_goal(q, Figure::AbandonRate),
            Target::Asa(q) => queue_goal(q, Figure::Asa),
            Target::Occupancy(g) => t.groups[g].map(Goal::AtMost),
        };
        goal.unwrap_or(Goal::AtMost(f64::INFINITY))
    }

    fn met(self, reps: &[IntervalCounts], t: &IntervalTargets, strict: bool) -> bool {
        self.estimate(reps).meets(self.goal(t), strict)
    }

    /// Whether `cand` is worse than `top` beyond noise: the 95% interval of the paired
    /// differences (same replication, same random streams) lies wholly on the worse side. A
    /// figure `top` has and `cand` lacks (no chat answered at all) is worse.
    fn significantly_worse(self, cand: &[IntervalCounts], top: &[IntervalCounts]) -> bool {
        let higher_is_better = matches!(self, Target::ServiceLevel(_));
        let mut lost = false;
        let worse_by: Vec<f64> = cand
            .iter()
            .zip(top)
            .map(|(c, t)| {
                let (c, t) = (self.value(c), self.value(t));
                lost |= t.is_finite() && !c.is_finite();
                if higher_is_better { t - c } else { c - t }
            })
            .collect();
        lost || Estimate::from_samples(worse_by).ci_low > 0.0
    }

    /// Mean chats per replication behind the figure: the queue's, or all for occupancy.
    fn chats_per_replication(self, reps: &[IntervalCounts]) -> f64 {
        let chats = |r: &IntervalCounts| match self {
            Target::ServiceLevel(q) | Target::Abandon(q) | Target::Asa(q) => r.queues[q].offered,
            Target::Occupancy(_) => r.queues.iter().map(|q| q.offered).sum(),
        };
        reps.iter().map(|r| chats(r) as f64).sum::<f64>() / reps.len().max(1) as f64
    }

    /// The figure against its target, in words.
    fn describe(self, reps: &[IntervalCounts], t: &IntervalTargets, strict: bool) -> String {
        let e = self.estimate(reps);
        let goal = self.goal(t);
        let at_least = matches!(goal, Goal::AtLeast(_));
        let goal = goal.value();
        let bound = if at_least { e.ci_low } else { e.ci_high };
        let (name, pct) = match self {
            Target::ServiceLevel(q) => (format!("{}: service level", t.names[q]), true),
            Target::Abandon(q) => (format!("{}: abandon rate", t.names[q]), true),
            Target::Asa(q) => (format!("{}: ASA", t.names[q]), false),
            Target::Occupancy(g) => (format!("{}: occupancy", t.group_names[g]), true),
        };
        // The figure judged and its target, with the digits that tell them apart.
        let (scale, unit) = if pct { (100.0, "%") } else { (1.0, " s") };
        let judged = if strict { bound } else { e.mean };
        let (shown, goal) = distinct(scale * judged, scale * goal, 1);
        let side = if at_least { "below" } else { "above" };
        if strict {
            format!(
                "{name} {:.1}{unit} (95% bound {shown}{unit}) {side} {goal}{unit}",
                scale * e.mean
            )
        } else {
            format!("{name} {shown}{unit} {side} {goal}{unit}")
        }
    }
}

/// Two-sided confidence of an early pass: a target is settled as met on the first replications
/// only when the judgment on all of them would fall on the same side with this probability.
const SETTLE_CONFIDENCE: f64 = 0.99;

/// Two-sided confidence at which a miss may be settled on the first replications when one
/// wrong miss costs little: lower than [`SETTLE_CONFIDENCE`] because the errors cost
/// differently. A miss settled wrongly stops the search one step of its resolution above the
/// fewest agents (and only when the candidate lies that close to the boundary), while a pass
/// settled wrongly would leave an interval short. The search asks for it where a step is a
/// small share of the agents ([`super::search`]).
pub(crate) const CHEAP_MISS_CONFIDENCE: f64 = 0.90;

/// The confidence at which a miss is settled when a wrong one is as costly as a wrong pass.
pub(crate) const MISS_CONFIDENCE: f64 = SETTLE_CONFIDENCE;

/// How far the mean over `total` replications may still move from what `n` samples predict,
/// at `confidence`: the replications still to run are independent of those seen, so
/// the error is `sd · sqrt(1/n − 1/total)`; the Student quantile covers an sd estimated from
/// few samples.
fn final_mean_spread(sd: f64, n: usize, total: usize, confidence: f64) -> f64 {
    let df = (n.max(2) - 1) as f64;
    let quantile = StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(0.5 + confidence / 2.0))
        .unwrap_or(f64::INFINITY);
    let share_left = (1.0 / n as f64 - 1.0 / total.max(n) as f64).max(0.0);
    quantile * sd * share_left.sqrt()
}

/// Mean and sample standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// What the first replications of a candidate predict for its figure over all of them: the
/// mean, its standard deviation over replications, and how far the mean may still move.
struct Prediction {
    mean: f64,
    sd: f64,
    spread: f64,
    miss_spread: f64,
}

impl Target {
    /// The prediction from `reps` alone, or, with `reference` (another staffing's counts in
    /// every replication, same random streams), from the paired differences to it: they vary
    /// far less than the figure itself, so they settle a verdict on fewer replications.
    /// `None` when the figure is undefined in a replication seen.
    fn predict(
        self,
        reps: &[IntervalCounts],
        reference: Option<&[IntervalCounts]>,
        total: usize,
        miss_confidence: f64,
    ) -> Option<Prediction> {
        let seen: Vec<f64> = reps.iter().map(|r| self.value(r)).collect();
        let n = seen.len();
        if n < 2 || seen.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let Some(reference) = reference.filter(|r| r.len() == total) else {
            let (mean, sd) = mean_sd(&seen);
            return Some(Prediction {
                mean,
                // Few samples understate the sd of all.
                sd: 1.5 * sd,
                spread: final_mean_spread(sd, n, total, SETTLE_CONFIDENCE),
                miss_spread: final_mean_spread(sd, n, total, miss_confidence),
            });
        };
        let base: Vec<f64> = reference.iter().map(|r| self.value(r)).collect();
        if base.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let diffs: Vec<f64> = seen.iter().zip(&base).map(|(c, b)| c - b).collect();
        let (shift, diff_sd) = mean_sd(&diffs);
        // The replications not yet run, imputed as the reference's plus the mean difference.
        let imputed: Vec<f64> = seen
            .iter()
            .copied()
            .chain(base[n..].iter().map(|b| b + shift))
            .collect();
        let (mean, sd) = mean_sd(&imputed);
        Some(Prediction {
            mean,
            sd: sd.hypot(diff_sd),
            spread: final_mean_spread(diff_sd, n, total, SETTLE_CONFIDENCE),
            miss_spread: final_mean_spread(diff_sd, n, total, miss_confidence),
        })
    }

    /// Whether the judgment on all `total` replications is already certain from `reps` (the
    /// first of them): `Some(met)` when it is, `None` when more replications must decide.
    /// `strict` judges on the 95% bound over all replications; a pass is settled at
    /// [`SETTLE_CONFIDENCE`], a miss at `miss_confidence`.
    fn settled(
        self,
        reps: &[IntervalCounts],
        reference: Option<&[IntervalCounts]>,
        total: usize,
        t: &IntervalTargets,
        (strict, miss_confidence): (bool, f64),
    ) -> Option<bool> {
        let p = self.predict(reps, reference, total, miss_confidence)?;
        let bound = if strict {
            student_t_975(total - 1) * p.sd / (total as f64).sqrt()
        } else {
            0.0
        };
        let goal = self.goal(t);
        // The judged figure at its worst and at its best.
        let (worst, best) = match goal {
            Goal::AtLeast(_) => (p.mean - p.spread - bound, p.mean + p.miss_spread - bound),
            Goal::AtMost(_) => (p.mean + p.spread + bound, p.mean - p.miss_spread + bound),
        };
        if goal.met_by(worst) {
            Some(true)
        } else if !goal.met_by(best) {
            Some(false)
        } else {
            None
        }
    }
}

/// The verdict `judge` would give on all `total` replications, when the first of them,
/// `reps`, already settle it (see [`Target::predict`] for `reference`): every target met at
/// [`SETTLE_CONFIDENCE`], or one missed at `miss_confidence` (the failing queues and groups
/// are then those the first replications miss). `None` when more replications are needed.
/// Depends on the counts alone, never on the order they were run in.
pub(crate) fn judge_early(
    reps: &[IntervalCounts],
    reference: Option<&[IntervalCounts]>,
    total: usize,
    targets: &IntervalTargets,
    (strict, miss_confidence): (bool, f64),
) -> Option<Verdict> {
    if reps.len() >= total || !measurable(reps) {
        return None;
    }
    let mut all_met = true;
    for target in targets.all() {
        match target.settled(reps, reference, total, targets, (strict, miss_confidence)) {
            Some(true) => {}
            Some(false) => {
                let verdict = judge(reps, targets, strict);
                // A settled miss: infeasible whatever the mean of these few says.
                return Some(Verdict {
                    feasible: false,
                    ..verdict
                });
            }
            None => all_met = false,
        }
    }
    all_met.then(|| Verdict {
        feasible: true,
        failing_queues: Vec::new(),
        failing_groups: Vec::new(),
    })
}

/// Judges the per-replication counts of one interval against its targets.
pub(crate) fn judge(reps: &[IntervalCounts], targets: &IntervalTargets, strict: bool) -> Verdict {
    let mut failing_queues = Vec::new();
    let mut failing_groups = Vec::new();
    for target in targets.all() {
        if target.met(reps, targets, strict) {
            continue;
        }
        match target {
            Target::Occupancy(g) => failing_groups.push(g),
            Target::ServiceLevel(q) | Target::Abandon(q) | Target::Asa(q) => {
                if !failing_queues.contains(&q) {
                    failing_queues.push(q);
                }
            }
        }
    }
    Verdict {
        feasible: failing_queues.is_empty() && failing_groups.is_empty(),
        failing_queues,
        failing_groups,
    }
}

/// The largest staffing tried in an unreachable interval: its counts, and which targets it
/// meets.
pub(crate) struct Reference {
    counts: Vec<IntervalCounts>,
    /// Per target of [`IntervalTargets::all`], whether the reference meets it.
    met: Vec<bool>,
}

impl Reference {
    /// `strict` judges the reference as the user asked (`--confidence`: on the bound).
    pub(crate) fn new(
        counts: Vec<IntervalCounts>,
        targets: &IntervalTargets,
        strict: bool,
    ) -> Self {
        let met = targets
            .all()
            .into_iter()
            .map(|t| t.met(&counts, targets, strict))
            .collect();
        Reference { counts, met }
    }
}

/// The fallback judgment of an unreachable interval: feasible when every target the reference
/// meets is met, and every target it misses is not significantly worse than there.
pub(crate) fn judge_against(
    reps: &[IntervalCounts],
    reference: &Reference,
    targets: &IntervalTargets,
    strict: bool,
) -> Verdict {
    let feasible = targets
        .all()
        .into_iter()
        .zip(&reference.met)
        .all(|(t, &met)| {
            if met {
                t.met(reps, targets, strict)
            } else {
                !t.significantly_worse(reps, &reference.counts)
            }
        });
    Verdict {
        feasible,
        ..judge(reps, targets, strict)
    }
}

/// The targets `reps` miss, in words, each with what the mean says when the bound misses
/// but the mean meets (too few chats for the bound to reach the target).
pub(crate) fn shortfalls(
    reps: &[IntervalCounts],
    targets: &IntervalTargets,
    strict: bool,
) -> Vec<String> {
    targets
        .all()
        .into_iter()
        .filter(|t| !t.met(reps, targets, strict))
        .map(|t| {
            let mut text = t.describe(reps, targets, strict);
            if strict && t.met(reps, targets, false) {
                let chats = t.chats_per_replication(reps);
                text.push_str(&format!(
                    ": the mean meets it, but with {chats:.1} chats per replication the 95% \
                     bound cannot"
                ));
            }
            text
        })
        .collect()
}

/// Whether interval `i` has any chat to judge in any replication.
pub(crate) fn measurable(reps: &[IntervalCounts]) -> bool {
    reps.iter().any(|r| r.queues.iter().any(|q| q.offered > 0))
}

/// The queues and the groups missing a target in one interval.
pub(crate) type Misses = (Vec<usize>, Vec<usize>);

/// Per interval of a whole-day run, the queues and groups missing a target (empty where
/// nothing was measured).
pub(crate) fn judge_day(
    runs: &[ReplicationTallies],
    intervals: usize,
    targets: &IntervalTargets,
    strict: bool,
) -> Vec<Misses> {
    let runs: Vec<&ReplicationTallies> = runs.iter().collect();
    judge_intervals(&runs, 0..intervals, targets, strict)
}

/// [`judge_day`] for the intervals `range` of runs that may not have finished.
pub(crate) fn judge_intervals(
    runs: &[&ReplicationTallies],
    range: std::ops::Range<usize>,
    targets: &IntervalTargets,
    strict: bool,
) -> Vec<Misses> {
    let per_run: Vec<Vec<IntervalCounts>> = runs
        .iter()
        .map(|r| range_counts(r, range.clone(), targets))
        .collect();
    judge_counts(&per_run, targets, strict)
}

/// A run's counts in each interval of `range`.
pub(crate) fn range_counts(
    run: &ReplicationTallies,
    range: std::ops::Range<usize>,
    targets: &IntervalTargets,
) -> Vec<IntervalCounts> {
    let (nq, ng) = (targets.queues.len(), targets.groups.len());
    range.map(|i| interval_counts(run, i, nq, ng)).collect()
}

/// Per interval, the queues and groups missing a target, from each run's counts per interval
/// (`per_run[run][interval]`); empty where nothing was measured.
pub(crate) fn judge_counts(
    per_run: &[Vec<IntervalCounts>],
    targets: &IntervalTargets,
    strict: bool,
) -> Vec<Misses> {
    let intervals = per_run.first().map_or(0, Vec::len);
    (0..intervals)
        .map(|k| {
            let reps: Vec<IntervalCounts> = per_run.iter().map(|r| r[k].clone()).collect();
            if !measurable(&reps) {
                return (Vec::new(), Vec::new());
            }
            let v = judge(&reps, targets, strict);
            (v.failing_queues, v.failing_groups)
        })
        .collect()
}

#[cfg(test)]
mod tests;
