//! `[targets]` and a queue's `targets = { ... }` override: service goals as shares and
//! durations.

use super::super::Targets;
use super::super::locate::{FieldPath, Issue};
use super::super::raw::RawTargets;
use super::values::{DURATION_EXAMPLE, duration, number_text, positive_duration};

/// `base` with the goals `raw` gives in place of its own.
pub(super) fn targets(
    raw: Option<&RawTargets>,
    base: Targets,
    path: &FieldPath,
) -> Result<Targets, Issue> {
    let Some(raw) = raw else { return Ok(base) };
    let mut t = base;
    if let Some(sl) = raw.service_level {
        if !(sl > 0.0 && sl <= 1.0) {
            let what = if sl > 1.0 {
                "is above 1"
            } else {
                "is not above 0"
            };
            return Err(Issue::new(
                &path.key("service_level"),
                format!(
                    "= {sl} {what}; use a share in (0, 1], e.g. 0.8 for 80% within the threshold"
                ),
            ));
        }
        t.service_level = sl;
    }
    if let Some(v) = &raw.threshold {
        t.threshold_secs = duration(v, &path.key("threshold"))?;
    }
    if let Some(a) = raw.max_abandon {
        if !(a > 0.0 && a <= 1.0) {
            return Err(Issue::new(
                &path.key("max_abandon"),
                format!(
                    "= {} is outside (0, 1]; use a share, e.g. 0.05 (with patience some chats always abandon)",
                    number_text(a)
                ),
            ));
        }
        t.max_abandon = Some(a);
    }
    if let Some(o) = raw.max_occupancy {
        if !(o > 0.0 && o <= 1.0) {
            return Err(Issue::new(
                &path.key("max_occupancy"),
                format!(
                    "= {} is outside (0, 1]; use a share, e.g. 0.85",
                    number_text(o)
                ),
            ));
        }
        t.max_occupancy = Some(o);
    }
    if let Some(v) = &raw.max_asa {
        t.max_asa_secs = Some(positive_duration(
            v,
            &path.key("max_asa"),
            DURATION_EXAMPLE,
        )?);
    }
    if let Some(v) = &raw.short_abandon {
        t.short_abandon_secs = duration(v, &path.key("short_abandon"))?;
    }
    Ok(t)
}
