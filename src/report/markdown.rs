//! GitHub-flavoured Markdown: a heading, notes as a list, one table per section.

use std::io::{self, Write};

use super::{Exporter, Output};

/// Writes the document as Markdown.
pub struct MarkdownExporter;

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

impl Exporter for MarkdownExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        let doc = &output.document;
        if !doc.title.is_empty() {
            writeln!(w, "# {}\n", escape(&doc.title))?;
        }
        for note in &doc.notes {
            writeln!(w, "- {}", escape(note))?;
        }
        for table in &doc.tables {
            writeln!(w)?;
            if !table.title.is_empty() {
                writeln!(w, "## {}\n", escape(&table.title))?;
            }
            let header: Vec<String> = table.columns.iter().map(|c| escape(c)).collect();
            writeln!(w, "| {} |", header.join(" | "))?;
            let align: Vec<&str> = (0..table.columns.len())
                .map(|i| {
                    if table
                        .rows
                        .iter()
                        .any(|r| r.get(i).is_some_and(|c| c.is_numeric()))
                    {
                        "---:"
                    } else {
                        "---"
                    }
                })
                .collect();
            writeln!(w, "| {} |", align.join(" | "))?;
            for row in &table.rows {
                let cells: Vec<String> = row.iter().map(|c| escape(&c.display())).collect();
                writeln!(w, "| {} |", cells.join(" | "))?;
            }
        }
        Ok(())
    }
}
