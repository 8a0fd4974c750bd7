//! The one validation pass: raw structs in, a [`Profile`] out. Every range and consistency rule
//! of the profile format lives here, so the rest of chatcap can rely on the typed structs.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use toml::Value;

use super::duration::parse_duration;
use super::forecast::Forecast;
use super::locate::{FieldPath, Issue, Locator};
use super::raw::{RawAgent, RawDist, RawProfile, RawQueue, RawRouting, RawSimulation, RawTargets};
use super::{
    AgentGroupSpec, BotSpec, CsatSpec, DAY_SECS, Dist, DistKind, MAX_DURATION_SECS,
    MIN_POSITIVE_SECS, Profile, ProfileError, QueueSpec, RoutingSettings, SimulationSettings,
    SkillSpec, Slowdown, Targets, TransferSpec, clock_label, parse_clock,
};
use crate::erlang::{AGENT_CAP, MAX_SHRINKAGE};
use crate::routing::{AcceptMode, AgentSelection, ChatOrder, SECOND, Time, TransferPlace};

/// Most chats one agent may hold at once: the routing core's limit.
pub(crate) const MAX_CONCURRENCY: i64 = crate::routing::MAX_CAP as i64;

/// Fastest arrival rate of one queue, chats per second (36 million an hour): a higher volume is a
/// slip of the unit (volumes are chats per interval), and would only make a run that never ends.
const MAX_ARRIVAL_RATE: f64 = 10_000.0;

/// Longest queue when a profile gives no `max_queue`. Finite so that no queue (in the simulator
/// or in `chatcap serve`) grows without bound under overload; 10,000 waiting chats is far beyond
/// what any staffed queue holds, so the default never shapes a plan, only bounds a flood.
pub const DEFAULT_MAX_QUEUE: u32 = 10_000;

/// Longest horizon of a profile, days: a year, leap day included. Longer is a slip of the
/// interval count, and would only make a plan that runs for hours.
const MAX_HORIZON_DAYS: f64 = 366.0;

/// Most replications of a run (each keeps its tallies until the aggregate is made).
pub const MAX_REPLICATIONS: u32 = 10_000;

/// Coefficients of variation the lognormal, gamma and Weibull models take.
const CV_RANGE: std::ops::RangeInclusive<f64> = 0.01..=100.0;

/// Largest `volume_cv` (forecast error as a share of the volume).
const MAX_VOLUME_CV: f64 = 3.0;

/// Largest linear slowdown per extra chat, and largest factor of a slowdown list.
const MAX_SLOWDOWN: f64 = 10.0;
const MAX_SLOWDOWN_FACTOR: f64 = 1000.0;

const DIST_EXAMPLE: &str = "{ dist = \"lognormal\", mean = \"7m\", cv = 0.8 }";

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
    let start_secs = match &raw.start {
        None => 0.0,
        Some(text) => {
            parse_clock(text).map_err(|m| Issue::new(&root.key("start"), format!("= {m}")))?
        }
    };
    let targets = targets(
        raw.targets.as_ref(),
        Targets::default(),
        &root.key("targets"),
    )?;
    let routing = routing(raw.routing.take().unwrap_or_default(), &root.key("routing"))?;
    let simulation = simulation(
        raw.simulation.take().unwrap_or_default(),
        &root.key("simulation"),
    )?;

    // Queue names first: transfers and forecasts refer to them.
    let queues_path = root.key("queues");
    if raw.queues.is_empty() {
        return Err(Issue::new(
            &queues_path,
            "is missing; add at least one [[queues]] table with a name, a volume and a handle_time",
        )
        .into());
    }
    let queue_names = unique_names(
        raw.queues.iter().map(|q| q.name.as_deref()),
        &queues_path,
        "name = \"orders\"",
    )?;

    let forecasts = load_forecasts(&raw.queues, &queue_names, base_dir)?;
    let (intervals, intervals_origin) =
        intervals(&raw, &forecasts, base_dir, (start_secs, interval_secs))?;
    let horizon = intervals as f64 * interval_secs;
    if horizon > MAX_HORIZON_DAYS * DAY_SECS {
        let most = (MAX_HORIZON_DAYS * DAY_SECS / interval_secs).floor();
        let length = super::duration::format_duration(interval_secs);
        return Err(Issue::new(
            &root.key("intervals"),
            format!(
                "= {intervals} intervals of {length} cover {:.0} days; a profile covers at most \
                 {MAX_HORIZON_DAYS} days: give at most {most} intervals of {length}",
                horizon / DAY_SECS,
            ),
        )
        .into());
    }
    if !forecasts.is_empty() && horizon > DAY_SECS {
        return Err(Issue::new(
            &root.key("intervals"),
            format!(
                "= {intervals} covers {} but forecast rows are matched by clock time; keep the horizon within 24 hours",
                super::duration::format_duration(horizon)
            ),
        )
        .into());
    }

    let clock = Clock::new(start_secs, interval_secs, intervals);

    let mut queues = Vec::with_capacity(raw.queues.len());
    for (i, q) in raw.queues.iter().enumerate() {
        let path = queues_path.index(i);
        let context = QueueContext {
            intervals,
            interval_secs,
            intervals_origin: &intervals_origin,
            clock: &clock,
            forecasts: &forecasts,
            queue_names: &queue_names,
            targets,
            base_dir,
        };
        queues.push(queue(q, i, &path, &context)?);
    }

    let agents_path = root.key("agents");
    if raw.agents.is_empty() {
        return Err(Issue::new(
            &agents_path,
            "is missing; add at least one [[agents]] table with a name, skills and concurrency",
        )
        .into());
    }
    unique_names(
        raw.agents.iter().map(|a| a.name.as_deref()),
        &agents_path,
        "name = \"tier1\"",
    )?;
    let mut agents = Vec::with_capacity(raw.agents.len());
    for (i, a) in raw.agents.iter().enumerate() {
        agents.push(agent(
            a,
            &agents_path.index(i),
            intervals,
            &intervals_origin,
            &queues,
        )?);
    }
    check_skill_coverage(&queues, &agents, &queues_path)?;

    if simulation.warmup_secs >= horizon {
        return Err(Issue::new(
            &root.key("simulation").key("warmup"),
            format!(
                "= {:?} is not shorter than the horizon ({intervals} intervals of {} = {}); use a shorter warmup",
                super::duration::format_duration(simulation.warmup_secs),
                super::duration::format_duration(interval_secs),
                super::duration::format_duration(horizon),
            ),
        )
        .into());
    }
    Ok(Profile {
        name,
        source: source.to_string(),
        interval_secs,
        start_secs,
        intervals,
        targets,
        routing,
        simulation,
        queues,
        agents,
    })
}

/// Interval start times, for matching forecast rows.
struct Clock {
    clocks: Vec<u64>,
    labels: Vec<String>,
}

impl Clock {
    fn new(start_secs: f64, interval_secs: f64, intervals: usize) -> Self {
        let times: Vec<f64> = (0..intervals)
            .map(|i| start_secs + i as f64 * interval_secs)
            .collect();
        Clock {
            clocks: times
                .iter()
                .map(|t| t.rem_euclid(DAY_SECS).round() as u64 % 86_400)
                .collect(),
            labels: times.iter().map(|&t| clock_label(t)).collect(),
        }
    }
}

struct QueueContext<'a> {
    intervals: usize,
    interval_secs: f64,
    intervals_origin: &'a str,
    clock: &'a Clock,
    forecasts: &'a HashMap<PathBuf, Forecast>,
    queue_names: &'a [String],
    targets: Targets,
    base_dir: Option<&'a Path>,
}

fn forecast_path(base_dir: Option<&Path>, file: &str) -> PathBuf {
    let path = Path::new(file);
    match base_dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

/// Reads every forecast file named by a queue once, and checks it names only known queues.
fn load_forecasts(
    queues: &[RawQueue],
    queue_names: &[String],
    base_dir: Option<&Path>,
) -> Result<HashMap<PathBuf, Forecast>, Failure> {
    let mut forecasts = HashMap::new();
    let names: Vec<&str> = queue_names.iter().map(String::as_str).collect();
    for (i, q) in queues.iter().enumerate() {
        let Some(file) = &q.forecast else { continue };
        let path = FieldPath::root().key("queues").index(i);
        if q.volume.is_some() {
            return Err(Issue::new(
                &path.key("volume"),
                "and forecast are both given; keep one of them",
            )
            .into());
        }
        if file.trim().is_empty() {
            return Err(Issue::new(
                &path.key("forecast"),
                "= \"\" is empty; name a CSV file, e.g. forecast = \"forecast.csv\"",
            )
            .into());
        }
        let resolved = forecast_path(base_dir, file);
        if let std::collections::hash_map::Entry::Vacant(slot) = forecasts.entry(resolved) {
            let forecast = Forecast::load(slot.key())?;
            forecast.check_queues(&names)?;
            slot.insert(forecast);
        }
    }
    Ok(forecasts)
}

/// The number of intervals: `intervals`, else the first volume list, else the span of the first
/// forecast queue's rows.
fn intervals(
    raw: &RawProfile,
    forecasts: &HashMap<PathBuf, Forecast>,
    base_dir: Option<&Path>,
    (start_secs, interval_secs): (f64, f64),
) -> Result<(usize, String), Failure> {
    let path = FieldPath::root().key("intervals");
    if let Some(n) = raw.intervals {
        if !(1..=100_000).contains(&n) {
            return Err(Issue::new(
                &path,
                format!("= {n} is out of range; use 1 to 100000 intervals"),
            )
            .into());
        }
        return Ok((n as usize, format!("intervals = {n}")));
    }
    for q in &raw.queues {
        if let Some(Value::Array(items)) = &q.volume {
            let name = q.name.as_deref().unwrap_or("");
            if items.is_empty() {
                continue;
            }
            return Ok((
                items.len(),
                format!("queue {name:?} has {} volume entries", items.len()),
            ));
        }
    }
    // The longest span of any forecast queue, so that a row missing at the end of one queue is
    // named as missing rather than the other queues' last rows as surplus.
    let longest = raw
        .queues
        .iter()
        .filter_map(|q| {
            let (file, name) = (q.forecast.as_ref()?, q.name.as_ref()?);
            let forecast = forecasts.get(&forecast_path(base_dir, file))?;
            let (n, last) = forecast.span(name, start_secs, interval_secs)?;
            let origin = format!(
                "{}'s rows for queue {name:?} run from {} to {last}",
                forecast.path,
                clock_label(start_secs)
            );
            Some((n, origin))
        })
        .max_by_key(|(n, _)| *n);
    if let Some(found) = longest {
        return Ok(found);
    }
    Err(Issue::new(
        &path,
        "is missing; with a single-number volume, set intervals = N (e.g. intervals = 28), or give volume as a list",
    )
    .into())
}

fn queue(
    raw: &RawQueue,
    index: usize,
    path: &FieldPath,
    ctx: &QueueContext<'_>,
) -> Result<QueueSpec, Failure> {
    let name = ctx.queue_names.get(index).cloned().unwrap_or_default();
    let skill = match &raw.skill {
        None => name.clone(),
        Some(s) if s.trim().is_empty() => {
            return Err(Issue::new(
                &path.key("skill"),
                "= \"\" is empty; name a skill, or omit skill to use the queue name",
            )
            .into());
        }
        Some(s) => s.clone(),
    };
    let priority = match raw.priority {
        None => 0,
        Some(p) => i32::try_from(p).map_err(|_| {
            Issue::new(
                &path.key("priority"),
                format!("= {p} is out of range; use a small integer such as 0, 1 or 2"),
            )
        })?,
    };
    let handle_path = path.key("handle_time");
    let handle_time = match &raw.handle_time {
        None => {
            return Err(Issue::new(
                &handle_path,
                format!("is missing; add handle_time = {DIST_EXAMPLE}"),
            )
            .into());
        }
        Some(d) => dist(d, &handle_path, false)?,
    };

    let (volume, aht_by_interval) = match (&raw.volume, &raw.forecast) {
        (Some(v), _) => {
            let volume = volume_list(v, &path.key("volume"), ctx.intervals, ctx.intervals_origin)?;
            (volume, vec![handle_time.mean_secs; ctx.intervals])
        }
        (None, Some(file)) => {
            let resolved = forecast_path(ctx.base_dir, file);
            let forecast = ctx.forecasts.get(&resolved).ok_or_else(|| {
                Issue::new(
                    &path.key("forecast"),
                    format!("= {file:?} could not be loaded"),
                )
            })?;
            let (volume, aht) = forecast.series(&name, &ctx.clock.clocks, &ctx.clock.labels)?;
            let aht = aht
                .into_iter()
                .map(|a| a.unwrap_or(handle_time.mean_secs))
                .collect();
            (volume, aht)
        }
        (None, None) => {
            return Err(Issue::new(
                &path.key("volume"),
                "is missing; add volume = [120, 180, ...] (chats per interval), volume = 150 with intervals = N, or forecast = \"forecast.csv\"",
            )
            .into());
        }
    };

    let max_volume = MAX_ARRIVAL_RATE * ctx.interval_secs;
    if let Some((i, v)) = volume.iter().enumerate().find(|(_, v)| **v > max_volume) {
        let at = match &raw.volume {
            Some(Value::Array(_)) => path.key("volume").index(i),
            Some(_) => path.key("volume"),
            None => path.key("forecast"),
        };
        let label = ctx.clock.labels.get(i).map_or("", String::as_str);
        return Err(Issue::new(
            &at,
            format!(
                "gives {} chats in the interval at {label}, over {MAX_ARRIVAL_RATE} chats per second; volume is chats per interval, check its unit",
                number_text(*v)
            ),
        )
        .into());
    }

    let volume_cv = match raw.volume_cv {
        None => 0.0,
        Some(cv) if (0.0..=MAX_VOLUME_CV).contains(&cv) => cv,
        Some(cv) => {
            return Err(Issue::new(&path.key("volume_cv"), format!("= {} is not a number from 0 to {MAX_VOLUME_CV}; use 0 for pure Poisson or e.g. 0.1 for 10% forecast error", number_text(cv))).into());
        }
    };
    let optional_dist =
        |d: &Option<RawDist>, key: &str, allow_zero: bool| -> Result<Option<Dist>, Issue> {
            d.as_ref()
                .map(|d| dist(d, &path.key(key), allow_zero))
                .transpose()
        };
    let patience = optional_dist(&raw.patience, "patience", false)?;
    let accept_delay = optional_dist(&raw.accept_delay, "accept_delay", true)?;
    let first_response = optional_dist(&raw.first_response, "first_response", true)?;

    let bot = match &raw.bot {
        None => None,
        Some(b) => {
            let bot_path = path.key("bot");
            let share_path = bot_path.key("resolve_share");
            let resolve_share = share(
                b.resolve_share.ok_or_else(|| {
                    Issue::new(
                        &share_path,
                        "is missing; add resolve_share = 0.25 (share of chats the bot resolves)",
                    )
                })?,
                &share_path,
            )?;
            let time_path = bot_path.key("time");
            let time = match &b.time {
                None => {
                    return Err(Issue::new(
                        &time_path,
                        "is missing; add time = { dist = \"exponential\", mean = \"45s\" }",
                    )
                    .into());
                }
                Some(d) => dist(d, &time_path, false)?,
            };
            Some(BotSpec {
                resolve_share,
                time,
            })
        }
    };

    let transfer = match &raw.transfer {
        None => None,
        Some(t) => {
            let transfer_path = path.key("transfer");
            let share_path = transfer_path.key("share");
            let share = share(
                t.share.ok_or_else(|| {
                    Issue::new(
                        &share_path,
                        "is missing; add share = 0.05 (share of handled chats transferred)",
                    )
                })?,
                &share_path,
            )?;
            let to_path = transfer_path.key("to");
            let others: Vec<&str> = ctx
                .queue_names
                .iter()
                .filter(|n| **n != name)
                .map(String::as_str)
                .collect();
            let to = t.to.as_deref().ok_or_else(|| {
                Issue::new(
                    &to_path,
                    format!(
                        "is missing; add to = \"<queue>\" naming one of {}",
                        list_or_none(&others)
                    ),
                )
            })?;
            if to == name {
                return Err(Issue::new(
                    &to_path,
                    format!(
                        "= {to:?} is the queue itself; transfer to another queue: {}",
                        list_or_none(&others)
                    ),
                )
                .into());
            }
            let to_index = ctx
                .queue_names
                .iter()
                .position(|n| n == to)
                .ok_or_else(|| {
                    Issue::new(
                        &to_path,
                        format!(
                            "= {to:?} is not a queue of this profile; use one of {}",
                            list_or_none(&others)
                        ),
                    )
                })?;
            Some(TransferSpec {
                share,
                to: to_index,
            })
        }
    };

    let max_queue = match raw.max_queue {
        None => DEFAULT_MAX_QUEUE,
        Some(m) if (1..=i64::from(u32::MAX)).contains(&m) => m as u32,
        Some(m) => {
            return Err(Issue::new(
                &path.key("max_queue"),
                format!(
                    "= {m} is out of range; use 1 to {}, or omit max_queue for the default {DEFAULT_MAX_QUEUE}",
                    u32::MAX
                ),
            )
            .into());
        }
    };
    let targets = targets(raw.targets.as_ref(), ctx.targets, &path.key("targets"))?;
    let csat = match &raw.csat {
        None => None,
        Some(c) => {
            let csat_path = path.key("csat");
            let response_path = csat_path.key("response");
            let response_share = share(
                c.response.ok_or_else(|| {
                    Issue::new(
                        &response_path,
                        "is missing; add response = 0.3 (share of customers answering the survey)",
                    )
                })?,
                &response_path,
            )?;
            let score_path = csat_path.key("score");
            let score = c.score.ok_or_else(|| {
                Issue::new(
                    &score_path,
                    "is missing; add score = 4.6 (score at zero wait, 1 to 5)",
                )
            })?;
            if !(1.0..=5.0).contains(&score) {
                return Err(Issue::new(
                    &score_path,
                    format!("= {score} is outside 1..5; use the score at zero wait, e.g. 4.6"),
                )
                .into());
            }
            let drop_path = csat_path.key("drop_per_minute");
            let drop_per_minute = c.drop_per_minute.ok_or_else(|| {
                Issue::new(
                    &drop_path,
                    "is missing; add drop_per_minute = 0.1 (score lost per minute of waiting)",
                )
            })?;
            if !drop_per_minute.is_finite() || drop_per_minute < 0.0 {
                return Err(Issue::new(
                    &drop_path,
                    format!("= {drop_per_minute} is not a number >= 0; use e.g. 0.1"),
                )
                .into());
            }
            let floor = c.floor.unwrap_or(1.0);
            if !(1.0..=score).contains(&floor) {
                return Err(Issue::new(
                    &csat_path.key("floor"),
                    format!(
                        "= {floor} is outside 1..{score}; use a lowest score between 1 and score"
                    ),
                )
                .into());
            }
            Some(CsatSpec {
                response_share,
                score,
                drop_per_minute,
                floor,
            })
        }
    };

    Ok(QueueSpec {
        name,
        skill,
        priority,
        volume,
        volume_cv,
        handle_time,
        aht_by_interval,
        patience,
        accept_delay,
        first_response,
        bot,
        transfer,
        max_queue,
        targets,
        csat,
    })
}

fn agent(
    raw: &RawAgent,
    path: &FieldPath,
    intervals: usize,
    intervals_origin: &str,
    queues: &[QueueSpec],
) -> Result<AgentGroupSpec, Failure> {
    let name = raw.name.clone().unwrap_or_default();
    let skills_path = path.key("skills");
    let queue_skills: Vec<&str> = unique(queues.iter().map(|q| q.skill.as_str()));
    let raw_skills = raw.skills.as_ref().ok_or_else(|| {
        Issue::new(
            &skills_path,
            format!(
                "is missing; add skills = [\"{}\"] (queue skills: {})",
                queue_skills.first().copied().unwrap_or("orders"),
                queue_skills.join(", ")
            ),
        )
    })?;
    if raw_skills.is_empty() {
        return Err(Issue::new(
            &skills_path,
            format!(
                "= [] is empty; list at least one of {}",
                queue_skills.join(", ")
            ),
        )
        .into());
    }
    let mut skills: Vec<SkillSpec> = Vec::with_capacity(raw_skills.len());
    for (j, entry) in raw_skills.iter().enumerate() {
        let entry_path = skills_path.index(j);
        let skill = skill_entry(entry, &entry_path)?;
        if !queue_skills.contains(&skill.skill.as_str()) {
            return Err(Issue::new(
                &entry_path,
                format!(
                    "= {:?} is no queue's skill; use one of {}",
                    skill.skill,
                    queue_skills.join(", ")
                ),
            )
            .into());
        }
        if skills.iter().any(|s| s.skill == skill.skill) {
            return Err(Issue::new(
                &entry_path,
                format!("= {:?} is listed twice; list each skill once", skill.skill),
            )
            .into());
        }
        skills.push(skill);
    }

    let concurrency_path = path.key("concurrency");
    let concurrency = match raw.concurrency {
        None => 1,
        Some(c) if (1..=MAX_CONCURRENCY).contains(&c) => c as u32,
        Some(c) => {
            return Err(Issue::new(
                &concurrency_path,
                format!("= {c} is out of range; use 1 to {MAX_CONCURRENCY} chats at once"),
            )
            .into());
        }
    };
    let slowdown_path = path.key("slowdown");
    let slowdown = match &raw.slowdown {
        None => Slowdown::Linear(0.0),
        Some(value) => slowdown(value, &slowdown_path, concurrency)?,
    };
    let shrinkage = match raw.shrinkage {
        None => 0.0,
        Some(s) if (0.0..=MAX_SHRINKAGE).contains(&s) => s,
        Some(s) => {
            return Err(Issue::new(
                &path.key("shrinkage"),
                format!(
                    "= {} is outside [0, {MAX_SHRINKAGE}]; use the share of paid time not available, e.g. 0.3",
                    number_text(s)
                ),
            )
            .into());
        }
    };
    let staffing = match &raw.staffing {
        None => None,
        Some(value) => Some(staffing(
            value,
            &path.key("staffing"),
            intervals,
            intervals_origin,
        )?),
    };
    Ok(AgentGroupSpec {
        name,
        skills,
        concurrency,
        slowdown,
        shrinkage,
        staffing,
    })
}

fn check_skill_coverage(
    queues: &[QueueSpec],
    agents: &[AgentGroupSpec],
    queues_path: &FieldPath,
) -> Result<(), Issue> {
    for (i, q) in queues.iter().enumerate() {
        if !agents.iter().any(|a| a.proficiency(&q.skill).is_some()) {
            let groups: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
            return Err(Issue::new(
                &queues_path.index(i).key("skill"),
                format!(
                    "= {:?} is held by no agent group, so its chats would never be answered; add {:?} to the skills of one of the agent groups ({})",
                    q.skill,
                    q.skill,
                    groups.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn skill_entry(entry: &Value, path: &FieldPath) -> Result<SkillSpec, Issue> {
    let example = "write a skill name or { name = \"billing\", proficiency = 8 }";
    match entry {
        Value::String(s) if !s.trim().is_empty() => Ok(SkillSpec {
            skill: s.clone(),
            proficiency: 5,
        }),
        Value::Table(table) => {
            if let Some(key) = table.keys().find(|k| *k != "name" && *k != "proficiency") {
                return Err(Issue::new(
                    &path.key(key),
                    "is not a skill key; use name and proficiency",
                ));
            }
            let skill = match table.get("name") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                Some(other) => {
                    return Err(Issue::new(
                        &path.key("name"),
                        format!("= {other} is not a skill name; {example}"),
                    ));
                }
                None => {
                    return Err(Issue::new(
                        &path.key("name"),
                        format!("is missing; {example}"),
                    ));
                }
            };
            let proficiency = match table.get("proficiency") {
                None => 5,
                Some(Value::Integer(p)) if (1..=10).contains(p) => *p as u8,
                Some(other) => {
                    return Err(Issue::new(
                        &path.key("proficiency"),
                        format!(
                            "= {other} is not a whole number 1 to 10; use e.g. proficiency = 8 (default 5)"
                        ),
                    ));
                }
            };
            Ok(SkillSpec { skill, proficiency })
        }
        other => Err(Issue::new(
            path,
            format!("= {other} is not a skill; {example}"),
        )),
    }
}

fn slowdown(value: &Value, path: &FieldPath, concurrency: u32) -> Result<Slowdown, Issue> {
    let hint = "write slowdown = 0.25 (f(n) = 1 + 0.25 (n - 1)) or a list of factors per level such as [1.0, 1.2, 1.5]";
    if let Value::Array(items) = value {
        if items.len() < concurrency as usize {
            return Err(Issue::new(
                path,
                format!(
                    "has {} levels but concurrency is {concurrency}; give at least one factor per level",
                    items.len()
                ),
            ));
        }
        let mut levels = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let f = number(item)
                .filter(|f| *f > 0.0 && *f <= MAX_SLOWDOWN_FACTOR)
                .ok_or_else(|| {
                    Issue::new(
                        &path.index(i),
                        format!(
                            "= {} is not a factor above 0 and at most {MAX_SLOWDOWN_FACTOR}; {hint}",
                            shown(item)
                        ),
                    )
                })?;
            levels.push(f);
        }
        if levels.first().is_some_and(|f| (f - 1.0).abs() > 1e-9) {
            return Err(Issue::new(
                &path.index(0),
                format!(
                    "= {} must be 1.0: handle_time is the time at concurrency 1",
                    levels.first().copied().unwrap_or(0.0)
                ),
            ));
        }
        return Ok(Slowdown::Levels(levels));
    }
    match number(value) {
        Some(s) if (0.0..=MAX_SLOWDOWN).contains(&s) => Ok(Slowdown::Linear(s)),
        _ => Err(Issue::new(
            path,
            format!(
                "= {} is not a slowdown from 0 to {MAX_SLOWDOWN}; {hint}",
                shown(value)
            ),
        )),
    }
}

fn staffing(
    value: &Value,
    path: &FieldPath,
    intervals: usize,
    origin: &str,
) -> Result<Vec<u32>, Issue> {
    let head_count = |item: &Value, at: &FieldPath| -> Result<u32, Issue> {
        match item {
            Value::Integer(n) if (0..=i64::from(AGENT_CAP)).contains(n) => Ok(*n as u32),
            other => Err(Issue::new(
                at,
                format!(
                    "= {other} is not a whole number of agents from 0 to {AGENT_CAP}; write e.g. 12"
                ),
            )),
        }
    };
    match value {
        Value::Array(items) => {
            if items.len() != intervals {
                return Err(Issue::new(
                    path,
                    format!(
                        "has {} entries but the profile has {intervals} intervals ({origin}); give one head count per interval",
                        items.len()
                    ),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| head_count(item, &path.index(i)))
                .collect()
        }
        single => Ok(vec![head_count(single, path)?; intervals]),
    }
}

fn volume_list(
    value: &Value,
    path: &FieldPath,
    intervals: usize,
    origin: &str,
) -> Result<Vec<f64>, Issue> {
    let chats = |item: &Value, at: &FieldPath| -> Result<f64, Issue> {
        match number(item) {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
            Some(v) if v < 0.0 => Err(Issue::new(
                at,
                format!("= {item} is negative; volume is expected chats per interval, 0 or more"),
            )),
            _ => Err(Issue::new(
                at,
                format!("= {item} is not a number of chats; write e.g. 120"),
            )),
        }
    };
    match value {
        Value::Array(items) => {
            if items.len() != intervals {
                return Err(Issue::new(
                    path,
                    format!(
                        "has {} entries but the profile has {intervals} intervals ({origin}); give one volume per interval",
                        items.len()
                    ),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| chats(item, &path.index(i)))
                .collect()
        }
        single => Ok(vec![chats(single, path)?; intervals]),
    }
}

fn dist(raw: &RawDist, path: &FieldPath, allow_zero_mean: bool) -> Result<Dist, Issue> {
    let names: Vec<&str> = DistKind::ALL.iter().map(|(n, _)| *n).collect();
    let kind_path = path.key("dist");
    let kind_name = raw.dist.as_deref().ok_or_else(|| {
        Issue::new(
            &kind_path,
            format!(
                "is missing; add dist = \"<kind>\" with one of {}",
                names.join(", ")
            ),
        )
    })?;
    let kind = DistKind::ALL
        .iter()
        .find(|(n, _)| *n == kind_name)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            Issue::new(
                &kind_path,
                format!(
                    "= {kind_name:?} is not a distribution; use one of {}",
                    names.join(", ")
                ),
            )
        })?;
    let mean_path = path.key("mean");
    let cv_path = path.key("cv");

    if kind == DistKind::Empirical {
        if raw.mean.is_some() || raw.cv.is_some() {
            let key = if raw.mean.is_some() {
                &mean_path
            } else {
                &cv_path
            };
            return Err(Issue::new(
                key,
                "is computed from values for an empirical distribution; remove it",
            ));
        }
        let values_path = path.key("values");
        let items = raw
            .values
            .as_ref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Issue::new(
                    &values_path,
                    "is missing or empty; add values = [\"30s\", 60, \"2m\"] (observed durations)",
                )
            })?;
        let values = items
            .iter()
            .enumerate()
            .map(|(i, v)| duration(v, &values_path.index(i)))
            .collect::<Result<Vec<f64>, Issue>>()?;
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        if mean <= 0.0 && !allow_zero_mean {
            return Err(Issue::new(
                &values_path,
                "are all zero; give observed durations > 0",
            ));
        }
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let cv = if mean > 0.0 {
            variance.sqrt() / mean
        } else {
            0.0
        };
        return Ok(Dist {
            kind,
            mean_secs: mean,
            cv,
            values_secs: values,
        });
    }

    if raw.values.is_some() {
        return Err(Issue::new(
            &path.key("values"),
            format!(
                "applies only to dist = \"empirical\"; remove it or use mean and cv for {kind_name}"
            ),
        ));
    }
    let mean_value = raw.mean.as_ref().ok_or_else(|| {
        Issue::new(
            &mean_path,
            format!("is missing; add mean = \"7m\" (a duration) to the {kind_name} distribution"),
        )
    })?;
    // Only a deterministic delay may be none at all.
    let mean = if allow_zero_mean && kind == DistKind::Deterministic {
        duration(mean_value, &mean_path)?
    } else {
        positive_duration(
            mean_value,
            &mean_path,
            "give the mean duration, e.g. mean = \"7m\"",
        )?
    };
    let cv = match (kind, raw.cv) {
        (DistKind::Exponential, None | Some(1.0)) => 1.0,
        (DistKind::Exponential, Some(cv)) => {
            return Err(Issue::new(
                &cv_path,
                format!(
                    "= {cv} but an exponential distribution has cv 1; remove cv, or use lognormal or gamma for cv {cv}"
                ),
            ));
        }
        (DistKind::Deterministic, None | Some(0.0)) => 0.0,
        (DistKind::Deterministic, Some(cv)) => {
            return Err(Issue::new(
                &cv_path,
                format!(
                    "= {cv} but a deterministic duration has cv 0; remove cv, or use lognormal or gamma for cv {cv}"
                ),
            ));
        }
        (_, None) => 1.0,
        (_, Some(cv)) if CV_RANGE.contains(&cv) => cv,
        (_, Some(cv)) => {
            return Err(Issue::new(
                &cv_path,
                format!(
                    "= {} is outside {} to {}; use e.g. cv = 0.8, or dist = \"deterministic\" for no variation",
                    number_text(cv),
                    CV_RANGE.start(),
                    CV_RANGE.end()
                ),
            ));
        }
    };
    Ok(Dist {
        kind,
        mean_secs: mean,
        cv,
        values_secs: Vec::new(),
    })
}

fn targets(raw: Option<&RawTargets>, base: Targets, path: &FieldPath) -> Result<Targets, Issue> {
    let Some(raw) = raw else { return Ok(base) };
    let mut t = base;
    if let Some(sl) = raw.service_level {
        if !(sl > 0.0 && sl <= 1.0) {
            let what = if sl > 1.0 {
                "is above 1"
            } else {
                "is not above 0"
            };
            return Err(Issue::new(
                &path.key("service_level"),
                format!(
                    "= {sl} {what}; use a share in (0, 1], e.g. 0.8 for 80% within the threshold"
                ),
            ));
        }
        t.service_level = sl;
    }
    if let Some(v) = &raw.threshold {
        t.threshold_secs = duration(v, &path.key("threshold"))?;
    }
    if let Some(a) = raw.max_abandon {
        if !(a > 0.0 && a <= 1.0) {
            return Err(Issue::new(
                &path.key("max_abandon"),
                format!(
                    "= {} is outside (0, 1]; use a share, e.g. 0.05 (with patience some chats always abandon)",
                    number_text(a)
                ),
            ));
        }
        t.max_abandon = Some(a);
    }
    if let Some(o) = raw.max_occupancy {
        if !(o > 0.0 && o <= 1.0) {
            return Err(Issue::new(
                &path.key("max_occupancy"),
                format!(
                    "= {} is outside (0, 1]; use a share, e.g. 0.85",
                    number_text(o)
                ),
            ));
        }
        t.max_occupancy = Some(o);
    }
    if let Some(v) = &raw.max_asa {
        t.max_asa_secs = Some(positive_duration(
            v,
            &path.key("max_asa"),
            DURATION_EXAMPLE,
        )?);
    }
    if let Some(v) = &raw.short_abandon {
        t.short_abandon_secs = duration(v, &path.key("short_abandon"))?;
    }
    Ok(t)
}

fn routing(raw: RawRouting, path: &FieldPath) -> Result<RoutingSettings, Issue> {
    let mut settings = RoutingSettings::default();
    if let Some(s) = &raw.agent_selection {
        settings.agent_selection = s.parse::<AgentSelection>().map_err(|_| {
            let names: Vec<&str> = AgentSelection::ALL.iter().map(|(n, _)| *n).collect();
            Issue::new(
                &path.key("agent_selection"),
                format!("= {s:?} is not a policy; use one of {}", names.join(", ")),
            )
        })?;
    }
    if let Some(value) = &raw.accept {
        settings.accept = accept(value, &path.key("accept"))?;
    }
    if let Some(value) = &raw.priority_weight {
        let weight_path = path.key("priority_weight");
        settings.order = match value {
            Value::String(s) if s == "strict" => ChatOrder::Strict,
            other => ChatOrder::Weighted {
                priority_weight: to_time(duration(other, &weight_path).map_err(|_| {
                    Issue::new(&weight_path, format!("= {other} is not a duration or \"strict\"; write e.g. \"60s\" (waiting time one priority point is worth) or \"strict\""))
                })?),
            },
        };
    }
    if let Some(s) = &raw.transfer_place {
        settings.transfer_place = match s.as_str() {
            "keep" => TransferPlace::Keep,
            "reset" => TransferPlace::Reset,
            other => {
                return Err(Issue::new(
                    &path.key("transfer_place"),
                    format!("= {other:?} is not a transfer place; use \"keep\" or \"reset\""),
                ));
            }
        };
    }
    Ok(settings)
}

fn accept(value: &Value, path: &FieldPath) -> Result<AcceptMode, Issue> {
    let hint = "use accept = \"auto\" or accept = { timeout = \"30s\", misses_before_away = 1 }";
    match value {
        Value::String(s) if s == "auto" => Ok(AcceptMode::Auto),
        Value::Table(table) => {
            if let Some(key) = table
                .keys()
                .find(|k| *k != "timeout" && *k != "misses_before_away")
            {
                return Err(Issue::new(
                    &path.key(key),
                    format!("is not an accept key; {hint}"),
                ));
            }
            let timeout = match table.get("timeout") {
                None => 30.0,
                Some(v) => positive_duration(v, &path.key("timeout"), DURATION_EXAMPLE)?,
            };
            let misses = match table.get("misses_before_away") {
                None => 1,
                Some(Value::Integer(n)) if (1..=i64::from(u32::MAX)).contains(n) => *n as u32,
                Some(other) => {
                    return Err(Issue::new(
                        &path.key("misses_before_away"),
                        format!(
                            "= {other} is not a whole number from 1 to {}; use e.g. 1 (consecutive misses before the agent goes away)",
                            u32::MAX
                        ),
                    ));
                }
            };
            Ok(AcceptMode::Offer {
                timeout: to_time(timeout),
                misses_before_away: misses,
            })
        }
        other => Err(Issue::new(
            path,
            format!("= {other} is not an accept mode; {hint}"),
        )),
    }
}

fn simulation(raw: RawSimulation, path: &FieldPath) -> Result<SimulationSettings, Issue> {
    let mut s = SimulationSettings::default();
    if let Some(r) = raw.replications {
        s.replications = u32::try_from(r)
            .ok()
            .filter(|r| (1..=MAX_REPLICATIONS).contains(r))
            .ok_or_else(|| {
                Issue::new(
                    &path.key("replications"),
                    format!("= {r} is out of range; use 1 to {MAX_REPLICATIONS} (e.g. 20)"),
                )
            })?;
    }
    if let Some(seed) = raw.seed {
        s.seed = u64::try_from(seed).map_err(|_| {
            Issue::new(
                &path.key("seed"),
                format!("= {seed} is negative; use a whole number >= 0"),
            )
        })?;
    }
    if let Some(v) = &raw.warmup {
        s.warmup_secs = duration(v, &path.key("warmup"))?;
    }
    Ok(s)
}

/// A duration given as text or a number of seconds, >= 0.
fn duration(value: &Value, path: &FieldPath) -> Result<f64, Issue> {
    let parsed = match value {
        Value::String(s) => parse_duration(s),
        Value::Integer(n) => parse_duration(&n.to_string()),
        Value::Float(f) if f.is_finite() && *f >= 0.0 => Ok(*f),
        _ => Err(
            "write a duration like \"45s\", \"7m\", \"1h30m\", \"250ms\" or a number of seconds"
                .to_string(),
        ),
    };
    let secs = parsed.map_err(|m| {
        let hint = m.split_once("; ").map_or(m.as_str(), |(_, hint)| hint);
        Issue::new(path, format!("= {value} is not a duration; {hint}"))
    })?;
    if secs > MAX_DURATION_SECS {
        return Err(Issue::new(
            path,
            format!(
                "= {} is longer than a year; durations go up to \"8760h\"",
                shown(value)
            ),
        ));
    }
    Ok(secs)
}

/// How to write a duration that must be above zero.
const DURATION_EXAMPLE: &str = "write e.g. \"30s\" or \"30m\"";

/// A duration that must be above zero (at least [`MIN_POSITIVE_SECS`]); `fix` ends the error.
fn positive_duration(value: &Value, path: &FieldPath, fix: &str) -> Result<f64, Issue> {
    let secs = duration(value, path)?;
    if secs < MIN_POSITIVE_SECS {
        return Err(Issue::new(
            path,
            format!("= {} must be at least 1ms; {fix}", shown(value)),
        ));
    }
    Ok(secs)
}

/// A profile value as the user wrote it, with huge and tiny floats in exponent form.
fn shown(value: &Value) -> String {
    match value {
        Value::Float(f) => number_text(*f),
        other => other.to_string(),
    }
}

/// A number for a message: plain when of an everyday size, `1e300` rather than 301 digits.
fn number_text(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

fn share(v: f64, path: &FieldPath) -> Result<f64, Issue> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(Issue::new(
            path,
            format!("= {v} is outside [0, 1]; use a share, e.g. 0.25 for 25%"),
        ))
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn to_time(secs: f64) -> Time {
    (secs * SECOND as f64).round() as Time
}

fn non_empty_name(name: Option<String>, path: &FieldPath, example: &str) -> Result<String, Issue> {
    match name {
        None => Err(Issue::new(path, format!("is missing; add {example}"))),
        Some(n) if n.trim().is_empty() => Err(Issue::new(
            path,
            format!("= \"\" is empty; write e.g. {example}"),
        )),
        Some(n) => Ok(n),
    }
}

/// Checks that every entry has a non-empty name, unique in the list.
fn unique_names<'a>(
    names: impl Iterator<Item = Option<&'a str>>,
    list_path: &FieldPath,
    example: &str,
) -> Result<Vec<String>, Issue> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (i, name) in names.enumerate() {
        let path = list_path.index(i).key("name");
        let name = non_empty_name(name.map(str::to_string), &path, example)?;
        if !seen.insert(name.clone()) {
            return Err(Issue::new(
                &path,
                format!("= {name:?} is used twice; give each entry a unique name"),
            ));
        }
        out.push(name);
    }
    Ok(out)
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "(no other queue)".to_string()
    } else {
        names.join(", ")
    }
}
