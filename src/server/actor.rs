//! The one task that owns the [`Desk`]: requests reach it through a bounded mpsc channel, each
//! carrying a closure and a oneshot reply, and run one at a time, so the routing core needs no
//! lock and sees inputs in a single order. Offer deadlines are tokio sleeps that send an
//! `OfferTimeout` command back; a timer for an offer answered meanwhile is harmless (the desk
//! ignores stale timers).

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::desk::Desk;
use super::error::ApiError;
use super::limits::DESK_QUEUE;
use crate::routing::{ChatId, OfferSeq};

type Job = Box<dyn FnOnce(&mut Desk) + Send>;

enum Command {
    /// Run a request against the desk.
    Run(Job),
    /// An offer's deadline passed.
    OfferTimeout { chat: ChatId, offer: OfferSeq },
}

/// A cheap, cloneable way to send requests to the actor.
#[derive(Clone)]
pub(super) struct Handle {
    tx: mpsc::Sender<Command>,
}

impl Handle {
    /// Runs `f` on the desk and returns its result; fails only when the actor has stopped.
    pub(super) async fn call<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Desk) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |desk| {
            // The requester may have gone away (client disconnected); the work stands.
            let _ = reply.send(f(desk));
        });
        self.tx
            .send(Command::Run(job))
            .await
            .map_err(|_| ApiError::shutting_down())?;
        answer.await.map_err(|_| ApiError::shutting_down())
    }
}

/// Starts the actor task. It ends when every [`Handle`] is dropped.
pub(super) fn spawn(desk: Desk) -> (Handle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(DESK_QUEUE);
    let timer_tx = tx.downgrade();
    let task = tokio::spawn(run(desk, rx, timer_tx));
    (Handle { tx }, task)
}

async fn run(mut desk: Desk, mut rx: mpsc::Receiver<Command>, timer_tx: mpsc::WeakSender<Command>) {
    let start = tokio::time::Instant::from_std(desk.start());
    while let Some(command) = rx.recv().await {
        match command {
            Command::Run(job) => job(&mut desk),
            Command::OfferTimeout { chat, offer } => desk.offer_timeout(chat, offer),
        }
        for (deadline, chat, offer) in desk.take_timers() {
            // A deadline beyond what the clock can represent never fires.
            let Some(at) = start.checked_add(Duration::from_micros(deadline)) else {
                continue;
            };
            let timer_tx = timer_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                if let Some(tx) = timer_tx.upgrade() {
                    let _ = tx.send(Command::OfferTimeout { chat, offer }).await;
                }
            });
        }
    }
}
