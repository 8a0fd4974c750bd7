//! `--xlsx FILE`: the plan's tables as a workbook, read back with an independent reader
//! (calamine): a summary sheet, then one sheet per table with its header, every row, numbers
//! as numbers and intervals over three columns.

use calamine::{Data, Reader, Xlsx, open_workbook};
use chatcap::Cli;
use clap::Parser;

fn run(args: &[&str]) -> Result<String, String> {
    let mut out = Vec::new();
    let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
    chatcap::run(cli, &mut out).map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out).expect("utf-8"))
}

#[test]
fn plan_writes_a_workbook_with_one_sheet_per_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.xlsx");
    let json = run(&[
        "chatcap",
        "plan",
        "--quiet",
        "--format",
        "json",
        "--xlsx",
        path.to_str().unwrap(),
    ])
    .expect("plan runs");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut book: Xlsx<_> = open_workbook(&path).expect("a workbook");
    let names = book.sheet_names();
    assert_eq!(
        names,
        [
            "Summary",
            "Day totals",
            "Whole day per queue",
            "Staffing per interval and group",
            "Per interval and queue",
            "Performance"
        ]
    );
    let summary = book.worksheet_range("Summary").unwrap();
    assert_eq!(
        summary.get((0, 0)),
        Some(&Data::String("chatcap plan: Retail peak day".into()))
    );

    let staffing = book
        .worksheet_range("Staffing per interval and group")
        .unwrap();
    let header: Vec<String> = staffing
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(&header[..4], ["start", "group", "required", "rostered"]);
    // An interval column spreads over three: the estimate, its low and high bounds.
    let sl = header.iter().position(|h| h == "SL").expect("an SL column");
    assert_eq!(&header[sl + 1..sl + 3], ["SL low", "SL high"]);
    let rows = json["intervals"].as_array().unwrap();
    assert_eq!(staffing.height(), rows.len() + 1, "a header and every row");
    let mut measured = 0;
    for (r, row) in rows.iter().enumerate() {
        let required = staffing.get((r + 1, 2)).unwrap();
        assert_eq!(
            required,
            &Data::Float(row["required_agents"].as_f64().unwrap()),
            "row {r}"
        );
        let float = |c: usize| match staffing.get((r + 1, c)) {
            Some(Data::Float(v)) => Some(*v),
            _ => None,
        };
        let (mean, low, high) = (float(sl), float(sl + 1), float(sl + 2));
        if let (Some(mean), Some(low), Some(high)) = (mean, low, high) {
            assert!(low <= mean && mean <= high, "row {r}: {low} {mean} {high}");
            let want = row["service_level"]["mean"].as_f64().unwrap();
            assert!((mean - want).abs() < 1e-12, "row {r}: {mean} vs {want}");
            measured += 1;
        }
    }
    assert!(
        measured > rows.len() / 2,
        "{measured} rows with a service level"
    );
}

#[test]
fn only_one_output_may_take_standard_output() {
    let e = run(&["chatcap", "plan", "--quiet", "--xlsx", "-"]).unwrap_err();
    assert!(
        e.contains("invalid --xlsx") && e.contains("give --xlsx a file"),
        "{e}"
    );
    let e = run(&[
        "chatcap", "caps", "--quiet", "--out", "x.json", "--html", "-", "--xlsx", "-",
    ])
    .unwrap_err();
    assert!(e.contains("invalid --xlsx"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.out");
    let file = file.to_str().unwrap();
    let e = run(&["chatcap", "plan", "--quiet", "--html", file, "--xlsx", file]).unwrap_err();
    assert!(
        e.contains("invalid --xlsx") && e.contains("also the --html file"),
        "{e}"
    );
    assert!(!std::path::Path::new(file).exists(), "nothing written");
}
