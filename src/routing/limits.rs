//! The bounds the routing core holds its inputs to. The profile, the HTTP API and the core
//! read these same constants, so a value one of them accepts the others accept too.

/// The largest concurrency cap an agent may have: agents take 1..=`MAX_CAP` chats at once (the
/// core also takes a cap of 0, an agent who takes no new chats).
pub const MAX_CAP: u32 = 50;

/// The highest proficiency; proficiencies run 1..=`MAX_PROFICIENCY`.
pub const MAX_PROFICIENCY: u8 = 10;
