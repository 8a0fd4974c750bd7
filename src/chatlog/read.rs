//! Reading a chat log as a stream of checked rows.
