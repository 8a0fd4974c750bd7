//! The one validation pass: raw structs in, a [`Profile`] out. Every range and consistency rule
//! of the profile format lives here, one file per section of the profile (top-level keys and
//! the horizon, targets, routing, simulation, queues, agents, shifts, distributions), so the rest of
//! chatcap can rely on the typed structs.

mod agents;
mod dated;
mod dist;
mod horizon;
mod queues;
mod routing;
mod shifts;
mod simulation;
mod targets;
mod values;

use std::path::Path;

use super::locate::{FieldPath, Issue, Locator};
use super::raw::RawProfile;
use super::{Profile, ProfileError, Targets};
use values::{DURATION_EXAMPLE, non_empty_name, positive_duration};

pub(crate) use agents::MAX_CONCURRENCY;
pub use queues::DEFAULT_MAX_QUEUE;
pub use simulation::MAX_REPLICATIONS;

/// Either a problem with a field of the profile, or a finished error about another file.
enum Failure {
    Field(Issue),
    File(ProfileError),
}

impl From<Issue> for Failure {
    fn from(issue: Issue) -> Self {
        Failure::Field(issue)
    }
}

impl From<ProfileError> for Failure {
    fn from(error: ProfileError) -> Self {
        Failure::File(error)
    }
}

/// Checks `raw` and builds the typed profile. `base_dir` resolves relative forecast paths.
pub(crate) fn validate(
    raw: RawProfile,
    source: &str,
    base_dir: Option<&Path>,
    locator: &Locator<'_>,
) -> Result<Profile, ProfileError> {
    build(raw, source, base_dir).map_err(|failure| match failure {
        Failure::Field(issue) => locator.issue_error(issue),
        Failure::File(error) => error,
    })
}

/// The sections in the order their checks depend on one another: the top-level keys, then
/// queues (transfers and forecasts name them), then agents (their skills name queue skills).
fn build(mut raw: RawProfile, source: &str, base_dir: Option<&Path>) -> Result<Profile, Failure> {
    let root = FieldPath::root();
    let name = non_empty_name(
        raw.name.take(),
        &root.key("name"),
        "name = \"Retail peak day\"",
    )?;
    let interval_path = root.key("interval");
    let interval_value = raw
        .interval
        .take()
        .ok_or_else(|| Issue::new(&interval_path, "is missing; add interval = \"30m\""))?;
    let interval_secs = positive_duration(&interval_value, &interval_path, DURATION_EXAMPLE)?;
    let when = dated::when(&raw)?;
    let targets = targets::targets(
        raw.targets.as_ref(),
        Targets::default(),
        &root.key("targets"),
    )?;
    let routing = routing::routing(raw.routing.take().unwrap_or_default(), &root.key("routing"))?;
    let simulation = simulation::simulation(
        raw.simulation.take().unwrap_or_default(),
        &root.key("simulation"),
    )?;
    let queue_names = queues::queue_names(&raw.queues)?;
    let forecasts = horizon::load_forecasts(&raw.queues, &queue_names, base_dir)?;
    let horizon = horizon::Horizon::read(&raw, &forecasts, base_dir, &when, interval_secs)?;
    let context = queues::QueueContext {
        horizon: &horizon,
        forecasts: &forecasts,
        queue_names: &queue_names,
        targets,
        base_dir,
    };
    let queues = queues::queues(&raw.queues, &context)?;
    let agents = agents::agents(&raw.agents, &horizon, &queues)?;
    horizon.check_warmup(simulation.warmup_secs)?;
    let shift_context = shifts::ShiftContext {
        horizon: &horizon,
        when: &when,
        interval_secs,
        serving: agents
            .iter()
            .map(|a| queues.iter().any(|q| a.proficiency(&q.skill).is_some()))
            .collect(),
        agents: &agents,
    };
    let shifts = shifts::shifts(&raw.shifts, &shift_context)?;
    Ok(Profile {
        name,
        source: source.to_string(),
        interval_secs,
        start_secs: when.start_secs,
        intervals: horizon.intervals,
        calendar: when.calendar,
        open: horizon.open,
        targets,
        routing,
        simulation,
        queues,
        agents,
        shifts,
    })
}
