//! Erlang B and Erlang C (M/M/n, nobody abandons).
//!
//! Erlang B comes from its recursion, which needs neither factorials nor powers and stays in
//! [0, 1] for any staffing; Erlang C and the waiting figures follow from it in closed form.

use super::{ErlangError, Evaluation, Load, Model};

/// Erlang B blocking probability of `agents` servers offered `traffic_erlangs`, by the stable
/// recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)). O(agents), no overflow for any size.
/// `traffic_erlangs` should be finite and non-negative (0 gives 0 for any `agents` ≥ 1).
pub fn erlang_b(agents: u32, traffic_erlangs: f64) -> f64 {
    (1..=agents).fold(1.0, |b, k| next_erlang_b(b, k, traffic_erlangs))
}

/// One step of the Erlang B recursion: B(k) from B(k−1).
pub(super) fn next_erlang_b(previous: f64, k: u32, traffic_erlangs: f64) -> f64 {
    let carried = traffic_erlangs * previous;
    carried / (f64::from(k) + carried)
}

/// Erlang C: the probability that a chat waits, C = B / (1 − ρ(1 − B)) with ρ = A/n.
/// Defined for `agents` above the load; otherwise [`ErlangError::Unstable`].
pub fn erlang_c(agents: u32, traffic_erlangs: f64) -> Result<f64, ErlangError> {
    check_stable(agents, traffic_erlangs)?;
    Ok(erlang_c_from_b(
        agents,
        traffic_erlangs,
        erlang_b(agents, traffic_erlangs),
    ))
}

/// Erlang C from an Erlang B value already computed for the same `agents` and load.
pub(super) fn erlang_c_from_b(agents: u32, traffic_erlangs: f64, erlang_b: f64) -> f64 {
    let rho = traffic_erlangs / f64::from(agents);
    erlang_b / (1.0 - rho * (1.0 - erlang_b))
}

/// The fewest agents with a stable Erlang C queue: floor(A) + 1.
pub(super) fn min_stable_agents(traffic_erlangs: f64) -> u32 {
    // Loads are capped well below u32::MAX by the callers; the cast saturates otherwise.
    (traffic_erlangs.floor() as u32).saturating_add(1)
}

fn check_stable(agents: u32, traffic_erlangs: f64) -> Result<(), ErlangError> {
    if f64::from(agents) <= traffic_erlangs {
        return Err(ErlangError::Unstable {
            agents,
            traffic_erlangs,
            min_agents: min_stable_agents(traffic_erlangs),
        });
    }
    Ok(())
}

/// Every Erlang C figure of `agents` agents (load > 0, validated inputs).
pub(super) fn evaluate(
    load: &Load,
    agents: u32,
    threshold_secs: f64,
) -> Result<Evaluation, ErlangError> {
    let traffic = load.traffic_erlangs();
    check_stable(agents, traffic)?;
    Ok(evaluate_from_b(
        load,
        agents,
        threshold_secs,
        erlang_b(agents, traffic),
    ))
}

/// Every Erlang C figure from the Erlang B value of the same staffing; `agents` must exceed the
/// load.
pub(super) fn evaluate_from_b(
    load: &Load,
    agents: u32,
    threshold_secs: f64,
    erlang_b: f64,
) -> Evaluation {
    let traffic = load.traffic_erlangs();
    let n = f64::from(agents);
    let prob_wait = erlang_c_from_b(agents, traffic, erlang_b);
    let spare = n - traffic;
    let service_level = 1.0 - prob_wait * (-spare * threshold_secs / load.aht_secs).exp();
    let asa_secs = prob_wait * load.aht_secs / spare;
    Evaluation {
        model: Model::ErlangC,
        traffic_erlangs: traffic,
        agents,
        rostered_agents: agents,
        service_level,
        service_level_answered: service_level,
        prob_wait,
        prob_abandon: 0.0,
        asa_secs,
        mean_wait_secs: asa_secs,
        occupancy: traffic / n,
    }
}
