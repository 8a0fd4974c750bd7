//! The streaming reader of chat logs and agent logs. A platform's export can hold millions of
//! rows, so the reader keeps one CSV record in memory and hands out borrowed views of it; the
//! caller interns what it keeps. Columns are found by name (any order, `--map` renames a
//! platform's own names), timestamps are ISO 8601 with an offset or local in `--timezone`, and
//! every unusable cell is an error naming the file, line, column and a fix.

use std::io::Read;

use csv::StringRecord;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};

use super::{AGENT_COLUMNS, CHAT_COLUMNS, ChatRow, REQUIRED_CHAT_COLUMNS};

mod agents;

pub use agents::{AgentReader, AgentView, canonical_status};

/// How a log is read: the zone of timestamps without an offset and the column renames.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The zone local timestamps (without an offset) are read in.
    pub zone: TimeZone,
    /// The zone's IANA name, for messages.
    pub zone_name: String,
    /// `(canonical, source)` column renames from `--map canonical=Source,...`.
    pub map: Vec<(String, String)>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            zone: TimeZone::UTC,
            zone_name: "UTC".to_string(),
            map: Vec::new(),
        }
    }
}

impl ReadOptions {
    /// Options reading local timestamps in the IANA zone `name`, without renames.
    pub fn in_zone(name: &str) -> Result<ReadOptions, ReadError> {
        let zone = TimeZone::get(name).map_err(|_| ReadError::Option {
            flag: "--timezone".to_string(),
            message: format!("{name:?} is not an IANA time zone; write e.g. Europe/Paris or UTC"),
        })?;
        Ok(ReadOptions {
            zone,
            zone_name: name.to_string(),
            map: Vec::new(),
        })
    }
}

/// A log that cannot be read. Each message names the file (and line and column) and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The file as a whole is unusable (empty, missing columns).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// A cell or row is unusable.
    #[error("{path}:{line}: {message}")]
    Row {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// What is wrong (naming the column) and what would be right.
        message: String,
    },
    /// A flag's value is unusable (`--map`, `--timezone`).
    #[error("invalid {flag}: {message}")]
    Option {
        /// The flag.
        flag: String,
        /// What is wrong and what would be right.
        message: String,
    },
}

/// Parses `--map canonical=Source,...` into `(canonical, source)` pairs. Canonical names are
/// the columns of the chat log or the agent log.
pub fn parse_map(text: &str) -> Result<Vec<(String, String)>, ReadError> {
    let bad = |message: String| ReadError::Option {
        flag: "--map".to_string(),
        message,
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((canonical, source)) = pair.split_once('=') else {
            return Err(bad(format!(
                "{pair:?} is not canonical=Source; write e.g. created_at=Started"
            )));
        };
        let (canonical, source) = (canonical.trim(), source.trim());
        if source.is_empty() {
            return Err(bad(format!("{pair:?} names no source column after '='")));
        }
        if !CHAT_COLUMNS.contains(&canonical) && !AGENT_COLUMNS.contains(&canonical) {
            let known = [&CHAT_COLUMNS[..], &AGENT_COLUMNS[2..]].concat().join(", ");
            return Err(bad(format!(
                "{canonical:?} in {pair:?} is not a column of the chat or agent log; use one of {known}"
            )));
        }
        if pairs.iter().any(|(c, _)| c == canonical) {
            return Err(bad(format!("{canonical} is mapped twice")));
        }
        pairs.push((canonical.to_string(), source.to_string()));
    }
    Ok(pairs)
}

/// A chat-log row as borrowed from the reader's current record; cells are trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatView<'a> {
    /// The chat's id (may be empty: the caller skips such rows).
    pub chat_id: &'a str,
    /// The queue (may be empty).
    pub queue: &'a str,
    /// When the customer started the chat.
    pub created_at: Timestamp,
    /// When the chat entered the agents' queue.
    pub queued_at: Option<Timestamp>,
    /// When the accepted offer was made.
    pub offered_at: Option<Timestamp>,
    /// When an agent took the chat.
    pub answered_at: Option<Timestamp>,
    /// The agent's first message.
    pub first_response_at: Option<Timestamp>,
    /// When the chat ended.
    pub closed_at: Option<Timestamp>,
    /// When the customer left unanswered.
    pub abandoned_at: Option<Timestamp>,
    /// The agent who answered.
    pub agent_id: Option<&'a str>,
    /// Whether the bot resolved the chat.
    pub bot_resolved: Option<bool>,
    /// The queue the chat was transferred to.
    pub transferred_to: Option<&'a str>,
    /// When the first agent handed the chat over.
    pub transferred_at: Option<Timestamp>,
    /// When the second agent took it.
    pub transfer_answered_at: Option<Timestamp>,
    /// The second agent.
    pub transfer_agent_id: Option<&'a str>,
    /// The survey score.
    pub csat: Option<f64>,
}

impl ChatView<'_> {
    /// The row as an owned [`ChatRow`].
    pub fn to_row(&self) -> ChatRow {
        let owned = |s: Option<&str>| s.map(str::to_string);
        ChatRow {
            chat_id: self.chat_id.to_string(),
            queue: self.queue.to_string(),
            created_at: self.created_at,
            queued_at: self.queued_at,
            offered_at: self.offered_at,
            answered_at: self.answered_at,
            first_response_at: self.first_response_at,
            closed_at: self.closed_at,
            abandoned_at: self.abandoned_at,
            agent_id: owned(self.agent_id),
            bot_resolved: self.bot_resolved,
            transferred_to: owned(self.transferred_to),
            transferred_at: self.transferred_at,
            transfer_answered_at: self.transfer_answered_at,
            transfer_agent_id: owned(self.transfer_agent_id),
            csat: self.csat,
        }
    }
}

/// Why a row of the chat log is left out rather than read (the caller counts it).
pub const SKIP_LOCAL_GAP: &str = "local time does not exist (daylight-saving gap)";

/// A streaming chat-log reader: one record in memory, columns resolved once from the header.
pub struct ChatReader<R> {
    table: Table<R>,
    cols: [Option<usize>; CHAT_COLUMNS.len()],
}

impl<R: Read> ChatReader<R> {
    /// Reads the header of `input` (named `path` in messages) and finds the columns.
    pub fn new(input: R, path: &str, options: &ReadOptions) -> Result<Self, ReadError> {
        let mut table = Table::new(input, path, options)?;
        let found = table.resolve(&CHAT_COLUMNS, &REQUIRED_CHAT_COLUMNS, options)?;
        let mut cols = [None; CHAT_COLUMNS.len()];
        cols.copy_from_slice(&found);
        Ok(ChatReader { table, cols })
    }

    /// The optional columns the file has, by canonical name.
    pub fn optional_columns(&self) -> Vec<String> {
        (REQUIRED_CHAT_COLUMNS.len()..CHAT_COLUMNS.len())
            .filter(|&i| self.cols[i].is_some())
            .map(|i| CHAT_COLUMNS[i].to_string())
            .collect()
    }

    /// The header as written in the file.
    pub fn header(&self) -> &[String] {
        &self.table.header
    }

    /// The next row with its line: the chat, or the reason it must be skipped; `None` at the
    /// end of the file.
    #[allow(clippy::type_complexity)]
    pub fn next_chat(
        &mut self,
    ) -> Result<Option<(u64, Result<ChatView<'_>, &'static str>)>, ReadError> {
        if !self.table.advance()? {
            return Ok(None);
        }
        let line = self.table.line();
        let cells = Cells {
            table: &self.table,
            cols: &self.cols,
            line,
        };
        match cells.view() {
            Ok(view) => Ok(Some((line, Ok(view)))),
            Err(Ok(reason)) => Ok(Some((line, Err(reason)))),
            Err(Err(e)) => Err(e),
        }
    }
}

/// Reads a whole chat log into owned rows (for small files and tests; `fit` streams instead).
/// Rows in a daylight-saving gap are left out.
pub fn read_chat_log<R: Read>(
    input: R,
    path: &str,
    options: &ReadOptions,
) -> Result<Vec<ChatRow>, ReadError> {
    let mut reader = ChatReader::new(input, path, options)?;
    let mut rows = Vec::new();
    while let Some((_, row)) = reader.next_chat()? {
        if let Ok(view) = row {
            rows.push(view.to_row());
        }
    }
    Ok(rows)
}

/// The CSV table under both readers: the record being read, the header and the zone.
struct Table<R> {
    csv: csv::Reader<R>,
    record: StringRecord,
    header: Vec<String>,
    path: String,
    zone: TimeZone,
    zone_name: String,
}

impl<R: Read> Table<R> {
    fn new(input: R, path: &str, options: &ReadOptions) -> Result<Self, ReadError> {
        let mut csv = csv::ReaderBuilder::new()
            .buffer_capacity(1 << 16)
            .from_reader(input);
        let header: Vec<String> = match csv.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
            Err(e) => return Err(csv_error(path, e)),
        };
        if header.iter().all(String::is_empty) {
            return Err(ReadError::File {
                path: path.to_string(),
                message: "is empty; a log needs a header line naming its columns and one row \
                          per line"
                    .to_string(),
            });
        }
        Ok(Table {
            csv,
            record: StringRecord::new(),
            header,
            path: path.to_string(),
            zone: options.zone.clone(),
            zone_name: options.zone_name.clone(),
        })
    }

    /// The index of each canonical column in the header (renames applied); errors when a
    /// required one is missing or a name appears twice.
    fn resolve(
        &mut self,
        canonical: &[&str],
        required: &[&str],
        options: &ReadOptions,
    ) -> Result<Vec<Option<usize>>, ReadError> {
        let file_error = |message: String| ReadError::File {
            path: self.path.clone(),
            message,
        };
        let mut found = Vec::with_capacity(canonical.len());
        for name in canonical {
            let source = options
                .map
                .iter()
                .find(|(c, s)| c == name && self.header.contains(s))
                .map_or(*name, |(_, s)| s.as_str());
            let mut at = self.header.iter().enumerate().filter(|(_, h)| *h == source);
            let first = at.next().map(|(i, _)| i);
            if at.next().is_some() {
                return Err(file_error(format!(
                    "the header names column {source:?} twice; rename one, or point --map at the \
                     right one"
                )));
            }
            found.push(first);
        }
        let missing: Vec<&str> = canonical
            .iter()
            .zip(&found)
            .filter(|(name, col)| col.is_none() && required.contains(name))
            .map(|(name, _)| *name)
            .collect();
        if let Some(first) = missing.first() {
            let wrong_maps: String = options
                .map
                .iter()
                .filter(|(c, _)| missing.contains(&c.as_str()))
                .map(|(c, s)| format!(" (--map {c}={s}: no column {s:?})"))
                .collect();
            return Err(file_error(format!(
                "missing required column(s) {}{wrong_maps}; the header has: {}; name yours with \
                 --map, e.g. --map {first}=YourColumn",
                missing.join(", "),
                self.header.join(", ")
            )));
        }
        Ok(found)
    }

    /// Reads the next record; false at the end of the file.
    fn advance(&mut self) -> Result<bool, ReadError> {
        self.csv
            .read_record(&mut self.record)
            .map_err(|e| csv_error(&self.path, e))
    }

    /// The current record's 1-based line.
    fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    /// The trimmed cell of column `col` ("" when the column is absent).
    fn cell(&self, col: Option<usize>) -> &str {
        col.and_then(|i| self.record.get(i)).unwrap_or("").trim()
    }

    fn row_error(&self, line: u64, message: String) -> ReadError {
        ReadError::Row {
            path: self.path.clone(),
            line,
            message,
        }
    }

    fn timestamp_error(&self, line: u64, column: &str, text: &str) -> ReadError {
        self.row_error(
            line,
            format!(
                "column {column}: {text:?} is not an ISO 8601 timestamp; write e.g. \
                 2026-12-07T08:00:05+01:00 (or without offset, read in {})",
                self.zone_name
            ),
        )
    }
}

/// A CSV-level error as a [`ReadError`] naming the line and the likely fix.
fn csv_error(path: &str, e: csv::Error) -> ReadError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "the row has {len} fields but the header has {expected_len}; quote cells that \
             contain commas"
        ),
        csv::ErrorKind::Utf8 { .. } => {
            "the row is not valid UTF-8; export the file as UTF-8".into()
        }
        csv::ErrorKind::Io(io) => {
            return ReadError::Io {
                path: path.to_string(),
                message: io.to_string(),
            };
        }
        _ => e.to_string(),
    };
    ReadError::Row {
        path: path.to_string(),
        line,
        message,
    }
}

/// The cells of the current chat-log record.
struct Cells<'t, R> {
    table: &'t Table<R>,
    cols: &'t [Option<usize>; CHAT_COLUMNS.len()],
    line: u64,
}

impl<'t, R: Read> Cells<'t, R> {
    fn text(&self, i: usize) -> &'t str {
        self.table.cell(self.cols[i])
    }

    fn optional_text(&self, i: usize) -> Option<&'t str> {
        Some(self.text(i)).filter(|s| !s.is_empty())
    }

    /// The timestamp of column `i`: `Ok(None)` when empty, `Err(Ok(reason))` to skip the row.
    fn time(&self, i: usize) -> Result<Option<Timestamp>, Result<&'static str, ReadError>> {
        let text = self.text(i);
        match parse_time(text, &self.table.zone) {
            Ok(t) => Ok(t),
            Err(TimeError::Gap(_)) => Err(Ok(SKIP_LOCAL_GAP)),
            Err(TimeError::Invalid) => Err(Err(self.table.timestamp_error(
                self.line,
                CHAT_COLUMNS[i],
                text,
            ))),
        }
    }

    fn bot_resolved(&self) -> Result<Option<bool>, ReadError> {
        let text = self.text(10);
        const TRUE: [&str; 4] = ["true", "1", "yes", "y"];
        const FALSE: [&str; 4] = ["false", "0", "no", "n"];
        if text.is_empty() {
            Ok(None)
        } else if TRUE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
            Ok(Some(true))
        } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
            Ok(Some(false))
        } else {
            Err(self.table.row_error(
                self.line,
                format!("column bot_resolved: {text:?} is not a yes/no; write true or false"),
            ))
        }
    }

    fn csat(&self) -> Result<Option<f64>, ReadError> {
        let Some(text) = self.optional_text(15) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(self.table.row_error(
                self.line,
                format!("column csat: {text:?} is not a number; write the score, e.g. 4 or 4.5"),
            )),
        }
    }

    fn view(self) -> Result<ChatView<'t>, Result<&'static str, ReadError>> {
        let created_at = self.time(2)?.ok_or_else(|| {
            Err(self.table.row_error(
                self.line,
                "column created_at is empty; every chat needs its creation time".to_string(),
            ))
        })?;
        Ok(ChatView {
            chat_id: self.text(0),
            queue: self.text(1),
            created_at,
            queued_at: self.time(3)?,
            offered_at: self.time(4)?,
            answered_at: self.time(5)?,
            first_response_at: self.time(6)?,
            closed_at: self.time(7)?,
            abandoned_at: self.time(8)?,
            agent_id: self.optional_text(9),
            bot_resolved: self.bot_resolved().map_err(Err)?,
            transferred_to: self.optional_text(11),
            transferred_at: self.time(12)?,
            transfer_answered_at: self.time(13)?,
            transfer_agent_id: self.optional_text(14),
            csat: self.csat().map_err(Err)?,
        })
    }
}

/// Why a timestamp cell is unusable.
enum TimeError {
    /// Not ISO 8601.
    Invalid,
    /// A local time the zone skips (daylight-saving gap); the instant after the gap.
    Gap(Timestamp),
}

/// Parses an ISO 8601 timestamp: with an offset or `Z` as written, without one as local time
/// in `zone` (a repeated local time is the earlier instant). `Ok(None)` for an empty cell.
fn parse_time(text: &str, zone: &TimeZone) -> Result<Option<Timestamp>, TimeError> {
    if text.is_empty() {
        return Ok(None);
    }
    let pieces = Pieces::parse(text).map_err(|_| TimeError::Invalid)?;
    let time = pieces.time().ok_or(TimeError::Invalid)?;
    let local = DateTime::from_parts(pieces.date(), time);
    let offset = match pieces.offset() {
        Some(PiecesOffset::Zulu) => Offset::UTC,
        Some(PiecesOffset::Numeric(n)) => n.offset(),
        Some(_) => return Err(TimeError::Invalid),
        None => {
            let ambiguous = zone.to_ambiguous_timestamp(local);
            if let AmbiguousOffset::Gap { .. } = ambiguous.offset() {
                let after = ambiguous.later().map_err(|_| TimeError::Invalid)?;
                return Err(TimeError::Gap(after));
            }
            return ambiguous
                .earlier()
                .map(Some)
                .map_err(|_| TimeError::Invalid);
        }
    };
    offset
        .to_timestamp(local)
        .map(Some)
        .map_err(|_| TimeError::Invalid)
}
