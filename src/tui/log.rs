//! The message log: a bounded ring of messages and connection events, addressed by sequence
//! numbers that stay valid while the oldest entries are evicted.

use std::collections::VecDeque;
use std::time::SystemTime;

use bytes::Bytes;

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
    /// Refused or discarded.
    NotSent(DropReason),
}

/// One row of the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// When it happened.
    pub at: SystemTime,
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
    /// The payload, or the event's description.
    pub data: Bytes,
}

impl Entry {
    /// A connection event row.
    pub fn event(at: SystemTime, level: Level, text: String) -> Entry {
        Entry {
            at,
            origin: Origin::Event,
            kind: Kind::Text,
            level,
            status: Status::Plain,
            id: 0,
            data: Bytes::from(text),
        }
    }
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

/// A bounded ring of entries; the oldest go first.
#[derive(Debug)]
pub struct MessageLog {
    entries: VecDeque<Entry>,
    capacity: usize,
    first_seq: u64,
    evicted: u64,
}

impl MessageLog {
    /// An empty log holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        MessageLog {
            entries: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            first_seq: 0,
            evicted: 0,
        }
    }

    /// Appends an entry; returns its sequence number.
    pub fn push(&mut self, e: Entry) -> u64 {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.first_seq += 1;
            self.evicted += 1;
        }
        self.entries.push_back(e);
        self.end_seq() - 1
    }

    /// Sequence number of the oldest entry kept.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// One past the newest sequence number.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries evicted to stay within capacity.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The entry with this sequence number, if still kept.
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        let i = seq.checked_sub(self.first_seq)?;
        self.entries.get(usize::try_from(i).ok()?)
    }

    /// Mutable access, to update an outgoing message's status.
    pub fn get_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let i = seq.checked_sub(self.first_seq)?;
        self.entries.get_mut(usize::try_from(i).ok()?)
    }

    /// Forgets everything shown (`/clear`); sequence numbers keep counting.
    pub fn clear(&mut self) {
        self.first_seq = self.end_seq();
        self.entries.clear();
    }

    /// The newest entry before `seq` that `pred` accepts.
    pub fn prev_where(&self, seq: u64, pred: impl Fn(&Entry) -> bool) -> Option<u64> {
        let end = seq.min(self.end_seq());
        let mut s = end;
        while s > self.first_seq {
            s -= 1;
            if pred(self.get(s)?) {
                return Some(s);
            }
        }
        None
    }

    /// The oldest entry after `seq` that `pred` accepts.
    pub fn next_where(&self, seq: u64, pred: impl Fn(&Entry) -> bool) -> Option<u64> {
        let mut s = seq.saturating_add(1).max(self.first_seq);
        while s < self.end_seq() {
            if pred(self.get(s)?) {
                return Some(s);
            }
            s += 1;
        }
        None
    }

    /// The oldest entry that `pred` accepts.
    pub fn first_where(&self, pred: impl Fn(&Entry) -> bool) -> Option<u64> {
        self.entries
            .iter()
            .position(pred)
            .map(|i| self.first_seq + i as u64)
    }

    /// Total bytes of payload kept.
    pub fn payload_bytes(&self) -> usize {
        self.entries.iter().map(|e| e.data.len()).sum()
    }
}

/// Whether `needle` occurs in `hay`, ignoring ASCII case.
pub fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.len() > hay.len() {
        return false;
    }
    let first = needle[0].to_ascii_lowercase();
    hay.windows(needle.len())
        .any(|w| w[0].to_ascii_lowercase() == first && w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: u64, origin: Origin) -> Entry {
        Entry {
            at: SystemTime::UNIX_EPOCH,
            origin,
            kind: Kind::Text,
            level: Level::Info,
            status: Status::Plain,
            id: 0,
            data: Bytes::from(format!("m{i}")),
        }
    }

    #[test]
    fn ring_evicts_oldest_and_keeps_sequence_numbers() {
        let mut log = MessageLog::new(3);
        for i in 0..5 {
            assert_eq!(log.push(msg(i, Origin::In)), i);
        }
        assert_eq!(
            (log.first_seq(), log.end_seq(), log.len(), log.evicted()),
            (2, 5, 3, 2)
        );
        assert!(log.get(1).is_none());
        assert_eq!(log.get(4).unwrap().data, "m4");
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.push(msg(9, Origin::In)), 5);
    }

    #[test]
    fn walks_respect_the_filter() {
        let mut log = MessageLog::new(10);
        for (i, o) in [
            Origin::In,
            Origin::Event,
            Origin::Out,
            Origin::In,
            Origin::Event,
        ]
        .into_iter()
        .enumerate()
        {
            log.push(msg(i as u64, o));
        }
        let events = |e: &Entry| Filter::Events.matches(e);
        assert_eq!(log.prev_where(log.end_seq(), events), Some(4));
        assert_eq!(log.prev_where(4, events), Some(1));
        assert_eq!(log.prev_where(1, events), None);
        assert_eq!(log.next_where(1, events), Some(4));
        assert_eq!(log.next_where(0, |e| Filter::Out.matches(e)), Some(2));
    }

    #[test]
    fn case_insensitive_search() {
        assert!(contains_ignore_case(b"Hello World", b"wORLD"));
        assert!(!contains_ignore_case(b"Hello", b"world"));
        assert!(contains_ignore_case(b"abc", b""));
    }

    #[test]
    fn filter_cycle_returns_to_all() {
        let mut f = Filter::All;
        for _ in 0..4 {
            f = f.next();
        }
        assert_eq!(f, Filter::All);
    }
}
