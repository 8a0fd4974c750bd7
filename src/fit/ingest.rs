//! Chat-log rows into a [`History`]: one pass over the stream, names interned, times turned
//! into seconds since the first chat. Every row that cannot be a chat is counted under its
//! reason (nothing is dropped silently); what makes the whole log untrustworthy (a duplicate
//! id, rows far out of order, an unparsable cell) stops the read with the line and the fix.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::Path;

use jiff::Timestamp;

use super::FitError;
use super::history::{AgentStatusKind, ChatFacts, History, StatusSpan, TransferLeg};
use crate::chatlog::read::{AgentReader, ChatReader, ChatView, ReadError, ReadOptions};

/// Rows whose `created_at` is earlier than an earlier row's by more than this are an error
/// (the file is not sorted); smaller disorder (exports batched per agent) is accepted.
pub const ORDER_TOLERANCE_SECS: f64 = 3600.0;

/// Below this many chats a queue's measurements get a "thin data" warning.
pub const THIN_QUEUE_CHATS: u64 = 100;

/// Skip reason of a chat whose `transferred_to` is never a `queue` of the log.
pub const SKIP_UNKNOWN_TRANSFER: &str = "transferred_to names an unknown queue";

/// Reads the chat log at `chat_log` (and the agent log, if any) into a [`History`].
pub fn read_history(
    chat_log: &Path,
    agent_log: Option<&Path>,
    options: &ReadOptions,
) -> Result<History, FitError> {
    let open = |path: &Path| {
        File::open(path).map_err(|e| ReadError::Io {
            path: path.display().to_string(),
            message: format!("{e}; check the path"),
        })
    };
    // The csv reader buffers its input itself, so the file is read in large blocks as is.
    let mut chats = open(chat_log)?;
    let chat_name = chat_log.display().to_string();
    match agent_log {
        Some(path) => {
            let mut agents = open(path)?;
            let name = path.display().to_string();
            read_history_from(&mut chats, &chat_name, Some((&mut agents, &name)), options)
        }
        None => read_history_from(&mut chats, &chat_name, None, options),
    }
}

/// Reads a chat log (and an agent log) from readers named `chat_name` (and the agent log's
/// name) in messages.
pub fn read_history_from(
    chat: &mut dyn Read,
    chat_name: &str,
    agent: Option<(&mut dyn Read, &str)>,
    options: &ReadOptions,
) -> Result<History, FitError> {
    let mut reader = ChatReader::new(chat, chat_name, options)?;
    let mut headers = vec![reader.header().to_vec()];
    let mut agent_reader = match agent {
        Some((input, name)) => {
            let r = AgentReader::new(input, name, options)?;
            headers.push(r.header().to_vec());
            Some(r)
        }
        None => None,
    };
    check_map_used(options, &headers)?;
    let mut builder = Builder::new(chat_name, reader.optional_columns());
    while let Some((line, row)) = reader.next_chat()? {
        builder.h.rows.read += 1;
        match row {
            Ok(view) => builder.add(line, &view)?,
            Err(reason) => builder.skip(reason),
        }
    }
    let mut h = builder.finish()?;
    if let Some(mut r) = agent_reader.take() {
        read_statuses(&mut h, &mut r)?;
    }
    Ok(h)
}

/// Every `--map` source must be a column of one of the logs.
fn check_map_used(options: &ReadOptions, headers: &[Vec<String>]) -> Result<(), FitError> {
    for (canonical, source) in &options.map {
        if !headers.iter().any(|h| h.contains(source)) {
            return Err(FitError::Option {
                flag: "--map".to_string(),
                message: format!(
                    "{canonical}={source}: no column {source:?} in the log; its header has: {}",
                    headers[0].join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// The history being built, with the tables that intern names and catch duplicate ids.
struct Builder {
    h: History,
    path: String,
    queue_ids: HashMap<String, u16>,
    /// Whether each queue of the table appeared as a `queue` value (not only as a target).
    is_queue: Vec<bool>,
    agent_ids: HashMap<String, u32>,
    /// A 64-bit hash of each chat id and its line: ids are never kept as text.
    id_lines: HashMap<u64, u64>,
    /// The latest `created_at` so far and its line.
    latest: Option<(Timestamp, u64)>,
    sorted: bool,
}

impl Builder {
    fn new(path: &str, columns: Vec<String>) -> Builder {
        Builder {
            h: History {
                columns,
                ..History::default()
            },
            path: path.to_string(),
            queue_ids: HashMap::new(),
            is_queue: Vec::new(),
            agent_ids: HashMap::new(),
            id_lines: HashMap::new(),
            latest: None,
            sorted: true,
        }
    }

    fn skip(&mut self, reason: &str) {
        // Reasons are a handful of constants: the map allocates once per reason.
        match self.h.rows.skipped.get_mut(reason) {
            Some(n) => *n += 1,
            None => {
                self.h.rows.skipped.insert(reason.to_string(), 1);
            }
        }
    }

    fn row_error(&self, line: u64, message: String) -> FitError {
        ReadError::Row {
            path: self.path.clone(),
            line,
            message,
        }
        .into()
    }

    fn add(&mut self, line: u64, c: &ChatView) -> Result<(), FitError> {
        self.check_order(line, c.created_at)?;
        if c.chat_id.is_empty() {
            self.skip("empty chat_id");
            return Ok(());
        }
        self.check_duplicate(line, c.chat_id)?;
        if let Some(reason) = inconsistency(c) {
            self.skip(reason);
            return Ok(());
        }
        let origin = *self.h.origin.get_or_insert(c.created_at);
        let secs = |t: Timestamp| t.duration_since(origin).as_secs_f64();
        let queue = self.queue(c.queue, true)?;
        let transfer = match c.transferred_to {
            Some(to) => Some(TransferLeg {
                to: self.queue(to, false)?,
                at: secs(transfer_time(c)),
                answered: c.transfer_answered_at.map(secs),
                agent: c.transfer_agent_id.map(|a| self.agent(a)),
            }),
            None => None,
        };
        let facts = ChatFacts {
            queue,
            created: secs(c.created_at),
            queued: secs(c.queued_at.unwrap_or(c.created_at)),
            offered: c.offered_at.map(secs),
            answered: c.answered_at.map(secs),
            first_response: c.first_response_at.map(secs),
            closed: c.closed_at.map(secs),
            abandoned: c.abandoned_at.map(secs),
            agent: c.agent_id.map(|a| self.agent(a)),
            bot_resolved: c.bot_resolved,
            transfer,
            csat: c.csat.map(|s| s as f32),
        };
        self.h.chats.push(facts);
        self.h.rows.used += 1;
        Ok(())
    }

    fn check_order(&mut self, line: u64, created: Timestamp) -> Result<(), FitError> {
        match self.latest {
            Some((latest, latest_line)) if created < latest => {
                let behind = latest.duration_since(created).as_secs_f64();
                if behind > ORDER_TOLERANCE_SECS {
                    return Err(self.row_error(
                        line,
                        format!(
                            "created_at {created} is {:.1} h before line {latest_line}'s \
                             ({latest}); sort the file by created_at",
                            behind / 3600.0
                        ),
                    ));
                }
                self.sorted = false;
            }
            _ => self.latest = Some((created, line)),
        }
        Ok(())
    }

    fn check_duplicate(&mut self, line: u64, id: &str) -> Result<(), FitError> {
        // 64-bit hashes of up to millions of ids: a false duplicate has a chance of about
        // one in ten million at ten million rows.
        let mut hasher = DefaultHasher::new();
        id.hash(&mut hasher);
        if let Some(first) = self.id_lines.insert(hasher.finish(), line) {
            return Err(self.row_error(
                line,
                format!(
                    "column chat_id: {id:?} was already used on line {first}; each chat needs \
                     its own id (remove the duplicate rows)"
                ),
            ));
        }
        Ok(())
    }

    /// The queue's index, interned; `as_queue` marks it as seen in the `queue` column.
    fn queue(&mut self, name: &str, as_queue: bool) -> Result<u16, FitError> {
        let index = match self.queue_ids.get(name) {
            Some(&i) => i,
            None => {
                let i = u16::try_from(self.h.queues.len()).map_err(|_| ReadError::File {
                    path: self.path.clone(),
                    message: "names more than 65,535 queues; split the file by queue group"
                        .to_string(),
                })?;
                self.queue_ids.insert(name.to_string(), i);
                self.h.queues.push(name.to_string());
                self.is_queue.push(false);
                i
            }
        };
        self.is_queue[usize::from(index)] |= as_queue;
        Ok(index)
    }

    fn agent(&mut self, name: &str) -> u32 {
        intern_agent(&mut self.h, &mut self.agent_ids, name)
    }

    /// Unknown transfer targets, ordering, emptiness and warnings, once the stream is read.
    fn finish(mut self) -> Result<History, FitError> {
        self.drop_unknown_targets();
        if !self.sorted {
            self.h.chats.sort_by(|a, b| a.created.total_cmp(&b.created));
            rebase_origin(&mut self.h);
        }
        if self.h.chats.is_empty() {
            let message = if self.h.rows.read == 0 {
                "has a header but no rows; export at least a few weeks of chats".to_string()
            } else {
                format!(
                    "no usable row: all {} rows were skipped ({}); fix the rows or the column \
                     mapping",
                    self.h.rows.read,
                    skipped_summary(&self.h)
                )
            };
            return Err(ReadError::File {
                path: self.path,
                message,
            }
            .into());
        }
        self.h.warnings.extend(column_warnings(&self.h));
        self.h.warnings.extend(thin_queue_warnings(&self.h));
        Ok(self.h)
    }

    /// Chats transferred to a name never seen as a queue are skipped (counted), and such
    /// names leave the queue table.
    fn drop_unknown_targets(&mut self) {
        if self.is_queue.iter().all(|&q| q) {
            return;
        }
        let is_queue = &self.is_queue;
        let before = self.h.chats.len();
        self.h
            .chats
            .retain(|c| c.transfer.is_none_or(|t| is_queue[usize::from(t.to)]));
        let dropped = (before - self.h.chats.len()) as u64;
        if dropped > 0 {
            *self
                .h
                .rows
                .skipped
                .entry(SKIP_UNKNOWN_TRANSFER.to_string())
                .or_insert(0) += dropped;
            self.h.rows.used -= dropped;
        }
        // Renumber the queues that remain, in the same order.
        let mut new_index = vec![u16::MAX; is_queue.len()];
        let mut queues = Vec::new();
        for (i, name) in self.h.queues.drain(..).enumerate() {
            if is_queue[i] {
                new_index[i] = queues.len() as u16;
                queues.push(name);
            }
        }
        self.h.queues = queues;
        for c in &mut self.h.chats {
            c.queue = new_index[usize::from(c.queue)];
            if let Some(t) = &mut c.transfer {
                t.to = new_index[usize::from(t.to)];
            }
        }
    }
}

fn intern_agent(h: &mut History, ids: &mut HashMap<String, u32>, name: &str) -> u32 {
    if let Some(&i) = ids.get(name) {
        return i;
    }
    let i = h.agents.len() as u32;
    ids.insert(name.to_string(), i);
    h.agents.push(name.to_string());
    h.agent_group.push(None);
    i
}

/// When the first agent handed a transferred chat over: `transferred_at`, else the best
/// stand-in the row has (its close, its answer, its creation).
fn transfer_time(c: &ChatView) -> Timestamp {
    c.transferred_at
        .or(c.closed_at)
        .or(c.answered_at)
        .unwrap_or(c.created_at)
}

/// The first contradiction between a row's times, as a skip reason.
fn inconsistency(c: &ChatView) -> Option<&'static str> {
    let before =
        |a: Option<Timestamp>, b: Option<Timestamp>| matches!((a, b), (Some(a), Some(b)) if a < b);
    let created = Some(c.created_at);
    let queued = c.queued_at.or(created);
    let checks: [(bool, &'static str); 17] = [
        (c.queue.is_empty(), "empty queue"),
        (before(c.queued_at, created), "queued before created"),
        (before(c.answered_at, created), "answered before created"),
        (before(c.answered_at, c.queued_at), "answered before queued"),
        (before(c.offered_at, queued), "offered before queued"),
        (
            before(c.answered_at, c.offered_at),
            "answered before offered",
        ),
        (before(c.closed_at, c.answered_at), "closed before answered"),
        (before(c.closed_at, created), "closed before created"),
        (before(c.abandoned_at, created), "abandoned before created"),
        (
            before(c.abandoned_at, c.queued_at),
            "abandoned before queued",
        ),
        (
            c.answered_at.is_some() && c.abandoned_at.is_some(),
            "both answered and abandoned",
        ),
        (
            before(c.first_response_at, c.answered_at),
            "first response before answered",
        ),
        (
            c.first_response_at.is_some() && c.answered_at.is_none(),
            "first response without answer",
        ),
        (
            c.bot_resolved == Some(true) && c.answered_at.is_some(),
            "bot resolved but answered",
        ),
        (
            before(c.transferred_at, c.answered_at),
            "transferred before answered",
        ),
        (
            before(c.transfer_answered_at, c.transferred_at),
            "transfer answered before transferred",
        ),
        (
            c.transferred_to.is_some_and(str::is_empty),
            "empty transferred_to",
        ),
    ];
    checks
        .iter()
        .find(|(bad, _)| *bad)
        .map(|&(_, reason)| reason)
}

/// After sorting rows that came slightly out of order, counts times from the earliest chat.
fn rebase_origin(h: &mut History) {
    let Some(first) = h.chats.first().map(|c| c.created) else {
        return;
    };
    if first >= 0.0 {
        return;
    }
    let shift = |t: &mut f64| *t -= first;
    for c in &mut h.chats {
        shift(&mut c.created);
        shift(&mut c.queued);
        for t in [
            &mut c.offered,
            &mut c.answered,
            &mut c.first_response,
            &mut c.closed,
            &mut c.abandoned,
        ] {
            t.as_mut().map(shift);
        }
        if let Some(leg) = &mut c.transfer {
            shift(&mut leg.at);
            leg.answered.as_mut().map(shift);
        }
    }
    h.origin = h.origin.and_then(|o| {
        o.checked_add(jiff::SignedDuration::from_secs_f64(first))
            .ok()
    });
}

fn skipped_summary(h: &History) -> String {
    let parts: Vec<String> = h
        .rows
        .skipped
        .iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    parts.join(", ")
}

/// Optional columns whose absence makes a measurement fall back, and what it falls back to.
const FALLBACKS: [(&str, &str); 5] = [
    (
        "answered_at",
        "handle time, slowdown and patience cannot be measured; the profile keeps chatcap's \
         defaults for them",
    ),
    (
        "closed_at",
        "handle time and slowdown cannot be measured; the profile keeps chatcap's defaults \
         (a single concurrency level, factor 1)",
    ),
    (
        "abandoned_at",
        "patience cannot be measured (no abandons); the profile has no patience",
    ),
    (
        "agent_id",
        "concurrency and slowdown cannot be measured; the profile keeps factor 1 for every level",
    ),
    (
        "queued_at",
        "waits are counted from created_at (no bot stage in the wait)",
    ),
];

fn column_warnings(h: &History) -> Vec<String> {
    let mut out: Vec<String> = FALLBACKS
        .iter()
        .filter(|(column, _)| !h.has_column(column))
        .map(|(column, what)| format!("the chat log has no {column} column: {what}"))
        .collect();
    if h.has_column("transferred_to") && !h.has_column("transferred_at") {
        out.push(
            "the chat log has transferred_to but no transferred_at: a transfer is placed at the \
             chat's closed_at"
                .to_string(),
        );
    }
    out
}

fn thin_queue_warnings(h: &History) -> Vec<String> {
    let mut counts = vec![0u64; h.queues.len()];
    for c in &h.chats {
        counts[usize::from(c.queue)] += 1;
    }
    h.queues
        .iter()
        .zip(counts)
        .filter(|&(_, n)| n < THIN_QUEUE_CHATS)
        .map(|(q, n)| {
            format!(
                "queue {q} has only {n} usable chats (fewer than {THIN_QUEUE_CHATS}): thin data, \
                 its measurements are uncertain"
            )
        })
        .collect()
}

/// Reads the agent log's status spans into the history (agents and groups interned).
fn read_statuses<R: Read>(h: &mut History, reader: &mut AgentReader<R>) -> Result<(), FitError> {
    let origin = h.origin.unwrap_or(Timestamp::UNIX_EPOCH);
    let mut agent_ids: HashMap<String, u32> = h
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.clone(), i as u32))
        .collect();
    let mut group_ids: HashMap<String, u32> = HashMap::new();
    let (mut empty, mut regrouped) = (0u64, 0u64);
    while let Some((_, span)) = reader.next_span()? {
        if span.from == span.to {
            empty += 1;
            continue;
        }
        let agent = intern_agent(h, &mut agent_ids, span.agent_id);
        let group = match group_ids.get(span.group) {
            Some(&g) => g,
            None => {
                let g = h.groups.len() as u32;
                group_ids.insert(span.group.to_string(), g);
                h.groups.push(span.group.to_string());
                g
            }
        };
        let slot = &mut h.agent_group[agent as usize];
        match slot {
            Some(g) if *g != group => regrouped += 1,
            _ => *slot = Some(group),
        }
        let status = match span.status {
            "available" => AgentStatusKind::Available,
            "away" => AgentStatusKind::Away,
            _ => AgentStatusKind::Offline,
        };
        let secs = |t: Timestamp| t.duration_since(origin).as_secs_f64();
        h.statuses.push(StatusSpan {
            agent,
            status,
            from: secs(span.from),
            to: secs(span.to),
        });
    }
    if empty > 0 {
        h.warnings.push(format!(
            "the agent log has {empty} status spans with from = to; they hold no time and are \
             left out"
        ));
    }
    if regrouped > 0 {
        h.warnings.push(format!(
            "the agent log puts agents in more than one group ({regrouped} spans); each agent \
             counts in the first group it appears in"
        ));
    }
    Ok(())
}
