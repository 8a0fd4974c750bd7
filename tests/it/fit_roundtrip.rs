//! The round trip `simulate --log` -> `fit` -> `plan`/`simulate`: eight weeks simulated from a
//! known profile, fitted back, and the parameters found where the truth put them (handle-time
//! mean within 3%, slowdown factors within 5%, patience mean within 7%, the forecast beating
//! seasonal naive on the held-out week); the profile written loads and runs, and `plan` on it
//! lands within one agent per interval of `plan` on the truth over the whole forecast week (in
//! UTC, and in Europe/Paris across the Sunday clocks fall back).

use std::fmt::Write as _;
use std::path::Path;

use chatcap::Cli;
use clap::Parser;
use serde_json::Value;

/// Runs a command line in-process and returns its standard output.
fn run(args: &[&str]) -> String {
    let mut out = Vec::new();
    chatcap::run(
        Cli::try_parse_from(args).expect("arguments parse"),
        &mut out,
    )
    .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    String::from_utf8(out).expect("utf-8 output")
}

/// A known truth to simulate and recover.
#[derive(Clone, Copy)]
pub struct Truth {
    pub handle: &'static str,
    pub handle_mean: f64,
    pub slowdown: &'static str,
    pub factors: [f64; 3],
    pub patience: &'static str,
    pub patience_mean: f64,
    pub seed: u64,
    /// The history's zone and first day (a Monday, local midnight); the eight weeks hold no
    /// daylight-saving change, the forecast week after them may.
    pub zone: &'static str,
    pub start: &'static str,
    /// The forecast week's first local date-time and its half hours, as the fitted profile
    /// must say.
    pub forecast_start: &'static str,
    pub forecast_intervals: usize,
}

/// Expected chats in half hour `slot` of `day` (0 = Monday): a daytime hump, quieter weekends.
fn rate(day: usize, slot: usize) -> f64 {
    let hour = slot as f64 / 2.0;
    let hump = (-(hour - 13.0).powi(2) / 18.0).exp();
    let week = if day % 7 >= 5 { 0.6 } else { 1.0 };
    (3.0 + 40.0 * hump) * week
}

/// The profile text of eight dated weeks with staffing a little short of the load, so
/// that agents work at every level and customers wait and abandon.
fn profile_text(t: &Truth) -> String {
    let (mut volume, mut staffing) = (String::new(), String::new());
    for day in 0..56 {
        for slot in 0..48 {
            let v = rate(day, slot);
            let work = v * t.handle_mean * t.factors[1] / 1800.0;
            let agents = (work / 2.2).round().max(1.0);
            let _ = write!(volume, "{v:.2}, ");
            let _ = write!(staffing, "{agents}, ");
        }
    }
    format!(
        "name = \"Round trip\"\ninterval = \"30m\"\nstart = \"{start}\"\ndays = 56\n\
         timezone = \"{zone}\"\n[simulation]\nreplications = 1\nseed = {seed}\n\
         [[queues]]\nname = \"support\"\nvolume = [{volume}]\nhandle_time = {handle}\n\
         patience = {patience}\n[[agents]]\nname = \"team\"\nskills = [\"support\"]\n\
         concurrency = 3\nslowdown = {slowdown}\nstaffing = [{staffing}]\n",
        seed = t.seed,
        start = t.start,
        zone = t.zone,
        handle = t.handle,
        patience = t.patience,
        slowdown = t.slowdown,
    )
}

/// Simulates `t` with a chat log and an agent log, fits them, and returns the fit's JSON and
/// the profile it wrote.
pub fn round_trip(dir: &Path, t: &Truth) -> (Value, String) {
    let truth = dir.join("truth.toml");
    std::fs::write(&truth, profile_text(t)).unwrap();
    let (chats, agents, fitted) = (
        dir.join("chats.csv"),
        dir.join("agents.csv"),
        dir.join("fitted.toml"),
    );
    let path = |p: &Path| p.to_str().unwrap().to_string();
    run(&[
        "chatcap",
        "simulate",
        "--quiet",
        "--profile",
        &path(&truth),
        "--log",
        &path(&chats),
        "--agent-log",
        &path(&agents),
        "--format",
        "json",
    ]);
    let report = run(&[
        "chatcap",
        "fit",
        "--log",
        &path(&chats),
        "--agent-log",
        &path(&agents),
        "--out",
        &path(&fitted),
        "--timezone",
        t.zone,
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&report).unwrap();
    (json, std::fs::read_to_string(&fitted).unwrap())
}

fn within(label: &str, got: f64, want: f64, tolerance: f64) {
    let error = (got - want).abs() / want;
    assert!(
        error <= tolerance,
        "{label}: fitted {got:.4}, true {want:.4}, off by {:.2}% (at most {:.0}%)",
        error * 100.0,
        tolerance * 100.0
    );
}

fn check_recovered(t: &Truth, json: &Value) {
    let q = &json["queues"]["support"];
    let handle = q["handle_time"]["mean_secs"]
        .as_f64()
        .expect("handle time fitted");
    within("handle-time mean", handle, t.handle_mean, 0.03);
    let levels = json["groups"][0]["slowdown"]
        .as_array()
        .expect("slowdown fitted");
    for level in levels {
        let n = level["level"].as_u64().unwrap() as usize;
        let factor = level["factor"].as_f64().unwrap();
        within(&format!("slowdown at {n}"), factor, t.factors[n - 1], 0.05);
    }
    assert!(levels.len() >= 3, "levels 1 to 3 measured: {levels:?}");
    let patience = q["patience"]["mean_secs"]
        .as_f64()
        .expect("patience fitted");
    within("patience mean", patience, t.patience_mean, 0.07);
    let wape = q["volume"]["wape"].as_f64().expect("backtest run");
    let naive = q["volume"]["baseline_wape"].as_f64().expect("baseline run");
    assert!(
        wape < naive,
        "forecast WAPE {wape} must beat seasonal naive {naive}"
    );
}

/// Each interval's start and agents required by `plan` on a profile text.
fn run_plan(dir: &Path, name: &str, text: &str) -> Vec<(String, i64)> {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let json = run(&[
        "chatcap",
        "plan",
        "--quiet",
        "--profile",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&json).unwrap();
    json["intervals"]
        .as_array()
        .expect("plan rows")
        .iter()
        .map(|row| {
            let start = row["start"].as_str().expect("a dated start").to_string();
            (
                start,
                row["required_agents"].as_i64().expect("required agents"),
            )
        })
        .collect()
}

/// The true volume of each interval starting at `starts` (RFC 3339 with the local offset, as
/// `plan` writes them): the rate of its local weekday and half hour.
fn true_volumes(starts: &[String]) -> String {
    let volumes: Vec<String> = starts
        .iter()
        .map(|s| {
            let local: jiff::civil::DateTime = s[..19].parse().expect("a local date-time");
            let day = local.weekday().to_monday_zero_offset() as usize;
            let slot = local.hour() as usize * 2 + local.minute() as usize / 30;
            format!("{:.2}", rate(day, slot))
        })
        .collect();
    format!("volume = [{}]", volumes.join(", "))
}

/// `plan` on the fitted profile lands within one agent per interval of `plan` on the true one,
/// over the whole forecast week: once with the fitted model on the true volumes (the model
/// alone), once as written (the forecast's volumes).
fn check_plan_agrees(dir: &Path, t: &Truth, fitted: &str) {
    let written_line = fitted
        .lines()
        .find(|l| l.starts_with("volume = ["))
        .expect("a volume list");
    let plan = run_plan(dir, "plan-written.toml", fitted);
    let starts: Vec<String> = plan.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(starts.len(), t.forecast_intervals);
    let volume = true_volumes(&starts);
    let truth = format!(
        "name = \"truth\"\ninterval = \"30m\"\nstart = \"{start}\"\ndays = 7\n\
         timezone = \"{zone}\"\n[[queues]]\nname = \"support\"\n{volume}\nhandle_time = {handle}\n\
         patience = {patience}\n[[agents]]\nname = \"team\"\nskills = [\"support\"]\n\
         concurrency = 3\nslowdown = {slowdown}\nshrinkage = 0.3\n",
        start = t.forecast_start,
        zone = t.zone,
        handle = t.handle,
        patience = t.patience,
        slowdown = t.slowdown,
    );
    let want = run_plan(dir, "plan-truth.toml", &truth);
    let on_true_volumes = run_plan(
        dir,
        "plan-fitted.toml",
        &fitted.replace(written_line, &volume),
    );
    for (label, got) in [("true volumes", on_true_volumes), ("as written", plan)] {
        assert_eq!(got.len(), want.len(), "{label}: one row per interval");
        for ((start, g), (_, w)) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1,
                "{label}: {start} needs {g} agents on the fitted profile, {w} on the true one"
            );
        }
    }
}

/// Lognormal handle time with a slowdown list and Weibull patience in UTC; exponential handle
/// time with a linear slowdown and exponential patience in Europe/Paris.
pub const TRUTHS: [Truth; 2] = [
    Truth {
        handle: "{ dist = \"lognormal\", mean = \"6m\", cv = 0.8 }",
        handle_mean: 360.0,
        slowdown: "[1.0, 1.25, 1.5]",
        factors: [1.0, 1.25, 1.5],
        patience: "{ dist = \"weibull\", mean = \"4m\", cv = 0.8 }",
        patience_mean: 240.0,
        seed: 3,
        zone: "UTC",
        start: "2026-10-05T00:00",
        forecast_start: "2026-11-30T00:00",
        forecast_intervals: 7 * 48,
    },
    Truth {
        handle: "{ dist = \"exponential\", mean = \"5m\" }",
        handle_mean: 300.0,
        slowdown: "0.2",
        factors: [1.0, 1.2, 1.4],
        patience: "{ dist = \"exponential\", mean = \"3m\" }",
        patience_mean: 180.0,
        seed: 8,
        // The forecast week ends on the Sunday clocks fall back: 25 hours.
        zone: "Europe/Paris",
        start: "2026-08-24T00:00",
        forecast_start: "2026-10-19T00:00",
        forecast_intervals: 7 * 48 + 2,
    },
];

#[test]
fn fit_recovers_what_was_simulated_and_its_profile_runs() {
    for t in &TRUTHS {
        let dir = tempfile::tempdir().unwrap();
        let (json, fitted) = round_trip(dir.path(), t);
        check_recovered(t, &json);
        check_plan_agrees(dir.path(), t, &fitted);
        let profile = chatcap::profile::parse(&fitted, "fitted", None).expect("profile loads");
        let start = profile.calendar.zoned(0.0).datetime().to_string();
        assert_eq!(start, format!("{}:00", t.forecast_start));
        assert_eq!(profile.intervals, t.forecast_intervals);
        let path = dir.path().join("fitted.toml");
        let path = path.to_str().unwrap();
        let simulated = run(&[
            "chatcap",
            "simulate",
            "--quiet",
            "--profile",
            path,
            "--replications",
            "2",
            "--format",
            "json",
        ]);
        let simulated: Value = serde_json::from_str(&simulated).unwrap();
        let arrivals = simulated["chats"]["arrivals"].as_f64().unwrap() / 2.0;
        let expected = profile.total_volume();
        assert!(
            (arrivals - expected).abs() < 4.0 * expected.sqrt() + 0.05 * expected,
            "simulated {arrivals} chats on the fitted profile, its volumes sum to {expected}"
        );
    }
}
