//! The volume forecast of one queue: MSTL splits the slot counts into a daily and a weekly
//! pattern plus a trend, AutoETS carries the trend forward, and the patterns repeat. A
//! backtest on the last held-out days gives the model's WAPE beside the seasonal-naive
//! baseline, and the errors beyond Poisson noise give `volume_cv`, the gamma mixing of the
//! rate the simulator uses; the prediction intervals are the quantiles of that
//! Poisson-gamma count around the forecast. Thin histories fall back to simpler models, each
//! with a warning.

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::{Fit, Predict};
use jiff::Zoned;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rayon::prelude::*;
use statrs::distribution::{DiscreteCDF, NegativeBinomial, Poisson};

use super::FitError;
use super::grid::{self, Grid};
use super::history::History;
use super::report::{ForecastPoint, VolumeFit};

/// Share of the count's distribution inside the prediction interval.
const LEVEL: f64 = 0.95;
/// Below this `volume_cv` the count is taken as pure Poisson.
const MIN_CV: f64 = 1e-3;

/// A forecast per wall-clock slot of the days after the history, with its backtest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SlotForecast {
    /// The model used, e.g. `MSTL(48,336)+AutoETS`.
    pub(crate) model: String,
    /// The model's WAPE on the held-out days, when there was a backtest.
    pub(crate) wape: Option<f64>,
    /// The seasonal-naive WAPE on the same days.
    pub(crate) baseline_wape: Option<f64>,
    /// Coefficient of variation of the rate beyond Poisson noise.
    pub(crate) volume_cv: f64,
    /// Slots in a day.
    pub(crate) slots_per_day: usize,
    /// Per slot of the horizon's days, day after day: expected chats and the 95% interval.
    pub(crate) points: Vec<(f64, f64, f64)>,
}

/// The backtest's figures.
struct Backtest {
    wape: Option<f64>,
    baseline_wape: Option<f64>,
    volume_cv: f64,
}

/// Forecasts `horizon_days` days of `slots_per_day` slots after `counts` (whole days of slot
/// counts, oldest first), and backtests on the last `holdout_days` days. Returns the forecast
/// and one warning per fallback taken.
pub(crate) fn fit_volume(
    counts: &[f64],
    slots_per_day: usize,
    horizon_days: u32,
    holdout_days: u32,
) -> (SlotForecast, Vec<String>) {
    let spd = slots_per_day.max(1);
    let mut series: Vec<f64> = counts[..counts.len() / spd * spd].to_vec();
    grid::interpolate(&mut series);
    let horizon = horizon_days as usize * spd;
    // The backtest and the final fit are independent: run them side by side.
    let ((backtest, mut warnings), ((mean, model), notes)) = rayon::join(
        || {
            let mut notes = Vec::new();
            (
                backtest(&series, spd, holdout_days as usize, &mut notes),
                notes,
            )
        },
        || {
            let mut notes = Vec::new();
            (forecast_mean(&series, spd, horizon, &mut notes), notes)
        },
    );
    warnings.extend(notes);
    let volume_cv = backtest.as_ref().map_or(0.0, |b| b.volume_cv);
    let points = mean
        .iter()
        .map(|&m| {
            let (low, high) = count_interval(m, volume_cv);
            (m, low, high)
        })
        .collect();
    let forecast = SlotForecast {
        model,
        wape: backtest.as_ref().and_then(|b| b.wape),
        baseline_wape: backtest.as_ref().and_then(|b| b.baseline_wape),
        volume_cv,
        slots_per_day: spd,
        points,
    };
    (forecast, warnings)
}

/// Fits on all but the last `holdout_days` days, forecasts them, and compares with the
/// seasonal-naive forecast (the train's last week repeated) on the same days.
fn backtest(
    series: &[f64],
    spd: usize,
    holdout_days: usize,
    warnings: &mut Vec<String>,
) -> Option<Backtest> {
    let days = series.len() / spd;
    if holdout_days == 0 || days < holdout_days + 7 {
        warnings.push(format!(
            "the history holds {days} whole day(s), fewer than the holdout ({holdout_days} \
             day(s)) plus one week: no backtest, so no WAPE, and volume_cv is 0 (Poisson \
             noise only)"
        ));
        return None;
    }
    let (train, held_out) = series.split_at(series.len() - holdout_days * spd);
    let (predicted, _) = forecast_mean(train, spd, held_out.len(), &mut Vec::new());
    let last_week = &train[train.len() - 7 * spd..];
    let naive: Vec<f64> = (0..held_out.len())
        .map(|i| last_week[i % last_week.len()])
        .collect();
    Some(Backtest {
        wape: wape(held_out, &predicted),
        baseline_wape: wape(held_out, &naive),
        volume_cv: excess_cv(held_out, &predicted),
    })
}

/// Sum of absolute errors over the sum of actuals; `None` when nothing happened.
fn wape(actual: &[f64], predicted: &[f64]) -> Option<f64> {
    let total: f64 = actual.iter().sum();
    let errors: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(y, p)| (y - p).abs())
        .sum();
    (total > 0.0).then(|| errors / total)
}

/// The gamma mixing of the rate that explains the errors: with Var(N) = m + cv^2 m^2, the
/// method of moments gives cv^2 = sum((y - m)^2 - m) / sum(m^2), floored at 0 when the
/// errors are within Poisson noise. It counts the model's own error as uncertainty, which is
/// what a plan on the forecast has to live with.
fn excess_cv(actual: &[f64], predicted: &[f64]) -> f64 {
    let (excess, scale) = actual
        .iter()
        .zip(predicted)
        .fold((0.0, 0.0), |(excess, scale), (y, m)| {
            (excess + (y - m).powi(2) - m, scale + m * m)
        });
    if scale > 0.0 && excess > 0.0 {
        (excess / scale).sqrt()
    } else {
        0.0
    }
}

/// The expected count per slot over `horizon` slots and the model's name, choosing the model by
/// the length of `series`: MSTL with daily and weekly periods from two weeks on, daily only from
/// two days on, else the mean of each slot.
fn forecast_mean(
    series: &[f64],
    spd: usize,
    horizon: usize,
    warnings: &mut Vec<String>,
) -> (Vec<f64>, String) {
    let days = series.len() / spd;
    let mut periods = Vec::new();
    if spd >= 2 && days >= 2 {
        periods.push(spd);
    }
    if days >= 14 {
        periods.push(7 * spd);
    } else if days >= 2 {
        warnings.push(format!(
            "the history holds {days} whole days, fewer than two weeks: the forecast has no \
             weekday pattern (daily seasonality only)"
        ));
    }
    if !periods.is_empty() {
        match mstl_forecast(series, &periods, horizon) {
            Ok(mean) => {
                let names: Vec<String> = periods.iter().map(usize::to_string).collect();
                return (mean, format!("MSTL({})+AutoETS", names.join(",")));
            }
            Err(message) => warnings.push(format!(
                "the seasonal model could not be fitted ({message}): the forecast is the mean \
                 of each slot of the day"
            )),
        }
    } else {
        warnings.push(format!(
            "the history holds {days} whole day(s), too few for a seasonal model: the forecast \
             is the mean of each slot of the day"
        ));
    }
    (
        slot_means(series, spd, horizon),
        "mean per slot".to_string(),
    )
}

/// MSTL decomposition with an AutoETS trend (additive errors, trend none, additive or damped,
/// chosen by AICc), forecast `horizon` steps and floored at 0.
fn mstl_forecast(series: &[f64], periods: &[usize], horizon: usize) -> Result<Vec<f64>, String> {
    let trend = AutoETS::new(1, "AZN").map_err(|e| e.to_string())?;
    let model = MSTLModel::new(periods.to_vec(), trend.into_trend_model());
    let fitted = model.fit(series).map_err(|e| e.to_string())?;
    let forecast = fitted.predict(horizon, None).map_err(|e| e.to_string())?;
    if forecast.point.len() != horizon || forecast.point.iter().any(|p| !p.is_finite()) {
        return Err("the forecast has no finite value for every slot".to_string());
    }
    Ok(forecast.point.iter().map(|p| p.max(0.0)).collect())
}

/// Each slot's mean over the days of `series`, repeated over `horizon` slots.
fn slot_means(series: &[f64], spd: usize, horizon: usize) -> Vec<f64> {
    let days = (series.len() / spd).max(1);
    let means: Vec<f64> = (0..spd)
        .map(|slot| series.iter().skip(slot).step_by(spd).sum::<f64>() / days as f64)
        .collect();
    (0..horizon).map(|i| means[i % spd]).collect()
}

/// The central 95% interval of a count of mean `mean` whose rate is gamma-mixed with
/// coefficient of variation `cv` (negative binomial; Poisson at cv 0).
pub(crate) fn count_interval(mean: f64, cv: f64) -> (f64, f64) {
    if mean.is_nan() || mean <= 0.0 {
        return (0.0, 0.0);
    }
    let tail = (1.0 - LEVEL) / 2.0;
    let quantiles = |dist: &dyn DiscreteCDF<u64, f64>| {
        (
            dist.inverse_cdf(tail) as f64,
            dist.inverse_cdf(1.0 - tail) as f64,
        )
    };
    if cv >= MIN_CV {
        let shape = 1.0 / (cv * cv);
        let success = shape / (shape + mean);
        if let Ok(dist) = NegativeBinomial::new(shape, success) {
            return quantiles(&dist);
        }
    }
    match Poisson::new(mean) {
        Ok(dist) => quantiles(&dist),
        Err(_) => (0.0, 0.0),
    }
}

/// The forecast for intervals starting at `starts` (local date-times, e.g. a profile's
/// intervals): each takes the slot of its wall-clock start on its day, counted from
/// `first_day`, the first forecast day. A repeated hour takes its slots twice; a skipped hour
/// is simply absent. A day past the forecast takes the same weekday of its last week.
pub(crate) fn map_to_intervals(
    forecast: &SlotForecast,
    grid: &Grid,
    first_day: Date,
    starts: &[Zoned],
) -> Result<Vec<ForecastPoint>, FitError> {
    let spd = forecast.slots_per_day;
    let days = (forecast.points.len() / spd) as i64;
    starts
        .iter()
        .map(|start| {
            let wall = start.datetime();
            let mut day = first_day
                .until(wall.date())
                .map_or(-1, |span| i64::from(span.get_days()));
            if day < 0 || days == 0 {
                return Err(FitError::Option {
                    flag: "--horizon".to_string(),
                    message: format!(
                        "the interval at {wall} is not after the history, whose forecast \
                         starts on {first_day}; start the horizon on or after that day"
                    ),
                });
            }
            while day >= days {
                day -= if days >= 7 { 7 } else { days };
            }
            let (volume, low, high) = forecast.points[day as usize * spd + grid.slot_of(wall)];
            let start = start.timestamp().display_with_offset(start.offset());
            Ok(ForecastPoint {
                start: start.to_string(),
                volume,
                low,
                high,
            })
        })
        .collect()
}

/// The volume forecasts of every queue of a history, laid on the horizon's intervals.
#[derive(Debug, Clone)]
pub struct VolumeForecasts {
    /// Where the forecast starts: midnight of the day after the history's last whole day.
    pub forecast_start: Zoned,
    /// Per queue, in the order of [`History::queues`].
    pub queues: Vec<(String, VolumeFit)>,
    /// Partial days, filled slots and fallbacks, one sentence each.
    pub warnings: Vec<String>,
}

/// Counts the chats of `history` per `interval_secs` slot of the local days of `zone`,
/// forecasts `horizon_days` days after the history for every queue, backtested on the last
/// `holdout_days` days. The horizon's intervals are laid end to end from its first midnight, as
/// a dated profile lays them, so a day of 23 or 25 hours has 2 intervals of an hour fewer or
/// more.
pub fn forecast_volumes(
    history: &History,
    zone: &TimeZone,
    interval_secs: f64,
    horizon_days: u32,
    holdout_days: u32,
) -> Result<VolumeForecasts, FitError> {
    let counted = grid::count_slots(history, zone, interval_secs)?;
    let grid = &counted.grid;
    let first_day = grid.forecast_day();
    let day_start = |date: Date| {
        date.to_zoned(zone.clone()).map_err(|e| FitError::Option {
            flag: "--horizon".to_string(),
            message: format!("the day {date} cannot be placed in the zone: {e}"),
        })
    };
    let forecast_start = day_start(first_day)?;
    let end = day_start(grid.day(grid.days + horizon_days as usize))?;
    let mut starts = Vec::new();
    let mut now = forecast_start.clone();
    while now < end {
        starts.push(now.clone());
        now = now
            .checked_add(jiff::SignedDuration::from_secs(grid.interval_secs))
            .map_err(|e| FitError::Option {
                flag: "--horizon".to_string(),
                message: format!("the horizon runs out of the calendar: {e}"),
            })?;
    }
    let fits: Vec<_> = counted
        .counts
        .par_iter()
        .map(|counts| fit_volume(counts, grid.slots_per_day, horizon_days, holdout_days))
        .collect();
    let mut warnings = counted.warnings.clone();
    let mut queues = Vec::new();
    for ((name, counts), (forecast, notes)) in history.queues.iter().zip(&counted.counts).zip(fits)
    {
        warnings.extend(
            notes
                .into_iter()
                .map(|n| format!("queue {name}: volume: {n}")),
        );
        let history_points = counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    grid.label(i / grid.slots_per_day, i % grid.slots_per_day),
                    *c,
                )
            })
            .collect();
        let fit = VolumeFit {
            model: forecast.model.clone(),
            wape: forecast.wape,
            baseline_wape: forecast.baseline_wape,
            volume_cv: forecast.volume_cv,
            forecast: map_to_intervals(&forecast, grid, first_day, &starts)?,
            history: history_points,
        };
        queues.push((name.clone(), fit));
    }
    Ok(VolumeForecasts {
        forecast_start,
        queues,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_interval_is_poisson_at_cv_zero_and_wider_with_mixing() {
        // Poisson(100): 2.5% and 97.5% quantiles 81 and 120.
        assert_eq!(count_interval(100.0, 0.0), (81.0, 120.0));
        let (low, high) = count_interval(100.0, 0.2);
        assert!(low < 70.0 && high > 140.0, "{low}..{high}");
        assert_eq!(count_interval(0.0, 0.1), (0.0, 0.0));
        assert_eq!(count_interval(f64::NAN, 0.1), (0.0, 0.0));
    }

    #[test]
    fn excess_cv_is_zero_within_poisson_noise_and_measures_the_rest() {
        assert_eq!(
            excess_cv(&[98.0, 103.0, 100.0], &[100.0, 100.0, 100.0]),
            0.0
        );
        // Errors of 20 on a mean of 100: (400 - 100) / 100^2 = 0.03.
        let cv = excess_cv(&[120.0, 80.0], &[100.0, 100.0]);
        assert!((cv - 0.03_f64.sqrt()).abs() < 1e-12, "{cv}");
    }

    #[test]
    fn wape_weighs_errors_by_volume() {
        assert_eq!(wape(&[10.0, 30.0], &[12.0, 27.0]), Some(5.0 / 40.0));
        assert_eq!(wape(&[0.0, 0.0], &[1.0, 1.0]), None);
    }

    #[test]
    fn missing_slots_and_ragged_tails_do_not_reach_the_model() {
        let mut counts: Vec<f64> = (0..3 * 4).map(|i| (i % 4) as f64 * 10.0).collect();
        counts[5] = f64::NAN;
        counts.push(99.0); // part of a fourth day, left out
        let (forecast, warnings) = fit_volume(&counts, 4, 1, 7);
        assert_eq!(forecast.points.len(), 4);
        assert!(
            forecast
                .points
                .iter()
                .all(|(m, low, high)| m.is_finite() && low <= high)
        );
        assert!(
            warnings.iter().any(|w| w.contains("no backtest")),
            "{warnings:?}"
        );
    }
}
