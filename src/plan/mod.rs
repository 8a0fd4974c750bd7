//! Staffing: how many agents each group needs on duty per interval.
//!
//! [`analytic`] gives a closed-form staffing in milliseconds; the simulated planner refines it.

pub mod analytic;

pub use analytic::analytic_staffing;
pub mod pool;
