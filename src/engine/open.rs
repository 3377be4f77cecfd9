//! The socket task while a connection is open: the queue goes out first, then reads, the
//! heartbeat, commands and the stability timer are served until the connection ends, and the
//! end is reported with who ended it and why.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Utf8Bytes};

use super::dial::{Dialed, Ws};
use super::event::{
    Cause, ClosedBy, Command, Dir, DropReason, Event, Failure, Kind, Message, Phase,
};
use super::heartbeat::{Beat, Heartbeat};
use super::sink::{MAX_BURST, MAX_BURST_BYTES};
use super::task::{Next, Outgoing, Task};

/// How long a close handshake may take before the socket is dropped anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How an open connection ended.
enum End {
    /// The server sent a close frame.
    ServerClose(Option<u16>, String),
    /// The connection broke; `Some(code)` is the close code we send on the way out.
    Broken(Failure, Option<u16>),
    /// No answer to the heartbeat.
    Dead,
    /// The user or the shutdown asked to close.
    User(UserClose),
}

enum UserClose {
    Close(u16, String),
    Reconnect,
    Shutdown,
}

impl Task {
    pub(super) async fn connected(&mut self, dialed: Dialed) -> Next {
        let mut ws = dialed.ws;
        let mut info = dialed.info;
        info.attempt = self.attempt;
        self.attempt = 0;
        let opened = Instant::now();
        self.sink.push(Event::Open(Arc::new(info)));
        if !self.sink.flush().await {
            return Next::Exit;
        }

        let end = match self.flush_queue(&mut ws).await {
            Err(end) => end,
            Ok(()) => self.pump(&mut ws, opened).await,
        };
        let uptime = opened.elapsed();
        match end {
            End::ServerClose(code, reason) => {
                // tungstenite answers the close; keep reading so the answer goes out.
                let _ =
                    tokio::time::timeout(CLOSE_GRACE, async { while ws.next().await.is_some() {} })
                        .await;
                self.push_closed(code, reason, ClosedBy::Server, uptime);
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
                self.sink.push(Event::Error(Arc::new(failure)));
                self.push_closed(
                    Some(send_code.unwrap_or(1006)),
                    String::new(),
                    ClosedBy::Error,
                    uptime,
                );
                self.schedule_retry(None)
            }
            End::Dead => {
                let timeout = crate::text::duration(self.s.pong_timeout);
                let reason = format!("no pong for {timeout}");
                self.sink.push(Event::Error(Arc::new(Failure::new(
                    Cause::Timeout,
                    Phase::Open,
                    format!("{reason}: the peer or the path is gone (half-open connection)"),
                ))));
                // The peer is not listening; do not wait for a close handshake.
                drop(ws);
                self.push_closed(None, reason, ClosedBy::Heartbeat, uptime);
                self.schedule_retry(None)
            }
            End::User(how) => {
                let (code, reason, next) = match how {
                    UserClose::Close(code, reason) => (code, reason, Next::Idle),
                    UserClose::Reconnect => (1000, "reconnect".to_string(), Next::Dial),
                    UserClose::Shutdown => (1001, "going away".to_string(), Next::Exit),
                };
                self.sink.push(Event::Closing {
                    code,
                    reason: reason.clone(),
                });
                let _ = self.sink.flush().await;
                close_politely(&mut ws, code, &reason).await;
                self.push_closed(Some(code), reason, ClosedBy::Client, opened.elapsed());
                if matches!(next, Next::Dial) {
                    self.backoff.reset();
                }
                next
            }
        }
    }

    /// Sends what waited while the connection was down, in order.
    async fn flush_queue(&mut self, ws: &mut Ws) -> Result<(), End> {
        while let Some(o) = self.queue.pop_front() {
            if let Err(e) = ws.send(to_ws_message(o.kind, o.data.clone())).await {
                self.queue.push_front(o);
                return Err(broken(e));
            }
            self.sink.push(Event::Message(Message {
                dir: Dir::Out,
                kind: o.kind,
                data: o.data,
                id: o.id,
            }));
        }
        Ok(())
    }

    /// Runs an open connection until it ends.
    async fn pump(&mut self, ws: &mut Ws, opened: Instant) -> End {
        let first_ping = match self.s.ping_interval {
            // In a fleet, the first ping comes at a random point of the second half of the
            // interval, so connections opened together do not ping together forever.
            Some(i) if !self.s.stagger.is_zero() => i / 2 + self.random_part(i / 2),
            Some(i) => i,
            None => Duration::ZERO,
        };
        let mut hb = Heartbeat::starting_after(
            self.s.ping_interval,
            self.s.pong_timeout,
            opened,
            first_ping,
        );
        let stable_at = opened + self.s.stable_after;
        let mut stable = false;
        loop {
            let beat_at = hb.next_deadline();
            tokio::select! {
                biased;
                cmd = self.cmds.recv() => {
                    if let Some(end) = self.open_command(cmd, ws, &mut hb).await {
                        return end;
                    }
                }
                _ = crate::deadline::sleep_until(beat_at) => {
                    match hb.poll(Instant::now()) {
                        Some(Beat::Dead) => return End::Dead,
                        Some(Beat::Ping(seq)) => {
                            if let Err(end) = self.send_ping(ws, seq).await {
                                return end;
                            }
                            // A scheduled ping travels with its answer (or the verdict) in one
                            // batch: half the wake-ups for a fleet that is only heartbeating.
                            continue;
                        }
                        None => {}
                    }
                }
                item = ws.next() => {
                    let at = SystemTime::now();
                    let now = Instant::now();
                    if let Some(end) = self.on_frame(item, at, now, &mut hb) {
                        return end;
                    }
                    // Drain whatever else is already buffered into the same batch.
                    for _ in 1..MAX_BURST {
                        if self.sink.batch_bytes >= MAX_BURST_BYTES {
                            break;
                        }
                        match ws.next().now_or_never() {
                            Some(item) => {
                                if let Some(end) = self.on_frame(item, at, now, &mut hb) {
                                    return end;
                                }
                            }
                            None => break,
                        }
                    }
                }
                _ = sleep_until(stable_at), if !stable => {
                    stable = true;
                    self.backoff.reset();
                }
            }
            if !self.sink.flush().await {
                return End::User(UserClose::Shutdown);
            }
        }
    }

    /// Sends ping `seq` (scheduled or asked for) and reports it.
    async fn send_ping(&mut self, ws: &mut Ws, seq: u64) -> Result<(), End> {
        let payload = Bytes::copy_from_slice(&Heartbeat::payload(seq));
        ws.send(tungstenite::Message::Ping(payload))
            .await
            .map_err(broken)?;
        self.sink.push(Event::Ping { seq });
        Ok(())
    }

    async fn open_command(
        &mut self,
        cmd: Option<Command>,
        ws: &mut Ws,
        hb: &mut Heartbeat,
    ) -> Option<End> {
        match cmd {
            None | Some(Command::Shutdown) => Some(End::User(UserClose::Shutdown)),
            Some(Command::Tap(tap)) => {
                self.sink.set_tap(tap).await;
                None
            }
            Some(Command::Reconnect) => Some(End::User(UserClose::Reconnect)),
            Some(Command::Close { code, reason }) => {
                Some(End::User(UserClose::Close(code, reason)))
            }
            Some(Command::Ping) => {
                let seq = hb.ping_sent(Instant::now());
                self.send_ping(ws, seq).await.err()
            }
            Some(Command::Send { kind, data }) => {
                let id = self.take_id();
                if data.len() > self.s.max_message_size {
                    self.sink.push(Event::Dropped {
                        id,
                        kind,
                        data,
                        reason: DropReason::TooLarge,
                    });
                    return None;
                }
                if let Err(e) = ws.send(to_ws_message(kind, data.clone())).await {
                    // Not sent: it waits for the next connection like any other.
                    self.hold(Outgoing { id, kind, data }, true);
                    return Some(broken(e));
                }
                self.sink.push(Event::Message(Message {
                    dir: Dir::Out,
                    kind,
                    data,
                    id,
                }));
                None
            }
        }
    }

    fn on_frame(
        &mut self,
        item: Option<Result<tungstenite::Message, tungstenite::Error>>,
        at: SystemTime,
        now: Instant,
        hb: &mut Heartbeat,
    ) -> Option<End> {
        let msg = match item {
            None => return Some(broken(tungstenite::Error::ConnectionClosed)),
            Some(Err(e)) => return Some(broken(e)),
            Some(Ok(m)) => m,
        };
        hb.frame_received();
        let event = match msg {
            tungstenite::Message::Text(t) => Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data: Bytes::from(t),
                id: 0,
            }),
            tungstenite::Message::Binary(b) => Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Binary,
                data: b,
                id: 0,
            }),
            tungstenite::Message::Ping(_) => Event::PeerPing,
            tungstenite::Message::Pong(p) => match hb.pong_received(&p, now) {
                Some(rtt) => Event::Rtt(rtt),
                None => return None,
            },
            tungstenite::Message::Close(frame) => {
                let (code, reason) = match frame {
                    Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                    None => (Some(1005), String::new()),
                };
                return Some(End::ServerClose(code, reason));
            }
            tungstenite::Message::Frame(_) => return None,
        };
        self.sink.push_at(at, event);
        None
    }
}

fn to_ws_message(kind: Kind, data: Bytes) -> tungstenite::Message {
    match kind {
        // Frontends only send text from Rust strings; anything else goes out as binary.
        Kind::Text => match Utf8Bytes::try_from(data.clone()) {
            Ok(text) => tungstenite::Message::Text(text),
            Err(_) => tungstenite::Message::Binary(data),
        },
        Kind::Binary => tungstenite::Message::Binary(data),
    }
}

/// Classifies a socket error on an open connection, with the close code to send if any.
fn broken(e: tungstenite::Error) -> End {
    let (cause, message, code) = match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => (
            Cause::Io,
            "the connection ended without a close frame (1006 abnormal closure)".to_string(),
            None,
        ),
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => (
            Cause::Io,
            "the server dropped the TCP connection without a close frame (1006 abnormal closure)"
                .to_string(),
            None,
        ),
        tungstenite::Error::Io(io) => {
            let what = match io.kind() {
                std::io::ErrorKind::ConnectionReset => {
                    "connection reset by peer (TCP RST)".to_string()
                }
                std::io::ErrorKind::BrokenPipe => {
                    "connection broken while sending (peer gone)".to_string()
                }
                std::io::ErrorKind::UnexpectedEof => {
                    "the connection ended in the middle of a frame".to_string()
                }
                _ => format!("socket error: {io}"),
            };
            (Cause::Io, what, None)
        }
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
            Cause::Protocol,
            format!(
                "incoming message of {size} bytes is larger than max_message_size ({max_size} bytes): raise max_message_size to accept it"
            ),
            Some(1009),
        ),
        tungstenite::Error::Capacity(other) => (
            Cause::Protocol,
            format!("{other}: raise max_message_size"),
            Some(1009),
        ),
        tungstenite::Error::Utf8(detail) => (
            Cause::Protocol,
            format!("the server sent a text message that is not valid UTF-8 ({detail})"),
            Some(1007),
        ),
        tungstenite::Error::Protocol(p) => (
            Cause::Protocol,
            format!("WebSocket protocol violation by the server: {p}"),
            Some(1002),
        ),
        other => (Cause::Io, other.to_string(), None),
    };
    End::Broken(Failure::new(cause, Phase::Open, message), code)
}

/// Sends a close frame and waits (briefly) for the server's answer and the end of the stream.
async fn close_politely(ws: &mut Ws, code: u16, reason: &str) {
    let mut reason = reason.to_string();
    while reason.len() > 123 {
        reason.pop();
    }
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from(reason),
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        if ws.close(Some(frame)).await.is_ok() {
            while ws.next().await.is_some() {}
        }
    })
    .await;
}
