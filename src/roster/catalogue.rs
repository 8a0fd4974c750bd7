//! Every shift the rules allow over the horizon, laid on a slot grid fine enough for every
//! start, length, break length and break window. A shift is a (rule, group, day, start,
//! length); its breaks may start at any slot of their windows. A dated horizon of whole local
//! days is a repeating week: a shift running past its end covers the start (the Sunday night
//! shift covers Monday's early hours); any other horizon simply ends.

use jiff::ToSpan;
use jiff::civil::{Date, Time};

use super::RosterError;
use crate::profile::Profile;
use crate::profile::shifts::ShiftRule;

/// The finest slot the roster may use: break lengths and windows on a 5-minute grid.
const MIN_SLOT_SECS: u64 = 300;

/// The slot grid over the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Slot length, seconds.
    pub slot_secs: u64,
    /// Slots per planning interval.
    pub per_interval: usize,
    /// Slots over the horizon.
    pub slots: usize,
    /// Whether shifts past the end wrap to the start (a dated horizon of whole days).
    pub wrap: bool,
    /// The local dates shifts may start on, in order.
    pub days: Vec<Date>,
}

impl Grid {
    /// The planning interval of slot `s`.
    pub fn interval_of(&self, s: usize) -> usize {
        s / self.per_interval
    }

    /// The slot a shift's `k`-th slot falls in when it starts at slot `start` (which may be
    /// negative on an undated horizon), if within the horizon.
    pub fn slot_at(&self, start: i64, k: i64) -> Option<usize> {
        let s = start + k;
        let n = self.slots as i64;
        if self.wrap {
            Some(s.rem_euclid(n) as usize)
        } else {
            (0..n).contains(&s).then_some(s as usize)
        }
    }
}

/// A break a shift may take: its length and the slots after the shift's start it may begin at.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakSlots {
    /// Length in slots.
    pub length: usize,
    /// Allowed starts, in slots after the shift's start.
    pub offsets: Vec<usize>,
    /// Whether the break is paid.
    pub paid: bool,
}

/// One shift the rules allow.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    /// Index of its rule in the profile's `[[shifts]]`.
    pub rule: usize,
    /// Agent group index.
    pub group: usize,
    /// Index of its day in [`Grid::days`].
    pub day: usize,
    /// First slot (negative: before an undated horizon's start).
    pub start: i64,
    /// Length in slots, paid breaks included.
    pub length: usize,
    /// Paid hours of one such shift (unpaid breaks taken out).
    pub paid_hours: f64,
    /// Its breaks, in window order.
    pub breaks: Vec<BreakSlots>,
}

impl Shift {
    /// The horizon slots the shift covers, breaks included.
    pub fn slots<'g>(&self, grid: &'g Grid) -> impl Iterator<Item = usize> + 'g {
        let start = self.start;
        (0..self.length as i64).filter_map(move |k| grid.slot_at(start, k))
    }

    /// The horizon slots break `b` covers when it starts at `offset` slots into the shift.
    pub fn break_slots<'g>(
        &self,
        grid: &'g Grid,
        b: usize,
        offset: usize,
    ) -> impl Iterator<Item = usize> + 'g {
        let start = self.start + offset as i64;
        (0..self.breaks[b].length as i64).filter_map(move |k| grid.slot_at(start, k))
    }
}

/// The grid and every shift the rules allow on it.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// The slot grid.
    pub grid: Grid,
    /// Every shift, by rule, group, day, start and length.
    pub shifts: Vec<Shift>,
    /// Rule names, by index.
    pub rule_names: Vec<String>,
    /// Whether each rule has weekly limits (`days_per_week`).
    pub rule_weekly: Vec<bool>,
    /// Agent group names, by index.
    pub group_names: Vec<String>,
}

/// Builds the grid and the shifts of `profile`'s rules.
pub fn catalogue(profile: &Profile) -> Result<Catalogue, RosterError> {
    if profile.shifts.is_empty() {
        return Err(RosterError::Input(
            "the profile has no [[shifts]] rules; add at least one, e.g. [[shifts]] name = \"day\" start = \"08:00-12:00\" length = \"8h\"".to_string(),
        ));
    }
    let slot_secs = slot_secs(profile)?;
    let per_interval = (profile.interval_secs as u64 / slot_secs) as usize;
    let slots = profile.intervals * per_interval;
    let (days, wrap) = days(profile);
    let grid = Grid {
        slot_secs,
        per_interval,
        slots,
        wrap,
        days,
    };
    let mut shifts = Vec::new();
    for (r, rule) in profile.shifts.iter().enumerate() {
        let breaks: Vec<BreakSlots> = rule
            .breaks
            .iter()
            .map(|b| BreakSlots {
                length: to_slots(b.length_secs, slot_secs),
                offsets: (to_slots(b.after_from_secs, slot_secs)
                    ..=to_slots(b.after_to_secs, slot_secs))
                    .collect(),
                paid: b.paid,
            })
            .collect();
        let unpaid: usize = breaks.iter().filter(|b| !b.paid).map(|b| b.length).sum();
        for (d, date) in grid.days.iter().enumerate() {
            for clock in rule.starts() {
                let Some(start) = start_slot(profile, *date, clock, slot_secs) else {
                    continue;
                };
                for &len in &rule.lengths_secs {
                    let length = to_slots(len, slot_secs);
                    let shift = Shift {
                        rule: r,
                        group: 0,
                        day: d,
                        start,
                        length,
                        paid_hours: (length - unpaid) as f64 * slot_secs as f64 / 3600.0,
                        breaks: breaks.clone(),
                    };
                    if shift.slots(&grid).next().is_none() {
                        continue;
                    }
                    for &g in &rule.groups {
                        shifts.push(Shift {
                            group: g,
                            ..shift.clone()
                        });
                    }
                }
            }
        }
    }
    Ok(Catalogue {
        grid,
        shifts,
        rule_names: profile.shifts.iter().map(|r| r.name.clone()).collect(),
        rule_weekly: profile
            .shifts
            .iter()
            .map(|r| r.days_per_week.is_some())
            .collect(),
        group_names: profile.agents.iter().map(|g| g.name.clone()).collect(),
    })
}

fn to_slots(secs: f64, slot_secs: u64) -> usize {
    (secs / slot_secs as f64).round() as usize
}

/// The greatest slot dividing the interval and every rule's step, lengths and breaks; at least
/// [`MIN_SLOT_SECS`].
fn slot_secs(profile: &Profile) -> Result<u64, RosterError> {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut slot = profile.interval_secs.round() as u64;
    for rule in &profile.shifts {
        let mut durations = vec![rule.step_secs];
        durations.extend(&rule.lengths_secs);
        for b in &rule.breaks {
            durations.extend([b.length_secs, b.after_from_secs, b.after_to_secs]);
        }
        for d in durations {
            let secs = d.round() as u64;
            let next = gcd(slot, secs);
            if next < MIN_SLOT_SECS || (d - secs as f64).abs() > 1e-6 {
                return Err(off_grid(rule, d));
            }
            slot = next;
        }
    }
    Ok(slot)
}

fn off_grid(rule: &ShiftRule, secs: f64) -> RosterError {
    RosterError::Input(format!(
        "shift rule {:?}: {} is off the 5-minute grid breaks are placed on; give break lengths and windows in whole multiples of 5 minutes",
        rule.name,
        crate::profile::duration::format_duration(secs)
    ))
}

/// The local dates shifts may start on (the horizon's first to its last), and whether the
/// horizon wraps (dated, from local midnight to local midnight).
fn days(profile: &Profile) -> (Vec<Date>, bool) {
    let horizon = profile.intervals as f64 * profile.interval_secs;
    let first = profile.calendar.zoned(0.0);
    let end = profile.calendar.zoned(horizon);
    let last = profile.calendar.zoned((horizon - 1.0).max(0.0)).date();
    let mut days = Vec::new();
    let mut d = first.date();
    while d <= last {
        days.push(d);
        d = d.saturating_add(1.day());
    }
    let midnight = Time::midnight();
    let wrap = profile.calendar.dated && first.time() == midnight && end.time() == midnight;
    (days, wrap)
}

/// The slot a shift starting at `clock` seconds after local midnight on `date` starts in (in a
/// daylight-saving gap, the later clock time), if that instant is on the grid.
fn start_slot(profile: &Profile, date: Date, clock: f64, slot_secs: u64) -> Option<i64> {
    let secs = clock.round() as i64;
    let time = Time::new(
        (secs / 3600) as i8,
        (secs % 3600 / 60) as i8,
        (secs % 60) as i8,
        0,
    )
    .ok()?;
    let zoned = date
        .to_datetime(time)
        .to_zoned(profile.calendar.zone.clone())
        .ok()?;
    let offset = zoned
        .timestamp()
        .duration_since(profile.calendar.start)
        .as_secs();
    (offset.rem_euclid(slot_secs as i64) == 0).then(|| offset.div_euclid(slot_secs as i64))
}
