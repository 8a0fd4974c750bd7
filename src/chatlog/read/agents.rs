//! The agent log's reader: status spans with platform words for the three statuses, sharing
//! the chat log's CSV table, zone and `--map`.

use std::io::Read;

use jiff::Timestamp;

use super::{ReadError, ReadOptions, Table, TimeError, parse_time};
use crate::chatlog::AGENT_COLUMNS;

/// An agent-log row as borrowed from the reader's current record.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentView<'a> {
    /// The agent.
    pub agent_id: &'a str,
    /// The agent's group.
    pub group: &'a str,
    /// `available`, `away` or `offline` (synonyms already translated).
    pub status: &'static str,
    /// Start of the span.
    pub from: Timestamp,
    /// End of the span (after `from`, or equal for an empty span).
    pub to: Timestamp,
}

/// Platform words for the three statuses (case-insensitive), and the status each means.
const STATUS_WORDS: [(&str, &str); 14] = [
    ("available", "available"),
    ("online", "available"),
    ("ready", "available"),
    ("active", "available"),
    ("away", "away"),
    ("busy", "away"),
    ("break", "away"),
    ("paused", "away"),
    ("not_ready", "away"),
    ("unavailable", "away"),
    ("offline", "offline"),
    ("logged_out", "offline"),
    ("logout", "offline"),
    ("invisible", "offline"),
];

/// The status a platform word means, if any.
pub fn canonical_status(word: &str) -> Option<&'static str> {
    STATUS_WORDS
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(word))
        .map(|&(_, s)| s)
}

/// A streaming agent-log reader.
pub struct AgentReader<R> {
    table: Table<R>,
    cols: [Option<usize>; AGENT_COLUMNS.len()],
}

impl<R: Read> AgentReader<R> {
    /// Reads the header of `input` (named `path` in messages) and finds the columns.
    pub fn new(input: R, path: &str, options: &ReadOptions) -> Result<Self, ReadError> {
        let mut table = Table::new(input, path, options)?;
        let found = table.resolve(&AGENT_COLUMNS, &AGENT_COLUMNS, options)?;
        let mut cols = [None; AGENT_COLUMNS.len()];
        cols.copy_from_slice(&found);
        Ok(AgentReader { table, cols })
    }

    /// The header as written in the file.
    pub fn header(&self) -> &[String] {
        &self.table.header
    }

    /// The next status span with its line; `None` at the end of the file.
    pub fn next_span(&mut self) -> Result<Option<(u64, AgentView<'_>)>, ReadError> {
        if !self.table.advance()? {
            return Ok(None);
        }
        let line = self.table.line();
        let t = &self.table;
        let cell = |i: usize| t.cell(self.cols[i]);
        let status_text = cell(2);
        let status = canonical_status(status_text).ok_or_else(|| {
            t.row_error(
                line,
                format!(
                    "column status: {status_text:?} is not a status; write available, away or \
                     offline (or online, busy, logged_out...)"
                ),
            )
        })?;
        let time = |i: usize| -> Result<Timestamp, ReadError> {
            let text = cell(i);
            match parse_time(text, &t.zone) {
                Ok(Some(ts)) => Ok(ts),
                // An agent's status change in a daylight-saving gap is read as the first
                // instant after the gap (a span is not worth losing over it).
                Err(TimeError::Gap(ts)) => Ok(ts),
                Ok(None) => Err(t.row_error(line, format!("column {} is empty", AGENT_COLUMNS[i]))),
                Err(TimeError::Invalid) => Err(t.timestamp_error(line, AGENT_COLUMNS[i], text)),
            }
        };
        let (from, to) = (time(3)?, time(4)?);
        if to < from {
            return Err(t.row_error(
                line,
                format!("column to: {to} is before from ({from}); a span must end after it starts"),
            ));
        }
        for (i, name) in [(0, "agent_id"), (1, "group")] {
            if cell(i).is_empty() {
                return Err(t.row_error(line, format!("column {name} is empty")));
            }
        }
        let view = AgentView {
            agent_id: cell(0),
            group: cell(1),
            status,
            from,
            to,
        };
        Ok(Some((line, view)))
    }
}
