//! Aligned plain-text tables for a terminal: numbers right-aligned, text left-aligned, fitted to
//! a line length (notes are wrapped to it). A table too wide for it first shows estimates
//! without their intervals, then leaves out its secondary columns, then wraps its last column
//! when that is text; a line under the table says what was left out.
//!
//! Which columns to show is chatcap's choice (it knows intervals and secondary columns); laying
//! them out, measuring display width (wide and combining characters) and wrapping the last column
//! is left to `comfy-table`, and notes are wrapped by `textwrap`.

use std::io::{self, Write};

use comfy_table::{
    CellAlignment, ColumnConstraint, ContentArrangement, ContentLineStyle, LineStyle, TableStyle,
    Width,
};
use textwrap::core::display_width;

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
            writeln!(w, "{}", "=".repeat(display_width(&doc.title)))?;
        }
        for note in &doc.notes {
            match self.width {
                Some(width) => write_wrapped(note, width, w)?,
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

/// Gap between columns: one space of padding right of every column but the last, and a blank
/// junction (the header rule runs under that padding).
const GAP: usize = 2;
/// No borders; a blank between columns; a rule of dashes under the header.
const STYLE: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction(' '))
    .content_lines(ContentLineStyle::none().junction(' '))
    .header_separator(LineStyle::none().fill('-').junction(' '));
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

/// True when column `i` holds numbers (right-aligned, never wrapped).
fn is_numeric(table: &Table, i: usize) -> bool {
    table
        .rows
        .iter()
        .any(|r| r.get(i).is_some_and(|c| c.is_numeric()))
}

/// The shown columns of `table` laid out by `comfy-table`, each as wide as its content.
fn layout_table(table: &Table, layout: &Layout) -> comfy_table::Table {
    let mut out = comfy_table::Table::new();
    out.load_style(STYLE);
    out.set_header(layout.shown.iter().map(|&i| table.columns[i].as_str()));
    for row in &table.rows {
        out.add_row(layout.shown.iter().map(|&i| {
            row.get(i)
                .map(|c| text(c, layout.intervals))
                .unwrap_or_default()
        }));
    }
    let last = layout.shown.len().saturating_sub(1);
    for (k, column) in out.column_iter_mut().enumerate() {
        column.set_padding((0, if k == last { 0 } else { 1 }));
        if is_numeric(table, layout.shown[k]) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    out
}

/// Line width of `layout`, a last text column counted at most [`WRAPPED_FIT`] wide.
fn fit_width(table: &Table, layout: &Layout) -> usize {
    let mut widths: Vec<usize> = layout_table(table, layout)
        .column_max_content_widths()
        .into_iter()
        .map(usize::from)
        .collect();
    if let (Some(&i), Some(last)) = (layout.shown.last(), widths.last_mut())
        && !is_numeric(table, i)
    {
        *last = (*last).min(WRAPPED_FIT.max(display_width(&table.columns[i])));
    }
    widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)
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

/// Lets a last text column too wide for `limit` wrap into the room the others leave (at least
/// [`MIN_WRAPPED`] and its header wide); the other columns keep their content's width.
fn wrap_last_column(out: &mut comfy_table::Table, table: &Table, layout: &Layout, limit: usize) {
    let Some(&last) = layout.shown.last() else {
        return;
    };
    let widths = out.column_max_content_widths();
    let line_width = widths.iter().map(|&n| usize::from(n)).sum::<usize>()
        + GAP * widths.len().saturating_sub(1);
    if is_numeric(table, last) || line_width <= limit {
        return;
    }
    let content = widths.last().copied().unwrap_or(0);
    let narrowest = MIN_WRAPPED.max(display_width(&table.columns[last]));
    let narrowest = Width::Fixed(content.min(u16::try_from(narrowest).unwrap_or(u16::MAX)));
    let count = layout.shown.len();
    out.set_constraints((0..count).map(|k| {
        if k + 1 == count {
            ColumnConstraint::LowerBoundary(narrowest)
        } else {
            ColumnConstraint::ContentWidth
        }
    }));
    out.set_content_arrangement(ContentArrangement::Dynamic);
    out.set_width(u16::try_from(limit).unwrap_or(u16::MAX));
}

/// `text` broken at spaces into lines of at most `width` columns (longer words cut).
fn write_wrapped(text: &str, width: usize, w: &mut dyn Write) -> io::Result<()> {
    let options =
        textwrap::Options::new(width.max(1)).word_splitter(textwrap::WordSplitter::NoHyphenation);
    for line in textwrap::wrap(text, options) {
        writeln!(w, "{line}")?;
    }
    Ok(())
}

fn write_table(table: &Table, limit: Option<usize>, w: &mut dyn Write) -> io::Result<()> {
    if !table.title.is_empty() {
        writeln!(w, "{}", table.title)?;
    }
    let layout = fit(table, limit);
    let mut out = layout_table(table, &layout);
    if let Some(limit) = limit {
        wrap_last_column(&mut out, table, &layout, limit);
    }
    for line in out.lines() {
        writeln!(w, "{}", line.trim_end())?;
    }
    let left_out: Vec<&str> = (0..table.columns.len())
        .filter(|i| !layout.shown.contains(i))
        .map(|i| table.columns[i].as_str())
        .collect();
    if let Some(limit) = limit
        && (!layout.intervals || !left_out.is_empty())
    {
        let mut what = Vec::new();
        if !layout.intervals {
            what.push("confidence intervals".to_string());
        }
        if !left_out.is_empty() {
            what.push(format!("columns {}", left_out.join(", ")));
        }
        let note = format!(
            "({} left out to fit {limit} columns; --wide shows everything)",
            what.join(" and "),
        );
        write_wrapped(&note, limit, w)?;
    }
    Ok(())
}
