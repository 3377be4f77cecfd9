//! The preset's side of an open connection: the user's lines put in the protocol's form when
//! they go out (on whichever connection that is), config values read as lines (`on_open`,
//! `app_ping`, an `auto_reply` answer; `/binary` and `/raw` as written), and what the engine
//! does with a protocol's reaction to a received message.

use std::time::SystemTime;

use bytes::Bytes;

use super::ending::End;
use super::event::{Cause, Dir, DropReason, Event, Failure, Kind, Message, Phase, Warning};
use super::problem::Problem;
use super::protocol::{Line, Payload, Reaction, Seen};
use super::task::{Outgoing, Task};
use super::writer::{Outbound, payload_out, user_message};

/// What the engine does with a received message after the protocol has seen it.
pub(super) enum Reacted {
    /// It is application data: shown, fresh, and open to the user's own rules.
    Data,
    /// It was the protocol's: handled.
    Done,
    /// The answer to the application ping.
    Pong,
    /// The session ended.
    End(Box<End>),
}

impl Task {
    /// A message of the user's as it goes out on this connection: a typed line in the
    /// preset's form (with the tag its acknowledgement will carry), or as it is. A line the
    /// protocol cannot send is reported not sent, with why.
    pub(super) fn user_out(&mut self, mut o: Outgoing) -> Option<Outbound> {
        if !o.typed {
            let wire = Payload {
                kind: o.kind,
                data: o.data.clone(),
                shown: None,
            };
            return Some(user_message(o, wire));
        }
        let line = String::from_utf8_lossy(&o.data).into_owned();
        let Some(p) = self.protocol.as_mut() else {
            return Some(user_message(o, Payload::text(line)));
        };
        match p.encode(&line) {
            Ok(e) => {
                o.ack = e.ack;
                Some(user_message(o, e.payload))
            }
            Err(why) => {
                self.batcher
                    .push(Event::Warning(Warning::NotSent(Box::new(why))));
                self.batcher.push(Event::Dropped {
                    id: o.id,
                    kind: o.kind,
                    len: o.data.len() as u64,
                    data: o.data,
                    reason: DropReason::Unsendable,
                });
                None
            }
        }
    }

    /// A config value (`on_open`, `app_ping`, an answer) as a payload: `/binary` and `/raw`
    /// as written, anything else in the preset's form.
    pub(super) fn line_payload(&mut self, value: &str) -> Option<Payload> {
        match Line::lenient(value) {
            Line::Raw(p) => Some(p),
            Line::Typed(text) => match self.protocol.as_mut() {
                None => Some(Payload::text(text)),
                Some(p) => match p.encode(&text) {
                    Ok(e) => Some(e.payload),
                    Err(why) => {
                        self.batcher
                            .push(Event::Warning(Warning::NotSent(Box::new(why))));
                        None
                    }
                },
            },
        }
    }

    /// A config value sent by wsmon itself, reported as sent.
    pub(super) fn line_out(&mut self, value: &str) -> Option<Outbound> {
        self.line_payload(value).map(payload_out)
    }

    /// Acts on a protocol's reaction to a received message (`data`, received `at`).
    pub(super) fn react(
        &mut self,
        r: Reaction,
        kind: Kind,
        data: &Bytes,
        at: SystemTime,
        mut push: impl FnMut(Outbound),
    ) -> Reacted {
        let received = || {
            Event::Message(Message {
                dir: Dir::In,
                kind,
                data: data.clone(),
                id: 0,
            })
        };
        for words in r.say {
            self.batcher
                .push_at(at, Event::Warning(Warning::App(Box::new(words))));
        }
        match r.seen {
            Seen::Data => {
                // Acknowledgements of what came (a PUBACK): not worth a row each.
                for p in r.send {
                    let mut o = payload_out(p);
                    o.report = None;
                    push(o);
                }
                Reacted::Data
            }
            Seen::Control | Seen::Ready(_) => {
                self.batcher.push_at(at, received());
                if let Seen::Ready(detail) = r.seen {
                    let (protocol, offsets) = self
                        .protocol
                        .as_ref()
                        .map_or(("", false), |p| (p.name(), p.offsets()));
                    self.batcher.push_at(
                        at,
                        Event::Ready {
                            protocol,
                            detail,
                            offsets,
                        },
                    );
                }
                for p in r.send {
                    push(payload_out(p));
                }
                Reacted::Done
            }
            Seen::Heartbeat => {
                let sent = r
                    .send
                    .first()
                    .map(|p| String::from_utf8_lossy(&p.data).into_owned())
                    .unwrap_or_default();
                self.count_reply(data, &sent, at);
                for p in r.send {
                    let mut o = payload_out(p);
                    o.report = None;
                    push(o);
                }
                Reacted::Done
            }
            Seen::Pong => Reacted::Pong,
            Seen::Beat => Reacted::Done,
            Seen::Failed(why) => {
                self.batcher.push_at(at, received());
                Reacted::End(Box::new(End::Broken(
                    Failure::new(Cause::Protocol, Phase::App, Problem::App(Box::new(why))),
                    Some(1000),
                )))
            }
        }
    }

    /// Says an answer was sent to `received` (counted, not data).
    pub(super) fn count_reply(&mut self, received: &Bytes, sent: &str, at: SystemTime) {
        self.replies += 1;
        self.batcher.push_at(
            at,
            Event::AutoReply {
                received: String::from_utf8_lossy(received).into(),
                sent: sent.into(),
                count: self.replies,
            },
        );
    }
}
