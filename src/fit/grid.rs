//! The history's chats counted on a grid of local days and wall-clock slots, so that the
//! forecast's seasonality follows local time of day and weekday even across daylight-saving
//! changes: 08:00 is the same slot in winter and summer. A day of 23 hours has slots that never
//! happen (they are filled by interpolation for the forecaster, which needs a regular series);
//! a day of 25 hours has a repeated hour whose two halves are averaged into its slots, so every
//! slot holds the volume of one interval. Only whole days are counted.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::FitError;
use super::history::History;

const DAY_SECS: i64 = 86_400;

/// Local days of `slots_per_day` wall-clock slots each, from `first_day` on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    /// The zone days and slots are read in.
    pub(crate) zone: TimeZone,
    /// Length of a slot, seconds (divides a day).
    pub(crate) interval_secs: i64,
    /// Slots in a day of 24 hours.
    pub(crate) slots_per_day: usize,
    /// The first whole day of the history.
    pub(crate) first_day: Date,
    /// Whole days counted.
    pub(crate) days: usize,
}

impl Grid {
    /// The `index`-th day of the grid (days past the history included).
    pub(crate) fn day(&self, index: usize) -> Date {
        let offset = jiff::Span::new().days(index as i64);
        self.first_day.checked_add(offset).unwrap_or(self.first_day)
    }

    /// The first day after the history: where the forecast starts.
    pub(crate) fn forecast_day(&self) -> Date {
        self.day(self.days)
    }

    /// The wall-clock start of slot `slot` of day `day`, e.g. `2026-12-07T08:30`.
    pub(crate) fn label(&self, day: usize, slot: usize) -> String {
        let start = self.day(day).to_datetime(jiff::civil::Time::midnight());
        let wall = start
            .checked_add(SignedDuration::from_secs(slot as i64 * self.interval_secs))
            .unwrap_or(start);
        wall.strftime("%Y-%m-%dT%H:%M").to_string()
    }

    /// Which wall-clock slot of its day `wall` falls in.
    pub(crate) fn slot_of(&self, wall: DateTime) -> usize {
        let time = wall.time();
        let secs = i64::from(time.hour()) * 3600
            + i64::from(time.minute()) * 60
            + i64::from(time.second());
        (secs / self.interval_secs) as usize
    }

    /// Days from the grid's first day to `date` (negative before it).
    pub(crate) fn day_index(&self, date: Date) -> i64 {
        self.first_day
            .until(date)
            .map_or(i64::MAX, |span| i64::from(span.get_days()))
    }
}

/// Chats per slot of every whole day, per queue (in the order of `History::queues`).
#[derive(Debug, Clone)]
pub(crate) struct SlotCounts {
    /// The days and slots.
    pub(crate) grid: Grid,
    /// Per queue, `grid.days * grid.slots_per_day` counts, day after day.
    pub(crate) counts: Vec<Vec<f64>>,
    /// Partial days left out, slots filled.
    pub(crate) warnings: Vec<String>,
}

/// Checks that `interval_secs` is a whole number of seconds, at least a minute, that divides
/// a day.
pub(crate) fn check_interval(interval_secs: f64) -> Result<i64, FitError> {
    let whole = interval_secs.round() as i64;
    let fits = interval_secs.is_finite()
        && interval_secs >= 60.0
        && (interval_secs - whole as f64).abs() < 1e-9
        && DAY_SECS % whole == 0;
    if fits {
        Ok(whole)
    } else {
        Err(FitError::Option {
            flag: "--interval".to_string(),
            message: format!(
                "{} does not divide a day into whole intervals of at least a minute; give \
                 e.g. 15m, 30m or 1h",
                crate::profile::duration::format_duration(interval_secs)
            ),
        })
    }
}

/// Counts the chats of `history` per queue, local day and wall-clock slot of `zone`.
pub(crate) fn count_slots(
    history: &History,
    zone: &TimeZone,
    interval_secs: f64,
) -> Result<SlotCounts, FitError> {
    let interval_secs = check_interval(interval_secs)?;
    let (Some(origin), Some(first), Some(last)) =
        (history.origin, history.chats.first(), history.chats.last())
    else {
        return Err(FitError::Thin(
            "the chat log holds no usable chat: there is no volume to forecast".to_string(),
        ));
    };
    let wall_of = |secs: f64| zone.to_datetime(at(origin, secs));
    let (first_wall, last_wall) = (wall_of(first.created), wall_of(last.created));
    let mut grid = Grid {
        zone: zone.clone(),
        interval_secs,
        slots_per_day: (DAY_SECS / interval_secs) as usize,
        first_day: first_wall.date(),
        days: 0,
    };
    grid.days = grid
        .day_index(last_wall.date())
        .clamp(0, i64::from(u16::MAX)) as usize
        + 1;
    let spd = grid.slots_per_day;
    let mut counts = vec![vec![0.0; grid.days * spd]; history.queues.len()];
    let mut earliest = vec![usize::MAX; grid.days];
    let mut latest = vec![0; grid.days];
    for chat in &history.chats {
        let wall = wall_of(chat.created);
        let (day, slot) = (grid.day_index(wall.date()), grid.slot_of(wall));
        let Some(day) = usize::try_from(day).ok().filter(|d| *d < grid.days) else {
            continue; // chats are in order of creation, so none falls outside
        };
        earliest[day] = earliest[day].min(slot);
        latest[day] = latest[day].max(slot);
        if let Some(row) = counts.get_mut(usize::from(chat.queue)) {
            row[day * spd + slot] += 1.0;
        }
    }
    let mut warnings = Vec::new();
    let (skip_first, skip_last) = partial_ends(&earliest, &latest);
    for (skip, day, wall, edge) in [
        (skip_first, 0, first_wall, "starts"),
        (skip_last, grid.days - 1, last_wall, "ends"),
    ] {
        if skip {
            let chats: f64 = counts
                .iter()
                .map(|q| q[day * spd..][..spd].iter().sum::<f64>())
                .sum();
            warnings.push(format!(
                "the history's {} day {} {edge} at {}, unlike any other day: its {chats} chats \
                 are left out of the volume counts as a partial day",
                if day == 0 { "first" } else { "last" },
                grid.day(day),
                wall.strftime("%H:%M"),
            ));
        }
    }
    let keep = usize::from(skip_first)..grid.days - usize::from(skip_last);
    for row in &mut counts {
        *row = row[keep.start * spd..keep.end * spd].to_vec();
    }
    grid.first_day = grid.day(keep.start);
    grid.days = keep.len();
    let exposure = slot_exposure(&grid);
    let filled = normalise(&mut counts, &exposure, interval_secs);
    if filled > 0 {
        warnings.push(format!(
            "{filled} slot(s) of the history do not exist on the clock (days of 23 hours): \
             their volume is interpolated from the slots around them"
        ));
    }
    Ok(SlotCounts {
        grid,
        counts,
        warnings,
    })
}

fn at(origin: Timestamp, secs: f64) -> Timestamp {
    origin
        .checked_add(SignedDuration::from_secs_f64(secs))
        .unwrap_or(origin)
}

/// Whether the first and the last day look cut: the first day's earliest chat falls in a later
/// slot than every other day's earliest chat (the last day: latest, earlier). A history of one
/// or two days keeps its days.
fn partial_ends(earliest: &[usize], latest: &[usize]) -> (bool, bool) {
    let days = earliest.len();
    if days < 3 {
        return (false, false);
    }
    let inner_earliest = earliest[1..days - 1].iter().copied().max().unwrap_or(0);
    let inner_latest = latest[1..days - 1]
        .iter()
        .copied()
        .min()
        .unwrap_or(usize::MAX);
    (
        earliest[0] > inner_earliest,
        latest[days - 1] < inner_latest,
    )
}

/// Real seconds the clock spends in each slot of each day: a slot's interval normally, 0 for a
/// slot skipped when clocks go forward, twice it for a slot repeated when they go back.
fn slot_exposure(grid: &Grid) -> Vec<f64> {
    // Zone transitions fall on quarter hours, so a step of that size (or of the interval, when
    // it is finer) sees every change of offset.
    let step = gcd(grid.interval_secs, 900);
    let spd = grid.slots_per_day;
    let mut exposure = vec![0.0; grid.days * spd];
    for day in 0..grid.days {
        let date = grid.day(day);
        let bounds = (
            date.to_zoned(grid.zone.clone()),
            grid.day(day + 1).to_zoned(grid.zone.clone()),
        );
        let (Ok(start), Ok(end)) = bounds else {
            exposure[day * spd..][..spd].fill(grid.interval_secs as f64);
            continue;
        };
        let (start, end) = (start.timestamp(), end.timestamp());
        let mut now = start;
        while now < end {
            let wall = grid.zone.to_datetime(now);
            if wall.date() == date {
                exposure[day * spd + grid.slot_of(wall)] += step as f64;
            }
            now = at(now, step as f64);
        }
    }
    exposure
}

/// Scales each slot's count to one interval's worth (halving a repeated hour) and fills the
/// slots the clock skipped by linear interpolation between their neighbours. Returns how many
/// slots were filled.
fn normalise(counts: &mut [Vec<f64>], exposure: &[f64], interval_secs: i64) -> usize {
    let missing: Vec<usize> = (0..exposure.len())
        .filter(|&i| exposure[i] <= 0.0)
        .collect();
    for row in counts.iter_mut() {
        for (count, seconds) in row.iter_mut().zip(exposure) {
            *count = if *seconds > 0.0 {
                *count * interval_secs as f64 / seconds
            } else {
                f64::NAN
            };
        }
        interpolate(row);
    }
    missing.len()
}

/// Replaces every NaN by the straight line between the nearest numbers on either side (the
/// nearest one alone at either end; 0 when there is none).
pub(crate) fn interpolate(series: &mut [f64]) {
    let known: Vec<usize> = (0..series.len()).filter(|&i| !series[i].is_nan()).collect();
    for i in 0..series.len() {
        if !series[i].is_nan() {
            continue;
        }
        let after = known.partition_point(|&k| k < i);
        series[i] = match (after.checked_sub(1).map(|b| known[b]), known.get(after)) {
            (Some(b), Some(&a)) => {
                let weight = (i - b) as f64 / (a - b) as f64;
                series[b] + weight * (series[a] - series[b])
            }
            (Some(b), None) => series[b],
            (None, Some(&a)) => series[a],
            (None, None) => 0.0,
        };
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris_grid(first_day: &str) -> Grid {
        Grid {
            zone: TimeZone::get("Europe/Paris").unwrap(),
            interval_secs: 1800,
            slots_per_day: 48,
            first_day: first_day.parse().unwrap(),
            days: 1,
        }
    }

    #[test]
    fn interval_must_divide_a_day() {
        assert_eq!(check_interval(1800.0), Ok(1800));
        assert_eq!(check_interval(900.0), Ok(900));
        for bad in [0.0, -60.0, 30.0, 420.0, 1800.5, f64::NAN, 2.0 * 86_400.0] {
            let message = check_interval(bad).unwrap_err().to_string();
            assert!(message.starts_with("invalid --interval"), "{message}");
        }
    }

    #[test]
    fn exposure_skips_and_repeats_the_changed_hour() {
        let spring = slot_exposure(&paris_grid("2026-03-29"));
        assert_eq!(&spring[3..7], &[1800.0, 0.0, 0.0, 1800.0]);
        assert_eq!(spring.iter().sum::<f64>(), 23.0 * 3600.0);
        let autumn = slot_exposure(&paris_grid("2026-10-25"));
        assert_eq!(&autumn[3..7], &[1800.0, 3600.0, 3600.0, 1800.0]);
        assert_eq!(autumn.iter().sum::<f64>(), 25.0 * 3600.0);
    }

    #[test]
    fn skipped_slots_are_interpolated_and_repeated_ones_halved() {
        let exposure = slot_exposure(&paris_grid("2026-03-29"));
        let mut counts = vec![vec![10.0; 48]];
        counts[0][3] = 10.0;
        counts[0][6] = 16.0;
        assert_eq!(normalise(&mut counts, &exposure, 1800), 2);
        assert_eq!(&counts[0][3..7], &[10.0, 12.0, 14.0, 16.0]);
        let exposure = slot_exposure(&paris_grid("2026-10-25"));
        let mut counts = vec![vec![10.0; 48]];
        counts[0][4] = 30.0;
        assert_eq!(normalise(&mut counts, &exposure, 1800), 0);
        assert_eq!(&counts[0][3..6], &[10.0, 15.0, 5.0]);
    }

    #[test]
    fn partial_ends_are_days_later_or_earlier_than_all_others() {
        assert_eq!(
            partial_ends(&[0, 0, 1, 0], &[47, 47, 46, 47]),
            (false, false)
        );
        assert_eq!(
            partial_ends(&[28, 0, 1, 0], &[47, 47, 46, 20]),
            (true, true)
        );
        assert_eq!(partial_ends(&[28, 0], &[47, 20]), (false, false));
    }
}
