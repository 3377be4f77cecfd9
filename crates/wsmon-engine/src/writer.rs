//! The writing half of an open connection: what waits to be written (a ping before the
//! queue, since it measures the path), what was handed to the socket and not yet flushed, and
//! when the socket last took bytes (a socket that takes none for `pong_timeout` is a dead
//! peer).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Sink;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Utf8Bytes};

use super::dial::Ws;
use super::event::{Dir, Event, Kind, Message};
use super::heartbeat::Heartbeat;
use super::protocol::Payload;
use super::task::Outgoing;

/// Something on its way to the socket, and what to report once it is written.
pub(super) struct Outbound {
    pub(super) frame: tungstenite::Message,
    /// Reported when written (a sent message, a ping); `None` for what was reported already.
    pub(super) report: Option<Event>,
    /// A message of the user's: if the connection breaks before it is written, it waits for
    /// the next one.
    pub(super) held: Option<Outgoing>,
}

/// The writing half of a connection and what waits for it.
pub(super) struct Writer {
    pub(super) outbox: VecDeque<Outbound>,
    /// Handed to the socket, not yet flushed.
    pub(super) unflushed: Vec<Outbound>,
    /// The last time the socket took bytes (or the first time there was something to write).
    pub(super) progress: Option<Instant>,
    /// The bytes written to TCP when the unflushed write began: if the count moved by the
    /// time the connection died, part of it may have reached the peer.
    pub(super) batch_start: Option<u64>,
}

/// Payload bytes handed to the socket before a flush: a write is confirmed as a whole, so
/// a flood's writes stay small enough to tell what was delivered from what was not.
const FLUSH_BATCH: usize = 64 * 1024;

impl Writer {
    pub(super) fn push(&mut self, o: Outbound, front: bool, now: Instant) {
        if self.outbox.is_empty() && self.unflushed.is_empty() {
            self.progress = Some(now);
        }
        if front {
            self.outbox.push_front(o);
        } else {
            self.outbox.push_back(o);
        }
    }

    pub(super) fn has_writes(&self) -> bool {
        !self.outbox.is_empty() || !self.unflushed.is_empty()
    }

    /// Hands what waits to the socket and flushes; `Ready` when everything is written.
    pub(super) fn poll_write(
        &mut self,
        ws: &mut Ws,
        cx: &mut Context<'_>,
        written: &mut Vec<Outbound>,
    ) -> Poll<Result<(), tungstenite::Error>> {
        let mut batch: usize = self.unflushed.iter().map(|o| o.frame.len()).sum();
        while batch < FLUSH_BATCH
            && let Some(next) = self.outbox.front()
        {
            match Pin::new(&mut *ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            if self.unflushed.is_empty() {
                self.batch_start = Some(ws.get_ref().delivery().map_or(0, |(w, _)| w));
            }
            batch += next.frame.len();
            let o = self.outbox.pop_front().expect("not empty");
            Pin::new(&mut *ws).start_send(o.frame.clone())?;
            self.progress = Some(Instant::now());
            self.unflushed.push(o);
        }
        match Pin::new(&mut *ws).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                written.append(&mut self.unflushed);
                self.progress = None;
                self.batch_start = None;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A WebSocket ping carrying its sequence number.
pub(super) fn ws_ping(seq: u64) -> Outbound {
    Outbound {
        frame: tungstenite::Message::Ping(Bytes::copy_from_slice(&Heartbeat::payload(seq))),
        report: Some(Event::Ping { seq, app: false }),
        held: None,
    }
}

/// A message wsmon sends on its own (a handshake, an `on_open` message, an answer), reported
/// as sent, as it is shown (a password masked).
pub(super) fn payload_out(p: Payload) -> Outbound {
    Outbound {
        frame: to_ws_message(p.kind, p.data.clone()),
        report: Some(Event::Message(Message {
            dir: Dir::Out,
            kind: p.kind,
            data: p.shown.unwrap_or(p.data),
            id: 0,
        })),
        held: None,
    }
}

/// A message the user sent, going out as `wire` (itself, or the line in the preset's form),
/// reported as sent once written.
pub(super) fn user_message(o: Outgoing, wire: Payload) -> Outbound {
    Outbound {
        frame: to_ws_message(wire.kind, wire.data.clone()),
        report: Some(Event::Message(Message {
            dir: Dir::Out,
            kind: wire.kind,
            data: wire.shown.unwrap_or(wire.data),
            id: o.id,
        })),
        held: Some(o),
    }
}

pub(super) fn to_ws_message(kind: Kind, data: Bytes) -> tungstenite::Message {
    match kind {
        // Frontends only send text from Rust strings; anything else goes out as binary.
        Kind::Text => match Utf8Bytes::try_from(data.clone()) {
            Ok(text) => tungstenite::Message::Text(text),
            Err(_) => tungstenite::Message::Binary(data),
        },
        Kind::Binary => tungstenite::Message::Binary(data),
    }
}
