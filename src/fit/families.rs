//! Maximum-likelihood fits of the duration families chatcap simulates (exponential, lognormal,
//! gamma, Weibull), for complete and right-censored samples, chosen by AIC.
//!
//! Every family is parameterised as the profile describes it: `a = ln mean` and, but for the
//! exponential, `s = ln shape` (lognormal sigma, gamma or Weibull k). With the mean as a
//! parameter, the 95% interval of the mean comes straight from the observed information (delta
//! method on `ln mean`, so the interval stays positive and skews like the estimate). Each
//! observation's log-likelihood term comes with its analytic derivatives in `a`, `s` and the
//! duration itself, so the joint handle-time and slowdown fit (`handling.rs`) reuses them.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use statrs::function::erf::erfc;
use statrs::function::gamma::{checked_gamma_ur, digamma, ln_gamma};

use super::averaging::mean_interval;
use super::report::{DistFit, FamilyFit};

/// Fewer observations (events) than this give no fit: the family choice and the interval would
/// be noise.
pub const MIN_OBSERVATIONS: usize = 30;

/// Durations below this are read as this: log timestamps have second resolution, so a zero
/// duration means "under a second", and the continuous families have no mass at zero.
pub const MIN_DURATION_SECS: f64 = 0.5;

/// The duration families chatcap simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// One parameter: the mean.
    Exponential,
    /// Mean and sigma of the log.
    Lognormal,
    /// Mean and shape k.
    Gamma,
    /// Mean and shape k.
    Weibull,
}

/// One observation's log-likelihood term and its derivatives.
#[derive(Debug, Clone, Copy, Default)]
pub struct Term {
    /// Log density (event) or log survival (censored).
    pub ll: f64,
    /// Derivative in `a = ln mean`.
    pub da: f64,
    /// Derivative in `s = ln shape` (zero for the exponential).
    pub ds: f64,
    /// Derivative in the duration.
    pub dw: f64,
}

impl Family {
    /// Every family, in the order candidates are tried.
    pub const ALL: [Family; 4] = [
        Family::Exponential,
        Family::Lognormal,
        Family::Gamma,
        Family::Weibull,
    ];

    /// The name the profile uses.
    pub fn name(self) -> &'static str {
        match self {
            Family::Exponential => "exponential",
            Family::Lognormal => "lognormal",
            Family::Gamma => "gamma",
            Family::Weibull => "weibull",
        }
    }

    /// Free parameters (for AIC).
    pub fn params(self) -> usize {
        if self == Family::Exponential { 1 } else { 2 }
    }

    /// The coefficient of variation at shape parameter `s = ln shape`.
    pub fn cv(self, s: f64) -> f64 {
        let shape = s.exp();
        match self {
            Family::Exponential => 1.0,
            Family::Lognormal => (shape * shape).exp_m1().sqrt(),
            Family::Gamma => 1.0 / shape.sqrt(),
            Family::Weibull => {
                let ln_ratio = ln_gamma(1.0 + 2.0 / shape) - 2.0 * ln_gamma(1.0 + 1.0 / shape);
                ln_ratio.exp_m1().max(0.0).sqrt()
            }
        }
    }

    /// A start value of `s` for a sample whose coefficient of variation is about `cv`.
    pub fn shape_start(self, cv: f64) -> f64 {
        let cv = if cv.is_finite() && cv > 0.05 { cv } else { 1.0 };
        match self {
            Family::Exponential => 0.0,
            Family::Lognormal => (1.0 + cv * cv).ln().sqrt().ln(),
            Family::Gamma => (1.0 / (cv * cv)).ln(),
            Family::Weibull => -1.086 * cv.ln(),
        }
    }

    /// The term of a duration `w` (an event when `observed`, else right-censored at `w`).
    pub fn term(self, w: f64, observed: bool, a: f64, s: f64) -> Term {
        let w = if observed {
            w.max(MIN_DURATION_SECS)
        } else {
            w
        };
        match self {
            Family::Exponential => exponential_term(w, observed, a),
            Family::Lognormal => lognormal_term(w, observed, a, s),
            Family::Gamma => gamma_term(w, observed, a, s),
            Family::Weibull => weibull_term(w, observed, a, s),
        }
    }
}

fn exponential_term(w: f64, observed: bool, a: f64) -> Term {
    let rate = (-a).exp();
    let ll = -w * rate + if observed { -a } else { 0.0 };
    let da = w * rate - if observed { 1.0 } else { 0.0 };
    Term {
        ll,
        da,
        ds: 0.0,
        dw: -rate,
    }
}

fn lognormal_term(w: f64, observed: bool, a: f64, s: f64) -> Term {
    let sigma = s.exp();
    let ln_w = w.ln();
    let z = (ln_w - a) / sigma + sigma / 2.0;
    if observed {
        return Term {
            ll: -ln_w - s - 0.5 * (2.0 * std::f64::consts::PI).ln() - z * z / 2.0,
            da: z / sigma,
            ds: -1.0 - z * (sigma - z),
            dw: -(1.0 + z / sigma) / w,
        };
    }
    // ln S = ln Phi(-z); its derivative in z is minus the inverse Mills ratio.
    let tail = 0.5 * erfc(z / std::f64::consts::SQRT_2);
    let (ll, mills) = if tail > 1e-300 {
        let density = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (tail.ln(), density / tail)
    } else {
        let ll = -z * z / 2.0 - z.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
        (ll, z + 1.0 / z)
    };
    Term {
        ll,
        da: mills / sigma,
        ds: -mills * (sigma - z),
        dw: -mills / (sigma * w),
    }
}

fn gamma_term(w: f64, observed: bool, a: f64, s: f64) -> Term {
    let k = s.exp();
    let rate = k * (-a).exp();
    let x = w * rate;
    if observed {
        let ll = -ln_gamma(k) + k * rate.ln() + (k - 1.0) * w.ln() - x;
        let dk = -digamma(k) - a + s + 1.0 + w.ln() - w * (-a).exp();
        return Term {
            ll,
            da: -k + x,
            ds: k * dk,
            dw: (k - 1.0) / w - rate,
        };
    }
    // Out of the domain (a trial step too far), the term is not finite and the step refused.
    let ln_q = |k: f64| checked_gamma_ur(k, w * k * (-a).exp()).map_or(f64::NAN, f64::ln);
    let ll = ln_q(k);
    // d ln Q / dx = -x^(k-1) e^-x / (Gamma(k) Q); the shape derivative numerically.
    let dx = -((k - 1.0) * x.ln() - x - ln_gamma(k) - ll).exp();
    let h = 1e-5;
    let ds = (ln_q((s + h).exp()) - ln_q((s - h).exp())) / (2.0 * h);
    Term {
        ll,
        da: -dx * x,
        ds,
        dw: dx * rate,
    }
}

fn weibull_term(w: f64, observed: bool, a: f64, s: f64) -> Term {
    let k = s.exp();
    let ln_scale = a - ln_gamma(1.0 + 1.0 / k);
    let log_ratio = w.ln() - ln_scale;
    let u = (k * log_ratio).exp();
    // d ln u / dk.
    let du = log_ratio - digamma(1.0 + 1.0 / k) / k;
    if observed {
        return Term {
            ll: s + (k - 1.0) * w.ln() - k * ln_scale - u,
            da: k * (u - 1.0),
            ds: 1.0 + k * (1.0 - u) * du,
            dw: (k - 1.0 - k * u) / w,
        };
    }
    Term {
        ll: -u,
        da: k * u,
        ds: -u * k * du,
        dw: -k * u / w,
    }
}

/// A maximum of a log-likelihood and the covariance of its parameters (the inverse observed
/// information; `None` when the information is singular).
#[derive(Debug, Clone)]
pub struct Optimum {
    /// The parameters at the maximum.
    pub params: Vec<f64>,
    /// The log-likelihood there.
    pub ll: f64,
    /// Inverse of minus the Hessian.
    pub cov: Option<DMatrix<f64>>,
}

/// Minus the Hessian by central differences of the analytic gradient, symmetrised.
fn information<F>(params: &[f64], eval: &F) -> Option<DMatrix<f64>>
where
    F: Fn(&[f64]) -> (f64, Vec<f64>),
{
    let n = params.len();
    let mut info = DMatrix::zeros(n, n);
    let h = 1e-5;
    for j in 0..n {
        let mut up = params.to_vec();
        let mut down = params.to_vec();
        up[j] += h;
        down[j] -= h;
        let (gu, gd) = (eval(&up).1, eval(&down).1);
        for i in 0..n {
            info[(i, j)] = -(gu[i] - gd[i]) / (2.0 * h);
        }
    }
    let info = (&info + info.transpose()) * 0.5;
    info.iter().all(|v| v.is_finite()).then_some(info)
}

/// The Newton step `info⁻¹ grad`, damped (Levenberg) until `info` is positive definite.
fn newton_step(info: &DMatrix<f64>, grad: &[f64]) -> Option<DVector<f64>> {
    let n = grad.len();
    let scale = info.diagonal().abs().max().max(1e-12);
    let g = DVector::from_column_slice(grad);
    let mut damping = 0.0;
    for _ in 0..16 {
        let damped = info + DMatrix::identity(n, n) * damping;
        if let Some(chol) = damped.cholesky() {
            return Some(chol.solve(&g));
        }
        damping = if damping == 0.0 {
            1e-8 * scale
        } else {
            damping * 10.0
        };
    }
    None
}

/// Maximises `eval` (log-likelihood and gradient) from `start` by Newton steps on the
/// numerically differentiated gradient, damped (Levenberg) where the Hessian is not negative
/// definite, halved until the likelihood rises.
pub fn maximize<F>(start: Vec<f64>, eval: F) -> Option<Optimum>
where
    F: Fn(&[f64]) -> (f64, Vec<f64>),
{
    let mut params = start;
    let (mut ll, mut grad) = eval(&params);
    if !ll.is_finite() {
        return None;
    }
    for _ in 0..100 {
        let info = information(&params, &eval)?;
        let Some(step) = newton_step(&info, &grad) else {
            break;
        };
        // The Newton decrement is the likelihood still to gain; stop when it is far below
        // what one standard error moves (0.5), relative to the sample's scale: an absolute
        // threshold is never met on a million terms, whose sum carries rounding of that order.
        if step.dot(&DVector::from_column_slice(&grad)) < 1e-9 * ll.abs().max(1.0) {
            break;
        }
        let mut accepted = false;
        let mut t = 1.0;
        for _ in 0..40 {
            let trial: Vec<f64> = params
                .iter()
                .zip(step.iter())
                .map(|(p, d)| p + t * d)
                .collect();
            let (trial_ll, trial_grad) = eval(&trial);
            if trial_ll.is_finite() && trial_ll >= ll {
                (params, ll, grad) = (trial, trial_ll, trial_grad);
                accepted = true;
                break;
            }
            t /= 2.0;
        }
        if !accepted {
            break;
        }
    }
    let cov = information(&params, &eval).and_then(|info| info.try_inverse());
    Some(Optimum { params, ll, cov })
}

/// One family fitted to a sample, with the parameters behind it.
#[derive(Debug, Clone)]
pub struct FamilyOptimum {
    /// The family.
    pub family: Family,
    /// `[a, s]` (`s` is 0 for the exponential).
    pub a: f64,
    /// `ln shape`.
    pub s: f64,
    /// Standard error of `a`, when the information is regular.
    pub se_a: Option<f64>,
    /// Log-likelihood at the maximum.
    pub ll: f64,
}

impl FamilyOptimum {
    /// Akaike's information criterion.
    pub fn aic(&self) -> f64 {
        2.0 * self.family.params() as f64 - 2.0 * self.ll
    }

    /// The candidate as the report lists it.
    pub fn candidate(&self) -> FamilyFit {
        FamilyFit {
            dist: self.family.name().to_string(),
            mean_secs: self.a.exp(),
            cv: self.family.cv(self.s),
            log_likelihood: self.ll,
            aic: self.aic(),
        }
    }
}

/// Sum of the terms of a sample and the gradient in `(a, s)`.
fn sample_likelihood(
    family: Family,
    times: &[f64],
    observed: &[bool],
    p: &[f64],
) -> (f64, Vec<f64>) {
    let (a, s) = (p[0], p.get(1).copied().unwrap_or(0.0));
    let (mut ll, mut da, mut ds) = (0.0, 0.0, 0.0);
    for (&w, &obs) in times.iter().zip(observed) {
        let t = family.term(w, obs, a, s);
        ll += t.ll;
        da += t.da;
        ds += t.ds;
    }
    if family == Family::Exponential {
        (ll, vec![da])
    } else {
        (ll, vec![da, ds])
    }
}

/// Fits one family to a (possibly censored) sample.
pub fn fit_family(family: Family, times: &[f64], observed: &[bool]) -> Option<FamilyOptimum> {
    let events = observed.iter().filter(|o| **o).count();
    if events == 0 {
        return None;
    }
    let total: f64 = times.iter().map(|t| t.max(MIN_DURATION_SECS)).sum();
    let a0 = (total / events as f64).ln();
    let (n, mut sum, mut sum2) = (events as f64, 0.0, 0.0);
    for (&w, _) in times.iter().zip(observed).filter(|(_, o)| **o) {
        sum += w;
        sum2 += w * w;
    }
    let cv = ((sum2 / n - (sum / n).powi(2)).max(0.0)).sqrt() / (sum / n);
    let start = if family == Family::Exponential {
        vec![a0]
    } else {
        vec![a0, family.shape_start(cv)]
    };
    let opt = maximize(start, |p| sample_likelihood(family, times, observed, p))?;
    let se_a = opt
        .cov
        .as_ref()
        .map(|c| c[(0, 0)])
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(f64::sqrt);
    Some(FamilyOptimum {
        family,
        a: opt.params[0],
        s: opt.params.get(1).copied().unwrap_or(0.0),
        se_a,
        ll: opt.ll,
    })
}

/// Every family fitted, best (lowest AIC) first.
pub fn fit_all(times: &[f64], observed: &[bool]) -> Vec<FamilyOptimum> {
    // The families are fitted side by side; collecting keeps their order, so the choice is
    // the same whatever the thread count.
    let mut fits: Vec<FamilyOptimum> = Family::ALL
        .par_iter()
        .filter_map(|f| fit_family(*f, times, observed))
        .filter(|f| f.ll.is_finite() && f.a.is_finite() && f.s.is_finite())
        .collect();
    fits.sort_by(|x, y| x.aic().total_cmp(&y.aic()));
    fits
}

/// The report's view of a fit: the chosen family, the 95% interval of the mean over the family
/// choice ([`mean_interval`]) and every candidate.
pub fn dist_fit(fits: &[FamilyOptimum], chats: u64) -> Option<DistFit> {
    let best = fits.first()?;
    let (low, high) = mean_interval(fits);
    Some(DistFit {
        dist: best.family.name().to_string(),
        mean_secs: best.a.exp(),
        cv: best.family.cv(best.s),
        mean_ci_low: low,
        mean_ci_high: high,
        chats,
        candidates: fits.iter().map(FamilyOptimum::candidate).collect(),
    })
}

/// The best family for a complete sample of durations (seconds); `None` with fewer than
/// [`MIN_OBSERVATIONS`] usable values (finite, not negative).
pub fn best_fit(values: &[f64]) -> Option<DistFit> {
    let times: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .collect();
    let observed = vec![true; times.len()];
    best_fit_censored(&times, &observed)
}

/// The best family for right-censored durations: `observed[i]` says whether `times[i]` is an
/// event (else the duration is only known to exceed it). `None` with fewer than
/// [`MIN_OBSERVATIONS`] events. Censored durations of zero carry no information and are left
/// out of the likelihood (but counted in `chats`).
pub fn best_fit_censored(times: &[f64], observed: &[bool]) -> Option<DistFit> {
    let (kept_times, kept_observed): (Vec<f64>, Vec<bool>) = times
        .iter()
        .zip(observed)
        .filter(|(t, o)| t.is_finite() && (**o && **t >= 0.0 || **t > 0.0))
        .map(|(t, o)| (*t, *o))
        .unzip();
    if kept_observed.iter().filter(|o| **o).count() < MIN_OBSERVATIONS {
        return None;
    }
    dist_fit(&fit_all(&kept_times, &kept_observed), times.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dist::DurationModel;
    use crate::model::stream;
    use crate::profile::{Dist, DistKind};

    fn sample(kind: DistKind, mean: f64, cv: f64, n: usize, seed: u64) -> Vec<f64> {
        let dist = Dist {
            kind,
            mean_secs: mean,
            cv,
            values_secs: Vec::new(),
        };
        let model = DurationModel::new(&dist, "t").unwrap();
        let mut rng = stream(seed, 0, 0);
        (0..n).map(|_| model.sample(&mut rng)).collect()
    }

    /// The analytic derivatives agree with central differences, for events and censored.
    #[test]
    fn term_derivatives_match_differences() {
        let h = 1e-6;
        for family in Family::ALL {
            for (w, observed) in [(40.0, true), (400.0, true), (90.0, false), (900.0, false)] {
                let (a, s) = (5.0, 0.2);
                let t = family.term(w, observed, a, s);
                let ll = |w: f64, a: f64, s: f64| family.term(w, observed, a, s).ll;
                let da = (ll(w, a + h, s) - ll(w, a - h, s)) / (2.0 * h);
                let ds = (ll(w, a, s + h) - ll(w, a, s - h)) / (2.0 * h);
                let dw = (ll(w + h, a, s) - ll(w - h, a, s)) / (2.0 * h);
                let close = |x: f64, y: f64| (x - y).abs() < 1e-5 * (1.0 + y.abs());
                assert!(
                    close(t.da, da),
                    "{family:?} {w} {observed}: da {} vs {da}",
                    t.da
                );
                if family != Family::Exponential {
                    assert!(
                        close(t.ds, ds),
                        "{family:?} {w} {observed}: ds {} vs {ds}",
                        t.ds
                    );
                }
                assert!(
                    close(t.dw, dw),
                    "{family:?} {w} {observed}: dw {} vs {dw}",
                    t.dw
                );
            }
        }
    }

    /// Each family is recovered (mean within 3%, cv within 5%) and chosen by AIC on 20k values.
    #[test]
    fn complete_samples_recover_family_mean_and_cv() {
        for (kind, name, cv) in [
            (DistKind::Exponential, "exponential", 1.0),
            (DistKind::Lognormal, "lognormal", 0.8),
            (DistKind::Gamma, "gamma", 0.5),
            (DistKind::Weibull, "weibull", 0.6),
        ] {
            let xs = sample(kind, 300.0, cv, 20_000, 3);
            let fit = best_fit(&xs).unwrap();
            assert_eq!(fit.dist, name, "{kind:?}: {:?}", fit.candidates);
            assert!(
                (fit.mean_secs / 300.0 - 1.0).abs() < 0.03,
                "{kind:?}: {fit:?}"
            );
            assert!((fit.cv / cv - 1.0).abs() < 0.05, "{kind:?}: {fit:?}");
            assert!(fit.mean_ci_low < fit.mean_secs && fit.mean_secs < fit.mean_ci_high);
            assert_eq!(fit.candidates.len(), 4);
        }
    }

    /// Censoring at an independent time: the fit recovers the mean where the naive mean of the
    /// events is far too low.
    #[test]
    fn censored_weibull_recovers_the_mean() {
        let xs = sample(DistKind::Weibull, 200.0, 0.7, 20_000, 5);
        let cs = sample(DistKind::Exponential, 150.0, 1.0, 20_000, 6);
        let times: Vec<f64> = xs.iter().zip(&cs).map(|(x, c)| x.min(*c)).collect();
        let observed: Vec<bool> = xs.iter().zip(&cs).map(|(x, c)| x <= c).collect();
        let fit = best_fit_censored(&times, &observed).unwrap();
        assert_eq!(fit.dist, "weibull", "{:?}", fit.candidates);
        assert!((fit.mean_secs / 200.0 - 1.0).abs() < 0.05, "{fit:?}");
        let naive: Vec<f64> = times
            .iter()
            .zip(&observed)
            .filter(|(_, o)| **o)
            .map(|(t, _)| *t)
            .collect();
        assert!(naive.iter().sum::<f64>() / (naive.len() as f64) < 150.0);
    }

    #[test]
    fn thin_or_unusable_samples_give_no_fit() {
        assert!(best_fit(&[10.0; 29]).is_none());
        assert!(best_fit(&[f64::NAN; 100]).is_none());
        let xs = sample(DistKind::Exponential, 60.0, 1.0, 40, 1);
        assert!(best_fit(&xs).is_some());
    }
}
