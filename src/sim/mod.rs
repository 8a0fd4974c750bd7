//! The discrete-event simulator: event queue, driver, replications, metric collection.
