//! Stochastic models: duration distributions given as planners think of them (mean and cv),
//! exact Poisson arrivals with a piecewise-constant rate, and independent random streams.
//!
//! Everything here is a pure function of its random stream, so a scenario replays exactly from
//! its seed, and the same chat gets the same sampled attributes whatever the staffing (common
//! random numbers for the planner).

pub(crate) mod arrivals;
pub(crate) mod dist;
pub(crate) mod rng;

pub use arrivals::ArrivalProcess;
pub use dist::DurationModel;
pub use rng::{SimRng, stream};

/// `x as u64` (saturating, NaN to 0), faster on the hot paths: below 2^63 it converts as a
/// signed integer, which is one instruction where the unsigned cast takes several.
#[inline(always)]
pub(crate) fn saturating_u64(x: f64) -> u64 {
    if x < 9_223_372_036_854_775_808.0 {
        if x > 0.0 { x as i64 as u64 } else { 0 }
    } else {
        x as u64
    }
}

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

#[cfg(test)]
mod tests {
    use super::saturating_u64;

    #[test]
    fn fast_conversion_agrees_with_the_cast() {
        for x in [
            f64::NAN,
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.5,
            -0.0,
            0.0,
            0.4,
            0.5,
            0.999,
            1.0,
            1.5,
            47.99999,
            123_456.789,
            1e15,
            4.5e15,
            9_223_372_036_854_774_784.0,
            9_223_372_036_854_775_808.0,
            1.8e19,
            1e300,
            f64::INFINITY,
        ] {
            assert_eq!(saturating_u64(x), x as u64, "{x}");
        }
    }
}
