//! Profiles: the scenario schema (TOML), validation into typed structs, forecast CSV import.

pub mod duration;

/// A profile or forecast that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}
