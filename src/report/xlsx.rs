//! Spreadsheet output (`--xlsx FILE`): the document's tables as an Excel workbook, one sheet per
//! table after a summary sheet with the title and notes, as planners share them. Numbers stay
//! numbers (with the tables' decimals, shares as percentages); an estimate with a confidence
//! interval takes three columns (`x`, `x low`, `x high`); rows that miss a target are shaded
//! red and the recommended row green.

use std::io::{self, Write};

use rust_xlsxwriter::{Color, Format, Workbook, Worksheet, XlsxError};

use super::{Cell, Exporter, Mark, Output, Table};

/// Writes the workbook.
pub struct XlsxExporter;

impl Exporter for XlsxExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        let bytes = workbook(output).map_err(io::Error::other)?;
        w.write_all(&bytes)
    }
}

/// Excel's limit on a sheet name's length.
const SHEET_NAME_MAX: usize = 31;

fn workbook(output: &Output) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let doc = &output.document;
    let summary = book.add_worksheet();
    summary.set_name("Summary")?;
    summary.write_string_with_format(0, 0, &doc.title, &Format::new().set_bold())?;
    for (i, note) in doc.notes.iter().enumerate() {
        summary.write_string(i as u32 + 2, 0, note)?;
    }
    let mut names = vec!["Summary".to_string()];
    for table in &doc.tables {
        let name = sheet_name(&table.title, &names);
        let sheet = book.add_worksheet();
        sheet.set_name(&name)?;
        write_table(sheet, table)?;
        names.push(name);
    }
    book.save_to_buffer()
}

/// A sheet name from a table title: no `[]:*?/\`, at most 31 characters, unique.
fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .collect();
    let clean = clean.trim().trim_matches('\'');
    let base = if clean.is_empty() { "Table" } else { clean };
    (1..)
        .map(|n| {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!(" {n}")
            };
            let keep = SHEET_NAME_MAX - suffix.chars().count();
            format!(
                "{}{suffix}",
                base.chars().take(keep).collect::<String>().trim_end()
            )
        })
        .find(|name| !taken.iter().any(|t| t.eq_ignore_ascii_case(name)))
        .unwrap_or_default()
}

/// The header row (frozen), then the rows; a column holding intervals spreads over three.
fn write_table(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxError> {
    let spread: Vec<bool> = (0..table.columns.len())
        .map(|c| {
            table
                .rows
                .iter()
                .any(|r| matches!(r.get(c), Some(Cell::Ci { .. })))
        })
        .collect();
    let bold = Format::new().set_bold();
    let mut col = 0u16;
    for (name, &three) in table.columns.iter().zip(&spread) {
        sheet.write_string_with_format(0, col, name, &bold)?;
        if three {
            sheet.write_string_with_format(0, col + 1, format!("{name} low"), &bold)?;
            sheet.write_string_with_format(0, col + 2, format!("{name} high"), &bold)?;
        }
        col += if three { 3 } else { 1 };
    }
    for (r, row) in table.rows.iter().enumerate() {
        let shade = match table.mark(r) {
            Mark::Plain => None,
            Mark::Miss => Some(0xFFC7CE),
            Mark::Pick => Some(0xC6EFCE),
        };
        let mut col = 0u16;
        for (cell, &three) in row.iter().zip(&spread) {
            write_cell(sheet, r as u32 + 1, col, cell, shade)?;
            col += if three { 3 } else { 1 };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    Ok(())
}

/// One cell (three for an interval), shaded `shade` when the row stands out.
fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    shade: Option<u32>,
) -> Result<(), XlsxError> {
    let format = |pattern: &str| {
        let f = Format::new().set_num_format(pattern);
        match shade {
            Some(rgb) => f.set_background_color(Color::RGB(rgb)),
            None => f,
        }
    };
    let mut number = |col: u16, value: f64, pattern: &str| -> Result<(), XlsxError> {
        if value.is_finite() {
            sheet.write_number_with_format(row, col, value, &format(pattern))?;
        } else {
            sheet.write_blank(row, col, &format(pattern))?;
        }
        Ok(())
    };
    match cell {
        Cell::Empty => number(col, f64::NAN, "General"),
        Cell::Text(text) => {
            sheet.write_string_with_format(row, col, text, &format("@"))?;
            Ok(())
        }
        Cell::Int(n) => number(col, *n as f64, "0"),
        Cell::Num { value, decimals } => number(col, *value, &decimals_pattern(*decimals)),
        Cell::Pct(share) => number(col, *share, "0.0%"),
        Cell::Ci {
            mean,
            low,
            high,
            decimals,
        } => {
            let pattern = if *decimals < 0 {
                "0.0%".to_string()
            } else {
                decimals_pattern(*decimals as u8)
            };
            for (k, v) in [mean, low, high].into_iter().enumerate() {
                number(col + k as u16, *v, &pattern)?;
            }
            Ok(())
        }
    }
}

/// `"0"`, `"0.0"`, `"0.00"`...
fn decimals_pattern(decimals: u8) -> String {
    if decimals == 0 {
        "0".to_string()
    } else {
        format!("0.{}", "0".repeat(decimals as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_cleaned_cut_and_unique() {
        let taken = vec!["Summary".to_string(), "Per interval and queue".to_string()];
        assert_eq!(
            sheet_name("Per interval and queue", &taken),
            "Per interval and queue 2"
        );
        assert_eq!(sheet_name("a/b: [c]?", &taken), "a b   c");
        let long = "Agents per group and interval, with the confidence intervals";
        let name = sheet_name(long, &taken);
        assert!(
            name.chars().count() <= 31 && long.starts_with(&name),
            "{name}"
        );
        assert_eq!(name, "Agents per group and interval,");
        assert_eq!(sheet_name("summary", &taken), "summary 2");
        assert_eq!(sheet_name("???", &taken), "Table");
    }
}
