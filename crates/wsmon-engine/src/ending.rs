//! How an open connection ends: who ended it and why (the server's close frame, one it was
//! not allowed to send, a broken socket, wsmon's own verdict, staleness, the user), what is
//! reported, whether it counts as a failed attempt, and what the task does next.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Utf8Bytes};

use super::dial::Ws;
use super::event::{Cause, ClosedBy, Event, Failure, Phase, Verdict};
use super::ledger::Unsettled;
use super::problem::{AppProblem, Problem};
use super::task::{Next, Task};

/// How long a user's close may wait for writes still on their way and the peer's answer: a
/// quit returns within a second.
const USER_CLOSE_GRACE: Duration = Duration::from_millis(750);

/// How long a close handshake may take before the socket is dropped anyway.
pub(super) const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// After connections in a row that did not last, the next delay's ceiling doubles per
/// connection up to `reconnect_min * 2^2`: gentle on a server that accepts and drops, and
/// still quick to see a short up-window.
const SHORT_FLOOR_STEPS: u32 = 2;

/// Close codes that say the next connection will end the same way: protocol error (1002),
/// unacceptable data (1003), bad payload (1007), policy violation (1008), too big (1009),
/// missing extension (1010).
pub(super) fn retry_is_pointless(code: u16) -> bool {
    matches!(code, 1002 | 1003 | 1007 | 1008 | 1009 | 1010)
}

/// Why the heartbeat gave up on the peer.
pub(super) enum Why {
    /// No frame at all after a WebSocket ping; `answered`: a ping of this connection was
    /// answered before.
    NoPong { answered: bool },
    /// No message matching `app_pong` after `app_ping`.
    NoAppPong,
    /// The socket took none of our bytes.
    WriteStall(usize),
    /// The protocol's own heartbeat (a Socket.IO server's pings) stopped.
    Protocol(AppProblem),
}

/// How an open connection ended.
pub(super) enum End {
    /// The server sent a close frame.
    ServerClose(Option<u16>, String),
    /// The server sent a close frame no peer may send (a reserved code such as 1005 or 999,
    /// or a reason that is not UTF-8): its code and reason bytes as sent. wsmon answers 1002.
    BadClose(Option<u16>, Vec<u8>),
    /// The connection broke; `Some(code)` is the close code we send on the way out.
    Broken(Failure, Option<u16>),
    /// The heartbeat declared the peer dead.
    Dead(Why),
    /// No data for `stale_after`, and the action is to reconnect.
    Stale(Duration),
    /// The user or the shutdown asked to close.
    User(UserClose),
}

pub(super) enum UserClose {
    Close(u16, String),
    Reconnect,
    Shutdown,
}

impl Task {
    pub(super) async fn ended(
        &mut self,
        end: End,
        mut ws: Ws,
        opened: Instant,
        unsettled: Unsettled,
    ) -> Next {
        let uptime = opened.elapsed();
        if !matches!(end, End::User(_) | End::Stale(_)) {
            self.count_attempt(&end, uptime);
        }
        self.watch_app_interval(&end, uptime);
        if !matches!(end, End::User(_))
            && let Some(words) = self.protocol.as_mut().and_then(|p| p.ended(uptime))
        {
            self.batcher
                .push(Event::Warning(super::event::Warning::App(Box::new(words))));
        }
        match end {
            End::ServerClose(code, reason) => {
                // tungstenite answers the close; keep reading so the answer goes out.
                let _ =
                    tokio::time::timeout(CLOSE_GRACE, async { while ws.next().await.is_some() {} })
                        .await;
                self.settle(&ws, unsettled, false);
                self.push_closed(code, reason, ClosedBy::Server, uptime, None);
                self.schedule_retry(None)
            }
            End::BadClose(code, reason) => {
                // tungstenite has answered with 1002 already; let the answer go out.
                let _ =
                    tokio::time::timeout(CLOSE_GRACE, async { while ws.next().await.is_some() {} })
                        .await;
                self.settle(&ws, unsettled, false);
                let problem = Problem::BadClose {
                    code,
                    code_allowed: code.is_some_and(|c| CloseCode::from(c).is_allowed()),
                    reason,
                };
                self.batcher.push(Event::Error(Arc::new(Failure::new(
                    Cause::Protocol,
                    Phase::Open,
                    problem,
                ))));
                self.push_closed(Some(1002), String::new(), ClosedBy::Error, uptime, None);
                self.schedule_retry(None)
            }
            End::Broken(failure, send_code) => {
                if let Some(code) = send_code {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: Utf8Bytes::from_static(""),
                    };
                    let _ = tokio::time::timeout(Duration::from_millis(500), ws.close(Some(frame)))
                        .await;
                }
                self.settle(&ws, unsettled, false);
                self.batcher.push(Event::Error(Arc::new(failure)));
                self.push_closed(
                    Some(send_code.unwrap_or(1006)),
                    String::new(),
                    ClosedBy::Error,
                    uptime,
                    None,
                );
                self.schedule_retry(None)
            }
            End::Dead(why) => {
                let (reason, problem) = self.verdict(&why, uptime);
                self.batcher.push(Event::Error(Arc::new(Failure::new(
                    Cause::Timeout,
                    Phase::Open,
                    problem,
                ))));
                // The peer is not listening; do not wait for a close handshake.
                self.settle(&ws, unsettled, false);
                drop(ws);
                let verdict = match why {
                    Why::NoPong { .. } => Verdict::NoPong,
                    Why::NoAppPong => Verdict::NoAppPong,
                    Why::WriteStall(_) => Verdict::WriteStall,
                    Why::Protocol(_) => Verdict::ProtocolHeartbeat,
                };
                self.push_closed(None, reason, ClosedBy::Heartbeat, uptime, Some(verdict));
                self.schedule_retry(None)
            }
            End::Stale(silent) => {
                let reason = format!("no data for {} (stale_after)", crate::fmt::duration(silent));
                self.batcher.push(Event::Closing {
                    code: 1000,
                    reason: reason.clone(),
                });
                let _ = self.batcher.flush().await;
                let clean = close_politely(&mut ws, 1000, &reason, CLOSE_GRACE, Vec::new()).await;
                self.settle(&ws, unsettled, clean);
                self.push_closed(
                    Some(1000),
                    reason,
                    ClosedBy::Stale,
                    uptime,
                    Some(Verdict::Stale),
                );
                // The feed resumes only on a new subscription: dial again now.
                self.backoff.reset();
                Next::Dial
            }
            End::User(how) => {
                let (code, reason, next) = match how {
                    UserClose::Close(code, reason) => (code, reason, Next::Idle),
                    UserClose::Reconnect => (1000, "reconnect".to_string(), Next::Dial),
                    UserClose::Shutdown => (1001, "going away".to_string(), Next::Exit),
                };
                self.batcher.push(Event::Closing {
                    code,
                    reason: reason.clone(),
                });
                let _ = self.batcher.flush().await;
                // A quit returns at once when nothing can be written: a close frame would not
                // get through, and the grace would only make the user wait.
                let grace = if unsettled.stalled {
                    Duration::ZERO
                } else if unsettled.unflushed.is_empty() && unsettled.outbox.is_empty() {
                    CLOSE_GRACE
                } else {
                    USER_CLOSE_GRACE
                };
                // The protocol's goodbye (an MQTT or STOMP DISCONNECT) goes before the close
                // frame, when anything can be written at all.
                let mut farewell = Vec::new();
                if !grace.is_zero()
                    && let Some(p) = self.protocol.as_mut()
                {
                    for p in p.farewell() {
                        self.batcher.push(Event::Message(crate::Message {
                            dir: crate::Dir::Out,
                            kind: p.kind,
                            data: p.shown.clone().unwrap_or_else(|| p.data.clone()),
                            id: 0,
                        }));
                        farewell.push(super::writer::to_ws_message(p.kind, p.data));
                    }
                }
                let clean = close_politely(&mut ws, code, &reason, grace, farewell).await;
                self.settle(&ws, unsettled, clean);
                self.push_closed(Some(code), reason, ClosedBy::Client, opened.elapsed(), None);
                if matches!(next, Next::Dial) {
                    self.backoff.reset();
                    self.failures = 0;
                }
                next
            }
        }
    }

    /// Says once when the server keeps ending connections sooner than the application
    /// heartbeat's interval: a server that wants an application ping more often than wsmon
    /// sends one drops it every time, and only `app_ping_interval` fixes that.
    fn watch_app_interval(&mut self, end: &End, uptime: Duration) {
        let pings = self.s.app_ping.is_some()
            || self
                .protocol
                .as_ref()
                .is_some_and(|p| p.app_ping().is_some());
        let Some(interval) = super::protocol::app_interval(&self.s).filter(|_| pings) else {
            return;
        };
        let servers = matches!(end, End::ServerClose(..) | End::Broken(..));
        if !servers || uptime >= interval {
            self.short_of_app.clear();
            return;
        }
        self.short_of_app.push(uptime);
        if self.short_of_app.len() > 2 {
            self.short_of_app.remove(0);
        }
        // A server that wants a ping more often drops connections at its own period: lives
        // of a second or more, alike. Connections cut at once are something else.
        let alike = match self.short_of_app[..] {
            [a, b] => {
                let (lo, hi) = (a.min(b), a.max(b));
                lo >= Duration::from_secs(1) && (hi - lo) * 4 <= hi
            }
            _ => false,
        };
        if alike && !self.warned_app_interval {
            self.warned_app_interval = true;
            self.batcher
                .push(Event::Warning(super::event::Warning::AppPingTooSlow {
                    lives: self.short_of_app.clone(),
                    interval,
                }));
        }
    }

    /// Counts a connection that ended on its own: one that did not last `stable_after`, or
    /// that the server ended with a code that says retrying is pointless, is a failed attempt
    /// (so `max_attempts` gives up on a server that refuses every connection after opening
    /// it); and the next delay starts again from a short floor, since the endpoint accepted.
    fn count_attempt(&mut self, end: &End, uptime: Duration) {
        let fatal = match end {
            End::ServerClose(code, _) => code.is_some_and(retry_is_pointless),
            End::BadClose(..) => true,
            End::Broken(f, code) => f.phase == Phase::App || code.is_some_and(retry_is_pointless),
            End::Dead(_) | End::Stale(_) | End::User(_) => false,
        };
        let short = uptime < self.s.stable_after;
        self.short_lives = if short { self.short_lives + 1 } else { 0 };
        if short || fatal {
            self.failures += 1;
        } else {
            self.failures = 0;
        }
        // The first drop redials at the shortest delay; each short life after it raises
        // the floor one step.
        self.backoff
            .reset_to(self.short_lives.saturating_sub(1).min(SHORT_FLOOR_STEPS));
    }

    /// The heartbeat's verdict: the short reason of the close, and what was seen.
    fn verdict(&self, why: &Why, uptime: Duration) -> (String, Problem) {
        let limit = self.s.pong_timeout;
        let timeout = crate::fmt::duration(limit);
        match why {
            Why::NoPong { answered } => (
                format!("no pong for {timeout}"),
                Problem::NoPong {
                    limit,
                    answered: *answered,
                    uptime,
                },
            ),
            Why::NoAppPong => (
                format!("no application pong for {timeout}"),
                Problem::NoAppPong {
                    limit,
                    pattern: self
                        .s
                        .app_pong
                        .as_ref()
                        .map_or("", |r| r.as_str())
                        .to_string(),
                    ping: self.s.app_ping.clone().unwrap_or_default(),
                },
            ),
            Why::WriteStall(waiting) => (
                format!("nothing written for {timeout}"),
                Problem::WriteStall {
                    limit,
                    waiting: *waiting,
                },
            ),
            Why::Protocol(what) => (
                "protocol heartbeat stopped".into(),
                Problem::App(Box::new(what.clone())),
            ),
        }
    }
}

/// Classifies a socket error on an open connection, with the close code to send if any.
pub(super) fn broken(e: tungstenite::Error) -> End {
    let (cause, problem, code) = match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            (Cause::Io, Problem::NoCloseFrame, None)
        }
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            (Cause::Io, Problem::DroppedWithoutClose, None)
        }
        tungstenite::Error::Io(io) => {
            let problem = match io.kind() {
                std::io::ErrorKind::ConnectionReset => Problem::Reset,
                std::io::ErrorKind::BrokenPipe => Problem::BrokenPipe,
                std::io::ErrorKind::UnexpectedEof => Problem::EndedMidFrame,
                _ => Problem::Socket {
                    error: io.to_string(),
                },
            };
            (Cause::Io, problem, None)
        }
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
            Cause::Protocol,
            Problem::TooLarge {
                size,
                max: max_size,
            },
            Some(1009),
        ),
        tungstenite::Error::Capacity(other) => (
            Cause::Protocol,
            Problem::Capacity {
                error: other.to_string(),
            },
            Some(1009),
        ),
        tungstenite::Error::Utf8(detail) => {
            (Cause::Protocol, Problem::BadUtf8 { detail }, Some(1007))
        }
        tungstenite::Error::Protocol(p) => (
            Cause::Protocol,
            Problem::ProtocolViolation {
                detail: p.to_string(),
            },
            Some(1002),
        ),
        other => (
            Cause::Io,
            Problem::Io {
                error: other.to_string(),
            },
            None,
        ),
    };
    End::Broken(Failure::new(cause, Phase::Open, problem), code)
}

/// Sends a close frame and waits (briefly) for the server's answer and the end of the stream.
/// Returns whether the peer answered with its own close frame: then it read everything
/// written before ours.
pub(super) async fn close_politely(
    ws: &mut Ws,
    code: u16,
    reason: &str,
    grace: Duration,
    first: Vec<tungstenite::Message>,
) -> bool {
    if grace.is_zero() {
        return false;
    }
    let mut reason = reason.to_string();
    while reason.len() > 123 {
        reason.pop();
    }
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from(reason),
    };
    tokio::time::timeout(grace, async {
        for m in first {
            if ws.feed(m).await.is_err() {
                return false;
            }
        }
        if ws.close(Some(frame)).await.is_err() {
            return false;
        }
        let mut answered = false;
        while let Some(item) = ws.next().await {
            answered |= matches!(item, Ok(tungstenite::Message::Close(_)));
        }
        answered
    })
    .await
    .unwrap_or(false)
}
