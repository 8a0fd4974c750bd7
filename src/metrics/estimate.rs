//! Point estimates with 95% confidence intervals over independent replications (Student t).
//!
//! A Student-t interval is symmetric and knows nothing of the figure's range: with few
//! replications a wait near zero gets a negative lower bound and a service level near 100% an
//! upper bound above it. [`Domain`] names the range of a figure and [`Estimate::within`] clips
//! the interval to it, the one place that does so.

use super::targets::Goal;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A figure estimated over replications: `{ "mean": .., "ci_low": .., "ci_high": .. }`.
/// Undefined figures (no chats to measure) serialize as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Estimate {
    /// Mean over the replications where the figure is defined.
    #[serde(serialize_with = "finite_or_null", deserialize_with = "null_as_nan")]
    #[schemars(with = "Option<f64>")]
    pub mean: f64,
    /// Lower bound of the 95% confidence interval.
    #[serde(serialize_with = "finite_or_null", deserialize_with = "null_as_nan")]
    #[schemars(with = "Option<f64>")]
    pub ci_low: f64,
    /// Upper bound of the 95% confidence interval.
    #[serde(serialize_with = "finite_or_null", deserialize_with = "null_as_nan")]
    #[schemars(with = "Option<f64>")]
    pub ci_high: f64,
}

/// Serializes a figure, or `null` when it is undefined (NaN) or infinite.
pub(crate) fn finite_or_null<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

/// Reads a figure written by [`finite_or_null`]: `null` is NaN.
pub(crate) fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v: Option<f64> = serde::Deserialize::deserialize(d)?;
    Ok(v.unwrap_or(f64::NAN))
}

/// The values a figure can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Counts, durations, concurrency: at least 0.
    NonNegative,
    /// Shares: 0 to 1.
    Share,
}

impl Domain {
    /// The lowest and highest value of the domain.
    fn bounds(self) -> (f64, f64) {
        match self {
            Domain::NonNegative => (0.0, f64::INFINITY),
            Domain::Share => (0.0, 1.0),
        }
    }
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn student_t_975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

impl Estimate {
    /// An estimate known exactly (no interval).
    pub fn exact(value: f64) -> Estimate {
        Estimate {
            mean: value,
            ci_low: value,
            ci_high: value,
        }
    }

    /// Mean and 95% interval of the finite samples (one per replication). With one sample the
    /// interval is that value; with none, every field is undefined.
    pub fn from_samples(samples: impl IntoIterator<Item = f64>) -> Estimate {
        let (mut n, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
        for x in samples.into_iter().filter(|x| x.is_finite()) {
            n += 1;
            let delta = x - mean;
            mean += delta / n as f64;
            m2 += delta * (x - mean);
        }
        match n {
            0 => Estimate {
                mean: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
            },
            1 => Estimate::exact(mean),
            _ => {
                let half = student_t_975(n - 1) * (m2 / (n - 1) as f64 / n as f64).sqrt();
                Estimate {
                    mean,
                    ci_low: mean - half,
                    ci_high: mean + half,
                }
            }
        }
    }

    /// Mean and 95% interval of the finite samples of a figure in `domain`, the interval
    /// clipped to it.
    pub fn from_samples_in(samples: impl IntoIterator<Item = f64>, domain: Domain) -> Estimate {
        Estimate::from_samples(samples).within(domain)
    }

    /// The interval clipped to `domain` (the mean is left as it is; undefined bounds stay so).
    pub fn within(self, domain: Domain) -> Estimate {
        let (low, high) = domain.bounds();
        Estimate {
            mean: self.mean,
            ci_low: self.ci_low.clamp(low, high),
            ci_high: self.ci_high.clamp(low, high),
        }
    }

    /// Whether `value` lies inside the interval.
    pub fn contains(&self, value: f64) -> bool {
        self.ci_low <= value && value <= self.ci_high
    }

    /// Whether the figure meets "at least `target`": its mean does, or with `strict` its lower
    /// bound. An undefined figure (nothing to measure) meets every target.
    pub fn meets_at_least(&self, target: f64, strict: bool) -> bool {
        self.meets(Goal::AtLeast(target), strict)
    }

    /// Whether the figure meets "at most `limit`": its mean does, or with `strict` its upper
    /// bound. An undefined figure meets every limit.
    pub fn meets_at_most(&self, limit: f64, strict: bool) -> bool {
        self.meets(Goal::AtMost(limit), strict)
    }

    /// Whether the figure meets `goal`: its mean does, or with `strict` its bound on the side
    /// the goal guards. An undefined figure (nothing to measure) meets every goal.
    pub fn meets(&self, goal: Goal, strict: bool) -> bool {
        let value = match (strict, goal) {
            (false, _) => self.mean,
            (true, Goal::AtLeast(_)) => self.ci_low,
            (true, Goal::AtMost(_)) => self.ci_high,
        };
        !value.is_finite() || goal.met_by(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((student_t_975(1) - 12.706_204_736).abs() < 1e-6);
        assert!((student_t_975(19) - 2.093_024_054).abs() < 1e-6);
        assert!((student_t_975(1000) - 1.962_339_06).abs() < 1e-6);
    }

    #[test]
    fn interval_of_known_samples() {
        let e = Estimate::from_samples([1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        // sd = 1.2909944, se = 0.6454972, t(3) = 3.1824463
        assert!((e.ci_high - (2.5 + 3.182_446_305 * 0.645_497_224)).abs() < 1e-6);
        let e = Estimate::from_samples([f64::NAN, 5.0]);
        assert_eq!((e.mean, e.ci_low, e.ci_high), (5.0, 5.0, 5.0));
        assert!(Estimate::from_samples([]).mean.is_nan());
        let json = serde_json::to_string(&Estimate::from_samples([])).unwrap();
        assert_eq!(json, r#"{"mean":null,"ci_low":null,"ci_high":null}"#);
    }

    #[test]
    fn intervals_stay_within_the_domain() {
        let wait = Estimate::from_samples_in([0.0, 0.0, 9.0], Domain::NonNegative);
        assert_eq!(wait.ci_low, 0.0);
        assert!(wait.ci_high > 9.0);
        let share = Estimate::from_samples_in([1.0, 1.0, 0.7], Domain::Share);
        assert_eq!(share.ci_high, 1.0);
        assert!(share.ci_low < 0.9);
        assert!(Estimate::from_samples_in([], Domain::Share).ci_low.is_nan());
    }
}
