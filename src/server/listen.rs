//! The accept loop: HTTP/1.1 on each connection through hyper directly rather than
//! `axum::serve`, which cannot give three things the server needs: a header-read timeout (a
//! client that sends half a request head must not hold a connection, nor a shutdown, forever),
//! JSON bodies on hyper's own parse-error answers (see `wire`), and a shutdown deadline after
//! which the connections still open are closed and counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::ServerLimits;
use super::http::shutting_down;
use super::wire::JsonErrors;

/// How a shutdown went: what the deadline had to cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ShutdownReport {
    /// Connections still open at the shutdown deadline, closed then (0: all ended by themselves).
    pub connections_closed: usize,
    /// Requests a handler was still working on when their connection was closed.
    pub requests_cut: usize,
}

/// Requests being handled now: each holds an [`InFlightGuard`] until its answer is built.
#[derive(Debug, Clone, Default)]
pub(super) struct InFlight(Arc<AtomicUsize>);

/// Counts one request in [`InFlight`] while it lives.
pub(super) struct InFlightGuard(Arc<AtomicUsize>);

impl InFlight {
    /// Counts a request until the guard is dropped.
    pub(super) fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.0.clone())
    }

    /// Requests being handled now.
    pub(super) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Errors of one accepted connection that say nothing about the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        err.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    )
}

/// Accepts connections until `shutdown` turns true, then lets open connections finish within
/// `limits.shutdown_timeout` and closes the rest.
pub(super) async fn run(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: watch::Receiver<bool>,
    in_flight: InFlight,
) -> ShutdownReport {
    let mut connections = JoinSet::new();
    let mut signal = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream, app.clone(), limits, shutdown.clone()));
                }
                Err(e) if is_connection_error(&e) => {}
                // E.g. out of file descriptors: wait for some to close instead of spinning.
                Err(_) => tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutting_down(&mut signal) => break,
                },
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutting_down(&mut signal) => break,
        }
    }
    drop(listener);
    let deadline = tokio::time::sleep(limits.shutdown_timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            joined = connections.join_next() => if joined.is_none() {
                return ShutdownReport::default();
            },
            _ = &mut deadline => break,
        }
    }
    let report = ShutdownReport {
        connections_closed: connections.len(),
        requests_cut: in_flight.count(),
    };
    connections.shutdown().await;
    report
}

/// Serves one connection until the client closes it, a limit ends it, or the server shuts down
/// (then the request in progress finishes and the connection closes).
async fn serve(
    stream: TcpStream,
    app: Router,
    limits: ServerLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let io = TokioIo::new(JsonErrors::new(stream));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.head_bytes);
    let conn = builder.serve_connection(io, TowerToHyperService::new(app));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = shutting_down(&mut shutdown) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
