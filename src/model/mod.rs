//! Stochastic models: arrivals, duration distributions, patience, concurrency slowdown.
