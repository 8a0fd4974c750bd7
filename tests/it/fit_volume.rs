//! The volume forecast of `chatcap fit` on synthetic histories of known rates: it beats the
//! seasonal-naive baseline on the held-out week over many seeds, its prediction intervals cover
//! about 95% of held-out counts, it recovers a gamma mixing of the rate as `volume_cv`, it
//! follows local time across daylight-saving changes, and thin data falls back with warnings.

use std::time::{Duration, Instant};

use chatcap::fit::History;
use chatcap::fit::history::ChatFacts;
use chatcap::fit::volume::{VolumeForecasts, forecast_volumes};
use jiff::tz::TimeZone;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, Gamma, Poisson};

const SLOTS: usize = 48;
const SLOT_SECS: f64 = 1800.0;

/// Expected chats in a slot of a weekday: a daily curve from 5 at night to 200 at the peak,
/// scaled down on weekends.
fn rate(day: usize, slot: usize) -> f64 {
    let hour = slot as f64 / 2.0;
    let daily = (-((hour - 14.0) / 4.0).powi(2)).exp();
    let weekday = [1.0, 0.95, 0.9, 0.95, 0.85, 0.5, 0.4][day % 7];
    5.0 + 195.0 * daily * weekday
}

/// A history of one queue per entry of `scales` (volumes times the scale), `days` days from
/// `first_day` local midnight in `zone`, chats spread evenly inside their slot, the rate of
/// each slot mixed with a gamma of coefficient of variation `cv`. Slots follow the real
/// clock, so a day of 23 hours has 46 slots.
fn history(
    zone: &str,
    first_day: &str,
    days: usize,
    scales: &[f64],
    cv: f64,
    seed: u64,
) -> History {
    let tz = TimeZone::get(zone).unwrap();
    let start = first_day
        .parse::<jiff::civil::Date>()
        .unwrap()
        .to_zoned(tz.clone())
        .unwrap();
    let end = start
        .checked_add(jiff::Span::new().days(days as i64))
        .unwrap();
    let origin = start.timestamp();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut hist = History {
        origin: Some(origin),
        queues: (0..scales.len()).map(|q| format!("q{q}")).collect(),
        ..History::default()
    };
    let mut secs = 0.0;
    while secs < (end.timestamp().as_second() - origin.as_second()) as f64 {
        let wall = (origin + jiff::SignedDuration::from_secs_f64(secs)).to_zoned(tz.clone());
        let day = start.date().until(wall.date()).unwrap().get_days() as usize;
        let slot = (wall.hour() as usize * 60 + wall.minute() as usize) / 30;
        for (queue, scale) in scales.iter().enumerate() {
            let mut mean = rate(day, slot) * scale;
            if cv > 0.0 {
                mean *= Gamma::new(1.0 / (cv * cv), cv * cv)
                    .unwrap()
                    .sample(&mut rng);
            }
            let n = Poisson::new(mean).unwrap().sample(&mut rng) as usize;
            for k in 0..n {
                hist.chats.push(chat(
                    queue as u16,
                    secs + SLOT_SECS * (k as f64 + 0.5) / n as f64,
                ));
            }
        }
        secs += SLOT_SECS;
    }
    hist.chats.sort_by(|a, b| a.created.total_cmp(&b.created));
    hist
}

fn chat(queue: u16, created: f64) -> ChatFacts {
    ChatFacts {
        queue,
        created,
        queued: created,
        ..ChatFacts::default()
    }
}

fn fit(hist: &History, zone: &str, horizon_days: u32) -> VolumeForecasts {
    let tz = TimeZone::get(zone).unwrap();
    forecast_volumes(hist, &tz, SLOT_SECS, horizon_days, 7).unwrap()
}

#[test]
fn volume_forecast_beats_seasonal_naive_on_the_held_out_week() {
    let (mut wins, mut model_sum, mut naive_sum) = (0, 0.0, 0.0);
    for seed in 0..10 {
        let hist = history("UTC", "2026-01-05", 56, &[1.0], 0.0, seed);
        let volume = &fit(&hist, "UTC", 7).queues[0].1;
        assert_eq!(volume.model, "MSTL(48,336)+AutoETS");
        let (model, naive) = (volume.wape.unwrap(), volume.baseline_wape.unwrap());
        wins += usize::from(model < naive);
        model_sum += model;
        naive_sum += naive;
    }
    assert!(
        wins >= 9,
        "the model beat seasonal naive on {wins} of 10 seeds"
    );
    assert!(
        model_sum < 0.9 * naive_sum,
        "mean WAPE {} vs naive {}",
        model_sum / 10.0,
        naive_sum / 10.0
    );
}

#[test]
fn volume_prediction_interval_covers_about_95_percent_of_new_counts() {
    let (mut inside, mut total) = (0, 0);
    for seed in 0..4 {
        // Eight weeks of history and a ninth week, from the same process, to check against.
        let full = history("UTC", "2026-01-05", 63, &[1.0], 0.0, 100 + seed);
        let cut = 56.0 * 86_400.0;
        let mut hist = full.clone();
        hist.chats.retain(|c| c.created < cut);
        let volume = &fit(&hist, "UTC", 7).queues[0].1;
        let mut actual = vec![0.0; 7 * SLOTS];
        for c in full.chats.iter().filter(|c| c.created >= cut) {
            actual[((c.created - cut) / SLOT_SECS) as usize] += 1.0;
        }
        for (point, y) in volume.forecast.iter().zip(&actual) {
            inside += usize::from(point.low <= *y && *y <= point.high);
            total += 1;
        }
    }
    let coverage = inside as f64 / total as f64;
    assert!((0.90..=0.99).contains(&coverage), "coverage {coverage}");
}

#[test]
fn volume_cv_recovers_a_gamma_mixed_rate_and_stays_near_zero_without() {
    let mut mixed = Vec::new();
    let mut pure = Vec::new();
    for seed in 0..3 {
        let hist = history("UTC", "2026-01-05", 56, &[1.0], 0.1, 200 + seed);
        mixed.push(fit(&hist, "UTC", 7).queues[0].1.volume_cv);
        let hist = history("UTC", "2026-01-05", 56, &[1.0], 0.0, 300 + seed);
        pure.push(fit(&hist, "UTC", 7).queues[0].1.volume_cv);
    }
    let mean = mixed.iter().sum::<f64>() / 3.0;
    assert!(
        (0.07..=0.14).contains(&mean),
        "volume_cv {mixed:?} for a true 0.1"
    );
    assert!(
        pure.iter().all(|cv| *cv < 0.05),
        "volume_cv {pure:?} for Poisson counts"
    );
}

/// The best of three runs is kept and printed (`--nocapture`); the bound leaves room for a
/// machine busy with other builds and tests while still catching a slow path.
#[test]
fn volume_forecast_of_three_queues_over_eight_weeks_takes_well_under_a_second() {
    let hist = history("UTC", "2026-01-05", 56, &[1.0, 0.5, 0.2], 0.0, 7);
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let began = Instant::now();
        let volumes = fit(&hist, "UTC", 7);
        best = best.min(began.elapsed());
        assert_eq!(volumes.queues.len(), 3);
    }
    eprintln!("volume forecast of 3 queues x 8 weeks x 48 slots: {best:?}");
    assert!(best < Duration::from_secs(3), "took {best:?}");
}

/// Spring forward: Europe/Paris skips 02:00-03:00 on 2026-03-29, so that day has 46 intervals
/// and none starts at 02:00 or 02:30; the others keep their local-time slots.
#[test]
fn volume_forecast_follows_local_time_when_clocks_go_forward() {
    // 8 weeks ending Saturday 2026-03-28: the forecast week starts on the day of the change,
    // day 56 of the rate's pattern.
    let hist = history("Europe/Paris", "2026-02-01", 56, &[1.0], 0.0, 11);
    let volumes = fit(&hist, "Europe/Paris", 7);
    assert_eq!(
        volumes.forecast_start.to_string(),
        "2026-03-29T00:00:00+01:00[Europe/Paris]"
    );
    let points = &volumes.queues[0].1.forecast;
    assert_eq!(points.len(), 7 * SLOTS - 2);
    let starts: Vec<&str> = points.iter().map(|p| p.start.as_str()).collect();
    assert_eq!(starts[3], "2026-03-29T01:30:00+01:00");
    assert_eq!(starts[4], "2026-03-29T03:00:00+02:00");
    // 03:00 local takes the 03:00 slot of a Sunday, not the 02:00 one.
    let at_three = points[4].volume;
    let expected = rate(56, 6);
    assert!(
        (at_three - expected).abs() < 0.25 * expected + 3.0,
        "{at_three} vs {expected}"
    );
    // Peak hour 14:00 local on Monday 2026-03-30.
    let monday_peak = &points[46 + 28];
    assert_eq!(monday_peak.start, "2026-03-30T14:00:00+02:00");
    assert!(
        (monday_peak.volume - rate(57, 28)).abs() < 0.1 * rate(57, 28),
        "{}",
        monday_peak.volume
    );
}

/// Fall back: 02:00-03:00 happens twice on 2026-10-25, so that day has 50 intervals and the
/// repeated 02:00 and 02:30 take their slots' forecast twice. A history across the change
/// counts its repeated hour once, not double.
#[test]
fn volume_forecast_follows_local_time_when_clocks_go_back() {
    // 8 weeks ending Saturday 2026-10-24.
    let hist = history("Europe/Paris", "2026-08-30", 56, &[1.0], 0.0, 12);
    let volumes = fit(&hist, "Europe/Paris", 1);
    let points = &volumes.queues[0].1.forecast;
    assert_eq!(points.len(), SLOTS + 2);
    assert_eq!(points[4].start, "2026-10-25T02:00:00+02:00");
    assert_eq!(points[6].start, "2026-10-25T02:00:00+01:00");
    assert_eq!(points[4].volume, points[6].volume);
    assert_eq!(points[5].volume, points[7].volume);

    // Ten days around the change, at 20 times the volume: 02:00 holds about 100 chats per
    // half hour, not the 200 of both passes of the clock.
    let hist = history("Europe/Paris", "2026-10-20", 10, &[20.0], 0.0, 13);
    let volumes = fit(&hist, "Europe/Paris", 1);
    assert!(
        volumes.warnings.iter().all(|w| !w.contains("partial")),
        "{:?}",
        volumes.warnings
    );
    let history = &volumes.queues[0].1.history;
    assert_eq!(history.len(), 10 * SLOTS);
    let repeated = history
        .iter()
        .find(|(label, _)| label == "2026-10-25T02:00")
        .unwrap()
        .1;
    let expected = 20.0 * rate(5, 4);
    assert!(
        (repeated - expected).abs() < 0.3 * expected,
        "{repeated} vs {expected}"
    );
}

#[test]
fn volume_forecast_on_thin_history_falls_back_with_warnings() {
    let hist = history("UTC", "2026-01-05", 5, &[1.0], 0.0, 21);
    let volumes = fit(&hist, "UTC", 2);
    let volume = &volumes.queues[0].1;
    assert_eq!(volume.model, "MSTL(48)+AutoETS");
    assert_eq!((volume.wape, volume.volume_cv), (None, 0.0));
    let text = volumes.warnings.join("\n");
    assert!(
        text.contains("no backtest") && text.contains("no weekday pattern"),
        "{text}"
    );
    assert_eq!(volume.forecast.len(), 2 * SLOTS);

    let hist = history("UTC", "2026-01-05", 1, &[1.0], 0.0, 22);
    let volumes = fit(&hist, "UTC", 1);
    assert_eq!(volumes.queues[0].1.model, "mean per slot");
    assert!(
        volumes
            .warnings
            .join("\n")
            .contains("too few for a seasonal model")
    );
}

#[test]
fn volume_forecast_leaves_out_a_partial_first_day_with_a_warning() {
    let mut hist = history("UTC", "2026-01-05", 21, &[1.0], 0.0, 31);
    let cut = 14.0 * 3600.0;
    hist.chats.retain(|c| c.created >= cut);
    let volumes = fit(&hist, "UTC", 1);
    assert!(
        volumes.queues[0].1.history[0]
            .0
            .starts_with("2026-01-06T00:00")
    );
    let text = volumes.warnings.join("\n");
    assert!(
        text.contains("first day 2026-01-05 starts at 14:00"),
        "{text}"
    );
}

#[test]
fn volume_interval_that_does_not_divide_a_day_is_an_option_error() {
    let hist = history("UTC", "2026-01-05", 2, &[1.0], 0.0, 41);
    let error = forecast_volumes(&hist, &TimeZone::UTC, 7.0 * 60.0, 1, 7).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("invalid --interval") && text.contains("30m"),
        "{text}"
    );
    assert!(forecast_volumes(&History::default(), &TimeZone::UTC, 1800.0, 1, 7).is_err());
}
