//! `[simulation]`: replications, seed and warm-up (checked against the horizon once it is
//! known).

use super::super::SimulationSettings;
use super::super::locate::{FieldPath, Issue};
use super::super::raw::RawSimulation;
use super::values::duration;

/// Most replications of a run (each keeps its tallies until the aggregate is made).
pub const MAX_REPLICATIONS: u32 = 10_000;

/// The settings `raw` gives, defaults for the rest.
pub(super) fn simulation(
    raw: RawSimulation,
    path: &FieldPath,
) -> Result<SimulationSettings, Issue> {
    let mut s = SimulationSettings::default();
    if let Some(r) = raw.replications {
        s.replications = u32::try_from(r)
            .ok()
            .filter(|r| (1..=MAX_REPLICATIONS).contains(r))
            .ok_or_else(|| {
                Issue::new(
                    &path.key("replications"),
                    format!("= {r} is out of range; use 1 to {MAX_REPLICATIONS} (e.g. 20)"),
                )
            })?;
    }
    if let Some(seed) = raw.seed {
        s.seed = u64::try_from(seed).map_err(|_| {
            Issue::new(
                &path.key("seed"),
                format!("= {seed} is negative; use a whole number >= 0"),
            )
        })?;
    }
    if let Some(v) = &raw.warmup {
        s.warmup_secs = duration(v, &path.key("warmup"))?;
    }
    Ok(s)
}
