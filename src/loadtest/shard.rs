//! Shards: one open-model load split across processes (and machines). Shard `K/N` plays the
//! arrivals and the agents whose global numbers are `K - 1` modulo `N`, each with the random
//! stream of its global number, so the union of the `N` shards' schedules is exactly the one
//! process's schedule for the same seed: same customers at the same instants, same agents.
//! With `--start-at` every shard starts its clock on the same wall-clock instant.

use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// Which part of the load this process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based: 1 to `count`.
    pub index: u32,
    /// Shards in all.
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl Shard {
    /// The whole load in one process.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Parses `K/N` (1 <= K <= N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let fix = "give K/N with 1 <= K <= N, e.g. 2/4 for the second of four shards";
        let (k, n) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not K/N; {fix}"))?;
        let number = |s: &str| s.trim().parse::<u32>().ok();
        match (number(k), number(n)) {
            (Some(index), Some(count)) if index >= 1 && index <= count => {
                Ok(Shard { index, count })
            }
            _ => Err(format!("{text:?} is not a shard; {fix}")),
        }
    }

    /// Whether this shard plays the arrival or agent with global number `global`.
    pub fn owns(self, global: usize) -> bool {
        global % self.count as usize == (self.index - 1) as usize
    }

    /// The global numbers below `len` this shard plays.
    pub fn members(self, len: usize) -> Vec<usize> {
        (0..len).filter(|&g| self.owns(g)).collect()
    }

    /// `total` users split over the shards: this shard's share, rounded up.
    pub fn share(self, total: usize) -> usize {
        total.div_ceil(self.count as usize).max(1)
    }
}

/// Parses `--start-at`: an RFC 3339 instant (`2026-12-04T17:00:00Z`) or Unix seconds.
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>()
        && secs.is_finite()
        && secs > 0.0
    {
        return Ok(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs));
    }
    let at: jiff::Timestamp = text.parse().map_err(|e| {
        format!(
            "{text:?} is not an instant ({e}); give RFC 3339 with a zone, e.g. \
             2026-12-04T17:00:00Z, or Unix seconds (date +%s)"
        )
    })?;
    Ok(SystemTime::from(at))
}

/// The monotonic instant of the wall-clock instant `at` (`None`: already past).
pub(super) fn instant_of(at: SystemTime) -> Option<Instant> {
    let ahead = at.duration_since(SystemTime::now()).ok()?;
    Some(Instant::now() + ahead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition_every_number_once() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "-1/2"] {
            assert!(Shard::parse(bad).unwrap_err().contains("K/N"), "{bad}");
        }
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { index: k, count: 3 }).collect();
        let mut all: Vec<usize> = shards.iter().flat_map(|s| s.members(10)).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(shards[1].members(10), vec![1, 4, 7]);
        assert_eq!(Shard::WHOLE.members(3), vec![0, 1, 2]);
        assert_eq!(shards[0].share(10), 4);
    }

    #[test]
    fn start_instants_parse_as_rfc3339_or_unix_seconds() {
        let at = parse_start_at("2026-12-04T17:00:00Z").unwrap();
        let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_796_403_600);
        assert_eq!(parse_start_at("1796403600").unwrap(), at);
        assert!(parse_start_at("17:00").unwrap_err().contains("RFC 3339"));
        assert!(instant_of(SystemTime::UNIX_EPOCH).is_none());
    }
}
