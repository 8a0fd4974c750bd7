//! Goose reports through the `log` crate and, when no logger is installed, installs one that
//! writes to standard output, which would corrupt `--format json` there. This logger takes its
//! place: goose's warnings and errors go to standard error (none with `--quiet`), nothing else.

use std::sync::atomic::{AtomicBool, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};

static QUIET: AtomicBool = AtomicBool::new(false);

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= Level::Warn && !QUIET.load(Ordering::Relaxed)
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("loadtest: {}: {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger once per process (later calls only change `quiet`).
pub(crate) fn install(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    if log::set_boxed_logger(Box::new(StderrLogger)).is_ok() {
        log::set_max_level(LevelFilter::Warn);
    }
}
