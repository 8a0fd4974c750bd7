//! JSON: the results struct, pretty-printed. Its keys are the stable contract of DESIGN.md.

use std::io::{self, Write};

use super::{Exporter, Output};

/// Writes the results struct as pretty JSON followed by a newline.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, &output.json)?;
        writeln!(w)
    }
}
