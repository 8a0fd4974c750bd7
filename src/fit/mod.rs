//! `chatcap fit`: from chat history to a profile. The chat log (and optionally the agent log)
//! is read as a stream into a compact [`History`]; each queue's volume is forecast with
//! multiple seasonality and backtested, handle time and the slowdown per concurrency level are
//! measured from how many chats each agent held while each chat ran, patience is fitted with
//! answered chats as censored waits, and the rest (bot, transfers, delays, CSAT) wherever the
//! log has the columns. The result is a [`FitReport`] and a profile that `plan`, `simulate` and
//! `caps` take as it is.
//!
//! - `history.rs`: the compact history; `ingest.rs`: chat-log rows into it, every skip counted;
//! - `grid.rs`, `volume.rs`: intervals in the zone, counts, forecast and backtest;
//! - `families.rs`: maximum-likelihood fits of the duration families chatcap simulates;
//! - `handling.rs`: handle time at concurrency 1 and slowdown per level;
//! - `survival.rs`: patience with censoring, Kaplan-Meier beside the fitted curve;
//! - `extras.rs`: bot, transfers, accept and first-response delays, CSAT against wait;
//! - `profile_out.rs`: the fitted profile as TOML; `document.rs`: tables and charts.

pub mod extras;
pub mod families;
mod grid;
pub mod handling;
pub mod history;
pub mod ingest;
pub mod report;
pub mod survival;
pub mod volume;

pub use history::{History, RowCounts};
pub use report::FitReport;

/// A chat log, agent log or fit option that cannot be used. Every message is one line naming
/// the file (and line and column where known) and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why, and what to do.
        message: String,
    },
    /// The file as a whole is unusable (empty, missing required columns, no usable row).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// A row is unusable in a way that cannot be skipped (e.g. an unparsable timestamp).
    #[error("{path}:{line}: {message}")]
    Row {
        /// The file.
        path: String,
        /// 1-based line of the row.
        line: u64,
        /// What is wrong (naming the column) and what would be right.
        message: String,
    },
    /// A flag's value is unusable (`--timezone`, `--map`, `--interval`, `--horizon`...).
    #[error("invalid {flag}: {message}")]
    Option {
        /// The flag.
        flag: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// The history is too thin to fit anything (e.g. no chat at all of a queue).
    #[error("{0}")]
    Thin(String),
}
