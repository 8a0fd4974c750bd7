//! Dated horizons: `start` as a local date-time, `days`, `timezone`, `[hours]`, forecast rows
//! with date-times, and every command's rows across the daylight-saving changes of
//! Europe/Paris in 2026 (spring forward on 29 March, fall back on 25 October).

use std::path::Path;

use chatcap::Cli;
use chatcap::profile::{self, Calendar, ProfileError, parse};
use clap::Parser;
use serde_json::Value;

/// A 24x7 week in `zone` from the Monday `monday`, 20 chats per half hour.
fn week(monday: &str, zone: &str) -> String {
    format!(
        r#"name = "Week"
interval = "30m"
start = "{monday}T00:00"
days = 7
timezone = "{zone}"

[simulation]
replications = 4

[[queues]]
name = "chat"
volume = 20
handle_time = {{ dist = "exponential", mean = "6m" }}
patience = {{ dist = "exponential", mean = "3m" }}

[[agents]]
name = "team"
skills = ["chat"]
concurrency = 2
slowdown = 0.2
"#
    )
}

const SPRING: &str = "2026-03-23";
const FALL: &str = "2026-10-19";

fn parse_text(text: &str) -> Result<profile::Profile, ProfileError> {
    parse(text, "dated.toml", None)
}

/// The error of `text` with `from` replaced by `to` (`from` must occur).
fn error_with(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the profile");
    match parse_text(&text.replacen(from, to, 1)) {
        Ok(_) => panic!("expected an error after replacing {from:?} with {to:?}"),
        Err(e) => e.to_string(),
    }
}

/// Runs `chatcap <command> --profile <path> --format <format> --quiet [extra]`.
fn run(command: &str, path: &Path, format: &str, extra: &[&str]) -> String {
    let mut argv = vec![
        "chatcap",
        command,
        "--profile",
        path.to_str().unwrap(),
        "--format",
        format,
        "--quiet",
    ];
    argv.extend_from_slice(extra);
    let mut out = Vec::new();
    chatcap::run(Cli::parse_from(argv), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn run_json(command: &str, path: &Path) -> Value {
    serde_json::from_str(&run(command, path, "json", &[])).unwrap()
}

fn starts(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["start"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_week_holds_336_half_hours_in_utc_334_in_the_spring_forward_week_and_338_in_the_fall_back_one()
{
    let count = |monday, zone| parse_text(&week(monday, zone)).unwrap().intervals;
    assert_eq!(count(SPRING, "UTC"), 336);
    assert_eq!(count(SPRING, "Europe/Paris"), 334);
    assert_eq!(count(FALL, "Europe/Paris"), 338);
    let p = parse_text(&week(FALL, "Europe/Paris")).unwrap();
    assert!(p.calendar.dated);
    assert_eq!(p.calendar.zone_name, "Europe/Paris");
    assert_eq!(p.calendar.start.to_string(), "2026-10-18T22:00:00Z");
    let sunday = (0..p.intervals)
        .filter(|&i| p.interval_start_text(i).starts_with("2026-10-25T"))
        .count();
    assert_eq!(sunday, 50, "the 25-hour day holds 50 half hours");
    assert_eq!(p.interval_start_text(0), "2026-10-19T00:00:00+02:00");
    assert_eq!(p.interval_label(0), "Mon 19 00:00");
    assert_eq!(p.interval_clock_secs(1), 1800.0);
}

#[test]
fn calendar_helpers_place_a_start_and_count_days() {
    let c = Calendar::dated("Europe/Paris", "2026-03-28T00:00").unwrap();
    assert_eq!(c.intervals_for_days(1, 1800.0), Ok(48));
    assert_eq!(c.intervals_for_days(2, 1800.0), Ok(94));
    assert_eq!(c.intervals_for_days(2, 3600.0), Ok(47));
    let e = c.intervals_for_days(2, 7.0 * 60.0).unwrap_err();
    assert!(e.contains("not a whole number of 7m intervals"), "{e}");
    // A start in the fold is its earlier instant (summer time).
    let fold = Calendar::dated("Europe/Paris", "2026-10-25T02:30").unwrap();
    assert_eq!(fold.start.to_string(), "2026-10-25T00:30:00Z");
    let e = Calendar::dated("Europe/Paris", "2026-03-29T02:30").unwrap_err();
    assert!(
        e.contains("clocks jump from 02:00 to 03:00") && e.contains("2026-03-29T03:00"),
        "{e}"
    );
    let e = Calendar::dated("Europe/Pariss", "2026-03-29T02:30").unwrap_err();
    assert!(
        e.contains("\"Europe/Pariss\"") && e.contains("Europe/London"),
        "{e}"
    );
    assert!(Calendar::dated("UTC", "2026-03-29T02:30:15").is_ok());
    assert!(Calendar::dated("UTC", "2026-03-29T02:30+01:00").is_err());
}

#[test]
fn dated_keys_are_checked_with_the_fix() {
    let text = week(SPRING, "Europe/Paris");
    let cases = [
        (
            "days = 7",
            "days = 7\nintervals = 336",
            "days and intervals are both given",
        ),
        ("days = 7", "days = 0", "days = 0 is out of range"),
        (
            "interval = \"30m\"",
            "interval = \"25m\"",
            "not a whole number of 25m intervals",
        ),
        (
            "Europe/Paris",
            "Mars/Olympus",
            "timezone = \"Mars/Olympus\" is not an IANA",
        ),
        (
            "2026-03-23T00:00",
            "2026-03-29T02:30",
            "start = 2026-03-29T02:30 does not exist",
        ),
        (
            "2026-03-23T00:00",
            "2026-03-23T25:00",
            "is not a local date-time",
        ),
        (
            "2026-03-23T00:00",
            "2026-03-23T00:00+01:00",
            "is not a local date-time",
        ),
    ];
    for (from, to, expected) in cases {
        let e = error_with(&text, from, to);
        assert!(e.contains(expected), "{to:?}: {e}");
        assert!(e.starts_with("dated.toml:"), "{e}");
    }
    // Calendar keys on an undated horizon.
    let no_zone = text.replace("timezone = \"Europe/Paris\"", "");
    for (profile, key) in [(&text, "timezone"), (&no_zone, "days")] {
        let e = error_with(profile, "2026-03-23T00:00", "08:00");
        assert!(
            e.contains(&format!("{key} needs a dated horizon"))
                && e.contains("start = \"2026-12-07T00:00\""),
            "{e}"
        );
    }
    let undated = "name = \"x\"\ninterval = \"30m\"\nstart = \"08:00\"\n[hours]\nmon = \"closed\"\n\
                   [[queues]]\nname = \"q\"\nvolume = [1]\nhandle_time = { dist = \"exponential\", mean = \"5m\" }\n\
                   [[agents]]\nname = \"a\"\nskills = [\"q\"]\n";
    let e = parse_text(undated).unwrap_err().to_string();
    assert!(e.contains("hours needs a dated horizon"), "{e}");
}

#[test]
fn opening_hours_are_checked_with_the_fix() {
    let text = format!("{}\n[hours]\nsun = \"closed\"\n", week(SPRING, "UTC"));
    for (to, expected) in [
        ("sun = \"22:00-08:00\"", "ends before it starts"),
        ("sun = \"8-22\"", "does not hold two clock times"),
        ("sun = \"always\"", "is not a range of opening hours"),
        ("son = \"closed\"", "son"),
    ] {
        let e = error_with(&text, "sun = \"closed\"", to);
        assert!(e.contains(expected), "{to}: {e}");
        assert!(e.contains("hours"), "{e}");
    }
    // A volume list giving chats in a closed interval names it.
    let listed = text.replace(
        "volume = 20",
        &format!("volume = [{}]", vec!["1"; 336].join(", ")),
    );
    let e = parse_text(&listed).unwrap_err().to_string();
    assert!(
        e.contains("queues[0] \"chat\": volume[288]")
            && e.contains("2026-03-29T00:00:00+00:00")
            && e.contains("[hours] closes"),
        "{e}"
    );
}

#[test]
fn closed_hours_get_no_chats_and_no_agents() {
    let text = format!(
        "{}\n[hours]\nsun = \"closed\"\ndefault = \"08:00-20:00\"\n",
        week(SPRING, "Europe/Paris")
    );
    let p = parse_text(&text).unwrap();
    let open = p.open.iter().filter(|o| **o).count();
    assert_eq!(open, 6 * 24, "six days of 12 hours");
    assert!(!p.is_open(0) && p.is_open(16) && !p.is_open(40));
    let volume = &p.queues[0].volume;
    assert!((0..p.intervals).all(|i| (volume[i] == 0.0) != p.is_open(i)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hours.toml");
    std::fs::write(&path, &text).unwrap();
    let plan = run_json("plan", &path);
    let rows = plan["intervals"].as_array().unwrap();
    assert_eq!(rows.len(), p.intervals);
    for (i, row) in rows.iter().enumerate() {
        let required = row["required_agents"].as_u64().unwrap();
        let rostered = row["rostered_agents"].as_u64().unwrap();
        if p.is_open(i) {
            assert!(required >= 1, "{row}");
        } else {
            assert_eq!((required, rostered), (0, 0), "closed {row}");
        }
    }
    let sim = run_json("simulate", &path);
    for row in sim["intervals"].as_array().unwrap() {
        let i = row["interval"].as_u64().unwrap() as usize;
        if !p.is_open(i) {
            assert_eq!(row["arrivals"]["mean"].as_f64(), Some(0.0), "{row}");
        }
    }
}

/// Plans and simulates the 24x7 Paris week from `monday`; checks the labels around the change
/// (`present` appear `times` times, `absent` never), the staffing and the chats.
fn across_a_change(monday: &str, present: &str, times: usize, absent: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("week.toml");
    std::fs::write(&path, week(monday, "Europe/Paris")).unwrap();
    let p = profile::load(&path).unwrap();
    let plan = run_json("plan", &path);
    let plan_starts = starts(&plan["intervals"]);
    assert_eq!(plan_starts.len(), p.intervals);
    let local = |s: &String| s.get(..16).unwrap_or_default().to_string();
    let seen = plan_starts.iter().filter(|s| local(s) == present).count();
    assert_eq!(seen, times, "{present} in {plan_starts:?}");
    if let Some(absent) = absent {
        assert!(!plan_starts.iter().any(|s| local(s) == absent), "{absent}");
    }
    // Constant demand: the same staffing on both sides of the change, within one agent.
    let required: Vec<u64> = plan["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["required_agents"].as_u64().unwrap())
        .collect();
    let mut sorted = required.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    assert!(
        median >= 1 && required.iter().all(|&n| n + 1 >= median && n <= median + 1),
        "{required:?}"
    );
    let table = run("plan", &path, "table", &[]);
    let short = format!("Sun 25 {}", &present[11..]);
    if monday == FALL {
        // Twice in each per-interval table: staffing per group, figures per queue.
        assert_eq!(table.matches(&short).count(), 4, "{short} twice per table");
    }
    // Every chat of the volume arrives: 20 per interval, over 4 replications.
    let sim = run_json("simulate", &path);
    let sim_starts = starts(&sim["intervals"]);
    assert_eq!(sim_starts, plan_starts);
    let expected = 20.0 * p.intervals as f64;
    let offered = sim["summary"]["overall"]["offered"]["mean"]
        .as_f64()
        .unwrap();
    let sd_of_mean = (expected / 4.0).sqrt();
    assert!(
        (offered - expected).abs() < 4.0 * sd_of_mean,
        "offered {offered} for {expected} expected"
    );
}

#[test]
fn plan_and_simulate_run_across_the_spring_forward_without_the_missing_hour() {
    across_a_change(SPRING, "2026-03-29T01:30", 1, Some("2026-03-29T02:30"));
}

#[test]
fn plan_and_simulate_run_across_the_fall_back_with_the_repeated_hour_twice() {
    across_a_change(FALL, "2026-10-25T02:30", 2, None);
}

#[test]
fn forecast_rows_with_date_times_are_matched_to_the_dated_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let profile_text = "name = \"Night\"\ninterval = \"1h\"\nstart = \"2026-10-25T01:00\"\n\
                        timezone = \"Europe/Paris\"\n\
                        [[queues]]\nname = \"chat\"\nforecast = \"f.csv\"\n\
                        handle_time = { dist = \"exponential\", mean = \"5m\" }\n\
                        [[agents]]\nname = \"a\"\nskills = [\"chat\"]\n";
    let write = |csv: &str| {
        std::fs::write(dir.path().join("f.csv"), csv).unwrap();
        profile::parse(profile_text, "p.toml", Some(dir.path()))
    };
    let good = "interval_start,queue,volume,aht_secs\n2026-10-25T01:00,chat,5,\n\
                2026-10-25T02:00+02:00,chat,6,\n2026-10-25T02:00+01:00,chat,7,400\n\
                2026-10-25T03:00,chat,8,\n";
    let p = write(good).unwrap();
    assert_eq!(p.intervals, 4);
    assert_eq!(p.queues[0].volume, vec![5.0, 6.0, 7.0, 8.0]);
    assert_eq!(p.queues[0].aht_by_interval[2], 400.0);
    assert_eq!(p.interval_start_text(2), "2026-10-25T02:00:00+01:00");
    let ambiguous = good.replace("2026-10-25T02:00+02:00", "2026-10-25T02:00");
    let e = write(&ambiguous).unwrap_err().to_string();
    assert!(
        e.contains("f.csv:3:") && e.contains("happens twice") && e.contains("+02"),
        "{e}"
    );
    let clock = good.replace("2026-10-25T01:00,", "01:00,");
    let e = write(&clock).unwrap_err().to_string();
    assert!(
        e.contains("f.csv:2:") && e.contains("write local date-times"),
        "{e}"
    );
    let outside = good.replace("2026-10-25T03:00", "2026-10-26T03:30");
    let e = write(&outside).unwrap_err().to_string();
    assert!(e.contains("is not an interval of the profile"), "{e}");
}

#[test]
fn a_date_time_forecast_row_on_an_undated_profile_asks_for_a_dated_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.csv"),
        "interval_start,queue,volume,aht_secs\n2026-12-07T08:00,chat,5,\n",
    )
    .unwrap();
    let text = "name = \"x\"\ninterval = \"30m\"\nstart = \"08:00\"\n\
                [[queues]]\nname = \"chat\"\nforecast = \"f.csv\"\n\
                handle_time = { dist = \"exponential\", mean = \"5m\" }\n\
                [[agents]]\nname = \"a\"\nskills = [\"chat\"]\n";
    let e = profile::parse(text, "p.toml", Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is a date-time but the profile's start is a clock time"),
        "{e}"
    );
}
