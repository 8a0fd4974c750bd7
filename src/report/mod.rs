//! Output formats. Every command builds one [`Output`]: its results struct serialized to JSON
//! (the stable contract) and a neutral [`Document`] of titled tables. Each format lives in its own
//! file behind the one-method [`Exporter`] trait and writes to an injected `&mut dyn Write`.

mod csv;
mod html;
mod json;
mod markdown;
mod svg;
mod table;
mod xlsx;

use std::io::{self, Write};

use serde::Serialize;

use crate::metrics::Estimate;

pub use self::csv::CsvExporter;
pub use self::html::HtmlExporter;
pub use self::json::JsonExporter;
pub use self::markdown::MarkdownExporter;
pub use self::svg::{ChartError, render_chart};
pub use self::table::TableExporter;
pub use self::xlsx::XlsxExporter;

/// Writes an [`Output`] in one format.
pub trait Exporter {
    /// Writes the whole output to `w`.
    fn export(&self, output: &Output, w: &mut dyn Write) -> io::Result<()>;
}

/// The output formats selectable with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned text tables for a terminal.
    #[default]
    Table,
    /// The results struct as pretty JSON (stable keys).
    Json,
    /// The result's rows as CSV, columns named as the JSON keys.
    Csv,
    /// GitHub-flavoured Markdown tables.
    Markdown,
}

impl Format {
    /// The exporter for this format; `width` is the line length text tables must fit (`None`:
    /// every column, however wide).
    pub fn exporter(self, width: Option<usize>) -> Box<dyn Exporter> {
        match self {
            Format::Table => Box::new(TableExporter { width }),
            Format::Json => Box::new(JsonExporter),
            Format::Csv => Box::new(CsvExporter),
            Format::Markdown => Box::new(MarkdownExporter),
        }
    }
}

/// A results struct that can be shown as tables.
pub trait ToDocument {
    /// The tables, notes and charts that present these results to a person.
    fn document(&self) -> Document;
}

/// What a command produced, ready for any exporter.
#[derive(Debug, Clone)]
pub struct Output {
    /// The results struct serialized: the JSON contract.
    pub json: serde_json::Value,
    /// The same results as titled tables.
    pub document: Document,
}

impl Output {
    /// Builds the output of a results struct.
    pub fn new<T: Serialize + ToDocument>(results: &T) -> serde_json::Result<Self> {
        Ok(Output {
            json: serde_json::to_value(results)?,
            document: results.document(),
        })
    }
}

/// A neutral, format-independent presentation: a title, notes and tables.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Heading of the report.
    pub title: String,
    /// Free lines shown under the title (warnings, assumptions, recommendations).
    pub notes: Vec<String>,
    /// Tables in display order; the first one is the primary table (the one CSV writes).
    pub tables: Vec<Table>,
    /// Charts, drawn by the HTML exporter only.
    pub charts: Vec<Chart>,
    /// JSON pointer to the array whose items are the CSV rows (`/intervals`); `None`: the whole
    /// result is one row.
    pub csv_rows: Option<&'static str>,
}

/// How a table row stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mark {
    /// An ordinary row.
    #[default]
    Plain,
    /// A row that misses a target.
    Miss,
    /// The row recommended.
    Pick,
}

/// A titled table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Caption shown above the table.
    pub title: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// How each row stands out, by row index; rows past its end are plain.
    pub marks: Vec<Mark>,
    /// Headers of the columns a narrow text table leaves out, the most dispensable first (after
    /// the confidence intervals, which go before any column).
    pub secondary: Vec<String>,
}

impl Table {
    /// A table with the given caption and headers and no rows.
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Self {
        Table {
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            marks: Vec::new(),
            secondary: Vec::new(),
        }
    }

    /// Adds a row marked `mark`.
    pub fn push_marked(&mut self, row: Vec<Cell>, mark: Mark) {
        self.marks.resize(self.rows.len(), Mark::Plain);
        self.rows.push(row);
        self.marks.push(mark);
    }

    /// The mark of row `i`.
    pub fn mark(&self, i: usize) -> Mark {
        self.marks.get(i).copied().unwrap_or_default()
    }

    /// The same table with `columns` named as the ones a narrow text table leaves out, the
    /// most dispensable first.
    pub fn with_secondary(mut self, columns: &[&str]) -> Self {
        self.secondary = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// A two-column key/value table.
    pub fn key_value(title: impl Into<String>, pairs: Vec<(&str, Cell)>) -> Self {
        let mut table = Table::new(title, &["metric", "value"]);
        for (key, value) in pairs {
            table.rows.push(vec![Cell::text(key), value]);
        }
        table
    }
}

/// One table cell. Numbers keep their value and are formatted by each exporter.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing to show.
    Empty,
    /// Plain text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A real number shown with a fixed number of decimals.
    Num {
        /// The value.
        value: f64,
        /// Decimals shown in tables.
        decimals: u8,
    },
    /// A share in 0..1 shown as a percentage.
    Pct(f64),
    /// An estimate with a confidence interval.
    Ci {
        /// Point estimate.
        mean: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Decimals shown in tables; a negative value means "percentage with one decimal".
        decimals: i8,
    },
}

impl Cell {
    /// A text cell.
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A number with `decimals` shown.
    pub fn num(value: f64, decimals: u8) -> Cell {
        Cell::Num { value, decimals }
    }

    /// An estimate with its confidence interval, `decimals` shown (negative: a percentage).
    pub fn ci(e: &Estimate, decimals: i8) -> Cell {
        Cell::Ci {
            mean: e.mean,
            low: e.ci_low,
            high: e.ci_high,
            decimals,
        }
    }

    /// A share with its confidence interval, shown as percentages.
    pub fn ci_pct(e: &Estimate) -> Cell {
        Cell::ci(e, -1)
    }

    /// Text as shown in a table.
    pub fn display(&self) -> String {
        fn fixed(v: f64, d: usize) -> String {
            if v.is_finite() {
                format!("{v:.d$}")
            } else {
                "-".to_string()
            }
        }
        fn pct(v: f64) -> String {
            if v.is_finite() {
                format!("{:.1}%", v * 100.0)
            } else {
                "-".to_string()
            }
        }
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num { value, decimals } => fixed(*value, *decimals as usize),
            Cell::Pct(v) => pct(*v),
            Cell::Ci {
                mean,
                low,
                high,
                decimals,
            } if *decimals < 0 => format!("{} [{}, {}]", pct(*mean), pct(*low), pct(*high)),
            Cell::Ci {
                mean,
                low,
                high,
                decimals,
            } => {
                let d = *decimals as usize;
                format!(
                    "{} [{}, {}]",
                    fixed(*mean, d),
                    fixed(*low, d),
                    fixed(*high, d)
                )
            }
        }
    }

    /// Text as shown in a narrow table: an estimate without its interval.
    pub fn display_mean(&self) -> String {
        match self {
            Cell::Ci { mean, decimals, .. } if *decimals < 0 => Cell::Pct(*mean).display(),
            Cell::Ci { mean, decimals, .. } => Cell::num(*mean, *decimals as u8).display(),
            other => other.display(),
        }
    }

    /// True for cells that hold numbers (right-aligned in tables).
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Cell::Text(_) | Cell::Empty)
    }
}

/// A chart for the HTML report: one or more series over a shared x axis.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Chart title.
    pub title: String,
    /// X-axis label.
    pub x_label: String,
    /// Y-axis label.
    pub y_label: String,
    /// Category labels along the x axis (interval start times, caps...).
    pub x: Vec<String>,
    /// The plotted series.
    pub series: Vec<Series>,
    /// What the bands and whiskers show, in the legend; "confidence interval" when `None`.
    pub band_label: Option<String>,
    /// Horizontal reference lines (targets), with labels.
    pub targets: Vec<(String, f64)>,
    /// Values are shares in 0..1: the y axis reads in percent and stops at 100% (confidence
    /// bands are clipped to it).
    pub percent: bool,
    /// Fixed y-axis range (low, high); anything outside is clipped to it. Computed from the
    /// data when `None`.
    pub y_range: Option<(f64, f64)>,
    /// An x category shaded and labelled (the recommended cap), by index, with its label.
    pub highlight: Option<(usize, String)>,
    /// Drawn as shifts per day instead of series (the other fields but the title unused).
    pub gantt: Option<Gantt>,
}

/// Shifts per day, for a Gantt-like chart.
#[derive(Debug, Clone, Default)]
pub struct Gantt {
    /// Group names, by colour index.
    pub groups: Vec<String>,
    /// Hours shown across (24, or more when shifts run past midnight).
    pub hours: f64,
    /// One band per day.
    pub rows: Vec<GanttRow>,
}

/// One day of a [`Gantt`].
#[derive(Debug, Clone, Default)]
pub struct GanttRow {
    /// Day label.
    pub label: String,
    /// Its shifts, one bar per kind.
    pub bars: Vec<GanttBar>,
}

/// One kind of shift in a [`Gantt`].
#[derive(Debug, Clone, Default)]
pub struct GanttBar {
    /// Start, hours after the day's midnight.
    pub from: f64,
    /// End, hours after the day's midnight.
    pub to: f64,
    /// Breaks as (start, end), hours after the day's midnight: every placement the shifts of
    /// the bar take, each drawn lighter.
    pub breaks: Vec<(f64, f64)>,
    /// Group index (colour).
    pub group: usize,
    /// How many such shifts (shown at the bar's end).
    pub count: u32,
}

/// One plotted series.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// One value per x category.
    pub values: Vec<f64>,
    /// Optional confidence band (low, high) per x category.
    pub band: Option<Vec<(f64, f64)>>,
    /// Draw as bars instead of a line.
    pub bars: bool,
}

impl Series {
    /// The means of `cells` as a line (or bars), their confidence intervals as the band.
    pub fn estimates(
        name: impl Into<String>,
        cells: impl IntoIterator<Item = Estimate>,
        bars: bool,
    ) -> Series {
        let cells: Vec<Estimate> = cells.into_iter().collect();
        Series {
            name: name.into(),
            values: cells.iter().map(|e| e.mean).collect(),
            band: Some(cells.iter().map(|e| (e.ci_low, e.ci_high)).collect()),
            bars,
        }
    }
}
