//! The library's error type. Every variant's message says what is wrong and how to fix it;
//! [`Error::exit_code`] maps it to the process exit code.

use std::io;
use std::path::PathBuf;

/// Everything that can make a chatcap command fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile or forecast file is unreadable or invalid.
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    /// The closed-form calculator was given inputs it cannot answer.
    #[error(transparent)]
    Erlang(#[from] crate::erlang::ErlangError),
    /// The profile and staffing do not compile into a scenario.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// The simulator cannot run the scenario.
    #[error(transparent)]
    Sim(#[from] crate::sim::SimError),
    /// A chat log or fit option is unusable.
    #[error(transparent)]
    Fit(#[from] crate::fit::FitError),
    /// A roster cannot be made: bad rules, plan file or flag, or a solver failure.
    #[error(transparent)]
    Roster(#[from] crate::roster::RosterError),
    /// The planner cannot plan the profile with these options.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// The chat server could not start or failed while serving.
    #[error(transparent)]
    Server(#[from] crate::server::ServerError),
    /// The load test could not run or failed.
    #[error(transparent)]
    LoadTest(#[from] crate::loadtest::LoadTestError),
    /// The load test ran, but `--threshold` rules failed.
    #[error("{} threshold(s) failed: {}", failed.len(), failed.join("; "))]
    ThresholdsFailed {
        /// Each failed rule with its measured value.
        failed: Vec<String>,
    },
    /// The results could not be serialized.
    #[error("cannot serialize the results: {0}")]
    Serialize(#[from] serde_json::Error),
    /// A command-line value is out of range or inconsistent with another.
    #[error("invalid {flag}: {message}")]
    InvalidArgument {
        /// The flag, e.g. `--sl-target`.
        flag: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// An output file could not be written.
    #[error("cannot write {}: {cause}{}", path.display(), write_hint(path))]
    Write {
        /// The file (or `-` for standard output).
        path: PathBuf,
        /// The underlying error (in the message, so not chained again as a source).
        cause: io::Error,
    },
}

/// What to check after a failed write: the directory of a file; nothing for standard output.
fn write_hint(path: &std::path::Path) -> &'static str {
    if path == std::path::Path::new("-") {
        ""
    } else {
        "; check that the directory exists and is writable"
    }
}

impl Error {
    /// Whether this is a write to a reader that went away (`chatcap ... | head`): not a failure
    /// worth reporting.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write { cause, .. } if cause.kind() == io::ErrorKind::BrokenPipe)
    }

    /// Exit code: 2 for bad input (flags, profiles, files), 1 for a run that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Profile(_)
            | Error::Scenario(_)
            | Error::Erlang(_)
            | Error::InvalidArgument { .. }
            | Error::Fit(_) => 2,
            Error::Sim(e) | Error::Plan(crate::plan::PlanError::Sim(e)) => {
                if e.is_input() {
                    2
                } else {
                    1
                }
            }
            Error::Plan(_) => 2,
            Error::Roster(e) => {
                if e.is_input() {
                    2
                } else {
                    1
                }
            }
            Error::Server(crate::server::ServerError::Config(_)) => 2,
            Error::Server(_) => 1,
            Error::LoadTest(e) if e.is_input() => 2,
            Error::LoadTest(_) | Error::ThresholdsFailed { .. } => 1,
            Error::Write { .. } | Error::Serialize(_) => 1,
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(flag: &str, message: impl Into<String>) -> Error {
        Error::InvalidArgument {
            flag: flag.to_string(),
            message: message.into(),
        }
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
