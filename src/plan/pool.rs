//! The "balanced pool" model of a chat team: n agents with a concurrency cap K, each chat
//! progressing at rate 1/f(c) while its agent holds c chats, and customers abandoning at rate θ.
//!
//! It is a birth–death chain on the number of chats k in the system. Below n·K chats spread as
//! evenly as possible over the agents, so the service rate is Σ_i c_i / (AHT·f(c_i)) over that
//! split; from n·K on, every slot is busy, the rate is μ_full = n·K / (AHT·f(K)) plus (k − nK)·θ
//! for abandons, and the queue is exactly an Erlang A queue with service rate μ_full. A chat
//! arriving with j chats waiting ahead is therefore answered within t with probability
//! x/(x+j+1) · (1 − I_{e^(−θt)}(x+1, j+1)), x = μ_full/θ (without patience: the Erlang(j+1, μ_full)
//! distribution function). Arrivals see the stationary distribution (PASTA).
//!
//! With f ≡ 1 the model is Erlang A with n·K servers, which the simulator matches exactly;
//! with slowdown it matched simulation within confidence intervals in every case tried, which
//! makes it the planner's analytic seed.

use statrs::function::beta::beta_reg;
use statrs::function::gamma::gamma_lr;

/// Queue states whose probability falls below this share of the mass are dropped.
const NEGLIGIBLE: f64 = 1e-16;

/// One agent group's load in one interval.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PoolLoad {
    /// Chats arriving per second.
    pub arrival_rate: f64,
    /// Mean work content of a chat at concurrency 1, seconds.
    pub aht_secs: f64,
    /// Mean patience, seconds; `None`: nobody abandons.
    pub patience_secs: Option<f64>,
    /// Concurrency cap K.
    pub cap: u32,
    /// Slowdown factor f(c) for c = 0..=K (index 0 unused).
    pub slowdown: Vec<f64>,
}

/// What the model predicts for one staffing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PoolFigures {
    /// Share of chats that wait at all.
    pub prob_wait: f64,
    /// Share of chats that abandon.
    pub prob_abandon: f64,
    /// Answered within the threshold / all chats.
    pub service_level: f64,
    /// Mean wait of all chats, seconds.
    pub mean_wait_secs: f64,
    /// Busy slots / slots.
    pub occupancy: f64,
    /// Mean chats per agent.
    pub mean_concurrency: f64,
    /// False when the queue grows without bound (no patience, too few slots).
    pub stable: bool,
}

/// The birth–death chain of one staffing: unnormalised log-probabilities of 0, 1, ... chats
/// in the system (the states below `slots`, then the queue) and their largest.
struct Chain {
    log_p: Vec<f64>,
    max_log: f64,
    slots: usize,
    mu_full: f64,
    theta: f64,
}

impl PoolLoad {
    /// The model's figures with `agents` agents, service level at `threshold_secs`.
    pub(crate) fn evaluate(&self, agents: u32, threshold_secs: f64) -> PoolFigures {
        let n = agents as usize;
        let cap = self.cap.max(1) as usize;
        let slots = n * cap;
        let lambda = self.arrival_rate;
        if lambda <= 0.0 {
            return PoolFigures {
                prob_wait: 0.0,
                prob_abandon: 0.0,
                service_level: 1.0,
                mean_wait_secs: 0.0,
                occupancy: 0.0,
                mean_concurrency: 0.0,
                stable: true,
            };
        }
        let theta = self.patience_secs.map_or(0.0, |p| 1.0 / p);
        let mu_full = if n == 0 {
            0.0
        } else {
            slots as f64 / (self.aht_secs * self.factor(cap))
        };
        if theta == 0.0 && lambda >= mu_full {
            return PoolFigures {
                prob_wait: 1.0,
                prob_abandon: 0.0,
                service_level: 0.0,
                mean_wait_secs: f64::INFINITY,
                occupancy: 1.0,
                mean_concurrency: cap as f64,
                stable: false,
            };
        }
        let chain = self.chain(n, slots, mu_full, theta);
        chain.figures(lambda, n, threshold_secs)
    }

    /// f(c), kept away from 0.
    fn factor(&self, c: usize) -> f64 {
        self.slowdown.get(c).copied().unwrap_or(1.0).max(1e-9)
    }

    /// The chain's log-weights with `n` agents of `slots` slots in all, until the queue's
    /// states become negligible.
    fn chain(&self, n: usize, slots: usize, mu_full: f64, theta: f64) -> Chain {
        let lambda = self.arrival_rate;
        let rate_at = |k: usize| -> f64 {
            // k chats split as evenly as possible over n agents.
            let (q, r) = (k / n, k % n);
            let per_agent = |c: usize| {
                if c == 0 {
                    0.0
                } else {
                    c as f64 / self.factor(c)
                }
            };
            (r as f64 * per_agent(q + 1) + (n - r) as f64 * per_agent(q)) / self.aht_secs
        };
        // Unnormalised log-probabilities of the states below the full pool, then the queue.
        let mut log_p = Vec::with_capacity(slots + 64);
        log_p.push(0.0f64);
        for k in 1..=slots {
            let prev = log_p[k - 1];
            log_p.push(prev + (lambda / rate_at(k)).ln());
        }
        let mut max_log = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut j = 0usize;
        loop {
            j += 1;
            let death = mu_full + j as f64 * theta;
            let next = log_p[slots + j - 1] + (lambda / death).ln();
            log_p.push(next);
            max_log = max_log.max(next);
            // Past the mode (death > lambda) terms only shrink: stop when negligible.
            if death > lambda && next - max_log < NEGLIGIBLE.ln() {
                break;
            }
            if j > 10_000_000 {
                break;
            }
        }
        Chain {
            log_p,
            max_log,
            slots,
            mu_full,
            theta,
        }
    }
}

impl Chain {
    /// The figures of the stationary distribution with `n` agents at arrival rate `lambda`.
    fn figures(&self, lambda: f64, n: usize, threshold_secs: f64) -> PoolFigures {
        let (slots, mu_full, theta) = (self.slots, self.mu_full, self.theta);
        let total: f64 = self.log_p.iter().map(|l| (l - self.max_log).exp()).sum();
        let p = |k: usize| (self.log_p[k] - self.max_log).exp() / total;
        let mut prob_wait = 0.0;
        let mut queue_mean = 0.0;
        let mut within = 0.0;
        let mut busy = 0.0;
        for k in 0..self.log_p.len() {
            let pk = p(k);
            if k < slots {
                within += pk;
                busy += pk * k as f64;
                continue;
            }
            busy += pk * slots as f64;
            prob_wait += pk;
            let ahead = (k - slots) as f64;
            queue_mean += pk * ahead;
            within += pk * answered_within(ahead, mu_full, theta, threshold_secs);
        }
        let prob_abandon = if theta > 0.0 {
            theta * queue_mean / lambda
        } else {
            0.0
        };
        let mean_wait_secs = if theta > 0.0 {
            prob_abandon / theta
        } else {
            // Little's law on the queue.
            queue_mean / lambda
        };
        PoolFigures {
            prob_wait,
            prob_abandon,
            service_level: within.clamp(0.0, 1.0),
            mean_wait_secs,
            occupancy: if slots > 0 { busy / slots as f64 } else { 0.0 },
            mean_concurrency: if n > 0 { busy / n as f64 } else { 0.0 },
            stable: true,
        }
    }
}

/// Probability that a chat with `ahead` chats waiting before it is answered within `t`.
fn answered_within(ahead: f64, mu_full: f64, theta: f64, t: f64) -> f64 {
    let j1 = ahead + 1.0;
    if theta > 0.0 {
        let x = mu_full / theta;
        let z = (-theta * t).exp();
        let tail = if z >= 1.0 {
            0.0
        } else {
            1.0 - beta_reg(x + 1.0, j1, z)
        };
        x / (x + j1) * tail
    } else {
        gamma_lr(j1, mu_full * t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(per_hour: f64, aht: f64, patience: Option<f64>, cap: u32, slowdown: f64) -> PoolLoad {
        PoolLoad {
            arrival_rate: per_hour / 3600.0,
            aht_secs: aht,
            patience_secs: patience,
            cap,
            slowdown: (0..=cap)
                .map(|c| 1.0 + slowdown * (c.max(1) - 1) as f64)
                .collect(),
        }
    }

    /// Cap 1 without slowdown is Erlang C / Erlang A: the reference values.
    #[test]
    fn reduces_to_erlang_c_and_a() {
        let ec1 = load(200.0, 180.0, None, 1, 0.0).evaluate(14, 20.0);
        assert!(
            (ec1.service_level - 0.888_350_019_179_466_9).abs() < 1e-9,
            "{ec1:?}"
        );
        assert!((ec1.prob_wait - 0.174_131_933_595_049_8).abs() < 1e-9);
        assert!((ec1.mean_wait_secs - 7.835_937).abs() < 1e-5);
        let ea1 = load(200.0, 180.0, Some(120.0), 1, 0.0).evaluate(13, 20.0);
        assert!((ea1.prob_wait - 0.19372).abs() < 5e-6, "{ea1:?}");
        assert!((ea1.prob_abandon - 0.03843).abs() < 5e-6);
        assert!((ea1.service_level - 0.88855).abs() < 5e-6);
        assert!((ea1.mean_wait_secs - 4.6112).abs() < 5e-5);
        assert!((ea1.occupancy - 0.73967).abs() < 5e-6);
    }

    /// Cap K without slowdown equals Erlang A with n·K servers.
    #[test]
    fn concurrency_without_slowdown_is_erlang_a_on_slots() {
        let m = load(600.0, 600.0, Some(120.0), 3, 0.0).evaluate(36, 30.0);
        assert!((m.prob_wait - 0.1493).abs() < 5e-5, "{m:?}");
        assert!((m.prob_abandon - 0.0213).abs() < 5e-5);
        assert!((m.service_level - 0.9557).abs() < 5e-5);
        assert!((m.mean_concurrency - 2.7185).abs() < 5e-5);
    }

    #[test]
    fn slowdown_costs_capacity_and_unstable_is_flagged() {
        let flat = load(600.0, 600.0, Some(120.0), 3, 0.0).evaluate(36, 30.0);
        let slow = load(600.0, 600.0, Some(120.0), 3, 0.25).evaluate(36, 30.0);
        assert!(slow.service_level < flat.service_level);
        assert!(slow.prob_abandon > flat.prob_abandon);
        let unstable = load(600.0, 600.0, None, 3, 0.0).evaluate(30, 30.0);
        assert!(!unstable.stable && unstable.service_level == 0.0);
    }
}
