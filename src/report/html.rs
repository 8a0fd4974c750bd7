//! A self-contained HTML report: inline CSS, tables, and charts as inline SVG. No external
//! resources and no scripts, so the file can be mailed or archived as is and opens offline.

use std::io::{self, Write};

use super::{Exporter, Mark, Output, Table, render_chart};

/// Writes the document as one standalone HTML page: title, notes (warnings highlighted),
/// charts, then tables (rows that miss a target in red, the recommended one in green).
pub struct HtmlExporter;

/// Escapes text for HTML element content and attribute values.
pub(super) fn escape(s: &str) -> String {
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

/// Notes starting with this prefix are shown as warnings.
const WARNING_PREFIX: &str = "warning:";

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;\
padding:1.5rem 2rem;color:#222;max-width:1200px;line-height:1.4}\
h1{font-size:1.5rem;margin:.5rem 0 1rem}\
h2{font-size:1.1rem;margin:2rem 0 .5rem}\
ul.notes{list-style:none;padding:0;margin:0 0 1.5rem}\
ul.notes li{margin:.3rem 0;padding:.4rem .75rem;border-left:4px solid #4e79a7;background:#f4f7fb}\
ul.notes li.warning{border-left-color:#d97706;background:#fff7e6}\
figure.chart{margin:0 0 1.25rem;border:1px solid #e5e5e5;border-radius:4px;padding:4px}\
figure.chart svg{display:block;width:100%;height:auto}\
div.table{overflow-x:auto}\
table{border-collapse:collapse;margin:.25rem 0 1rem;font-size:.875rem}\
th,td{border:1px solid #d6d6d6;padding:.25rem .6rem;white-space:nowrap}\
th{background:#f0f0f0;text-align:left;position:sticky;top:0}\
tbody tr:nth-child(even){background:#fafafa}\
tbody tr.miss{background:#fdecea}tbody tr.miss td:first-child{border-left:4px solid #c0392b}\
tbody tr.pick{background:#e8f5e9;font-weight:600}\
tbody tr.pick td:first-child{border-left:4px solid #2e7d32}\
td.n{text-align:right;font-variant-numeric:tabular-nums}";

fn write_table(w: &mut dyn Write, table: &Table) -> io::Result<()> {
    writeln!(w, "<h2>{}</h2>", escape(&table.title))?;
    writeln!(w, "<div class=\"table\">\n<table>\n<thead><tr>")?;
    for column in &table.columns {
        write!(w, "<th>{}</th>", escape(column))?;
    }
    writeln!(w, "</tr></thead>\n<tbody>")?;
    for (i, row) in table.rows.iter().enumerate() {
        match table.mark(i) {
            Mark::Plain => write!(w, "<tr>")?,
            Mark::Miss => write!(w, "<tr class=\"miss\">")?,
            Mark::Pick => write!(w, "<tr class=\"pick\">")?,
        }
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
    writeln!(w, "</tbody>\n</table>\n</div>")
}

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
                let class = if note.starts_with(WARNING_PREFIX) {
                    " class=\"warning\""
                } else {
                    ""
                };
                writeln!(w, "<li{class}>{}</li>", escape(note))?;
            }
            writeln!(w, "</ul>")?;
        }
        for chart in &doc.charts {
            let svg = render_chart(chart).map_err(io::Error::other)?;
            let labelled = svg.replacen(
                "<svg ",
                &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(&chart.title)),
                1,
            );
            writeln!(
                w,
                "<figure class=\"chart\">\n{}</figure>",
                labelled.trim_end()
            )?;
        }
        for table in &doc.tables {
            write_table(w, table)?;
        }
        writeln!(w, "</body>\n</html>")
    }
}
