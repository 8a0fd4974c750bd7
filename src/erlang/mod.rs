//! Erlang B, C and A closed forms and staffing solvers.

/// Inputs the closed forms cannot answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErlangError {
    /// An input is out of its domain.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The input's name.
        field: &'static str,
        /// What is wrong and what would be right.
        message: String,
    },
}
