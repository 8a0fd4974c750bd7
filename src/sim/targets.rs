//! The profile's targets judged on simulated figures, in words: what `chatcap simulate` and
//! the plan's verification report as shortfalls. Judged on the means over replications; the
//! confidence intervals beside them say how much of a miss is noise.

use crate::metrics::Targets;

use super::Scenario;
use super::results::{AgentFigures, QueueFigures};

/// Two figures shown with enough decimals to tell them apart (from `decimals` up to 4), so
/// a miss never reads "15.0 s above 15.0 s".
pub(crate) fn distinct(value: f64, target: f64, decimals: usize) -> (String, String) {
    let mut d = decimals;
    loop {
        let (a, b) = (format!("{value:.d$}"), format!("{target:.d$}"));
        if a != b || d >= decimals + 4 {
            return (a, b);
        }
        d += 1;
    }
}

/// Percentages with enough decimals to tell them apart.
fn distinct_pct(value: f64, target: f64) -> (String, String) {
    distinct(100.0 * value, 100.0 * target, 1)
}

/// The targets a queue misses on the means of `f`, each as "queue: figure value side target".
pub(crate) fn queue_shortfalls(name: &str, f: &QueueFigures, t: &Targets) -> Vec<String> {
    let mut out = Vec::new();
    if !f.service_level.meets_at_least(t.service_level, false) {
        let (v, g) = distinct_pct(f.service_level.mean, t.service_level);
        out.push(format!("{name}: service level {v}% below {g}%"));
    }
    if let Some(max) = t.max_abandon
        && !f.abandon_rate.meets_at_most(max, false)
    {
        let (v, g) = distinct_pct(f.abandon_rate.mean, max);
        out.push(format!("{name}: abandon rate {v}% above {g}%"));
    }
    if let Some(max) = t.max_asa_secs
        && !f.asa_secs.meets_at_most(max, false)
    {
        let (v, g) = distinct(f.asa_secs.mean, max, 1);
        out.push(format!("{name}: ASA {v} s above {g} s"));
    }
    out
}

/// The occupancy limit a group misses on the mean of `f`, if any.
pub(crate) fn occupancy_shortfall(
    name: &str,
    f: &AgentFigures,
    limit: Option<f64>,
) -> Option<String> {
    let limit = limit?;
    if f.occupancy.meets_at_most(limit, false) {
        return None;
    }
    let (v, g) = distinct_pct(f.occupancy.mean, limit);
    Some(format!("{name}: occupancy {v}% above {g}%"))
}

/// Per group of `sc`, the strictest max occupancy of the queues it serves.
pub(crate) fn occupancy_limits(sc: &Scenario) -> Vec<Option<f64>> {
    let targets: Vec<Targets> = sc.queues.iter().map(|q| q.targets).collect();
    strictest_occupancy(&targets, &sc.serving_groups(), sc.groups.len())
}

/// Per group of `groups`, the strictest max occupancy among the `targets` of the queues it
/// serves (`servers[q]`: the groups serving queue `q`).
pub(crate) fn strictest_occupancy(
    targets: &[Targets],
    servers: &[Vec<usize>],
    groups: usize,
) -> Vec<Option<f64>> {
    (0..groups)
        .map(|g| {
            targets
                .iter()
                .zip(servers)
                .filter(|(_, serving)| serving.contains(&g))
                .filter_map(|(t, _)| t.max_occupancy)
                .reduce(f64::min)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_figures_get_the_decimals_that_tell_them_apart() {
        assert_eq!(distinct(15.04, 15.0, 1), ("15.04".into(), "15.00".into()));
        assert_eq!(distinct(16.0, 15.0, 1), ("16.0".into(), "15.0".into()));
        assert_eq!(distinct_pct(0.8999, 0.9), ("89.99".into(), "90.00".into()));
    }
}
