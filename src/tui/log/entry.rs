//! A row of the message log: a message or a connection event, what it looks like, and which
//! rows a view shows.

use std::time::SystemTime;

use crate::engine::{DropReason, Kind};

/// Where a log entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Received from the peer.
    In,
    /// Sent (or queued) by us.
    Out,
    /// A connection event.
    Event,
}

/// How an event entry should look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Neutral.
    Info,
    /// Good news (connected).
    Good,
    /// Worth a look (retry, warning).
    Warn,
    /// A failure or drop.
    Bad,
}

/// Delivery state of an outgoing message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Nothing to say.
    Plain,
    /// Waiting for the connection.
    Queued,
    /// It waited in the queue and went out later: the row of its sending is further down.
    SentLater,
    /// Sent now, after waiting this many seconds in the queue (saturating; a row stays small).
    Waited(u16),
    /// Refused or discarded.
    NotSent(DropReason),
    /// Written, but the connection died before the peer's TCP acknowledged it.
    Unconfirmed,
}

/// Rows the log can hide as a group, and show again with the rows already there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quiet {
    /// Always shown.
    #[default]
    Never,
    /// The heartbeat's pings and pongs (F9, `/pings`).
    Heartbeat,
    /// Automatic replies (`/autoreplies`).
    AutoReply,
}

impl Quiet {
    /// Its slot in the log's hidden set; `None` for rows always shown.
    pub(super) fn slot(self) -> Option<usize> {
        match self {
            Quiet::Never => None,
            Quiet::Heartbeat => Some(0),
            Quiet::AutoReply => Some(1),
        }
    }
}

/// One row of the log; 40 bytes plus its payload, so a full ring of small messages stays small.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// When it happened, in microseconds since the epoch.
    at_us: u64,
    /// In, out or event.
    pub origin: Origin,
    /// Text or binary (events are text).
    pub kind: Kind,
    /// Colour of an event.
    pub level: Level,
    /// Delivery state of an outgoing message.
    pub status: Status,
    /// Outgoing message id (0 otherwise).
    pub id: u64,
    /// Whether a group of hidden rows takes it.
    pub quiet: Quiet,
    /// The payload, or the event's description, in an allocation of its own.
    pub data: Box<[u8]>,
}

impl Entry {
    /// A message row; the payload is copied (a received payload is a slice of the socket's
    /// read buffer, and keeping it would keep the whole buffer).
    pub fn message(
        at: SystemTime,
        origin: Origin,
        kind: Kind,
        status: Status,
        id: u64,
        data: &[u8],
    ) -> Entry {
        Entry {
            at_us: micros(at),
            origin,
            kind,
            level: if matches!(status, Status::NotSent(_)) {
                Level::Bad
            } else {
                Level::Info
            },
            status,
            id,
            quiet: Quiet::Never,
            data: data.into(),
        }
    }

    /// A connection event row.
    pub fn event(at: SystemTime, level: Level, text: String) -> Entry {
        Entry {
            at_us: micros(at),
            origin: Origin::Event,
            kind: Kind::Text,
            level,
            status: Status::Plain,
            id: 0,
            quiet: Quiet::Never,
            data: text.into_bytes().into_boxed_slice(),
        }
    }

    /// The row, in a group that can be hidden.
    pub fn quiet(mut self, quiet: Quiet) -> Entry {
        self.quiet = quiet;
        self
    }

    /// When it happened.
    pub fn at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(self.at_us)
    }
}

fn micros(at: SystemTime) -> u64 {
    // A read burst stamps its messages alike, and a flood folds millions of them: the last
    // conversion is kept (per thread: a fleet's dashboards share one).
    thread_local! {
        static LAST: std::cell::Cell<(SystemTime, u64)> =
            const { std::cell::Cell::new((SystemTime::UNIX_EPOCH, 0)) };
    }
    LAST.with(|last| {
        let (t, us) = last.get();
        if t == at {
            return us;
        }
        let us = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        last.set((at, us));
        us
    })
}

/// Which entries the log shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    /// Everything.
    #[default]
    All,
    /// Received messages.
    In,
    /// Sent messages.
    Out,
    /// Connection events.
    Events,
}

impl Filter {
    /// Whether `e` is shown.
    pub fn matches(self, e: &Entry) -> bool {
        match self {
            Filter::All => true,
            Filter::In => e.origin == Origin::In,
            Filter::Out => e.origin == Origin::Out,
            Filter::Events => e.origin == Origin::Event,
        }
    }

    /// The next filter in the `f` cycle.
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::In,
            Filter::In => Filter::Out,
            Filter::Out => Filter::Events,
            Filter::Events => Filter::All,
        }
    }

    /// Its name in the log title.
    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::In => "in only",
            Filter::Out => "out only",
            Filter::Events => "events only",
        }
    }
}
