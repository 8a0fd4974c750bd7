//! Aligned plain-text tables for a terminal: numbers right-aligned, text left-aligned.

use std::io::{self, Write};

use super::{Exporter, Output, Table};

/// Writes every table of the document as aligned text.
pub struct TableExporter;

impl Exporter for TableExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        let doc = &output.document;
        if !doc.title.is_empty() {
            writeln!(w, "{}", doc.title)?;
            writeln!(w, "{}", "=".repeat(doc.title.chars().count()))?;
        }
        for note in &doc.notes {
            writeln!(w, "{note}")?;
        }
        for table in &doc.tables {
            writeln!(w)?;
            write_table(table, w)?;
        }
        Ok(())
    }
}

fn write_table(table: &Table, w: &mut dyn Write) -> io::Result<()> {
    if !table.title.is_empty() {
        writeln!(w, "{}", table.title)?;
    }
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(|c| c.display()).collect())
        .collect();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| {
            table
                .rows
                .iter()
                .any(|r| r.get(i).is_some_and(|c| c.is_numeric()))
        })
        .collect();
    let line = |w: &mut dyn Write, items: &[String]| -> io::Result<()> {
        let mut parts = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            parts.push(if numeric.get(i).copied().unwrap_or(false) {
                format!("{item:>width$}")
            } else {
                format!("{item:<width$}")
            });
        }
        writeln!(w, "{}", parts.join("  ").trim_end())
    };
    line(w, &table.columns)?;
    let rule: Vec<String> = widths.iter().map(|n| "-".repeat(*n)).collect();
    writeln!(w, "{}", rule.join("  "))?;
    for row in &cells {
        line(w, row)?;
    }
    Ok(())
}
