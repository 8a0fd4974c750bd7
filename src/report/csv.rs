//! CSV: the primary table (the first of the document) with a header row and full-precision
//! numbers; shares are fractions, not percentages, so spreadsheets can compute with them.

use std::io::{self, Write};

use super::{Exporter, Output};

/// Writes the primary table as CSV.
pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        let Some(table) = output.document.tables.first() else {
            return Ok(());
        };
        let mut writer = ::csv::Writer::from_writer(w);
        writer.write_record(&table.columns)?;
        for row in &table.rows {
            writer.write_record(row.iter().map(|c| c.raw()))?;
        }
        writer.flush()
    }
}
