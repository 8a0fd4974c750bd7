//! Writing a chat log and an agent log as CSV.
