//! `chatcap caps`: the staffing plan for each per-agent concurrency cap, and the cap to run.

use std::io::Write;

use clap::Args;

use super::plan::PlanningArgs;
use super::progress::progress_bar;
use super::{GlobalArgs, emit};
use crate::error::{Error, Result};
use crate::plan::SearchMode;
use crate::plan::caps::{self, CapLimits, CapsError, CapsInputError};
use crate::profile::MAX_CONCURRENCY;
use crate::profile::duration::parse_duration;
use crate::report::Output;

/// Arguments of `chatcap caps`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CapsArgs {
    #[command(flatten)]
    pub planning: PlanningArgs,
    /// Caps to try: a range `1..6` (inclusive) or a list `1,2,4`.
    #[arg(long, default_value = "1..6", value_parser = parse_caps, value_name = "CAPS", allow_hyphen_values = true)]
    pub caps: CapList,
    /// Longest 90th-percentile first-response time a recommended cap may have.
    #[arg(long, value_parser = parse_duration, default_value = "60s", value_name = "DURATION", allow_hyphen_values = true)]
    pub max_frt_p90: f64,
    /// Largest AHT a recommended cap may have, as a multiple of the handle time at
    /// concurrency 1.
    #[arg(
        long,
        default_value_t = 1.5,
        value_name = "RATIO",
        allow_negative_numbers = true
    )]
    pub max_aht_inflation: f64,
}

/// Caps to try, ascending, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CapList(pub Vec<u32>);

/// Parses `1..6`, `1..=6` or `1,2,4`.
pub(crate) fn parse_caps(text: &str) -> std::result::Result<CapList, String> {
    let bad =
        || format!("{text:?} is not a list of caps; write a range like 1..6 or a list like 1,2,4");
    let number = |s: &str| -> std::result::Result<u32, String> {
        let n: u32 = s.trim().parse().map_err(|_| bad())?;
        let most = MAX_CONCURRENCY as u32;
        if (1..=most).contains(&n) {
            Ok(n)
        } else {
            Err(format!("cap {n} is out of range; caps go from 1 to {most}"))
        }
    };
    let caps: Vec<u32> = if let Some((a, b)) = text.split_once("..") {
        let (a, b) = (number(a)?, number(b.trim_start_matches('='))?);
        if a > b {
            return Err(format!(
                "{text:?} is an empty range; write the smaller cap first"
            ));
        }
        (a..=b).collect()
    } else {
        let mut list = text
            .split(',')
            .map(number)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        list.sort_unstable();
        list.dedup();
        list
    };
    Ok(CapList(caps))
}

pub(crate) fn run(global: &GlobalArgs, args: &CapsArgs, stdout: &mut dyn Write) -> Result<()> {
    args.planning.check_outputs(global)?;
    let profile = args.planning.profile()?;
    let options = args.planning.options(SearchMode::Incremental, 8.0);
    let limits = CapLimits {
        max_frt_p90_secs: args.max_frt_p90,
        max_aht_inflation: args.max_aht_inflation,
    };
    let bar = progress_bar(global, args.caps.0.len() as u64, "planning caps");
    let report = caps::caps(&profile, &args.caps.0, limits, options, &|done, _| {
        bar.set_position(done as u64)
    })
    .map_err(flag_error)?;
    bar.finish_and_clear();
    let output = Output::new(&report).map_err(Error::from)?;
    args.planning.emit_files(&output, stdout)?;
    emit(global, &output, stdout)
}

/// A caps input error named by the flag that gave the value.
fn flag_error(error: CapsError) -> Error {
    match error {
        CapsError::Plan(e) => e.into(),
        CapsError::Input(e) => {
            let flag = match e {
                CapsInputError::Caps { .. } => "--caps",
                CapsInputError::AhtInflation(_) => "--max-aht-inflation",
                CapsInputError::FrtP90(_) => "--max-frt-p90",
            };
            Error::invalid(flag, e.to_string())
        }
    }
}
