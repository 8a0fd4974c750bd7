//! The fitted profile as TOML: the horizon after the history, each queue's forecast volumes and
//! measured durations, one agent group per group measured. Every value carries a comment
//! saying what it came from (chats behind it, confidence interval, or the default used), so a
//! planner can judge it before planning on it. The text is loaded back with the profile loader
//! before it is handed out: a profile `fit` writes always runs.

use std::fmt::Write as _;

use super::report::{DistFit, GroupFit, QueueFit, SlowdownLevel};
use super::{FitError, FitOptions, FitReport};
use crate::profile::duration::format_duration;

/// Shrinkage written when no base profile gives one: a chat log does not show paid time.
const DEFAULT_SHRINKAGE: f64 = 0.3;

/// Handle time written for a queue whose handle time could not be measured.
const FALLBACK_HANDLE_SECS: f64 = 300.0;

/// Base-profile sections copied as they are.
const COPIED_SECTIONS: [&str; 3] = ["targets", "routing", "simulation"];

/// Per-queue base-profile keys copied onto the queue of the same name.
const COPIED_QUEUE_KEYS: [&str; 3] = ["priority", "max_queue", "targets"];

/// The fitted profile's text and the fallbacks it used (one warning each). The text is checked
/// by loading it: an error here is a fault of `fit`, never the planner's.
pub(crate) fn write(
    report: &FitReport,
    options: &FitOptions,
) -> Result<(String, Vec<String>), FitError> {
    let base = base_table(options)?;
    let mut warnings = Vec::new();
    let mut out = header(report, options);
    if let Some(base) = &base {
        out.push_str(&copied_sections(base, options)?);
    }
    for (name, queue) in &report.queues {
        let base_queue = base.as_ref().and_then(|b| base_queue(b, name));
        out.push_str(&queue_text(name, queue, base_queue, &mut warnings));
    }
    for group in agent_groups(report, &mut warnings) {
        let shrinkage = base.as_ref().and_then(|b| base_shrinkage(b, &group.name));
        out.push_str(&group_text(&group, shrinkage));
        if let Some(settings) = base.as_ref().and_then(|b| planner_settings(b, &group.name)) {
            out.push_str(&settings);
        }
    }
    crate::profile::parse(&out, "<fitted profile>", None)
        .map_err(|e| FitError::Written(e.to_string()))?;
    Ok((out, warnings))
}

/// The base profile's TOML table, checked first as a profile in its own right.
fn base_table(options: &FitOptions) -> Result<Option<toml::Table>, FitError> {
    let Some((name, text)) = &options.base else {
        return Ok(None);
    };
    crate::profile::parse(text, name, None).map_err(|e| FitError::Base(e.to_string()))?;
    text.parse::<toml::Table>()
        .map(Some)
        .map_err(|e| FitError::Base(format!("{name}: {e}")))
}

/// The name, the dated horizon and where it all came from.
fn header(report: &FitReport, options: &FitOptions) -> String {
    let h = &report.horizon;
    let source = options.chat_log.display().to_string();
    let start_local = h.forecast_start.get(..16).unwrap_or(&h.forecast_start);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Fitted by `chatcap fit` from {source}: {} rows read, {} used; history {} to {}.",
        report.rows.read, report.rows.used, h.history_start, h.history_end
    );
    let _ = writeln!(
        out,
        "# Each value's comment says what it came from. Staffing is left to `chatcap plan`.\n"
    );
    let _ = writeln!(out, "name = {}", quoted(&format!("Fitted from {source}")));
    let _ = writeln!(
        out,
        "interval = {}",
        quoted(&format_duration(h.interval_secs))
    );
    let _ = writeln!(out, "# the day after the history's last whole day");
    let _ = writeln!(out, "start = {}", quoted(start_local));
    let _ = writeln!(out, "days = {}", h.days);
    let _ = writeln!(out, "timezone = {}", quoted(&h.timezone));
    if options.base.is_none() {
        let _ = writeln!(
            out,
            "# targets, routing and simulation: chatcap's defaults (copy them from a profile \
             with --profile BASE)"
        );
    }
    out
}

/// A TOML string literal.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `[targets]`, `[routing]` and `[simulation]` of the base profile.
fn copied_sections(base: &toml::Table, options: &FitOptions) -> Result<String, FitError> {
    let mut sections = toml::Table::new();
    for key in COPIED_SECTIONS {
        if let Some(value) = base.get(key) {
            sections.insert(key.to_string(), value.clone());
        }
    }
    if sections.is_empty() {
        return Ok(String::new());
    }
    let text = toml::to_string(&sections).map_err(|e| FitError::Base(e.to_string()))?;
    let name = options.base.as_ref().map_or("", |(n, _)| n.as_str());
    Ok(format!("\n# copied from {name}\n{text}"))
}

/// The base profile's queue called `name`.
fn base_queue<'a>(base: &'a toml::Table, name: &str) -> Option<&'a toml::Table> {
    base.get("queues")?
        .as_array()?
        .iter()
        .filter_map(toml::Value::as_table)
        .find(|q| q.get("name").and_then(toml::Value::as_str) == Some(name))
}

/// The planner's settings of the base profile's group called `name` (`min_on_duty`,
/// `max_on_duty`, `cost_per_hour`), as lines of TOML; `None` when it has none.
fn planner_settings(base: &toml::Table, name: &str) -> Option<String> {
    let group = base
        .get("agents")?
        .as_array()?
        .iter()
        .filter_map(toml::Value::as_table)
        .find(|g| g.get("name").and_then(toml::Value::as_str) == Some(name))?;
    let lines: Vec<String> = ["min_on_duty", "max_on_duty", "cost_per_hour"]
        .iter()
        .filter_map(|key| Some(format!("{key} = {}", group.get(*key)?)))
        .collect();
    (!lines.is_empty()).then(|| {
        format!(
            "# copied from the base profile's group\n{}\n",
            lines.join("\n")
        )
    })
}

/// The shrinkage of the base profile's group called `name`, else of its first group.
fn base_shrinkage(base: &toml::Table, name: &str) -> Option<f64> {
    let groups: Vec<&toml::Table> = base
        .get("agents")?
        .as_array()?
        .iter()
        .filter_map(toml::Value::as_table)
        .collect();
    let group = groups
        .iter()
        .find(|g| g.get("name").and_then(toml::Value::as_str) == Some(name))
        .or(groups.first())?;
    group.get("shrinkage").and_then(toml::Value::as_float)
}

/// One `[[queues]]` table.
fn queue_text(
    name: &str,
    q: &QueueFit,
    base: Option<&toml::Table>,
    warnings: &mut Vec<String>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n[[queues]]\nname = {}", quoted(name));
    let v = &q.volume;
    let backtest = match (v.wape, v.baseline_wape) {
        (Some(w), Some(b)) => format!(
            "held-out WAPE {:.1}% (seasonal naive {:.1}%)",
            w * 100.0,
            b * 100.0
        ),
        _ => "no backtest (history too short)".to_string(),
    };
    let _ = writeln!(
        out,
        "# {} chats in the history; forecast by {}, {backtest}",
        q.chats, v.model
    );
    let volumes: Vec<String> = v.forecast.iter().map(|p| number(p.volume, 2)).collect();
    let _ = writeln!(out, "volume = [{}]", volumes.join(", "));
    let _ = writeln!(out, "# forecast error beyond Poisson noise");
    let _ = writeln!(out, "volume_cv = {}", number(v.volume_cv, 3));
    match &q.handle_time {
        Some(d) => dist_line(&mut out, "handle_time", "handle time at concurrency 1", d),
        None => {
            warnings.push(format!(
                "{name}: handle time not measured; the profile uses exponential {} (set it by hand)",
                format_duration(FALLBACK_HANDLE_SECS)
            ));
            let _ = writeln!(
                out,
                "# handle time not measured: a stated default, set it by hand"
            );
            let _ = writeln!(
                out,
                "handle_time = {{ dist = \"exponential\", mean = {} }}",
                quoted(&format_duration(FALLBACK_HANDLE_SECS))
            );
        }
    }
    if let Some(p) = &q.patience {
        let _ = writeln!(
            out,
            "# patience: {} waits, {} abandons, {:.0}% censored (answered); mean 95% CI [{}, {}]",
            p.chats,
            p.abandons,
            p.censored_share * 100.0,
            format_duration(p.mean_ci_low),
            format_duration(p.mean_ci_high)
        );
        let _ = writeln!(out, "patience = {}", dist_value(&p.dist, p.mean_secs, p.cv));
    }
    if let Some(d) = &q.accept_delay {
        dist_line(&mut out, "accept_delay", "offer to acceptance", d);
    }
    if let Some(d) = &q.first_response {
        dist_line(&mut out, "first_response", "answer to first message", d);
    }
    extras_text(&mut out, q);
    if let Some(base) = base {
        for key in COPIED_QUEUE_KEYS {
            if let Some(value) = base.get(key) {
                let _ = writeln!(out, "# {key} copied from the base profile\n{key} = {value}");
            }
        }
    }
    out
}

/// Bot, transfer and CSAT lines, where measured.
fn extras_text(out: &mut String, q: &QueueFit) {
    if let Some(b) = &q.bot {
        match &b.time {
            _ if b.resolve_share <= 0.0 => {
                let _ = writeln!(
                    out,
                    "# bot: none of {} chats was resolved by a bot: no bot stage",
                    b.chats
                );
            }
            Some(t) => {
                let _ = writeln!(out, "# bot: resolve share from {} chats", b.chats);
                let _ = writeln!(
                    out,
                    "bot = {{ resolve_share = {}, time = {} }}",
                    number(b.resolve_share, 4),
                    dist_value(&t.dist, t.mean_secs, t.cv)
                );
            }
            None => {
                // The profile needs a bot time; without `queued_at` and with too few resolved
                // chats to measure one, the bot stage is taken as instant.
                let _ = writeln!(
                    out,
                    "# bot: resolve share from {} chats; bot time not measurable, taken as instant",
                    b.chats
                );
                let _ = writeln!(
                    out,
                    "bot = {{ resolve_share = {}, time = {{ dist = \"deterministic\", mean = \"0.001s\" }} }}",
                    number(b.resolve_share, 4)
                );
            }
        }
    }
    if let Some(t) = &q.transfer {
        let _ = writeln!(
            out,
            "# transfers: share of {} answered chats, to the most frequent target",
            t.chats
        );
        let _ = writeln!(
            out,
            "transfer = {{ share = {}, to = {} }}",
            number(t.share, 4),
            quoted(&t.to)
        );
    }
    if let Some(c) = &q.csat {
        let score = c.score.clamp(1.0, 5.0);
        let _ = writeln!(
            out,
            "# CSAT: a line of score against wait over {} scores",
            c.chats
        );
        let _ = writeln!(
            out,
            "csat = {{ response = {}, score = {}, drop_per_minute = {}, floor = {} }}",
            number(c.response, 4),
            number(score, 3),
            number(c.drop_per_minute.max(0.0), 4),
            number(c.floor.clamp(1.0, score), 3)
        );
    }
}

/// A duration line with its comment (observations, CI of the mean).
fn dist_line(out: &mut String, key: &str, what: &str, d: &DistFit) {
    let _ = writeln!(
        out,
        "# {what}: {} chosen by likelihood over {} chats; mean 95% CI [{}, {}]",
        d.dist,
        d.chats,
        format_duration(d.mean_ci_low),
        format_duration(d.mean_ci_high)
    );
    let _ = writeln!(out, "{key} = {}", dist_value(&d.dist, d.mean_secs, d.cv));
}

/// `{ dist = "...", mean = "...", cv = ... }`; no cv for the exponential (it is 1).
fn dist_value(dist: &str, mean_secs: f64, cv: f64) -> String {
    let mean = quoted(&format!("{}s", number(mean_secs, 2)));
    if dist == "exponential" {
        format!("{{ dist = {}, mean = {mean} }}", quoted(dist))
    } else {
        let cv = number(cv.clamp(0.01, 100.0), 3);
        format!("{{ dist = {}, mean = {mean}, cv = {cv} }}", quoted(dist))
    }
}

/// A number with at most `decimals` decimals, and no trailing zeros beyond one.
fn number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if !text.contains('.') {
        return format!("{text}.0");
    }
    let trimmed = text.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    }
}

/// The groups measured, with every queue served by one: a queue no measured agent answered
/// joins the first group (or a group of its own when none was measured), with a warning.
fn agent_groups(report: &FitReport, warnings: &mut Vec<String>) -> Vec<GroupFit> {
    let mut groups = report.groups.clone();
    if groups.is_empty() {
        warnings.push(
            "no agent was measured (no agent_id column or no answered chat): the profile has \
             one group of every queue at concurrency 1; set concurrency and slowdown by hand"
                .to_string(),
        );
        groups.push(GroupFit {
            name: "agents".to_string(),
            agents: 0,
            skills: Vec::new(),
            concurrency: 1,
            slowdown: Vec::new(),
            chats: 0,
        });
    }
    for name in report.queues.keys() {
        if !groups.iter().any(|g| g.skills.contains(name)) {
            if groups[0].agents > 0 {
                warnings.push(format!(
                    "{name}: no measured agent answered it; the profile gives it to group {}",
                    groups[0].name
                ));
            }
            groups[0].skills.push(name.clone());
        }
    }
    groups
}

/// One `[[agents]]` table.
fn group_text(g: &GroupFit, shrinkage: Option<f64>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n[[agents]]\nname = {}", quoted(&g.name));
    let skills: Vec<String> = g.skills.iter().map(|s| quoted(s)).collect();
    let _ = writeln!(
        out,
        "# {} agents answered {} chats; skills busiest first",
        g.agents, g.chats
    );
    let _ = writeln!(out, "skills = [{}]", skills.join(", "));
    let concurrency = g.concurrency.max(1);
    let _ = writeln!(
        out,
        "# the most chats one agent held at once\nconcurrency = {concurrency}"
    );
    let factors = slowdown_list(&g.slowdown, concurrency);
    let intervals: Vec<String> = g
        .slowdown
        .iter()
        .map(|l| {
            format!(
                "{}: [{:.2}, {:.2}] over {:.0} h",
                l.level, l.ci_low, l.ci_high, l.chat_hours
            )
        })
        .collect();
    if !intervals.is_empty() {
        let _ = writeln!(out, "# slowdown 95% CIs by level: {}", intervals.join("; "));
    }
    let _ = writeln!(out, "slowdown = [{}]", factors.join(", "));
    match shrinkage {
        Some(s) => {
            let _ = writeln!(out, "# shrinkage copied from the base profile");
            let _ = writeln!(out, "shrinkage = {}", number(s, 4));
        }
        None => {
            let _ = writeln!(
                out,
                "# shrinkage: not in a chat log; chatcap's default (give --profile BASE to copy yours)"
            );
            let _ = writeln!(out, "shrinkage = {}", number(DEFAULT_SHRINKAGE, 2));
        }
    }
    out
}

/// One factor per level up to `concurrency`, level 1 at 1.0; a level not measured repeats the
/// one below.
fn slowdown_list(levels: &[SlowdownLevel], concurrency: u32) -> Vec<String> {
    let mut factor = 1.0;
    (1..=concurrency)
        .map(|level| {
            if level > 1
                && let Some(l) = levels.iter().find(|l| l.level == level)
                && l.factor.is_finite()
                && l.factor > 0.0
            {
                factor = l.factor;
            }
            number(factor, 4)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stay_floats() {
        assert_eq!(number(1.0, 4), "1.0");
        assert_eq!(number(1.25, 4), "1.25");
        assert_eq!(number(3.0, 0), "3.0");
        assert_eq!(number(0.123456, 3), "0.123");
    }

    #[test]
    fn slowdown_starts_at_one_and_fills_unmeasured_levels() {
        let level = |level, factor| SlowdownLevel {
            level,
            factor,
            ci_low: factor,
            ci_high: factor,
            chat_hours: 1.0,
        };
        let list = slowdown_list(&[level(1, 1.0), level(2, 1.3)], 3);
        assert_eq!(list, ["1.0", "1.3", "1.3"]);
    }

    #[test]
    fn a_groups_planner_settings_are_copied_from_the_group_of_its_name() {
        let base: toml::Table = toml::from_str(
            "[[agents]]\nname = \"desk\"\nmax_on_duty = 4\ncost_per_hour = 25.5\n\
             [[agents]]\nname = \"team\"\nshrinkage = 0.2\n",
        )
        .unwrap();
        assert_eq!(
            planner_settings(&base, "desk").as_deref(),
            Some("# copied from the base profile's group\nmax_on_duty = 4\ncost_per_hour = 25.5\n")
        );
        assert_eq!(planner_settings(&base, "team"), None);
        assert_eq!(planner_settings(&base, "elsewhere"), None);
    }
}
