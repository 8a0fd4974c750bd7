//! Poisson arrivals with a rate that is constant within each planning interval. Sampling is
//! exact across interval edges: the next arrival after `t` is where the cumulative rate has grown
//! by one standard exponential draw, walking interval by interval. One draw per arrival.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma};

/// An arrival process over a day of planning intervals, in seconds from the first interval start.
#[derive(Debug, Clone)]
pub struct ArrivalProcess {
    /// Arrival rate per second in each interval.
    rates: Vec<f64>,
    interval_secs: f64,
}

impl ArrivalProcess {
    /// A process with `volumes[i]` expected arrivals in interval `i`.
    pub fn new(volumes: &[f64], interval_secs: f64) -> Self {
        let rates = volumes.iter().map(|v| v.max(0.0) / interval_secs).collect();
        ArrivalProcess {
            rates,
            interval_secs,
        }
    }

    /// Multiplies each interval's rate by a gamma factor of mean 1 and coefficient of variation
    /// `volume_cv` (forecast uncertainty: a negative-binomial count per interval). No-op at 0.
    pub fn mix_volume<R: Rng + ?Sized>(&mut self, volume_cv: f64, rng: &mut R) {
        if volume_cv <= 0.0 {
            return;
        }
        let shape = 1.0 / (volume_cv * volume_cv);
        if let Ok(gamma) = Gamma::new(shape, 1.0 / shape) {
            for rate in &mut self.rates {
                *rate *= gamma.sample(rng);
            }
        }
    }

    /// The rate per second in interval `i`.
    pub fn rate(&self, i: usize) -> f64 {
        self.rates.get(i).copied().unwrap_or(0.0)
    }

    /// End of the last interval, in seconds.
    pub fn horizon(&self) -> f64 {
        self.rates.len() as f64 * self.interval_secs
    }

    /// The first arrival strictly after `t` seconds, or `None` past the horizon.
    #[inline(always)]
    pub fn next_after<R: Rng + ?Sized>(&self, t: f64, rng: &mut R) -> Option<f64> {
        let mut hazard: f64 = Exp1.sample(rng);
        let mut now = t.max(0.0);
        let mut i = index_of(now / self.interval_secs);
        while let Some(&rate) = self.rates.get(i) {
            // `i` indexes a vector, so it converts exactly through i64, the cheaper conversion.
            let end = (i as i64 + 1) as f64 * self.interval_secs;
            let room = (end - now) * rate;
            if hazard < room {
                return Some(now + hazard / rate);
            }
            hazard -= room;
            now = end;
            i += 1;
        }
        None
    }
}

/// `x as usize` (saturating, NaN to 0), through [`super::saturating_u64`].
#[inline(always)]
fn index_of(x: f64) -> usize {
    usize::try_from(super::saturating_u64(x)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stream;

    /// Counts per interval are Poisson: mean and variance both near the volume, over many days.
    #[test]
    fn counts_per_interval_are_poisson() {
        let volumes = [50.0, 0.0, 200.0, 10.0];
        let process = ArrivalProcess::new(&volumes, 1800.0);
        let days = 2000;
        // counts[interval][day]
        let mut counts = vec![vec![0u32; days]; volumes.len()];
        let mut rng = stream(3, 0, 0);
        for day in 0..days {
            let mut t = 0.0;
            while let Some(next) = process.next_after(t, &mut rng) {
                let interval = &mut counts[(next / 1800.0) as usize];
                interval[day] += 1;
                t = next;
            }
        }
        for (i, v) in volumes.iter().enumerate() {
            let n = days as f64;
            let mean = counts[i].iter().map(|&c| c as f64).sum::<f64>() / n;
            let var = counts[i]
                .iter()
                .map(|&c| (c as f64 - mean).powi(2))
                .sum::<f64>()
                / (n - 1.0);
            let se = (v / n).sqrt();
            assert!(
                (mean - v).abs() <= 5.0 * se + 1e-12,
                "interval {i}: mean {mean} vs {v}"
            );
            if *v > 0.0 {
                // Var of the sample variance of a Poisson(v) is about (v + 2v^2) / n.
                let se_var = ((v + 2.0 * v * v) / n).sqrt();
                assert!(
                    (var - v).abs() <= 5.0 * se_var,
                    "interval {i}: var {var} vs {v}"
                );
            } else {
                assert_eq!(var, 0.0);
            }
        }
    }

    #[test]
    fn volume_mixing_inflates_variance() {
        let days = 4000;
        let mut totals = Vec::with_capacity(days);
        let mut rng = stream(4, 0, 0);
        for _ in 0..days {
            let mut process = ArrivalProcess::new(&[100.0], 1800.0);
            process.mix_volume(0.3, &mut rng);
            let mut t = 0.0;
            let mut count = 0.0;
            while let Some(next) = process.next_after(t, &mut rng) {
                count += 1.0;
                t = next;
            }
            totals.push(count);
        }
        let n = days as f64;
        let mean = totals.iter().sum::<f64>() / n;
        let var = totals.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (n - 1.0);
        // Negative binomial: variance = v + (cv v)^2 = 100 + 900.
        assert!(
            (mean - 100.0).abs() < 5.0 * (1000.0 / n).sqrt(),
            "mean {mean}"
        );
        assert!((var - 1000.0).abs() < 150.0, "var {var}");
    }

    #[test]
    fn index_conversion_agrees_with_the_cast() {
        for x in [
            f64::NAN,
            f64::NEG_INFINITY,
            -3.5,
            -0.0,
            0.0,
            0.999,
            1.0,
            47.99999,
            1e15,
            9_223_372_036_854_774_784.0,
            9_223_372_036_854_775_808.0,
            1e300,
            f64::INFINITY,
        ] {
            assert_eq!(index_of(x), x as usize, "{x}");
        }
    }
}
