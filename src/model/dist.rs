//! Duration distributions parameterised by mean and coefficient of variation (cv), the way
//! planners describe handle times and patience. Every family is a scale family, so a per-interval
//! mean (a forecast's AHT) is obtained by scaling one sampler.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal, Weibull};
use statrs::function::gamma::ln_gamma;

use super::ModelError;
use crate::profile::{Dist, DistKind};

#[derive(Debug, Clone)]
enum Sampler {
    Exponential,
    Lognormal(LogNormal<f64>),
    Gamma(Gamma<f64>),
    Weibull(Weibull<f64>),
    Deterministic,
    Empirical(Box<[f64]>),
}

/// A duration distribution ready to sample, in seconds.
#[derive(Debug, Clone)]
pub struct DurationModel {
    sampler: Sampler,
    mean: f64,
}

fn invalid(what: &str, message: String) -> ModelError {
    ModelError::Invalid {
        what: what.to_string(),
        message,
    }
}

impl DurationModel {
    /// Builds the sampler of a validated profile distribution. `what` names it in errors.
    pub fn new(dist: &Dist, what: &str) -> Result<Self, ModelError> {
        let (mean, cv) = (dist.mean_secs, dist.cv);
        if dist.kind != DistKind::Empirical && !(mean.is_finite() && mean > 0.0) {
            return Err(invalid(what, format!("mean {mean} s must be positive")));
        }
        let needs_cv = matches!(
            dist.kind,
            DistKind::Lognormal | DistKind::Gamma | DistKind::Weibull
        );
        if needs_cv && !(cv.is_finite() && cv > 0.0) {
            return Err(invalid(
                what,
                format!("cv {cv} must be positive for {:?}", dist.kind),
            ));
        }
        let sampler = match dist.kind {
            DistKind::Exponential => Sampler::Exponential,
            DistKind::Deterministic => Sampler::Deterministic,
            DistKind::Lognormal => Sampler::Lognormal(
                LogNormal::from_mean_cv(mean, cv).map_err(|e| invalid(what, e.to_string()))?,
            ),
            DistKind::Gamma => {
                let shape = 1.0 / (cv * cv);
                Sampler::Gamma(
                    Gamma::new(shape, mean / shape).map_err(|e| invalid(what, e.to_string()))?,
                )
            }
            DistKind::Weibull => {
                let shape = weibull_shape_for_cv(cv)
                    .ok_or_else(|| invalid(what, format!("cv {cv} is outside 0.01..100")))?;
                let scale = mean / (ln_gamma(1.0 + 1.0 / shape)).exp();
                Sampler::Weibull(
                    Weibull::new(scale, shape).map_err(|e| invalid(what, e.to_string()))?,
                )
            }
            DistKind::Empirical => {
                let values = &dist.values_secs;
                if values.is_empty() || values.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                    return Err(invalid(
                        what,
                        "empirical values must be non-empty and >= 0".into(),
                    ));
                }
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                if mean <= 0.0 {
                    return Err(invalid(
                        what,
                        "empirical values must not all be zero".into(),
                    ));
                }
                return Ok(DurationModel {
                    sampler: Sampler::Empirical(values.clone().into_boxed_slice()),
                    mean,
                });
            }
        };
        Ok(DurationModel { sampler, mean })
    }

    /// The distribution's mean, in seconds.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// One sample in seconds, from the distribution scaled so that its mean is `mean`.
    #[inline(always)]
    pub fn sample_with_mean<R: Rng + ?Sized>(&self, rng: &mut R, mean: f64) -> f64 {
        self.sample(rng) * (mean / self.mean)
    }

    /// One sample in seconds.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // The exponential (the common case, and small) and constants inline; the other
        // families out of line.
        match &self.sampler {
            Sampler::Exponential => self.exponential(rng),
            Sampler::Deterministic => self.mean,
            _ => self.sample_other(rng),
        }
    }

    #[inline(always)]
    fn exponential<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let e: f64 = Exp1.sample(rng);
        e * self.mean
    }

    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.sampler {
            Sampler::Exponential => self.exponential(rng),
            Sampler::Lognormal(d) => d.sample(rng),
            Sampler::Gamma(d) => d.sample(rng),
            Sampler::Weibull(d) => d.sample(rng),
            Sampler::Deterministic => self.mean,
            Sampler::Empirical(values) => {
                let i = (rng.next_u64() % values.len() as u64) as usize;
                values.get(i).copied().unwrap_or(self.mean)
            }
        }
    }
}

/// The Weibull shape k whose cv is `cv`: cv² + 1 = Γ(1 + 2/k) / Γ(1 + 1/k)², which decreases in
/// k; solved by bisection on ln k.
fn weibull_shape_for_cv(cv: f64) -> Option<f64> {
    if !(0.01..=100.0).contains(&cv) {
        return None;
    }
    let target = (cv * cv + 1.0).ln();
    let f = |k: f64| ln_gamma(1.0 + 2.0 / k) - 2.0 * ln_gamma(1.0 + 1.0 / k) - target;
    let (mut lo, mut hi) = (0.05f64.ln(), 200f64.ln());
    if f(lo.exp()) < 0.0 || f(hi.exp()) > 0.0 {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid.exp()) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((0.5 * (lo + hi)).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stream;

    fn dist(kind: DistKind, mean: f64, cv: f64) -> Dist {
        Dist {
            kind,
            mean_secs: mean,
            cv,
            values_secs: Vec::new(),
        }
    }

    /// Sample mean and cv agree with the parameters within 5 standard errors.
    #[test]
    fn families_match_mean_and_cv() {
        let n = 200_000;
        for (kind, cv) in [
            (DistKind::Exponential, 1.0),
            (DistKind::Lognormal, 0.8),
            (DistKind::Gamma, 0.5),
            (DistKind::Weibull, 1.5),
            (DistKind::Weibull, 0.4),
        ] {
            let model = DurationModel::new(&dist(kind, 300.0, cv), "t").unwrap();
            let mut rng = stream(7, 0, kind as u64);
            let xs: Vec<f64> = (0..n).map(|_| model.sample(&mut rng)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se = 300.0 * cv / (n as f64).sqrt();
            assert!((m - 300.0).abs() < 5.0 * se, "{kind:?}: mean {m}");
            let sample_cv = var.sqrt() / m;
            assert!(
                (sample_cv - cv).abs() < 0.05 * cv + 0.02,
                "{kind:?}: cv {sample_cv}"
            );
        }
    }

    #[test]
    fn scaling_and_degenerate_cases() {
        let det = DurationModel::new(&dist(DistKind::Deterministic, 10.0, 0.0), "t").unwrap();
        let mut rng = stream(1, 0, 0);
        assert_eq!(det.sample(&mut rng), 10.0);
        assert_eq!(det.sample_with_mean(&mut rng, 25.0), 25.0);
        let emp = Dist {
            kind: DistKind::Empirical,
            mean_secs: 0.0,
            cv: 0.0,
            values_secs: vec![10.0, 20.0, 30.0],
        };
        let emp = DurationModel::new(&emp, "t").unwrap();
        assert_eq!(emp.mean(), 20.0);
        for _ in 0..100 {
            assert!([10.0, 20.0, 30.0].contains(&emp.sample(&mut rng)));
        }
        assert!(DurationModel::new(&dist(DistKind::Lognormal, 0.0, 1.0), "t").is_err());
        assert!(DurationModel::new(&dist(DistKind::Gamma, 5.0, 0.0), "t").is_err());
    }

    #[test]
    fn weibull_shape_solves_known_points() {
        // cv = 1 is the exponential, k = 1.
        assert!((weibull_shape_for_cv(1.0).unwrap() - 1.0).abs() < 1e-9);
        // k = 2 (Rayleigh) has cv = sqrt(4/pi - 1) = 0.5227232.
        let k = weibull_shape_for_cv((4.0 / std::f64::consts::PI - 1.0).sqrt()).unwrap();
        assert!((k - 2.0).abs() < 1e-7, "{k}");
    }
}
