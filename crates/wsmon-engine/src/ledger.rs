//! The delivery ledger of one connection: every message of the user's (or a preset's) that
//! was written, until the peer's TCP acknowledges its bytes. When the connection dies, what is
//! still in it was written but not confirmed: it may or may not have arrived, so it is
//! reported as such and never sent again unless the user asks (`resend_unconfirmed`). What
//! was never written waits for the next connection. So a message arrives once, or is named.
//!
//! On Linux the kernel says how many bytes the peer acknowledged (`TCP_INFO`), held against
//! the bytes written when each message's write finished. Elsewhere (and over a test's pipe)
//! the proof is a pong: a message is confirmed by the answer to a ping written after it. A
//! preset with acknowledgements (an MQTT QoS 1 publish, a STOMP send with a receipt) confirms
//! by them instead: the peer's application has it, not only its kernel.

use std::collections::VecDeque;

use super::dial::Ws;
use super::event::Event;
use super::task::{Outgoing, Task};
use super::writer::Outbound;

/// Ids an `unconfirmed` event names (its count says how many there were).
const UNCONFIRMED_IDS: usize = 10_000;

/// Pings whose write is remembered for the proof of life.
const PINGS_KEPT: usize = 16;

/// The messages written and not yet confirmed, in the order they were written.
#[derive(Default)]
pub(super) struct Ledger {
    // (the write count when the message's write finished, the message)
    written: VecDeque<(u64, Outgoing)>,
    // Writes finished so far: the count, where the kernel gives no byte count.
    flushes: u64,
    // (ping sequence, the write count when it was written), for the proof of life.
    pings: VecDeque<(u64, u64)>,
    // Messages the protocol acknowledges, by their tag, until it does.
    awaiting: Vec<Outgoing>,
}

impl Ledger {
    /// The write count now: bytes written to TCP, or else finished writes.
    pub(super) fn mark(&self, delivery: Option<(u64, u64)>) -> u64 {
        delivery.map_or(self.flushes, |(written, _)| written)
    }

    /// A write finished: `sent` went out whole; `pings` were written with them.
    pub(super) fn wrote(
        &mut self,
        delivery: Option<(u64, u64)>,
        sent: impl IntoIterator<Item = Outgoing>,
        pings: impl IntoIterator<Item = u64>,
    ) {
        self.flushes += 1;
        let mark = self.mark(delivery);
        for o in sent {
            if o.ack.is_some() {
                self.awaiting.push(o);
            } else {
                self.written.push_back((mark, o));
            }
        }
        for seq in pings {
            if self.pings.len() == PINGS_KEPT {
                self.pings.pop_front();
            }
            self.pings.push_back((seq, mark));
        }
        self.confirm(delivery);
    }

    /// What the peer's TCP acknowledged confirms every message written up to it.
    pub(super) fn confirm(&mut self, delivery: Option<(u64, u64)>) {
        if let Some((_, acked)) = delivery {
            self.confirm_upto(acked);
        }
    }

    /// Ping `seq` was answered: where the kernel says nothing, that proves what was written
    /// before it arrived.
    pub(super) fn pong(&mut self, seq: u64, delivery: Option<(u64, u64)>) {
        if delivery.is_some() {
            return;
        }
        if let Some(&(_, mark)) = self.pings.iter().find(|(s, _)| *s == seq) {
            // A ping written in the same write as a message proves it too.
            self.confirm_upto(mark);
        }
    }

    pub(super) fn confirm_upto(&mut self, mark: u64) {
        while self.written.front().is_some_and(|(m, _)| *m <= mark) {
            self.written.pop_front();
        }
    }

    /// The protocol acknowledged the messages with these tags.
    pub(super) fn acked(&mut self, tags: &[u64]) {
        self.awaiting
            .retain(|o| !o.ack.is_some_and(|t| tags.contains(&t)));
    }

    /// Whether messages wait for the kernel's confirmation (their check is on a timer).
    pub(super) fn waiting(&self) -> bool {
        !self.written.is_empty()
    }

    /// The messages never confirmed, oldest first: the ledger is done.
    pub(super) fn unconfirmed(self) -> Vec<Outgoing> {
        let mut all: Vec<Outgoing> = self.written.into_iter().map(|(_, o)| o).collect();
        all.extend(self.awaiting);
        all.sort_by_key(|o| o.id);
        all
    }
}

/// What was on its way to the peer when a connection ended.
pub(super) struct Unsettled {
    /// Written and not yet acknowledged.
    pub(super) ledger: Ledger,
    /// Handed to the socket, the write not finished.
    pub(super) unflushed: Vec<Outbound>,
    /// Never handed to the socket.
    pub(super) outbox: VecDeque<Outbound>,
    /// Bytes written to TCP when the unfinished write began.
    pub(super) batch_start: Option<u64>,
    /// The writes had made no progress for a while.
    pub(super) stalled: bool,
}

impl Task {
    /// Settles what a connection left on its way: what the peer's TCP acknowledged (or, after
    /// a close handshake the peer answered, `clean`: all of it) is delivered; what was written
    /// and not acknowledged is reported unconfirmed and not sent again (unless
    /// `resend_unconfirmed`); what was never written waits for the next connection.
    pub(super) fn settle(&mut self, ws: &Ws, u: Unsettled, clean: bool) {
        let Unsettled {
            mut ledger,
            unflushed,
            outbox,
            batch_start,
            ..
        } = u;
        let delivery = ws.get_ref().delivery();
        if clean {
            ledger.confirm_upto(u64::MAX);
        } else {
            ledger.confirm(delivery);
        }
        let mut unconfirmed = ledger.unconfirmed();
        // A write that began and did not finish: after a clean close it went out whole; if
        // bytes went out since it began, its messages may have arrived; if none did, they were
        // never written and wait for the next connection, with what was never handed over.
        let began = match (delivery, batch_start) {
            (Some((written, _)), Some(start)) => written > start,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let mut held: Vec<Outgoing> = Vec::new();
        for o in unflushed {
            let Some(h) = o.held else { continue };
            if clean || began {
                if let Some(e) = o.report {
                    self.batcher.push(e);
                }
                if !clean {
                    unconfirmed.push(h);
                }
            } else {
                held.push(h);
            }
        }
        held.extend(outbox.into_iter().filter_map(|o| o.held));
        if !unconfirmed.is_empty() {
            let resent = self.s.resend_unconfirmed;
            self.batcher.push(Event::Unconfirmed {
                ids: unconfirmed
                    .iter()
                    .take(UNCONFIRMED_IDS)
                    .map(|o| o.id)
                    .collect(),
                count: unconfirmed.len() as u64,
                resent,
            });
            if resent {
                held.splice(0..0, unconfirmed);
            }
        }
        for o in held.into_iter().rev() {
            self.hold(o, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    fn msg(id: u64) -> Outgoing {
        Outgoing::new(id, Kind::Text, "m".into(), false)
    }

    fn ids(l: Ledger) -> Vec<u64> {
        l.unconfirmed().into_iter().map(|o| o.id).collect()
    }

    #[test]
    fn what_the_peers_tcp_acknowledged_is_confirmed_and_the_rest_is_not() {
        let mut l = Ledger::default();
        l.wrote(Some((100, 0)), [msg(1), msg(2)], []);
        l.wrote(Some((250, 100)), [msg(3)], []);
        l.wrote(Some((400, 100)), [msg(4)], []);
        assert!(l.waiting());
        l.confirm(Some((400, 260)));
        assert_eq!(ids(l), [4], "1 and 2 acknowledged by 100, 3 by 250");
    }

    #[test]
    fn without_the_kernels_word_a_pong_proves_what_was_written_before_its_ping() {
        let mut l = Ledger::default();
        l.wrote(None, [msg(1)], []);
        l.wrote(None, [msg(2)], [7]);
        l.wrote(None, [msg(3)], [8]);
        l.pong(7, None);
        assert_eq!(ids(l), [3], "the answer to ping 7 proves 1 and 2");
    }

    #[test]
    fn a_protocols_acknowledgement_not_the_kernels_confirms_what_it_tags() {
        let mut l = Ledger::default();
        let tagged = |id, tag| Outgoing {
            ack: Some(tag),
            ..msg(id)
        };
        l.wrote(Some((100, 0)), [msg(1), tagged(2, 7), tagged(3, 8)], []);
        l.confirm(Some((100, 100)));
        assert_eq!(
            ids(l),
            [2, 3],
            "the kernel has them, the broker did not say so"
        );
        let mut l = Ledger::default();
        l.wrote(Some((100, 0)), [tagged(2, 7), tagged(3, 8)], []);
        l.acked(&[8]);
        assert_eq!(ids(l), [2]);
    }
}
