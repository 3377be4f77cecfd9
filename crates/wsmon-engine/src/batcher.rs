//! Handing events over: batches to the frontend (the engine's own channel, or a fleet's
//! shared one) and to a recorder tap, with connection events in the log file too.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;

use super::command::Tap;
use super::event::{Batch, Event, Stamped};

/// Most events put in one batch, so a flood reaches the frontend in few channel sends.
pub(super) const MAX_BURST: usize = 4096;
/// Most payload bytes in one batch: with the channel's bound this caps the memory in flight
/// between the socket and the frontend (64 batches), whatever the message size.
pub(super) const MAX_BURST_BYTES: usize = 256 * 1024;

/// Where batches go: the engine's own channel, or a fleet's shared one with its index.
#[derive(Clone)]
pub(super) enum Out {
    /// One engine, one channel.
    Single(mpsc::Sender<Batch>),
    /// One of many, tagged.
    Tagged(usize, mpsc::Sender<(usize, Batch)>),
}

impl Out {
    fn is_closed(&self) -> bool {
        match self {
            Out::Single(tx) => tx.is_closed(),
            Out::Tagged(_, tx) => tx.is_closed(),
        }
    }

    pub(super) async fn send(&self, batch: Batch) -> bool {
        match self {
            Out::Single(tx) => tx.send(batch).await.is_ok(),
            Out::Tagged(id, tx) => tx.send((*id, batch)).await.is_ok(),
        }
    }
}

/// Collects events and hands them over in batches, to the frontend and to a recorder.
pub(super) struct Batcher {
    tx: Out,
    tap: Option<Tap>,
    batch: Vec<Stamped>,
    // Payload bytes in `batch`.
    pub(super) batch_bytes: usize,
    // The open event of the current connection, so a recorder attached later starts from it.
    current_open: Option<Stamped>,
}

impl Batcher {
    /// A batcher sending to `tx`, and to `tap` when recording.
    pub(super) fn new(tx: Out, tap: Option<Tap>) -> Batcher {
        Batcher {
            tx,
            tap,
            batch: Vec::new(),
            batch_bytes: 0,
            current_open: None,
        }
    }

    /// Adds an event that happened now.
    pub(super) fn push(&mut self, event: Event) {
        self.push_at(SystemTime::now(), event);
    }

    /// Adds an event that happened at `at`.
    pub(super) fn push_at(&mut self, at: SystemTime, event: Event) {
        log_event(&event);
        if let Event::Message(m) = &event {
            self.batch_bytes += m.data.len();
        }
        match &event {
            Event::Open(_) => {
                self.current_open = Some(Stamped {
                    at,
                    event: event.clone(),
                })
            }
            Event::Closed(_) => self.current_open = None,
            _ => {}
        }
        self.batch.push(Stamped { at, event });
    }

    /// Attaches (or detaches) a recorder; one attached mid-connection first gets the open event.
    pub(super) async fn set_tap(&mut self, tap: Option<Tap>) {
        if let (Some(t), Some(open)) = (&tap, &self.current_open)
            && t.0.send(Arc::new(vec![open.clone()])).await.is_err()
        {
            self.tap = None;
            return;
        }
        self.tap = tap;
    }

    /// Sends what was collected; false once no frontend listens any more.
    pub(super) async fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return !self.tx.is_closed();
        }
        // The next batch starts as large as this one, up to 64 events: an idle connection (of
        // thousands in a fleet) holds almost none, and a flood's batches grow as they did.
        let next = Vec::with_capacity(self.batch.len().min(64));
        let batch = Arc::new(std::mem::replace(&mut self.batch, next));
        self.batch_bytes = 0;
        if let Some(tap) = &self.tap
            && tap.0.send(batch.clone()).await.is_err()
        {
            // The recorder stopped; monitoring goes on.
            self.tap = None;
        }
        self.tx.send(batch).await
    }
}

/// Connection events go to the log file too (messages do not: they can be many).
fn log_event(event: &Event) {
    match event {
        Event::Connecting { attempt, url } => tracing::info!(attempt, %url, "connecting"),
        Event::Open(info) => tracing::info!(remote = %info.remote, attempt = info.attempt, "open"),
        Event::Closed(c) => {
            tracing::info!(code = ?c.code, by = c.by.as_str(), reason = %c.reason, "closed")
        }
        Event::Error(f) => {
            tracing::warn!(cause = %f.cause, phase = f.phase.as_str(), problem = ?f.problem, "failed")
        }
        Event::Retry { attempt, delay } => tracing::info!(
            attempt,
            delay_ms = delay.as_millis() as u64,
            "retry scheduled"
        ),
        Event::GaveUp { attempts } => tracing::warn!(attempts, "gave up"),
        Event::Warning(w) => tracing::warn!(warning = ?w, "warning"),
        _ => {}
    }
}
