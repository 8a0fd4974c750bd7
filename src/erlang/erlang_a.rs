//! Erlang A (M/M/n+M, Palm): Poisson arrivals, exponential handle time and exponential patience.
//!
//! The birth–death chain is summed exactly instead of through the incomplete-gamma closed forms
//! because the per-state sums also give the service level (which needs the wait distribution
//! of each queue position) and stay accurate for loads far above the staffing:
//!
//! - p_k ∝ A^k / k! for k ≤ n, and p_{n+j} = p_n · Π_{i=1..j} λ / (nμ + iθ). The part up to n
//!   comes from Erlang B (Σ_{k≤n} p_k / p_n = 1 / B(n, A)), the queue part is summed in log
//!   space and truncated once past its mode a term falls below 1e−18 of the largest one.
//! - A chat arriving with j chats waiting ahead waits V = Σ_{i=0..j} Exp(nμ + iθ) if patient
//!   enough; e^(−θV) ~ Beta(x, j+1) with x = nμ/θ, so P(served | j) = x / (x+j+1) and
//!   P(served, V ≤ t | j) = x / (x+j+1) · (1 − I_{e^(−θt)}(x+1, j+1)).
//! - The regularized incomplete beta tail 1 − I_z(x+1, b) is carried along b = 1, 2, ... by the
//!   exact recurrence I_z(a, b+1) = I_z(a, b) + z^a (1−z)^b / (b·B(a, b)), starting from
//!   I_z(a, 1) = z^a. This is O(1) per queue position where a fresh continued fraction would
//!   cost O(√x); the unit tests check it against `statrs::function::beta::beta_reg`.
//! - P(abandon) = θ·E[queue] / λ, and the mean wait of all chats is P(abandon) / θ.

use super::erlang_c::erlang_b;
use super::{ErlangError, Evaluation, Load, Model, invalid};

/// Queue terms below this share of the largest term are dropped (past the mode only).
const NEGLIGIBLE_TERM: f64 = 1e-18;

/// The service-level tail stops once 1 − I falls below this; later terms only shrink.
const NEGLIGIBLE_TAIL: f64 = 1e-18;

/// Refuse more queue states than this (about a second of work): only absurdly long patience
/// relative to the handle time gets here.
const MAX_QUEUE_STATES: u64 = 20_000_000;

/// Every Erlang A figure of `agents` agents facing `load` (arrival rate > 0, validated inputs)
/// with mean patience `patience_secs`, the service level measured at `threshold_secs`.
pub(super) fn evaluate(
    load: &Load,
    patience_secs: f64,
    agents: u32,
    threshold_secs: f64,
) -> Result<Evaluation, ErlangError> {
    let lambda = load.arrival_rate_per_sec;
    let traffic = load.traffic_erlangs();
    let theta = 1.0 / patience_secs;
    let n = f64::from(agents);
    let mut evaluation = Evaluation {
        model: Model::ErlangA,
        traffic_erlangs: traffic,
        agents,
        rostered_agents: agents,
        service_level: 1.0,
        service_level_answered: 1.0,
        prob_wait: 0.0,
        prob_abandon: 0.0,
        asa_secs: 0.0,
        mean_wait_secs: 0.0,
        occupancy: if agents == 0 { 0.0 } else { traffic / n },
    };
    if agents == 0 {
        // Every chat waits until it abandons.
        evaluation.service_level = 0.0;
        evaluation.service_level_answered = 0.0;
        evaluation.prob_wait = 1.0;
        evaluation.prob_abandon = 1.0;
        evaluation.mean_wait_secs = patience_secs;
        return Ok(evaluation);
    }
    let blocking = erlang_b(agents, traffic);
    if blocking == 0.0 {
        // p_n underflowed: the chance of reaching a full staffing is below 1e-308.
        return Ok(evaluation);
    }
    // ln(Σ_{k<n} p_k / p_n); −∞ when the load is so large that B rounds to 1.
    let ln_below = (1.0 - blocking).ln() - blocking.ln();
    let chain = Chain {
        lambda,
        ln_lambda: lambda.ln(),
        service_rate: n / load.aht_secs,
        theta,
    };
    let (last, ln_mass) = chain.mass(ln_below).ok_or_else(|| {
        invalid(
            "--patience",
            format!(
                "{patience_secs} s is so long against {agents} agents and this load that the \
                 Erlang A queue needs over {MAX_QUEUE_STATES} states; give a shorter patience \
                 or more agents, or omit --patience for Erlang C"
            ),
        )
    })?;
    let QueueSums {
        prob_wait,
        mean_queue,
        answered_within,
        answered_wait,
    } = chain.sums(last, ln_mass, threshold_secs);

    let prob_abandon = (theta * mean_queue / lambda).clamp(0.0, 1.0);
    let prob_answered = 1.0 - prob_abandon;
    let service_level = ((ln_below - ln_mass).exp() + answered_within).clamp(0.0, 1.0);
    evaluation.service_level = service_level;
    evaluation.prob_wait = prob_wait.clamp(0.0, 1.0);
    evaluation.prob_abandon = prob_abandon;
    evaluation.mean_wait_secs = prob_abandon * patience_secs;
    evaluation.occupancy = traffic * prob_answered / n;
    if prob_answered > 0.0 {
        evaluation.service_level_answered = (service_level / prob_answered).clamp(0.0, 1.0);
        evaluation.asa_secs = answered_wait / prob_answered;
    } else {
        evaluation.service_level_answered = 0.0;
        evaluation.asa_secs = 0.0;
    }
    Ok(evaluation)
}

/// The queue part of the chain: arrivals at rate λ, service at nμ, abandons at θ per waiting
/// chat.
struct Chain {
    lambda: f64,
    ln_lambda: f64,
    /// nμ.
    service_rate: f64,
    theta: f64,
}

/// What the queue states contribute, each weighted by its arrival-seen probability.
struct QueueSums {
    prob_wait: f64,
    mean_queue: f64,
    answered_within: f64,
    answered_wait: f64,
}

impl Chain {
    /// ln(p_{n+j} / p_{n+j−1}).
    fn ln_term_step(&self, j: u64) -> f64 {
        self.ln_lambda - (self.service_rate + j as f64 * self.theta).ln()
    }

    /// Pass 1: how many queue states matter, and the log of the total mass relative to p_n
    /// (`ln_below` = ln(Σ_{k<n} p_k / p_n)); `None` past [`MAX_QUEUE_STATES`].
    fn mass(&self, ln_below: f64) -> Option<(u64, f64)> {
        let mut ln_max = ln_below.max(0.0);
        let mut scaled_sum = (ln_below - ln_max).exp() + (-ln_max).exp();
        let mut ln_term = 0.0;
        let mut last = 0_u64;
        loop {
            let j = last + 1;
            let next = ln_term + self.ln_term_step(j);
            let past_mode = self.service_rate + j as f64 * self.theta > self.lambda;
            if past_mode && next < ln_max + NEGLIGIBLE_TERM.ln() {
                break;
            }
            if j > MAX_QUEUE_STATES {
                return None;
            }
            ln_term = next;
            last = j;
            if ln_term > ln_max {
                scaled_sum = scaled_sum * (ln_max - ln_term).exp() + 1.0;
                ln_max = ln_term;
            } else {
                scaled_sum += (ln_term - ln_max).exp();
            }
        }
        Some((last, ln_max + scaled_sum.ln()))
    }

    /// Pass 2: the arrival-seen probability of each queue state up to `last` and what it
    /// contributes, the service level measured at `threshold_secs`.
    fn sums(&self, last: u64, ln_mass: f64, threshold_secs: f64) -> QueueSums {
        let theta = self.theta;
        let x = self.service_rate / theta;
        let beta_a = x + 1.0;
        let theta_t = theta * threshold_secs;
        let ln_one_minus_z = (-(-theta_t).exp_m1()).ln();
        // 1 − I_z(a, 1) = 1 − z^a, and the increment d_1 = z^a (1−z) a, with z = e^(−θt).
        let mut beta_tail = if threshold_secs > 0.0 {
            -(-beta_a * theta_t).exp_m1()
        } else {
            0.0
        };
        let mut ln_beta_step = -beta_a * theta_t + ln_one_minus_z + beta_a.ln();
        let mut sums = QueueSums {
            prob_wait: 0.0,
            mean_queue: 0.0,
            answered_within: 0.0,
            answered_wait: 0.0,
        };
        let mut harmonic = 0.0;
        let mut ln_term = 0.0;
        for j in 0..=last {
            if j > 0 {
                ln_term += self.ln_term_step(j);
            }
            let prob = (ln_term - ln_mass).exp();
            let ahead = j as f64;
            let served = x / (x + ahead + 1.0);
            harmonic += 1.0 / (x + ahead + 1.0);
            sums.prob_wait += prob;
            sums.mean_queue += ahead * prob;
            // E[V·1{served} | j] = P(served | j) · Σ_{i=0..j} 1 / (θ (x + i + 1)).
            sums.answered_wait += prob * served * harmonic / theta;
            if beta_tail > NEGLIGIBLE_TAIL {
                sums.answered_within += prob * served * beta_tail;
                let b = ahead + 1.0;
                beta_tail -= ln_beta_step.exp();
                ln_beta_step += ln_one_minus_z + ((beta_a + b) / (b + 1.0)).ln();
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use statrs::function::beta::beta_reg;

    /// The recurrence used in `evaluate` for 1 − I_z(a, b), b = 1..=count.
    fn tails_by_recurrence(a: f64, theta_t: f64, count: usize) -> Vec<f64> {
        let ln_one_minus_z = (-(-theta_t).exp_m1()).ln();
        let mut tail = -(-a * theta_t).exp_m1();
        let mut ln_step = -a * theta_t + ln_one_minus_z + a.ln();
        let mut out = Vec::with_capacity(count);
        for b in 1..=count {
            out.push(tail);
            let b = b as f64;
            tail -= ln_step.exp();
            ln_step += ln_one_minus_z + ((a + b) / (b + 1.0)).ln();
        }
        out
    }

    #[test]
    fn beta_tail_recurrence_matches_statrs() {
        for &(a, theta_t) in &[
            (1.5_f64, 0.1_f64),
            (14.0, 1.0 / 6.0),
            (95.5, 0.2),
            (3334.0, 1.0 / 6.0),
        ] {
            let z = (-theta_t).exp();
            let tails = tails_by_recurrence(a, theta_t, 400);
            for (i, tail) in tails.iter().enumerate() {
                let b = (i + 1) as f64;
                let expected = 1.0 - beta_reg(a, b, z);
                assert!(
                    (tail - expected).abs() < 1e-12,
                    "a {a} b {b}: recurrence {tail} vs statrs {expected}"
                );
            }
        }
    }
}
