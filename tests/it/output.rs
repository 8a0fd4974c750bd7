//! What plan and caps tell a reader: each plan row's binding target and margin, the shortfall
//! text in every format, the headline before the tables, text tables that fit the terminal
//! (`--wide` shows everything), CSV rows named as the JSON keys with their confidence bounds, the
//! recommended cap marked, and caps input errors in the planner's terms.

use std::path::Path;

use chatcap::Cli;
use clap::Parser;

/// Runs a parsed command line in-process; the output as text.
fn run_cli(cli: Cli) -> String {
    let mut out = Vec::new();
    chatcap::run(cli, &mut out).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out).expect("utf-8 output")
}

fn run(args: &[&str]) -> String {
    run_cli(Cli::parse_from(args))
}

/// A day whose ASA target no staffing reaches: every offer takes 30 s to accept. The service
/// level at 60 s stays within reach.
pub(crate) const SLOW_ACCEPT: &str = r#"
name = "slow accept"
interval = "1h"
start = "08:00"

[targets]
service_level = 0.8
threshold = "60s"
max_asa = "10s"

[routing]
accept = { timeout = "2m", misses_before_away = 3 }

[simulation]
replications = 4
seed = 3

[[queues]]
name = "chat"
volume = [30, 60]
handle_time = { dist = "exponential", mean = "180s" }
accept_delay = { dist = "deterministic", mean = "30s" }

[[agents]]
name = "agents"
skills = ["chat"]
concurrency = 1
"#;

fn longest_line(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn plan_rows_name_the_binding_target_and_show_the_shortfall_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("slow.toml");
    std::fs::write(&profile, SLOW_ACCEPT).unwrap();
    let profile = profile.to_str().unwrap();
    let base = ["chatcap", "plan", "-q", "--profile", profile];

    let json: serde_json::Value =
        serde_json::from_str(&run(&[&base[..], &["--format", "json"]].concat())).unwrap();
    let rows = json["intervals"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row["binding"], "asa_secs", "{row}");
        assert_eq!(row["binding_queue"], "chat");
        // Every answer waits the 30 s accept delay at least: 20 s or more over the 10 s.
        let margin = row["margin"].as_f64().unwrap();
        assert!(margin < -19.9, "{margin}");
        let asa = row["asa_secs"]["mean"].as_f64().unwrap();
        assert!((asa - 10.0 + margin).abs() < 1e-9, "{asa} {margin}");
        let short = format!("chat: ASA {asa:.1} s above 10.0 s");
        assert!(
            row["shortfalls"]
                .as_array()
                .unwrap()
                .contains(&short.into())
        );
    }
    let shortfalls: Vec<&str> = rows[0]["shortfalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let short = &shortfalls.join("; ");
    let margin = format!("{:.1} s", rows[0]["margin"].as_f64().unwrap());
    let warnings = json["warnings"].to_string();
    assert!(warnings.contains("use --confidence"), "{warnings}");

    // The table: headline first, then the rows with binding, margin and shortfall.
    let table = run(&base);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[2].starts_with("targets MISSED in 2 of 2") && lines[2].contains("agent hours"),
        "{table}"
    );
    // Unwrapped, the row holds the whole shortfall text.
    let wide = run(&[&base[..], &["--wide"]].concat());
    let staffing = wide.find("Staffing per interval").unwrap();
    let row = wide[staffing..]
        .lines()
        .find(|l| l.starts_with("08:00"))
        .unwrap();
    for part in ["NO", "ASA chat", &margin, short.as_str()] {
        assert!(row.contains(part), "{part:?} in {row:?}");
    }
    let markdown = run(&[&base[..], &["--format", "markdown"]].concat());
    assert!(markdown.contains("| binding | margin |"), "{markdown}");
    assert!(markdown.contains(&format!("| {short} |")), "{markdown}");
    assert!(markdown.find("## Day totals") < markdown.find("## Staffing per interval"));

    // HTML: the rows that miss stand out, with their shortfall.
    let html = dir.path().join("plan.html");
    run(&[&base[..], &["--html", html.to_str().unwrap()]].concat());
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        page.matches("<tr class=\"miss\">").count(),
        4,
        "2 plan and 2 queue rows"
    );
    assert!(page.contains(&format!("<td>{short}</td>")));

    // With --confidence the plan does not advise --confidence.
    let confident: serde_json::Value =
        serde_json::from_str(&run(
            &[&base[..], &["--confidence", "--format", "json"]].concat()
        ))
        .unwrap();
    let warnings = confident["warnings"].to_string();
    assert!(warnings.contains("miss a target"), "{warnings}");
    assert!(!warnings.contains("--confidence"), "{warnings}");
}

#[test]
fn text_tables_fit_the_width_and_wide_shows_everything() {
    let args = ["chatcap", "plan", "-q", "-r", "3"];
    let narrow = run(&args);
    assert!(longest_line(&narrow) <= 100, "{narrow}");
    assert!(narrow.contains("left out to fit 100 columns"), "{narrow}");
    let header = |text: &str| {
        let at = text.find("Staffing per interval").unwrap();
        text[at..].lines().nth(1).unwrap().to_string()
    };
    assert!(!header(&narrow).contains("closed form"), "dropped first");

    let wide = run(&[&args[..], &["--wide"]].concat());
    assert!(longest_line(&wide) > 100);
    assert!(
        wide.contains("closed form") && wide.contains("%, "),
        "intervals shown"
    );
    assert!(!wide.contains("left out"));

    // A terminal's width is used when the report goes to it, not when it goes to a file.
    let mut cli = Cli::parse_from(args);
    cli.set_terminal_width(Some(80));
    let terminal = run_cli(cli);
    assert!(longest_line(&terminal) <= 80, "{terminal}");
    assert!(terminal.contains("left out to fit 80 columns"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.txt");
    let mut cli = Cli::parse_from([&args[..], &["--out", file.to_str().unwrap()]].concat());
    cli.set_terminal_width(Some(80));
    run_cli(cli);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("left out to fit 100 columns"));
    assert!(longest_line(&written) > 80 && longest_line(&written) <= 100);

    let simulate = run(&["chatcap", "simulate", "-q", "-r", "2"]);
    assert!(longest_line(&simulate) <= 100, "{simulate}");
}

/// The CSV as a header and rows of cells.
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn csv_columns_are_the_json_keys_with_confidence_bounds_and_plain_values() {
    let args = ["chatcap", "plan", "-q", "-r", "3"];
    let json: serde_json::Value =
        serde_json::from_str(&run(&[&args[..], &["--format", "json"]].concat())).unwrap();
    let (header, rows) = read_csv(&run(&[&args[..], &["--format", "csv"]].concat()));
    let intervals = json["intervals"].as_array().unwrap();
    assert_eq!(rows.len(), intervals.len());
    assert_eq!(&header[..3], ["start", "interval", "group"]);
    let first = intervals[0].as_object().unwrap();
    for column in &header {
        let key = column
            .strip_suffix("_ci_low")
            .or_else(|| column.strip_suffix("_ci_high"))
            .unwrap_or(column);
        assert!(first.contains_key(key), "{column} is not a JSON key");
    }
    let at = |name: &str| header.iter().position(|c| c == name).unwrap();
    for key in ["service_level", "asa_secs", "occupancy", "wait_p90_secs"] {
        for (suffix, field) in [("", "mean"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high")] {
            let cell = &rows[1][at(&format!("{key}{suffix}"))];
            let value: f64 = cell
                .parse()
                .unwrap_or_else(|_| panic!("{key}{suffix}: {cell}"));
            assert_eq!(
                Some(value),
                intervals[1][key][field].as_f64(),
                "{key}{suffix}"
            );
        }
    }
    assert_eq!(
        rows[1][at("binding")],
        intervals[1]["binding"].as_str().unwrap()
    );
    assert_eq!(rows[1][at("targets_met")], "true");

    let (header, rows) = read_csv(&run(&[
        "chatcap",
        "erlang",
        "--volume",
        "100",
        "--interval",
        "30m",
        "--aht",
        "180s",
        "--sl-target",
        "0.8",
        "--sl-threshold",
        "20s",
        "--format",
        "csv",
    ]));
    let cell = |name: &str| &rows[0][header.iter().position(|c| c == name).unwrap()];
    assert_eq!(rows.len(), 1);
    assert_eq!(cell("rostered_agents"), "14");
    assert_eq!(cell("model"), "erlang-c");
    assert_eq!(cell("inputs.sl_target"), "0.8");
}

#[test]
fn caps_on_the_small_team_recommend_a_cap_marked_in_table_and_chart() {
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/small-team.toml");
    let profile = profile.to_str().unwrap();
    let base = [
        "chatcap",
        "caps",
        "-q",
        "--profile",
        profile,
        "--caps",
        "2..4",
    ];
    let json: serde_json::Value =
        serde_json::from_str(&run(&[&base[..], &["--format", "json"]].concat())).unwrap();
    // The shipped first-response times allow the default FRT p90 limit (60 s).
    let cap = json["recommended"].as_u64().expect("a recommended cap");
    let marked: Vec<u64> = json["caps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["recommended"] == true)
        .map(|r| r["cap"].as_u64().unwrap())
        .collect();
    assert_eq!(marked, [cap]);

    let table = run(&base);
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{cap} ")))
        .unwrap();
    assert!(row.contains("RECOMMENDED"), "{table}");
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("caps.html");
    run(&[&base[..], &["--html", html.to_str().unwrap()]].concat());
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<tr class=\"pick\">").count(), 1);
    assert_eq!(
        page.matches("\nrecommended\n").count(),
        3,
        "one label per chart"
    );

    // A limit just under the FRT p90 reads apart from it.
    let json: serde_json::Value = serde_json::from_str(&run(&[
        &base[..],
        &["--max-frt-p90", "45s", "--format", "json"],
    ]
    .concat()))
    .unwrap();
    let reason = json["caps"][0]["reasons"][0].as_str().unwrap();
    let frt = json["caps"][0]["frt_p90_secs"]["mean"].as_f64().unwrap();
    assert!(frt > 45.0 && frt < 45.5, "{frt}");
    assert_eq!(reason, format!("FRT p90 {frt:.1} s above 45.0 s"));
}

/// Text tables and notes measure display width: a wide (CJK) character takes two columns, a
/// combining accent none, so columns line up and wrapped lines fit the limit on screen.
#[test]
fn text_tables_align_and_wrap_by_display_width() {
    use chatcap::report::{Cell, Document, Exporter, Output, Table, TableExporter};
    use textwrap::core::display_width;

    let mut table = Table::new("Per queue", &["queue", "offered", "note"]);
    let queues = ["注文", "cafe\u{301}", "orders"];
    for (k, queue) in queues.iter().enumerate() {
        let note = "返品 と 請求 の 問い合わせ が 多い 時間帯 です".repeat(k + 1);
        table.rows.push(vec![
            Cell::text(*queue),
            Cell::Int(10_i64.pow(k as u32 + 1)),
            Cell::text(note),
        ]);
    }
    let document = Document {
        title: "見積もり".into(),
        notes: vec!["混雑 時 の 待ち時間 は 長く なります ".repeat(4)],
        tables: vec![table],
        ..Document::default()
    };
    let output = Output {
        json: serde_json::Value::Null,
        document,
    };
    let limit = 40;
    let mut text = Vec::new();
    TableExporter { width: Some(limit) }
        .export(&output, &mut text)
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(display_width(lines[1]), display_width(lines[0]), "{text}");
    assert!(lines.iter().all(|l| display_width(l) <= limit), "{text}");
    assert!(
        lines.iter().filter(|l| l.contains("混雑")).count() > 1,
        "note wrapped: {text}"
    );
    // Every row starts with its queue, and its count ends in the same screen column.
    let rows: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| queues.iter().any(|q| l.starts_with(q)))
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    let count_end = |row: &str| {
        let digits_end = row.rfind(|c: char| c.is_ascii_digit()).unwrap() + 1;
        display_width(&row[..digits_end])
    };
    assert!(
        rows.iter().all(|r| count_end(r) == count_end(rows[0])),
        "{text}"
    );
    // The last text column wraps onto continuation lines.
    assert!(lines.len() > 4 + 3 + 2, "{text}");
}

/// The planner says what is wrong with a caps input in its own terms; the command line adds the
/// flag that gave the value.
#[test]
fn caps_input_errors_speak_planner_terms_and_the_command_line_names_the_flag() {
    use chatcap::plan::PlanOptions;
    use chatcap::plan::caps::{CapLimits, CapsError, CapsInputError, caps};

    let profile = chatcap::profile::default_profile().unwrap();
    let limits = CapLimits {
        max_frt_p90_secs: 60.0,
        max_aht_inflation: 1.5,
    };
    let run = |caps_tried: &[u32], limits| {
        caps(
            &profile,
            caps_tried,
            limits,
            PlanOptions::default(),
            &|_, _| {},
        )
        .unwrap_err()
    };
    let cases = [
        (run(&[], limits), "caps [] are not"),
        (run(&[2, 0], limits), "caps [2, 0] are not"),
        (
            run(
                &[2],
                CapLimits {
                    max_aht_inflation: 0.5,
                    ..limits
                },
            ),
            "AHT inflation limit 0.5 is below 1",
        ),
        (
            run(
                &[2],
                CapLimits {
                    max_frt_p90_secs: -1.0,
                    ..limits
                },
            ),
            "FRT p90 limit -1 s is not a positive time",
        ),
    ];
    for (error, says) in cases {
        assert!(matches!(error, CapsError::Input(_)), "{error:?}");
        let text = error.to_string();
        assert!(text.contains(says), "{text}");
        assert!(
            !text.contains("--"),
            "no flag in the planner's error: {text}"
        );
    }
    assert!(matches!(
        run(&[2], CapLimits { max_frt_p90_secs: f64::NAN, ..limits }),
        CapsError::Input(CapsInputError::FrtP90(v)) if v.is_nan()
    ));

    let argv = ["chatcap", "caps", "--max-frt-p90", "0s", "--quiet"];
    let err = chatcap::run(Cli::try_parse_from(argv).unwrap(), &mut Vec::new()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert_eq!(
        err.to_string(),
        "invalid --max-frt-p90: the FRT p90 limit 0 s is not a positive time; give one such as 60 s"
    );
}
