//! Handle time at concurrency 1 and the slowdown per concurrency level, recovered as the
//! simulator makes them: a chat's work content W follows its queue's family (mean m, cv c) and
//! progresses at rate 1/f(n) while its agent holds n chats, so a leg handled with T_k seconds at
//! level k has W = sum_k T_k / f(k), and the density of its observed end is p(W) / f(level at the
//! end). Each agent's level path comes from a sweep over the legs it worked (sorted once, so a
//! million chats take a sort); legs still open when the history ends are right-censored.
//!
//! The likelihood is maximised jointly over every queue's (m, c) and every group's factors
//! (level 1 fixed at 1), the intervals coming from the joint observed information, so a factor's
//! interval carries the uncertainty of the handle time and the other factors. The family of
//! each queue is chosen by AIC on the work contents at the factors of the previous round (the
//! `-ln f` terms do not depend on the family); the exponential occurrence/exposure estimate
//! starts it. A queue's `slowdown` is the one of the group that answered most of its chats: the
//! simulator gives factors to agent groups, not to queues.

use rayon::prelude::*;

use super::families::{self, Family, FamilyOptimum, MIN_OBSERVATIONS, Term};
use super::history::History;
use super::legs::{Leg, Sweep, collect_legs, sweep};
use super::report::{DistFit, GroupFit, SlowdownLevel};

/// A level needs this many completions at it to get its own factor; the time at levels above
/// the last such level counts at that level.
const MIN_LEVEL_COMPLETIONS: u64 = 30;

/// The 97.5% standard normal quantile.
const Z_975: f64 = 1.959_963_984_540_054;

/// What `handling` measured: per queue (by index) the handle time at concurrency 1 and the
/// slowdown its chats saw; per group the factors; and what to warn about.
#[derive(Debug, Clone, Default)]
pub struct Handling {
    /// Per queue index: handle time (None on thin data) and slowdown per level.
    pub queues: Vec<(Option<DistFit>, Vec<SlowdownLevel>)>,
    /// Per agent group (from the agent log, else one group `agents`).
    pub groups: Vec<GroupFit>,
    /// Thin data, skipped legs, folded levels.
    pub warnings: Vec<String>,
}

/// The legs in the likelihood, with where their parameters sit in the joint vector.
struct Model<'a> {
    levels: usize,
    exposure: &'a [f64],
    end_level: &'a [u8],
    /// Per leg: its queue's slot in `queue_param`, or `None` when left out of the likelihood
    /// (a queue too thin to fit, or a leg censored before any work).
    leg_queue: &'a [Option<usize>],
    /// Per leg: its group.
    leg_group: &'a [usize],
    /// Per group: the index of the factor of level 2 (levels 2.. follow; the factors come
    /// first in the parameter vector).
    group_param: &'a [usize],
    /// Per group: how many levels have a factor of their own (1 = only level 1).
    group_levels: &'a [usize],
    /// Per queue slot: the index of `a` (and `s` after it unless exponential) and the family.
    queue_param: Vec<(usize, Family)>,
    params: usize,
}

impl Model<'_> {
    /// `ln f` of level index `k` (0 = level 1) of group `g`.
    fn ln_factor(&self, p: &[f64], g: usize, k: usize) -> f64 {
        if k == 0 {
            0.0
        } else {
            p[self.group_param[g] + k - 1]
        }
    }

    /// The work content of leg `i` at the factors `p`.
    fn work(&self, p: &[f64], i: usize) -> f64 {
        let g = self.leg_group[i];
        let row = &self.exposure[i * self.levels..(i + 1) * self.levels];
        (0..self.group_levels[g])
            .map(|k| row[k] * (-self.ln_factor(p, g, k)).exp())
            .sum()
    }

    /// Joint log-likelihood and gradient. Legs are summed in fixed chunks, in parallel, and
    /// the chunks' sums added in order, so the result is the same whatever the thread count.
    fn eval(&self, p: &[f64]) -> (f64, Vec<f64>) {
        const CHUNK: usize = 16_384;
        let n = self.leg_group.len();
        let partials: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                (c * CHUNK..n.min((c + 1) * CHUNK)).fold((0.0, vec![0.0; self.params]), |acc, i| {
                    self.add_leg(p, i, acc)
                })
            })
            .collect();
        partials
            .into_iter()
            .fold((0.0, vec![0.0; self.params]), |(la, mut ga), (lb, gb)| {
                ga.iter_mut().zip(&gb).for_each(|(x, y)| *x += y);
                (la + lb, ga)
            })
    }

    /// Adds leg `i`'s log-likelihood and gradient at `p` to the running sums.
    fn add_leg(&self, p: &[f64], i: usize, (mut ll, mut grad): (f64, Vec<f64>)) -> (f64, Vec<f64>) {
        let Some(q) = self.leg_queue[i] else {
            return (ll, grad);
        };
        let (ai, family) = self.queue_param[q];
        let s = if family == Family::Exponential {
            0.0
        } else {
            p[ai + 1]
        };
        let w = self.work(p, i);
        let end = self.end_level[i] as usize;
        let Term { ll: l, da, ds, dw } = family.term(w, end > 0, p[ai], s);
        let g = self.leg_group[i];
        ll += l;
        grad[ai] += da;
        if family != Family::Exponential {
            grad[ai + 1] += ds;
        }
        let row = &self.exposure[i * self.levels..(i + 1) * self.levels];
        let first = self.group_param[g];
        for (j, t) in (first..).zip(&row[1..self.group_levels[g]]) {
            grad[j] -= dw * t * (-p[j]).exp();
        }
        if end > 1 {
            ll -= p[self.group_param[g] + end - 2];
            grad[self.group_param[g] + end - 2] -= 1.0;
        }
        (ll, grad)
    }

    /// Each queue slot's work contents and whether each ended, at the factors `p`.
    fn works(&self, p: &[f64], slots: usize) -> Vec<(Vec<f64>, Vec<bool>)> {
        let mut out = vec![(Vec::new(), Vec::new()); slots];
        for i in 0..self.leg_group.len() {
            if let Some(q) = self.leg_queue[i] {
                let w = self.work(p, i);
                let completed = self.end_level[i] > 0;
                if completed || w > 0.0 {
                    out[q].0.push(w);
                    out[q].1.push(completed);
                }
            }
        }
        out
    }
}

/// Group names and each agent's group: the agent log's groups, plus one group `agents` for the
/// agents it does not name (every agent without an agent log).
fn groups_of(h: &History) -> (Vec<String>, Vec<usize>) {
    let mut names = h.groups.clone();
    let fallback = names.len();
    let agent_group: Vec<usize> = (0..h.agents.len())
        .map(|a| {
            h.agent_group
                .get(a)
                .copied()
                .flatten()
                .map_or(fallback, |g| g as usize)
        })
        .collect();
    if agent_group.contains(&fallback) {
        names.push("agents".to_string());
    }
    (names, agent_group)
}

/// The occurrence/exposure estimate of `ln f` per group and level (the exact maximum for an
/// exponential work content and one queue), the start of the joint fit.
fn occurrence_exposure(m: &Model, sweep: &Sweep, groups: usize) -> Vec<f64> {
    let mut events = vec![vec![0.0; m.levels]; groups];
    let mut exposure = vec![vec![0.0; m.levels]; groups];
    for (i, &g) in m.leg_group.iter().enumerate() {
        let row = &sweep.exposure[i * m.levels..(i + 1) * m.levels];
        exposure[g].iter_mut().zip(row).for_each(|(e, t)| *e += t);
        if let Some(k) = (sweep.end_level[i] as usize).checked_sub(1) {
            events[g][k] += 1.0;
        }
    }
    let mut phi = Vec::new();
    for g in 0..groups {
        let rate = |k: usize| events[g][k] / exposure[g][k];
        for k in 1..m.group_levels[g] {
            let v = (rate(0) / rate(k)).ln();
            phi.push(if v.is_finite() { v } else { 0.0 });
        }
    }
    phi
}

/// Per group the levels that get a factor: up to the highest with enough completions; the
/// time and ends above it are folded into it.
fn fold_levels(sweep: &mut Sweep, leg_group: &[usize], groups: usize) -> Vec<usize> {
    let levels = sweep.levels;
    let mut completions = vec![vec![0u64; levels]; groups];
    for (i, &g) in leg_group.iter().enumerate() {
        if let Some(k) = (sweep.end_level[i] as usize).checked_sub(1) {
            completions[g][k] += 1;
        }
    }
    let group_levels: Vec<usize> = completions
        .iter()
        .map(|c| {
            c.iter()
                .rposition(|n| *n >= MIN_LEVEL_COMPLETIONS)
                .map_or(1, |k| k + 1)
        })
        .collect();
    for (i, &g) in leg_group.iter().enumerate() {
        let top = group_levels[g];
        let row = &mut sweep.exposure[i * levels..(i + 1) * levels];
        let above: f64 = row[top..].iter().sum();
        row[top - 1] += above;
        row[top..].iter_mut().for_each(|t| *t = 0.0);
        sweep.end_level[i] = sweep.end_level[i].min(top as u8);
    }
    group_levels
}

/// Measures handle time and slowdown; see the module documentation.
pub fn handling(h: &History) -> Handling {
    let mut warnings = Vec::new();
    let (legs, skipped) = collect_legs(h);
    if skipped > 0 {
        warnings.push(format!(
            "handle time: {skipped} chat legs end before they start (close or transfer before \
             the answer) and are left out"
        ));
    }
    let mut sweep = sweep(&legs, h.agents.len());
    let (group_names, agent_group) = groups_of(h);
    let leg_group: Vec<usize> = legs.iter().map(|l| agent_group[l.agent as usize]).collect();
    let group_levels = fold_levels(&mut sweep, &leg_group, group_names.len());
    let group_param: Vec<usize> = group_levels
        .iter()
        .scan(0, |next, l| {
            let at = *next;
            *next += l - 1;
            Some(at)
        })
        .collect();
    let factors: usize = group_levels.iter().map(|l| l - 1).sum();
    let (leg_queue, slot_queue) = queue_slots(h, &legs, &sweep, &mut warnings);
    let base = Model {
        levels: sweep.levels,
        exposure: &sweep.exposure,
        end_level: &sweep.end_level,
        leg_queue: &leg_queue,
        leg_group: &leg_group,
        group_param: &group_param,
        group_levels: &group_levels,
        queue_param: Vec::new(),
        params: factors,
    };
    let phi = occurrence_exposure(&base, &sweep, group_names.len());
    let joint = fit_joint(&base, phi, slot_queue.len());
    if joint.is_none() && !slot_queue.is_empty() {
        warnings.push(
            "handle time: the joint fit did not converge; no handle time or slowdown measured"
                .into(),
        );
    }
    let mut groups = group_fits(h, &legs, &leg_group, &agent_group, &sweep, &group_names);
    let mut queues = vec![(None, Vec::new()); h.queues.len()];
    if let Some(j) = &joint {
        for (g, group) in groups.iter_mut().enumerate() {
            group.slowdown = group_slowdown(&base, j, g);
        }
        for (slot, &q) in slot_queue.iter().enumerate() {
            let chats = leg_queue.iter().filter(|s| **s == Some(slot)).count();
            queues[q].0 = queue_dist(j, slot, chats);
        }
    }
    let dominant = dominant_groups(h.queues.len(), &legs, &leg_group, group_names.len());
    for (q, g) in dominant.into_iter().enumerate() {
        if let Some(g) = g {
            queues[q].1 = groups[g].slowdown.clone();
        }
    }
    for g in groups
        .iter()
        .filter(|g| g.concurrency as usize > group_levels_len(g))
    {
        warnings.push(format!(
            "group {}: agents held up to {} chats, but levels above {} have fewer than \
             {MIN_LEVEL_COMPLETIONS} completions; their time counts at level {}",
            g.name,
            g.concurrency,
            group_levels_len(g),
            group_levels_len(g)
        ));
    }
    Handling {
        queues,
        groups,
        warnings,
    }
}

/// The levels a group's slowdown covers (at least 1).
fn group_levels_len(g: &GroupFit) -> usize {
    g.slowdown.len().max(1)
}

/// Per leg its queue's slot (queues with enough completed legs get one, in queue order), and
/// per slot its queue. Censored legs with no time at all carry nothing and are left out.
fn queue_slots(
    h: &History,
    legs: &[Leg],
    sweep: &Sweep,
    warnings: &mut Vec<String>,
) -> (Vec<Option<usize>>, Vec<usize>) {
    let mut completed = vec![0usize; h.queues.len()];
    for l in legs.iter().filter(|l| l.completed) {
        completed[l.queue as usize] += 1;
    }
    let mut slot_of = vec![None; h.queues.len()];
    let mut slot_queue = Vec::new();
    for (q, &n) in completed.iter().enumerate() {
        if n >= MIN_OBSERVATIONS {
            slot_of[q] = Some(slot_queue.len());
            slot_queue.push(q);
        } else {
            warnings.push(format!(
                "queue {}: {n} completed chat legs (fewer than {MIN_OBSERVATIONS}): no handle \
                 time measured",
                h.queues[q]
            ));
        }
    }
    let leg_queue = legs
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let row = &sweep.exposure[i * sweep.levels..(i + 1) * sweep.levels];
            let worked = row.iter().sum::<f64>() > 0.0;
            slot_of[l.queue as usize].filter(|_| l.completed || worked)
        })
        .collect();
    (leg_queue, slot_queue)
}

/// The joint maximum: families, where each queue's parameters sit, the optimum with its
/// covariance, and each queue's candidates at the final factors.
struct Joint {
    families: Vec<Family>,
    queue_param: Vec<(usize, Family)>,
    opt: families::Optimum,
    candidates: Vec<Vec<FamilyOptimum>>,
}

/// Alternates the family choice (by AIC on the work contents at the current factors) and the
/// joint fit, until the choice no longer changes (at most four rounds).
fn fit_joint(base: &Model, mut phi: Vec<f64>, slots: usize) -> Option<Joint> {
    let mut done: Option<Joint> = None;
    for round in 0..4 {
        let fits: Vec<Vec<FamilyOptimum>> = base
            .works(&phi, slots)
            .iter()
            .map(|(w, o)| families::fit_all(w, o))
            .collect();
        if fits.iter().any(Vec::is_empty) {
            return None;
        }
        let chosen: Vec<Family> = fits.iter().map(|f| f[0].family).collect();
        if let Some(j) = done.as_mut()
            && (j.families == chosen || round == 3)
        {
            j.candidates = fits;
            return done;
        }
        let mut start = phi.clone();
        let mut queue_param = Vec::with_capacity(slots);
        for f in &fits {
            queue_param.push((start.len(), f[0].family));
            start.push(f[0].a);
            if f[0].family != Family::Exponential {
                start.push(f[0].s);
            }
        }
        let model = Model {
            queue_param,
            params: start.len(),
            ..*base
        };
        let opt = families::maximize(start, |p| model.eval(p))?;
        phi = opt.params[..base.params].to_vec();
        done = Some(Joint {
            families: chosen,
            queue_param: model.queue_param,
            opt,
            candidates: Vec::new(),
        });
    }
    done
}

/// The interval `exp(x ± 1.96 se)` of a log-scale estimate; unbounded without information.
fn log_interval(x: f64, variance: Option<f64>) -> (f64, f64) {
    match variance
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(f64::sqrt)
    {
        Some(se) => ((x - Z_975 * se).exp(), (x + Z_975 * se).exp()),
        None => (0.0, f64::INFINITY),
    }
}

fn variance(opt: &families::Optimum, i: usize) -> Option<f64> {
    opt.cov.as_ref().map(|c| c[(i, i)])
}

/// Group `g`'s factors with their intervals and the hours at each level.
fn group_slowdown(m: &Model, j: &Joint, g: usize) -> Vec<SlowdownLevel> {
    let mut hours = vec![0.0; m.group_levels[g]];
    let mut legs = 0;
    for (i, _) in m.leg_group.iter().enumerate().filter(|(_, lg)| **lg == g) {
        legs += 1;
        let row = &m.exposure[i * m.levels..(i + 1) * m.levels];
        hours
            .iter_mut()
            .zip(row)
            .for_each(|(h, t)| *h += t / 3600.0);
    }
    if legs == 0 {
        return Vec::new();
    }
    hours
        .iter()
        .enumerate()
        .map(|(k, &chat_hours)| {
            let (factor, (ci_low, ci_high)) = if k == 0 {
                (1.0, (1.0, 1.0))
            } else {
                let idx = m.group_param[g] + k - 1;
                let phi = j.opt.params[idx];
                (phi.exp(), log_interval(phi, variance(&j.opt, idx)))
            };
            SlowdownLevel {
                level: k as u32 + 1,
                factor,
                ci_low,
                ci_high,
                chat_hours,
            }
        })
        .collect()
}

/// Queue slot `slot`'s handle time from the joint fit.
fn queue_dist(j: &Joint, slot: usize, chats: usize) -> Option<DistFit> {
    let (ai, family) = *j.queue_param.get(slot)?;
    let a = j.opt.params[ai];
    let s = if family == Family::Exponential {
        0.0
    } else {
        j.opt.params[ai + 1]
    };
    let (mean_ci_low, mean_ci_high) = log_interval(a, variance(&j.opt, ai));
    Some(DistFit {
        dist: family.name().to_string(),
        mean_secs: a.exp(),
        cv: family.cv(s),
        mean_ci_low,
        mean_ci_high,
        chats: chats as u64,
        candidates: j
            .candidates
            .get(slot)?
            .iter()
            .map(FamilyOptimum::candidate)
            .collect(),
    })
}

/// Per group: agents, skills (busiest first), highest level held, legs answered.
fn group_fits(
    h: &History,
    legs: &[Leg],
    leg_group: &[usize],
    agent_group: &[usize],
    sweep: &Sweep,
    names: &[String],
) -> Vec<GroupFit> {
    names
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let mut per_queue = vec![0u64; h.queues.len()];
            for (l, _) in legs.iter().zip(leg_group).filter(|(_, lg)| **lg == g) {
                per_queue[l.queue as usize] += 1;
            }
            let mut skills: Vec<usize> =
                (0..per_queue.len()).filter(|q| per_queue[*q] > 0).collect();
            skills.sort_by_key(|q| std::cmp::Reverse(per_queue[*q]));
            let members = || agent_group.iter().enumerate().filter(|(_, ag)| **ag == g);
            GroupFit {
                name: name.clone(),
                agents: members().count() as u64,
                skills: skills.iter().map(|q| h.queues[*q].clone()).collect(),
                concurrency: members()
                    .map(|(a, _)| sweep.agent_peak[a])
                    .max()
                    .unwrap_or(0),
                slowdown: Vec::new(),
                chats: per_queue.iter().sum(),
            }
        })
        .collect()
}

/// Per queue the group that answered most of its legs.
fn dominant_groups(
    queues: usize,
    legs: &[Leg],
    leg_group: &[usize],
    groups: usize,
) -> Vec<Option<usize>> {
    let mut counts = vec![vec![0u64; groups]; queues];
    for (l, &g) in legs.iter().zip(leg_group) {
        counts[l.queue as usize][g] += 1;
    }
    counts
        .iter()
        .map(|c| (0..groups).filter(|g| c[*g] > 0).max_by_key(|g| c[*g]))
        .collect()
}
