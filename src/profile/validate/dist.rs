//! Duration distributions (`{ dist = "lognormal", mean = "7m", cv = 0.8 }`): the family, a mean
//! and a coefficient of variation each family can take, or the observed values of an empirical
//! one.

use super::super::locate::{FieldPath, Issue};
use super::super::raw::RawDist;
use super::super::{Dist, DistKind};
use super::values::{duration, number_text, positive_duration};

/// Coefficients of variation the lognormal, gamma and Weibull models take.
const CV_RANGE: std::ops::RangeInclusive<f64> = 0.01..=100.0;

/// How a distribution is written, for messages.
pub(super) const DIST_EXAMPLE: &str = "{ dist = \"lognormal\", mean = \"7m\", cv = 0.8 }";

/// A distribution table. `allow_zero_mean` lets a deterministic delay be none at all.
pub(super) fn dist(raw: &RawDist, path: &FieldPath, allow_zero_mean: bool) -> Result<Dist, Issue> {
    let kind = kind(raw, path)?;
    if kind == DistKind::Empirical {
        return empirical(raw, path, allow_zero_mean);
    }
    let kind_name = kind.as_str();
    if raw.values.is_some() {
        return Err(Issue::new(
            &path.key("values"),
            format!(
                "applies only to dist = \"empirical\"; remove it or use mean and cv for {kind_name}"
            ),
        ));
    }
    let mean_path = path.key("mean");
    let mean_value = raw.mean.as_ref().ok_or_else(|| {
        Issue::new(
            &mean_path,
            format!("is missing; add mean = \"7m\" (a duration) to the {kind_name} distribution"),
        )
    })?;
    // Only a deterministic delay may be none at all.
    let mean = if allow_zero_mean && kind == DistKind::Deterministic {
        duration(mean_value, &mean_path)?
    } else {
        positive_duration(
            mean_value,
            &mean_path,
            "give the mean duration, e.g. mean = \"7m\"",
        )?
    };
    Ok(Dist {
        kind,
        mean_secs: mean,
        cv: cv(kind, raw.cv, &path.key("cv"))?,
        values_secs: Vec::new(),
    })
}

/// The family named by `dist`.
fn kind(raw: &RawDist, path: &FieldPath) -> Result<DistKind, Issue> {
    let names: Vec<&str> = DistKind::ALL.iter().map(|(n, _)| *n).collect();
    let kind_path = path.key("dist");
    let kind_name = raw.dist.as_deref().ok_or_else(|| {
        Issue::new(
            &kind_path,
            format!(
                "is missing; add dist = \"<kind>\" with one of {}",
                names.join(", ")
            ),
        )
    })?;
    DistKind::ALL
        .iter()
        .find(|(n, _)| *n == kind_name)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            Issue::new(
                &kind_path,
                format!(
                    "= {kind_name:?} is not a distribution; use one of {}",
                    names.join(", ")
                ),
            )
        })
}

/// The cv a parametric family takes: exponential 1, deterministic 0, the others in
/// [`CV_RANGE`] (default 1).
fn cv(kind: DistKind, given: Option<f64>, cv_path: &FieldPath) -> Result<f64, Issue> {
    match (kind, given) {
        (DistKind::Exponential, None | Some(1.0)) => Ok(1.0),
        (DistKind::Exponential, Some(cv)) => Err(Issue::new(
            cv_path,
            format!(
                "= {cv} but an exponential distribution has cv 1; remove cv, or use lognormal or gamma for cv {cv}"
            ),
        )),
        (DistKind::Deterministic, None | Some(0.0)) => Ok(0.0),
        (DistKind::Deterministic, Some(cv)) => Err(Issue::new(
            cv_path,
            format!(
                "= {cv} but a deterministic duration has cv 0; remove cv, or use lognormal or gamma for cv {cv}"
            ),
        )),
        (_, None) => Ok(1.0),
        (_, Some(cv)) if CV_RANGE.contains(&cv) => Ok(cv),
        (_, Some(cv)) => Err(Issue::new(
            cv_path,
            format!(
                "= {} is outside {} to {}; use e.g. cv = 0.8, or dist = \"deterministic\" for no variation",
                number_text(cv),
                CV_RANGE.start(),
                CV_RANGE.end()
            ),
        )),
    }
}

/// An empirical distribution: its values, with mean and cv computed from them.
fn empirical(raw: &RawDist, path: &FieldPath, allow_zero_mean: bool) -> Result<Dist, Issue> {
    if raw.mean.is_some() || raw.cv.is_some() {
        let key = if raw.mean.is_some() { "mean" } else { "cv" };
        return Err(Issue::new(
            &path.key(key),
            "is computed from values for an empirical distribution; remove it",
        ));
    }
    let values_path = path.key("values");
    let items = raw
        .values
        .as_ref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Issue::new(
                &values_path,
                "is missing or empty; add values = [\"30s\", 60, \"2m\"] (observed durations)",
            )
        })?;
    let values = items
        .iter()
        .enumerate()
        .map(|(i, v)| duration(v, &values_path.index(i)))
        .collect::<Result<Vec<f64>, Issue>>()?;
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean <= 0.0 && !allow_zero_mean {
        return Err(Issue::new(
            &values_path,
            "are all zero; give observed durations > 0",
        ));
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let cv = if mean > 0.0 {
        variance.sqrt() / mean
    } else {
        0.0
    };
    Ok(Dist {
        kind: DistKind::Empirical,
        mean_secs: mean,
        cv,
        values_secs: values,
    })
}
