//! The routing core: a pure, deterministic state machine that decides which waiting chat goes
//! to which agent. No clock, no randomness, no async, no I/O: every input carries `now`, and
//! outputs are decisions and timer requests. The simulator (virtual time) and the server (wall
//! clock) drive this same code.
//!
//! Time is an integer count of microseconds ([`Time`]).

pub mod policy;

pub use policy::{AcceptMode, AgentSelection, ChatOrder, TransferPlace};

/// A point in time or a span, in microseconds.
pub type Time = u64;

/// One second in [`Time`] units.
pub const SECOND: Time = 1_000_000;
