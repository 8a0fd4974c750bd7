//! CSV: the rows of the result's JSON (plan intervals, caps, simulated intervals...) with the
//! JSON key names as column names, so a spreadsheet and a JSON reader see the same figures.
//! Numbers are written in full precision as JSON has them, shares as fractions, enums spelled as
//! in JSON; an estimate `x: {mean, ci_low, ci_high}` becomes the columns `x`, `x_ci_low` and
//! `x_ci_high`; a nested object's keys are prefixed with its key and a dot; a list of values is
//! joined with "; ".

use std::io::{self, Write};

use serde_json::Value;

use super::{Exporter, Output};

/// Writes the document's CSV rows with a header row.
pub struct CsvExporter;

/// Some leading columns that identify a row, in this order; the others follow in JSON order.
const LEADING: [&str; 6] = ["start", "interval", "queue", "group", "cap", "figure"];

impl Exporter for CsvExporter {
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()> {
        let rows: Vec<&Value> = match output.document.csv_rows {
            Some(pointer) => match output.json.pointer(pointer) {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(other) => vec![other],
                None => Vec::new(),
            },
            None => vec![&output.json],
        };
        let flat: Vec<Vec<(String, String)>> = rows
            .into_iter()
            .map(|row| {
                let mut cells = Vec::new();
                flatten("", row, &mut cells);
                cells
            })
            .collect();
        let mut columns: Vec<&str> = Vec::new();
        for lead in LEADING {
            if flat.iter().any(|r| r.iter().any(|(k, _)| k == lead)) {
                columns.push(lead);
            }
        }
        for row in &flat {
            for (key, _) in row {
                if !columns.contains(&key.as_str()) {
                    columns.push(key);
                }
            }
        }
        let mut writer = ::csv::Writer::from_writer(w);
        writer.write_record(&columns).map_err(io_error)?;
        for row in &flat {
            let record = columns.iter().map(|c| {
                row.iter()
                    .find(|(k, _)| k == c)
                    .map_or("", |(_, v)| v.as_str())
            });
            writer.write_record(record).map_err(io_error)?;
        }
        writer.flush()
    }
}

/// The write error itself (a closed pipe stays one), or the CSV error as an I/O error.
fn io_error(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// True for an estimate `{mean, ci_low, ci_high}`.
fn is_estimate(value: &Value) -> bool {
    value.as_object().is_some_and(|m| {
        m.len() == 3
            && ["mean", "ci_low", "ci_high"]
                .iter()
                .all(|k| m.contains_key(*k))
    })
}

/// A scalar as CSV text: null is empty, strings as they are, numbers and booleans as in JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Appends the columns of `value` under the name `key` ("" for the row itself).
fn flatten(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if key.is_empty() {
            k.to_string()
        } else {
            format!("{key}.{k}")
        }
    };
    match value {
        Value::Object(map) if is_estimate(value) && !key.is_empty() => {
            out.push((key.to_string(), scalar(&map["mean"])));
            out.push((format!("{key}_ci_low"), scalar(&map["ci_low"])));
            out.push((format!("{key}_ci_high"), scalar(&map["ci_high"])));
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(items) => {
            let text: Vec<String> = items
                .iter()
                .map(|v| {
                    if v.is_object() || v.is_array() {
                        v.to_string()
                    } else {
                        scalar(v)
                    }
                })
                .collect();
            out.push((key.to_string(), text.join("; ")));
        }
        other => out.push((key.to_string(), scalar(other))),
    }
}
