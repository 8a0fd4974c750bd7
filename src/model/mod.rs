//! Stochastic models: duration distributions given as planners think of them (mean and cv),
//! exact Poisson arrivals with a piecewise-constant rate, and independent random streams.
//!
//! Everything here is a pure function of its random stream, so a scenario replays exactly from
//! its seed, and the same chat gets the same sampled attributes whatever the staffing (common
//! random numbers for the planner).

pub mod arrivals;
pub mod dist;
pub mod rng;

pub use arrivals::ArrivalProcess;
pub use dist::DurationModel;
pub use rng::{SimRng, stream};

/// A model parameter that cannot be turned into a sampler.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// A distribution's parameters are out of range.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// Which model (e.g. `handle_time`).
        what: String,
        /// What is wrong and what would be right.
        message: String,
    },
}
