//! erlang tests.
