//! `[[shifts]]`: shift rules read into typed structs, and every rule a roster could not honour
//! refused with a one-line error naming the rule and the fix.

use chatcap::profile::{self, Profile};

/// A dated week, 08:00-22:00, two groups, and the shift tables given.
fn week(shifts: &str) -> Result<Profile, String> {
    let text = format!(
        r#"
name = "week"
interval = "30m"
start = "2026-12-07T00:00"
days = 7
timezone = "Europe/Paris"
[hours]
default = "08:00-22:00"
[[queues]]
name = "chat"
volume = 20
handle_time = {{ dist = "exponential", mean = "5m" }}
[[agents]]
name = "tier1"
skills = ["chat"]
[[agents]]
name = "lead"
skills = ["chat"]
{shifts}
"#
    );
    profile::parse(&text, "week.toml", None).map_err(|e| e.to_string())
}

const DAY: &str = r#"
[[shifts]]
name = "day"
groups = ["tier1"]
start = "06:00-14:00"
step = "30m"
length = ["8h", "6h"]
breaks = [{ length = "30m", after = "3h-5h", paid = false },
          { length = "15m", after = "1h30m-2h30m", paid = true }]
days_per_week = 5
consecutive_days_off = 2
max_starts_per_interval = 10
"#;

const LATE: &str = r#"
[[shifts]]
name = "late"
start = "06:00-16:00"
length = "8h"
"#;

#[test]
fn the_issues_example_reads_into_a_rule() {
    let p = week(&format!("{DAY}{LATE}")).expect("profile parses");
    assert_eq!(p.shifts.len(), 2);
    let day = &p.shifts[0];
    assert_eq!(day.groups, vec![0]);
    assert_eq!(
        (day.start_from_secs, day.start_to_secs),
        (6.0 * 3600.0, 14.0 * 3600.0)
    );
    assert_eq!(day.starts().count(), 17);
    assert_eq!(day.lengths_secs, vec![8.0 * 3600.0, 6.0 * 3600.0]);
    // Breaks come in the order of their windows.
    assert_eq!(day.breaks[0].length_secs, 900.0);
    assert!(day.breaks[0].paid && !day.breaks[1].paid);
    assert_eq!(day.breaks[1].after_from_secs, 3.0 * 3600.0);
    assert_eq!(
        (
            day.days_per_week,
            day.consecutive_days_off,
            day.max_starts_per_interval
        ),
        (Some(5), Some(2), Some(10))
    );
    let late = &p.shifts[1];
    assert_eq!(late.groups, vec![0, 1], "every group by default");
    assert_eq!(late.step_secs, 1800.0, "the interval by default");
    assert!(late.can_cover(23.5 * 3600.0) && !late.can_cover(3.0 * 3600.0));
}

#[test]
fn a_profile_without_shifts_has_none() {
    assert!(week("").unwrap().shifts.is_empty());
}

#[test]
fn bad_rules_are_refused_with_the_rule_and_the_fix() {
    let late = LATE;
    for (rule, expected) in [
        (
            "breaks = [{ length = \"30m\", after = \"3h-5h\" }, { length = \"15m\", after = \"4h\" }]",
            "shifts[0].breaks[1].after overlaps the window of an earlier break",
        ),
        (
            "length = \"25h\"",
            "shifts[0].length = \"25h\" is longer than a day",
        ),
        ("length = \"7h45m\"", "is not whole intervals of 30m"),
        ("start = \"14:00-06:00\"", "ends before it starts"),
        (
            "start = \"06:10-14:00\"",
            "is off the profile's 30m interval grid",
        ),
        (
            "groups = [\"tier3\"]",
            "= \"tier3\" is no agent group; use one of tier1, lead",
        ),
        (
            "days_per_week = 6\nconsecutive_days_off = 2",
            "cannot be met with days_per_week = 6",
        ),
        ("consecutive_days_off = 2", "needs days_per_week"),
        (
            "max_starts_per_interval = 0",
            "is not a number of shifts from 1",
        ),
        (
            "breaks = [{ length = \"30m\", after = \"5h30m-6h\" }]",
            "runs past the end of the shortest shift (6h)",
        ),
        (
            "breaks = [{ length = \"30m\", after = \"3h\", unpaid = true }]",
            "is not a break key",
        ),
        ("shift_length = \"8h\"", "unknown field"),
    ] {
        // The case's own line replaces the base line of the same key.
        let base = ["start = \"06:00-14:00\"", "length = [\"8h\", \"6h\"]"];
        let kept: Vec<&str> = base
            .into_iter()
            .filter(|line| line.split(' ').next() != rule.split(' ').next())
            .collect();
        let text = format!(
            "[[shifts]]\nname = \"day\"\n{}\n{rule}\n{late}",
            kept.join("\n")
        );
        let e = week(&text).unwrap_err();
        assert!(e.contains(expected), "{rule}: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

#[test]
fn an_open_interval_no_rule_can_cover_is_named() {
    // Nothing covers the evening for the lead, nor tier1 after 22:00 on any day: the first
    // interval left bare is named with its group.
    let e =
        week("[[shifts]]\nname = \"morning\"\nstart = \"08:00\"\nlength = \"8h\"\n").unwrap_err();
    assert!(
        e.contains("leave group \"tier1\" without a shift able to cover its open interval")
            && e.contains("2026-12-07T16:00"),
        "{e}"
    );
    let weekly =
        "[[shifts]]\nname = \"day\"\nstart = \"08:00\"\nlength = \"14h\"\ndays_per_week = 5\n";
    let e = profile::parse(
        &format!(
            "name = \"d\"\ninterval = \"30m\"\nstart = \"08:00\"\nintervals = 4\n[[queues]]\n\
             name = \"chat\"\nvolume = 5\nhandle_time = {{ dist = \"exponential\", mean = \"5m\" }}\n\
             [[agents]]\nname = \"a\"\nskills = [\"chat\"]\n{weekly}"
        ),
        "d.toml",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("needs a dated horizon of at least a week"),
        "{e}"
    );
}
