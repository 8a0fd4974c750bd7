//! Conversions between profile seconds and the integer microseconds every driver counts in.
//! Both directions are exact for the times a profile writes (whole milliseconds), so a wait of
//! exactly the threshold counts as within it in the simulator, the server and the load test.

use crate::model::saturating_u64;
use crate::routing::{SECOND, Time};

/// Seconds to simulator time, rounded to the microsecond.
#[inline(always)]
pub fn to_time(secs: f64) -> Time {
    // Durations are never negative; the conversion saturates NaN and negatives to 0.
    saturating_u64(secs * SECOND as f64 + 0.5)
}

/// Simulator time to seconds.
#[inline]
pub fn to_secs(t: Time) -> f64 {
    // Below 2^63 the cheaper signed conversion is exact alike. A quotient, not a product by
    // 1e-6: the product is not correctly rounded, and a wait of exactly the threshold (20 s)
    // would come out a hair above it.
    let t = if t < 1 << 63 {
        t as i64 as f64
    } else {
        t as f64
    };
    t / SECOND as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole milliseconds convert to exactly the seconds written in a profile, so a wait of
    /// exactly the threshold counts as within it.
    #[test]
    fn times_convert_to_exact_seconds() {
        for ms in 0..200_000u64 {
            let secs = ms as f64 / 1000.0;
            assert_eq!(to_secs(ms * 1000), secs, "{ms} ms");
            assert_eq!(to_time(secs), ms * 1000, "{ms} ms");
        }
    }
}
