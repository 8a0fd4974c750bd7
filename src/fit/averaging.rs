//! The interval of a mean over the choice of family. AIC picks one family, but when two fit
//! about as well the data do not say which, and on a censored sample (patience) the tail, and
//! so the mean, is the family's. The winner's own Wald interval then covers the truth less
//! often than it states; the model-averaged tail-area interval carries that doubt.

use statrs::function::erf::erfc;

use super::families::FamilyOptimum;

/// The 95% interval of the mean over the family choice: each family's estimate of `ln mean`
/// is normal with its standard error, weighted by its Akaike weight, and the interval runs
/// between the 2.5% and 97.5% quantiles of that mixture (the model-averaged tail-area
/// interval of Turek and Fletcher, 2012). With one clear winner it is that family's own Wald
/// interval; when families tie it spans their disagreement, which the winner's interval alone
/// does not carry (censored samples leave the tail, hence the mean, to the family). A family
/// with weight and no regular information leaves the interval unbounded.
pub(super) fn mean_interval(fits: &[FamilyOptimum]) -> (f64, f64) {
    let Some(best) = fits.iter().map(FamilyOptimum::aic).min_by(f64::total_cmp) else {
        return (0.0, f64::INFINITY);
    };
    let mut parts = Vec::with_capacity(fits.len());
    for f in fits {
        let weight = (-(f.aic() - best) / 2.0).exp();
        match f.se_a {
            Some(se) => parts.push((weight, f.a, se)),
            None if weight > 1e-3 => return (0.0, f64::INFINITY),
            None => {}
        }
    }
    let total: f64 = parts.iter().map(|p| p.0).sum();
    let below = |x: f64| -> f64 {
        parts
            .iter()
            .map(|(w, a, se)| w * 0.5 * erfc((a - x) / (se * std::f64::consts::SQRT_2)))
            .sum::<f64>()
            / total
    };
    let spread = |sign: f64| {
        parts
            .iter()
            .map(|(_, a, se)| a + sign * 10.0 * se)
            .fold(
                f64::NAN,
                |m, x| if sign < 0.0 { x.min(m) } else { x.max(m) },
            )
    };
    let quantile = |p: f64| {
        let (mut lo, mut hi) = (spread(-1.0), spread(1.0));
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if below(mid) < p { lo = mid } else { hi = mid }
        }
        (0.5 * (lo + hi)).exp()
    };
    (quantile(0.025), quantile(0.975))
}
