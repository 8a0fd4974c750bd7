//! Progress bars on standard error with an ETA, so that a long plan, caps sweep or load test
//! says how long it will take. Hidden with `--quiet` and whenever standard error is not a
//! terminal, so piped and logged runs stay clean.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::GlobalArgs;

/// The bar's look: what runs, how far it is, time spent and time left.
const TEMPLATE: &str = "{msg} [{bar:30}] {pos}/{len} {elapsed} elapsed, ETA {eta}";

/// A progress bar over `len` steps on standard error, hidden unless it is a terminal.
pub(crate) fn progress_bar(global: &GlobalArgs, len: u64, what: &str) -> ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    progress_bar_on(ProgressDrawTarget::stderr(), len, what)
}

/// A progress bar over `len` steps drawn on `target`, in chatcap's style (with an ETA).
pub fn progress_bar_on(target: ProgressDrawTarget, len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target);
    let style = ProgressStyle::with_template(TEMPLATE)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// A bar that follows the wall clock over a planned span (a load test's arrivals, then its
/// drain), moved by a thread of its own until dropped.
pub(crate) struct ClockBar {
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl ClockBar {
    /// Starts a bar over `span_secs` seconds labelled `what`; past the span it is relabelled
    /// `then` and extended by `extra_secs`.
    pub(crate) fn start(
        global: &GlobalArgs,
        what: &str,
        span_secs: f64,
        then: &str,
        extra_secs: f64,
    ) -> ClockBar {
        let span = span_secs.ceil().max(1.0) as u64;
        let bar = progress_bar(global, span, what);
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = (!bar.is_hidden()).then(|| {
            let (stop, then) = (Arc::clone(&stop), then.to_string());
            let total = span + extra_secs.ceil().max(0.0) as u64;
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let elapsed = started.elapsed().as_secs();
                    if elapsed >= span && bar.length() == Some(span) {
                        bar.set_length(total);
                        bar.set_message(then.clone());
                    }
                    bar.set_position(elapsed.min(total));
                    std::thread::sleep(Duration::from_millis(250));
                }
                bar.finish_and_clear();
            })
        });
        ClockBar { stop, ticker }
    }
}

impl Drop for ClockBar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}
