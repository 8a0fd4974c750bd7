//! A self-contained HTML report: inline CSS, tables, and charts as inline SVG. No external
//! resources, so the file can be mailed or archived as is.

use std::io::{self, Write};

use super::{Exporter, Output};

/// Writes the document as one standalone HTML page.
pub struct HtmlExporter;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}\
th,td{border:1px solid #ccc;padding:.25rem .6rem}th{background:#f3f3f3}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
ul.notes li{margin:.2rem 0}figure{margin:1rem 0}";

impl Exporter for HtmlExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        let doc = &output.document;
        writeln!(
            w,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
        )?;
        writeln!(
            w,
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        )?;
        writeln!(
            w,
            "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
            escape(&doc.title)
        )?;
        writeln!(w, "<h1>{}</h1>", escape(&doc.title))?;
        if !doc.notes.is_empty() {
            writeln!(w, "<ul class=\"notes\">")?;
            for note in &doc.notes {
                writeln!(w, "<li>{}</li>", escape(note))?;
            }
            writeln!(w, "</ul>")?;
        }
        for table in &doc.tables {
            writeln!(w, "<h2>{}</h2>\n<table>\n<thead><tr>", escape(&table.title))?;
            for column in &table.columns {
                write!(w, "<th>{}</th>", escape(column))?;
            }
            writeln!(w, "</tr></thead>\n<tbody>")?;
            for row in &table.rows {
                write!(w, "<tr>")?;
                for cell in row {
                    let class = if cell.is_numeric() {
                        " class=\"n\""
                    } else {
                        ""
                    };
                    write!(w, "<td{class}>{}</td>", escape(&cell.display()))?;
                }
                writeln!(w, "</tr>")?;
            }
            writeln!(w, "</tbody>\n</table>")?;
        }
        writeln!(w, "</body>\n</html>")
    }
}
