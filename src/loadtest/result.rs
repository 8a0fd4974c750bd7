//! The mergeable result of one load-test process (`--result FILE`): which shard it played, the
//! summary's context, the forecast and the record of what it measured, as JSON with histograms
//! in HdrHistogram's standard text form. `chatcap loadtest merge` reads the shards' files,
//! checks that they are the shards of one run, adds their records and builds the summary one
//! process would have built.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LoadTestError;
use super::record::{ForecastFigures, RunContext, RunRecord};
use super::report::LoadTestReport;
use super::shard::Shard;
use super::summary::build_report;
use super::threshold::Threshold;

/// The format written; a reader refuses others.
const FORMAT: &str = "chatcap-loadtest-result/2";

/// One process's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardResult {
    /// [`FORMAT`].
    pub format: String,
    /// The shard played.
    pub shard: Shard,
    /// Unix seconds of the window start (the shared `--start-at` instant).
    pub started_unix: f64,
    /// What the summary needs of the plan and flags.
    pub context: RunContext,
    /// The forecast for the whole run.
    pub forecast: ForecastFigures,
    /// What this process measured.
    pub record: RunRecord,
}

impl ShardResult {
    /// A result of the current format.
    pub fn new(
        shard: Shard,
        started_unix: f64,
        context: RunContext,
        forecast: ForecastFigures,
        record: RunRecord,
    ) -> ShardResult {
        ShardResult {
            format: FORMAT.to_string(),
            shard,
            started_unix,
            context,
            forecast,
            record,
        }
    }

    /// Writes the result as JSON to `path`.
    pub fn write(&self, path: &Path) -> Result<(), LoadTestError> {
        let text = serde_json::to_string(self)
            .map_err(|e| LoadTestError::Run(format!("cannot encode the result: {e}")))?;
        std::fs::write(path, text).map_err(|e| {
            LoadTestError::invalid(
                "--result",
                format!("cannot write {}: {e}; check the path", path.display()),
            )
        })
    }

    /// Reads a result file.
    pub fn read(path: &Path) -> Result<ShardResult, LoadTestError> {
        let bad =
            |why: String| LoadTestError::invalid("merge", format!("{}: {why}", path.display()));
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read it ({e}); check the path")))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| bad(format!("is not JSON ({e}); give files written by --result")))?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != FORMAT {
            return Err(bad(format!(
                "is not a load-test result of format {FORMAT} (it says {format:?}); give files \
                 written by chatcap loadtest --result"
            )));
        }
        serde_json::from_value(value).map_err(|e| bad(format!("is not a complete result ({e})")))
    }
}

/// The summary of the shards `results` (in any order), as one process would have made it,
/// with `thresholds` evaluated. Every shard of the run must be there, once.
pub fn merge(
    results: &[(String, ShardResult)],
    thresholds: &[Threshold],
) -> Result<LoadTestReport, LoadTestError> {
    let bad = |why: String| LoadTestError::invalid("merge", why);
    let Some((first_name, first)) = results.first() else {
        return Err(bad(
            "no result files; give every shard's --result file".into()
        ));
    };
    let count = first.shard.count;
    let mut seen = vec![None::<&str>; count as usize];
    for (name, r) in results {
        if r.shard.count != count {
            return Err(bad(format!(
                "{name} is shard {}/{} but {first_name} is one of {count}: merge the shards of \
                 one run",
                r.shard.index, r.shard.count
            )));
        }
        let same_run = same_plan(&r.context, &first.context)
            && serde_json::to_value(&r.forecast).ok() == serde_json::to_value(&first.forecast).ok();
        if !same_run {
            return Err(bad(format!(
                "{name} and {first_name} played different runs (profile, window, staffing, seed \
                 or forecast differ): merge the shards of one run"
            )));
        }
        let slot = &mut seen[(r.shard.index - 1) as usize];
        if let Some(other) = slot {
            return Err(bad(format!(
                "{name} and {other} are both shard {}/{count}",
                r.shard.index
            )));
        }
        *slot = Some(name);
    }
    let missing: Vec<String> = (0..count as usize)
        .filter(|&k| seen[k].is_none())
        .map(|k| format!("{}/{count}", k + 1))
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "shard {} missing: give every shard's result file",
            missing.join(", ")
        )));
    }
    let mut context = first.context.clone();
    context.shard = Shard::WHOLE;
    let mut record = first.record.clone();
    for (name, r) in &results[1..] {
        record
            .merge(&r.record)
            .map_err(|why| bad(format!("{name}: {why}")))?;
        context.customers += r.context.customers;
        context.users += r.context.users;
        for f in &r.context.report_files {
            if !context.report_files.contains(f) {
                context.report_files.push(f.clone());
            }
        }
    }
    let starts = results.iter().map(|(_, r)| r.started_unix);
    let spread = starts.clone().fold(f64::MIN, f64::max) - starts.fold(f64::MAX, f64::min);
    if spread > 0.05 {
        record.warnings.push(format!(
            "the shards' windows started {:.0} ms apart: start them with the same --start-at",
            spread * 1000.0
        ));
    }
    Ok(build_report(&context, &record, &first.forecast, thresholds))
}

/// Whether two shards' contexts describe the same run (their own user counts aside).
fn same_plan(a: &RunContext, b: &RunContext) -> bool {
    a.profile == b.profile
        && a.queues == b.queues
        && a.seed == b.seed
        && a.window == b.window
        && a.staffing.groups == b.staffing.groups
        && a.staffing.source == b.staffing.source
}
