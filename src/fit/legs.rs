//! Each agent's level path: the chats' stretches with one agent (legs) from answer to close,
//! to a transfer, or to the end of the history, and one sorted sweep per agent that gives every
//! leg its time at each level and the level it ended at. The handling fit's likelihood is
//! written over these.

use super::history::History;

/// Levels above this are counted at this level (no platform lets an agent hold more).
pub(super) const MAX_LEVEL: usize = 16;

/// A stretch of one chat with one agent: from answer to close (or to the transfer, or to the
/// end of the history when still open).
#[derive(Debug, Clone, Copy)]
pub(super) struct Leg {
    pub(super) agent: u32,
    pub(super) queue: u16,
    pub(super) start: f64,
    pub(super) end: f64,
    pub(super) completed: bool,
}

/// The legs of the history and how many were unusable (a close or transfer before the answer).
pub(super) fn collect_legs(h: &History) -> (Vec<Leg>, u64) {
    let history_end = h
        .chats
        .iter()
        .flat_map(|c| {
            let t = c.transfer;
            [Some(c.created), c.answered, c.closed, c.abandoned]
                .into_iter()
                .chain([t.map(|t| t.at), t.and_then(|t| t.answered)])
        })
        .flatten()
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut legs, mut skipped) = (Vec::with_capacity(h.chats.len()), 0);
    let mut push = |leg: Leg| {
        if leg.end >= leg.start && leg.start.is_finite() && leg.end.is_finite() {
            legs.push(leg);
        } else {
            skipped += 1;
        }
    };
    for c in &h.chats {
        let (Some(answered), Some(agent)) = (c.answered, c.agent) else {
            continue;
        };
        let close = (c.closed.unwrap_or(history_end), c.closed.is_some());
        match c.transfer {
            Some(t) => {
                push(Leg {
                    agent,
                    queue: c.queue,
                    start: answered,
                    end: t.at,
                    completed: true,
                });
                if let (Some(start), Some(agent)) = (t.answered, t.agent) {
                    push(Leg {
                        agent,
                        queue: t.to,
                        start,
                        end: close.0,
                        completed: close.1,
                    });
                }
            }
            None => push(Leg {
                agent,
                queue: c.queue,
                start: answered,
                end: close.0,
                completed: close.1,
            }),
        }
    }
    (legs, skipped)
}

/// Every leg's time at each level (stride `levels`, level 1 first) and the level it ended at
/// (0 when censored), from one sweep per agent over the legs' starts and ends. Returns also
/// each agent's highest level.
pub(super) struct Sweep {
    pub(super) levels: usize,
    pub(super) exposure: Vec<f64>,
    pub(super) end_level: Vec<u8>,
    pub(super) agent_peak: Vec<u32>,
}

pub(super) fn sweep(legs: &[Leg], agents: usize) -> Sweep {
    // (agent, time, ends before starts at the same instant, leg)
    let mut events: Vec<(u32, f64, u8, u32)> = Vec::with_capacity(2 * legs.len());
    for (i, l) in legs.iter().enumerate() {
        events.push((l.agent, l.start, 1, i as u32));
        events.push((l.agent, l.end, 0, i as u32));
    }
    events.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut agent_peak = vec![0u32; agents];
    let mut active: Vec<u32> = Vec::new();
    for (agent, _, kind, leg) in &events {
        if *kind == 1 {
            active.push(*leg);
            let peak = &mut agent_peak[*agent as usize];
            *peak = (*peak).max(active.len() as u32);
        } else {
            active.retain(|l| l != leg);
        }
    }
    let levels = (agent_peak.iter().copied().max().unwrap_or(1) as usize).clamp(1, MAX_LEVEL);
    let mut exposure = vec![0.0; legs.len() * levels];
    let mut end_level = vec![0u8; legs.len()];
    let mut last = 0.0;
    for (_, t, kind, leg) in &events {
        if !active.is_empty() {
            let level = active.len().min(levels) - 1;
            for l in &active {
                exposure[*l as usize * levels + level] += t - last;
            }
        }
        last = *t;
        if *kind == 1 {
            active.push(*leg);
        } else {
            if legs[*leg as usize].completed {
                end_level[*leg as usize] = active.len().min(levels) as u8;
            }
            active.retain(|l| l != leg);
        }
    }
    Sweep {
        levels,
        exposure,
        end_level,
        agent_peak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(agent: u32, start: f64, end: f64, completed: bool) -> Leg {
        Leg {
            agent,
            queue: 0,
            start,
            end,
            completed,
        }
    }

    /// Agent 0 holds [0, 10] and [4, 6] (two at once from 4 to 6), then [10, 12] starting as
    /// the first ends; agent 1's leg is censored. Time and end levels per leg follow.
    #[test]
    fn sweep_counts_time_per_level_and_the_level_at_each_end() {
        let legs = [
            leg(0, 0.0, 10.0, true),
            leg(0, 4.0, 6.0, true),
            leg(0, 10.0, 12.0, true),
            leg(1, 1.0, 3.0, false),
        ];
        let s = sweep(&legs, 2);
        assert_eq!(s.levels, 2);
        assert_eq!(s.exposure, vec![8.0, 2.0, 0.0, 2.0, 2.0, 0.0, 2.0, 0.0]);
        assert_eq!(s.end_level, vec![1, 2, 1, 0]);
        assert_eq!(s.agent_peak, vec![2, 1]);
    }
}
