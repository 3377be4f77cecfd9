//! What a frontend asks the engine to do, and the second consumer (a recorder) it may attach.

use std::fmt;

use bytes::Bytes;

use super::event::{Batch, Kind};

/// A second consumer of every batch (a recorder). The engine waits for it like for the
/// frontend, so under a flood the socket slows down rather than a line going missing.
#[derive(Clone)]
pub struct Tap(pub tokio::sync::mpsc::Sender<Batch>);

impl PartialEq for Tap {
    fn eq(&self, other: &Tap) -> bool {
        self.0.same_channel(&other.0)
    }
}

impl fmt::Debug for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tap")
    }
}

/// What a frontend asks the engine to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Send a data message as it is (queued while not open).
    Send {
        /// Text or binary.
        kind: Kind,
        /// Payload; must be UTF-8 for text.
        data: Bytes,
    },
    /// Send a line as a person writes it, put in the form of the preset spoken on the
    /// connection it goes out on (a Socket.IO emit in the joined namespace, an MQTT publish,
    /// a STOMP send); without a preset, the text as it is.
    Emit {
        /// The line, as typed.
        line: String,
    },
    /// A message too large to send (longer than `max_message_size`), known by its first
    /// bytes only: it was never read whole (a stdin line of hundreds of megabytes).
    TooLarge {
        /// Text or binary.
        kind: Kind,
        /// Its first bytes.
        preview: Bytes,
        /// Its length.
        len: u64,
    },
    /// Send a ping now (an RTT sample).
    Ping,
    /// Drop the current connection or wait and dial now.
    Reconnect,
    /// Close with this code and reason and stay closed until `Reconnect`.
    Close {
        /// Close code (1000, or 3000-4999).
        code: u16,
        /// Close reason (at most 123 bytes).
        reason: String,
    },
    /// Close politely and end the engine.
    Shutdown,
    /// Start (or with `None`, stop) feeding every batch to a recorder as well.
    Tap(Option<Tap>),
}
