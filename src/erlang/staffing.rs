//! Staffing solvers: the fewest agents meeting every target, shrinkage to a rostered headcount,
//! and the square-root staffing approximation.
//!
//! Erlang C is searched upward from floor(A) + 1 (or the occupancy floor A / max_occupancy),
//! carrying the Erlang B recursion along so that each further staffing costs O(1). Erlang A has
//! no such recursion across staffings; every figure improves with each added agent, so it is
//! bracketed by a galloping search from the square-root estimate and then bisected: a dozen
//! or so evaluations even at thousands of agents.

use statrs::function::erf::erfc;

use super::erlang_a;
use super::erlang_c::{erlang_b, evaluate_from_b, min_stable_agents, next_erlang_b};
use super::{ErlangError, Evaluation, Load, Targets, check_shrinkage, invalid};

/// The largest staffing the solvers try before reporting [`ErlangError::Unreachable`].
pub const AGENT_CAP: u32 = 100_000;

/// Relative slack when rounding a rostered headcount up, so that 21 / (1 − 0.3) =
/// 30.000000000000004 gives 30.
const ROSTER_TOLERANCE: f64 = 1e-10;

/// The fewest agents meeting every target for `load`: service level at the threshold, and the
/// optional abandon, occupancy and ASA limits. Erlang C without patience, Erlang A with it.
///
/// With zero arrivals no agent is needed and the answer is 0. Loads or targets that need more
/// than [`AGENT_CAP`] agents give [`ErlangError::Unreachable`].
pub fn required_agents(load: &Load, targets: &Targets) -> Result<u32, ErlangError> {
    load.validate()?;
    targets.validate(load)?;
    if load.arrival_rate_per_sec == 0.0 {
        return Ok(0);
    }
    match load.patience_secs {
        None => required_erlang_c(load, targets),
        Some(patience) => required_erlang_a(load, patience, targets),
    }
}

fn required_erlang_c(load: &Load, targets: &Targets) -> Result<u32, ErlangError> {
    let traffic = load.traffic_erlangs();
    if traffic >= f64::from(AGENT_CAP) {
        return Err(ErlangError::Unreachable {
            cap: AGENT_CAP,
            reason: format!(
                "{traffic:.1} Erlangs of traffic need more agents than that; split the interval's \
                 volume or check --volume and --aht"
            ),
        });
    }
    let mut agents = min_stable_agents(traffic);
    if let Some(max_occupancy) = targets.max_occupancy {
        // The exact comparison (with its tolerance) happens in `met_by`; start just below.
        let floor = (traffic / max_occupancy).floor().min(f64::from(AGENT_CAP)) as u32;
        agents = agents.max(floor);
    }
    let mut blocking = erlang_b(agents, traffic);
    loop {
        let evaluation = evaluate_from_b(load, agents, targets.threshold_secs, blocking);
        if targets.met_by(&evaluation) {
            return Ok(agents);
        }
        if agents >= AGENT_CAP {
            return Err(unreachable(targets, &evaluation));
        }
        agents += 1;
        blocking = next_erlang_b(blocking, agents, traffic);
    }
}

fn required_erlang_a(load: &Load, patience: f64, targets: &Targets) -> Result<u32, ErlangError> {
    let evaluate = |agents: u32| erlang_a::evaluate(load, patience, agents, targets.threshold_secs);
    let meets = |agents: u32| -> Result<bool, ErlangError> {
        Ok(agents > 0 && targets.met_by(&evaluate(agents)?))
    };
    let guess = square_root_estimate(load, targets).clamp(1, AGENT_CAP);
    // `failing` never meets the targets (0 never does), `passing` does; gallop, then bisect.
    let (mut failing, mut passing);
    if meets(guess)? {
        passing = guess;
        failing = 0;
        let mut step = 1;
        while passing > step {
            let candidate = passing - step;
            if meets(candidate)? {
                passing = candidate;
                step *= 2;
            } else {
                failing = candidate;
                break;
            }
        }
    } else {
        failing = guess;
        let mut step = 1;
        loop {
            let candidate = failing.saturating_add(step).min(AGENT_CAP);
            if meets(candidate)? {
                passing = candidate;
                break;
            }
            if candidate >= AGENT_CAP {
                return Err(unreachable(targets, &evaluate(AGENT_CAP)?));
            }
            failing = candidate;
            step *= 2;
        }
    }
    while passing - failing > 1 {
        let middle = failing + (passing - failing) / 2;
        if meets(middle)? {
            passing = middle;
        } else {
            failing = middle;
        }
    }
    Ok(passing)
}

fn unreachable(targets: &Targets, at_cap: &Evaluation) -> ErlangError {
    let mut reason = targets.shortfalls(at_cap).join("; ");
    reason.push_str(&format!(
        " even at {} agents; relax that target",
        at_cap.agents
    ));
    ErlangError::Unreachable {
        cap: AGENT_CAP,
        reason,
    }
}

/// The paid headcount that leaves `required` agents on duty after `shrinkage` (the share of
/// paid time agents are unavailable, in [0, 1)): ceil(required / (1 − shrinkage)), with a 1e-10
/// relative tolerance so that 21 at 0.30 gives 30, not 31. Saturates at `u32::MAX`.
pub fn rostered(required: u32, shrinkage: f64) -> Result<u32, ErlangError> {
    check_shrinkage(shrinkage)?;
    let exact = f64::from(required) / (1.0 - shrinkage);
    let rostered = (exact * (1.0 - ROSTER_TOLERANCE)).ceil();
    u32::try_from(rostered as u64).map_err(|_| {
        invalid(
            "--shrinkage",
            format!("{required} agents at shrinkage {shrinkage} make {rostered} rostered agents, more than can be counted"),
        )
    })
}

/// Halfin–Whitt probability of waiting under square-root staffing n = A + β√A:
/// α(β) = [1 + β·Φ(β)/φ(β)]^(−1), with Φ and φ the standard normal cdf and density.
/// For β ≤ 0 (staffing at or below the load) it is 1: every chat waits.
pub fn halfin_whitt_alpha(beta: f64) -> f64 {
    if beta.is_nan() || beta <= 0.0 {
        return 1.0;
    }
    let cdf = 0.5 * erfc(-beta / std::f64::consts::SQRT_2);
    let density = (-0.5 * beta * beta).exp() / (2.0 * std::f64::consts::PI).sqrt();
    // For β beyond about 38 the density underflows: the ratio is +∞ and α is 0.
    1.0 / (1.0 + beta * cdf / density)
}

/// Square-root staffing: A + β√A agents for `traffic_erlangs` and quality parameter `beta`.
pub fn square_root_staffing(traffic_erlangs: f64, beta: f64) -> f64 {
    traffic_erlangs + beta * traffic_erlangs.sqrt()
}

/// The square-root staffing estimate of the agents `load` needs: the smallest β whose
/// Halfin–Whitt service level 1 − α(β)·exp(−β√A·t/AHT) reaches the target, then
/// ceil(A + β√A), raised to floor(A) + 1 and to the occupancy floor A / max_occupancy.
/// Ignores patience and the abandon and ASA limits; 0 for zero load. A quick cross-check and
/// the solvers' starting point, not an answer.
pub fn square_root_estimate(load: &Load, targets: &Targets) -> u32 {
    let traffic = load.traffic_erlangs();
    if traffic.is_nan() || traffic <= 0.0 {
        return 0;
    }
    let root = traffic.sqrt();
    let service_level = |beta: f64| {
        1.0 - halfin_whitt_alpha(beta)
            * (-beta * root * targets.threshold_secs / load.aht_secs).exp()
    };
    let (mut low, mut high) = (0.0_f64, 40.0_f64);
    for _ in 0..60 {
        let middle = 0.5 * (low + high);
        if service_level(middle) >= targets.service_level {
            high = middle;
        } else {
            low = middle;
        }
    }
    let mut estimate = square_root_staffing(traffic, high)
        .ceil()
        .max(traffic.floor() + 1.0);
    if let Some(max_occupancy) = targets.max_occupancy {
        estimate = estimate.max((traffic / max_occupancy).ceil());
    }
    // Saturating float-to-int cast; loads this large are rejected by the solvers anyway.
    estimate as u32
}
