//! Writing a chat log and an agent log as CSV, row by row, so a long horizon's log streams to
//! its file instead of being held as text. Timestamps are RFC 3339 with the zone's offset at
//! that instant (`2026-12-07T08:00:05.25+01:00`): a reader needs no zone to place them, and a
//! person reads local clock times. Fractional seconds are written only when present.

use std::borrow::Borrow;
use std::fmt::Write as _;
use std::io::{self, Write};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{AGENT_COLUMNS, AgentRow, CHAT_COLUMNS, ChatRow};

/// Writes the header and `rows` as a chat log to `w`, timestamps in `zone`; returns the
/// number of rows written.
pub fn write_chat_log<R: Borrow<ChatRow>>(
    w: &mut dyn Write,
    rows: impl IntoIterator<Item = R>,
    zone: &TimeZone,
) -> io::Result<u64> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(CHAT_COLUMNS)?;
    let mut fields: [String; CHAT_COLUMNS.len()] = Default::default();
    let mut written = 0;
    for row in rows {
        let row = row.borrow();
        let times = [
            Some(row.created_at),
            row.queued_at,
            row.offered_at,
            row.answered_at,
            row.first_response_at,
            row.closed_at,
            row.abandoned_at,
        ];
        fields.iter_mut().for_each(String::clear);
        fields[0].push_str(&row.chat_id);
        fields[1].push_str(&row.queue);
        for (field, time) in fields[2..9].iter_mut().zip(times) {
            put_time(field, time, zone);
        }
        fields[9].push_str(row.agent_id.as_deref().unwrap_or(""));
        if let Some(bot) = row.bot_resolved {
            fields[10].push_str(if bot { "true" } else { "false" });
        }
        fields[11].push_str(row.transferred_to.as_deref().unwrap_or(""));
        put_time(&mut fields[12], row.transferred_at, zone);
        put_time(&mut fields[13], row.transfer_answered_at, zone);
        fields[14].push_str(row.transfer_agent_id.as_deref().unwrap_or(""));
        if let Some(csat) = row.csat {
            let _ = write!(fields[15], "{csat}");
        }
        out.write_record(&fields)?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}

/// Writes the header and `rows` as an agent log to `w`, timestamps in `zone`; returns the
/// number of rows written.
pub fn write_agent_log<R: Borrow<AgentRow>>(
    w: &mut dyn Write,
    rows: impl IntoIterator<Item = R>,
    zone: &TimeZone,
) -> io::Result<u64> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(AGENT_COLUMNS)?;
    let (mut from, mut to) = (String::new(), String::new());
    let mut written = 0;
    for row in rows {
        let row = row.borrow();
        from.clear();
        to.clear();
        put_time(&mut from, Some(row.from), zone);
        put_time(&mut to, Some(row.to), zone);
        out.write_record([row.agent_id.as_str(), &row.group, &row.status, &from, &to])?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}

/// Appends `time` in RFC 3339 with `zone`'s offset at that instant; nothing for `None`.
fn put_time(field: &mut String, time: Option<Timestamp>, zone: &TimeZone) {
    if let Some(t) = time {
        let _ = write!(field, "{}", t.display_with_offset(zone.to_offset(t)));
    }
}
