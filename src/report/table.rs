//! Aligned plain-text tables for a terminal: numbers right-aligned, text left-aligned, fitted to
//! a line length (notes are wrapped to it). A table too wide for it first shows estimates
//! without their intervals, then leaves out its secondary columns, then wraps its last column
//! when that is text; a line under the table says what was left out.

use std::io::{self, Write};

use super::{Cell, Exporter, Output, Table};

/// Writes every table of the document as aligned text.
pub struct TableExporter {
    /// Line length to fit; `None` shows every column and interval.
    pub width: Option<usize>,
}

impl Exporter for TableExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        let doc = &output.document;
        if !doc.title.is_empty() {
            writeln!(w, "{}", doc.title)?;
            writeln!(w, "{}", "=".repeat(doc.title.chars().count()))?;
        }
        for note in &doc.notes {
            match self.width {
                Some(width) => {
                    for line in wrap(note, width) {
                        writeln!(w, "{line}")?;
                    }
                }
                None => writeln!(w, "{note}")?,
            }
        }
        for table in &doc.tables {
            writeln!(w)?;
            write_table(table, self.width, w)?;
        }
        Ok(())
    }
}

/// Which columns are shown, and how.
struct Layout {
    /// Indices of the columns shown, in order.
    shown: Vec<usize>,
    /// Estimates shown with their intervals.
    intervals: bool,
}

/// Gap between columns.
const GAP: usize = 2;
/// Narrowest a wrapped last column gets.
const MIN_WRAPPED: usize = 16;
/// Room a last text column is counted with when choosing columns: it wraps into what is left.
const WRAPPED_FIT: usize = 32;

fn text(cell: &Cell, intervals: bool) -> String {
    if intervals {
        cell.display()
    } else {
        cell.display_mean()
    }
}

/// Width of each shown column.
fn widths(table: &Table, layout: &Layout) -> Vec<usize> {
    layout
        .shown
        .iter()
        .map(|&i| {
            let header = table.columns[i].chars().count();
            table
                .rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| text(c, layout.intervals).chars().count())
                .fold(header, usize::max)
        })
        .collect()
}

fn line_width(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)
}

/// True when column `i` holds numbers (right-aligned, never wrapped).
fn is_numeric(table: &Table, i: usize) -> bool {
    table
        .rows
        .iter()
        .any(|r| r.get(i).is_some_and(|c| c.is_numeric()))
}

/// Line width of `layout`, a last text column counted at most [`WRAPPED_FIT`] wide.
fn fit_width(table: &Table, layout: &Layout) -> usize {
    let mut widths = widths(table, layout);
    if let (Some(&i), Some(last)) = (layout.shown.last(), widths.last_mut())
        && !is_numeric(table, i)
    {
        *last = (*last).min(WRAPPED_FIT.max(table.columns[i].chars().count()));
    }
    line_width(&widths)
}

/// The columns that fit `limit`: intervals dropped first, then the secondary columns in order.
fn fit(table: &Table, limit: Option<usize>) -> Layout {
    let mut layout = Layout {
        shown: (0..table.columns.len()).collect(),
        intervals: true,
    };
    let Some(limit) = limit else { return layout };
    let has_intervals = table
        .rows
        .iter()
        .flatten()
        .any(|c| matches!(c, Cell::Ci { .. }));
    if fit_width(table, &layout) > limit && has_intervals {
        layout.intervals = false;
    }
    for name in &table.secondary {
        if fit_width(table, &layout) <= limit {
            break;
        }
        layout.shown.retain(|&i| table.columns[i] != *name);
    }
    layout
}

/// `text` broken at spaces into lines of at most `width` characters (longer words cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let used = current.chars().count();
            let room = if used == 0 {
                width
            } else {
                width.saturating_sub(used + 1)
            };
            if word.len() <= room {
                if used > 0 {
                    current.push(' ');
                }
                current.extend(word.drain(..));
            } else if used > 0 {
                lines.push(std::mem::take(&mut current));
            } else {
                current.extend(word.drain(..width));
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

fn write_table(table: &Table, limit: Option<usize>, w: &mut dyn Write) -> io::Result<()> {
    if !table.title.is_empty() {
        writeln!(w, "{}", table.title)?;
    }
    let layout = fit(table, limit);
    let mut widths = widths(table, &layout);
    let numeric: Vec<bool> = layout.shown.iter().map(|&i| is_numeric(table, i)).collect();
    // A last text column still too wide is wrapped into the room left.
    let last = widths.len().saturating_sub(1);
    let mut wrap_at = None;
    if let Some(limit) = limit
        && line_width(&widths) > limit
        && !numeric.get(last).copied().unwrap_or(true)
    {
        let before = line_width(&widths[..last]) + GAP;
        let room = limit.saturating_sub(before).max(MIN_WRAPPED);
        if room < widths[last] {
            widths[last] = room.max(table.columns[layout.shown[last]].chars().count());
            wrap_at = Some(widths[last]);
        }
    }
    let line = |w: &mut dyn Write, items: &[String]| -> io::Result<()> {
        let mut parts = Vec::with_capacity(items.len());
        for (k, item) in items.iter().enumerate() {
            let width = widths.get(k).copied().unwrap_or(0);
            parts.push(if numeric.get(k).copied().unwrap_or(false) {
                format!("{item:>width$}")
            } else {
                format!("{item:<width$}")
            });
        }
        writeln!(w, "{}", parts.join("  ").trim_end())
    };
    let headers: Vec<String> = layout
        .shown
        .iter()
        .map(|&i| table.columns[i].clone())
        .collect();
    line(w, &headers)?;
    let rule: Vec<String> = widths.iter().map(|n| "-".repeat(*n)).collect();
    writeln!(w, "{}", rule.join("  "))?;
    for row in &table.rows {
        let mut cells: Vec<String> = layout
            .shown
            .iter()
            .map(|&i| {
                row.get(i)
                    .map(|c| text(c, layout.intervals))
                    .unwrap_or_default()
            })
            .collect();
        let Some(width) = wrap_at else {
            line(w, &cells)?;
            continue;
        };
        let pieces = wrap(&cells[last], width);
        for (k, piece) in pieces.into_iter().enumerate() {
            if k > 0 {
                cells.iter_mut().for_each(String::clear);
            }
            cells[last] = piece;
            line(w, &cells)?;
        }
    }
    let left_out: Vec<&str> = (0..table.columns.len())
        .filter(|i| !layout.shown.contains(i))
        .map(|i| table.columns[i].as_str())
        .collect();
    if !layout.intervals || !left_out.is_empty() {
        let mut what = Vec::new();
        if !layout.intervals {
            what.push("confidence intervals".to_string());
        }
        if !left_out.is_empty() {
            what.push(format!("columns {}", left_out.join(", ")));
        }
        let note = format!(
            "({} left out to fit {} columns; --wide shows everything)",
            what.join(" and "),
            limit.unwrap_or_default()
        );
        for line in wrap(&note, limit.unwrap_or(usize::MAX)) {
            writeln!(w, "{line}")?;
        }
    }
    Ok(())
}
