//! The socket task while a connection is open. Reads, writes, commands and timers are served
//! together: a write that waits for the socket never holds up a read, the heartbeat or a
//! shutdown, and a socket that takes nothing for `pong_timeout` is a dead peer. A preset's
//! handshake comes first, then the `on_open` messages, then what was queued; the end is
//! reported with who ended the connection and why.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{FutureExt, Sink, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Utf8Bytes};

use super::dial::{Dialed, Ws};
use super::event::{
    Cause, ClosedBy, Command, Dir, DropReason, Event, Failure, Kind, Message, Phase,
};
use super::heartbeat::{AppHeartbeat, Beat, Heartbeat};
use super::protocol::{self, Driver, Seen};
use super::settings::StaleAction;
use super::sink::{MAX_BURST, MAX_BURST_BYTES};
use super::task::{Next, Outgoing, Task};

/// How long a close handshake may take before the socket is dropped anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Why the heartbeat gave up on the peer.
enum Why {
    /// No frame at all after a WebSocket ping; `answered`: a ping of this connection was
    /// answered before.
    NoPong { answered: bool },
    /// No message matching `app_pong` after `app_ping`.
    NoAppPong,
    /// The socket took none of our bytes.
    WriteStall(usize),
    /// The protocol's own heartbeat (a Socket.IO server's pings) stopped.
    Protocol(String),
}

/// How an open connection ended.
enum End {
    /// The server sent a close frame.
    ServerClose(Option<u16>, String),
    /// The connection broke; `Some(code)` is the close code we send on the way out.
    Broken(Failure, Option<u16>),
    /// The heartbeat declared the peer dead.
    Dead(Why),
    /// No data for `stale_after`, and the action is to reconnect.
    Stale(Duration),
    /// The user or the shutdown asked to close.
    User(UserClose),
}

enum UserClose {
    Close(u16, String),
    Reconnect,
    Shutdown,
}

/// Something on its way to the socket, and what to report once it is written.
struct Outbound {
    frame: tungstenite::Message,
    /// Reported when written (a sent message, a ping); `None` for what was reported already.
    report: Option<Event>,
    /// A message of the user's: if the connection breaks before it is written, it waits for
    /// the next one.
    held: Option<Outgoing>,
}

/// The writing half of a connection and what waits for it.
struct Writer {
    outbox: VecDeque<Outbound>,
    /// Handed to the socket, not yet flushed.
    unflushed: Vec<Outbound>,
    /// The last time the socket took bytes (or the first time there was something to write).
    progress: Option<Instant>,
}

/// One open connection's state.
struct Conn {
    /// The socket, whole: reads and writes are polled by one future (`Io`), so a message
    /// read takes no lock, as a split socket's halves would.
    ws: Ws,
    writer: Writer,
    hb: Heartbeat,
    app: Option<AppHeartbeat>,
    protocol: Option<Box<dyn Driver>>,
    /// The preset's handshake is done (always, without a preset): the user's sends go out.
    ready: bool,
    last_data: Instant,
    stale_since: Option<Instant>,
    stable_at: Option<Instant>,
    replies: u64,
}

/// What the socket did: took the queued writes (or failed to), or gave a frame.
enum Io {
    Wrote(Result<(), tungstenite::Error>),
    Read(Option<Result<tungstenite::Message, tungstenite::Error>>),
}

impl Conn {
    /// Polls the socket: the writes first (when there are some), then a read. A write that
    /// cannot progress does not keep reads from being served.
    fn poll_io(
        &mut self,
        cx: &mut Context<'_>,
        writes: bool,
        written: &mut Vec<Outbound>,
    ) -> Poll<Io> {
        if writes && let Poll::Ready(done) = self.writer.poll_write(&mut self.ws, cx, written) {
            return Poll::Ready(Io::Wrote(done));
        }
        self.ws.poll_next_unpin(cx).map(Io::Read)
    }

    /// Queues a frame; `front` puts it before what waits (pings: they measure the path, not
    /// the queue).
    fn push(&mut self, o: Outbound, front: bool, now: Instant) {
        self.writer.push(o, front, now);
    }

    fn has_writes(&self) -> bool {
        self.writer.has_writes()
    }
}

impl Writer {
    fn push(&mut self, o: Outbound, front: bool, now: Instant) {
        if self.outbox.is_empty() && self.unflushed.is_empty() {
            self.progress = Some(now);
        }
        if front {
            self.outbox.push_front(o);
        } else {
            self.outbox.push_back(o);
        }
    }

    fn has_writes(&self) -> bool {
        !self.outbox.is_empty() || !self.unflushed.is_empty()
    }

    /// Hands what waits to the socket and flushes; `Ready` when everything is written.
    fn poll_write(
        &mut self,
        ws: &mut Ws,
        cx: &mut Context<'_>,
        written: &mut Vec<Outbound>,
    ) -> Poll<Result<(), tungstenite::Error>> {
        while !self.outbox.is_empty() {
            match Pin::new(&mut *ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            let o = self.outbox.pop_front().expect("not empty");
            Pin::new(&mut *ws).start_send(o.frame.clone())?;
            self.progress = Some(Instant::now());
            self.unflushed.push(o);
        }
        match Pin::new(&mut *ws).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                written.append(&mut self.unflushed);
                self.progress = None;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Task {
    pub(super) async fn connected(&mut self, dialed: Dialed) -> Next {
        let mut info = dialed.info;
        info.attempt = self.attempt;
        let opened = Instant::now();
        self.sink.push(Event::Open(Arc::new(info)));
        if !self.sink.flush().await {
            return Next::Exit;
        }
        let mut conn = self.open_state(dialed.ws, opened);
        let end = self.serve(&mut conn).await;
        let Conn {
            ws,
            writer: Writer {
                outbox, unflushed, ..
            },
            ..
        } = conn;
        // What the user asked to send and the socket did not take waits for the next one.
        let held: Vec<Outgoing> = unflushed
            .into_iter()
            .chain(outbox)
            .filter_map(|o| o.held)
            .collect();
        for o in held.into_iter().rev() {
            self.hold(o, true);
        }
        self.ended(end, ws, opened).await
    }

    /// The state of a connection that opened at `opened`.
    fn open_state(&mut self, ws: Ws, opened: Instant) -> Conn {
        let first_ping = match self.s.ping_interval {
            // In a fleet, the first ping comes at a random point of the second half of the
            // interval, so connections opened together do not ping together forever.
            Some(i) if !self.s.stagger.is_zero() => i / 2 + self.random_part(i / 2),
            Some(i) => i,
            None => Duration::ZERO,
        };
        let hb = Heartbeat::starting_after(
            self.s.ping_interval,
            self.s.pong_timeout,
            opened,
            first_ping,
        );
        let app = match (&self.s.app_ping, self.s.ping_interval) {
            (Some(_), Some(interval)) => Some(AppHeartbeat::new(interval, self.s.pong_timeout)),
            _ => None,
        };
        let protocol = self.s.preset.map(|p| protocol::driver(p, &self.s, opened));
        let mut conn = Conn {
            ws,
            writer: Writer {
                outbox: VecDeque::new(),
                unflushed: Vec::new(),
                progress: None,
            },
            hb,
            app,
            ready: protocol.is_none(),
            protocol,
            last_data: opened,
            stale_since: None,
            stable_at: Some(opened + self.s.stable_after),
            replies: 0,
        };
        if let Some(p) = conn.protocol.as_mut() {
            for text in p.greet(opened) {
                conn.push(outgoing_text(text), false, opened);
            }
        }
        if conn.ready {
            self.became_ready(&mut conn, opened, first_ping);
        }
        conn
    }

    /// The handshake is done (or there is none): the `on_open` messages, then what was
    /// queued, go out; the application heartbeat starts.
    fn became_ready(&mut self, conn: &mut Conn, now: Instant, first: Duration) {
        conn.ready = true;
        // The outage is over only now: a connection whose handshake fails counts as a failed
        // attempt (max_attempts gives up on a namespace the server refuses every time).
        self.attempt = 0;
        for text in &self.s.on_open {
            conn.push(outgoing_text(text.clone()), false, now);
        }
        while let Some(o) = self.queue.pop_front() {
            conn.push(user_message(o), false, now);
        }
        if let Some(app) = conn.app.as_mut() {
            app.start(now, first.max(Duration::from_millis(1)));
        }
    }

    /// Serves an open connection until it ends.
    async fn serve(&mut self, conn: &mut Conn) -> End {
        let first_app_ping = self.s.ping_interval.unwrap_or_default();
        loop {
            let now = Instant::now();
            let timer = self.next_timer(conn);
            let writes = conn.has_writes();
            let mut written = Vec::new();
            tokio::select! {
                biased;
                cmd = self.cmds.recv() => {
                    if let Some(end) = self.open_command(cmd, conn, now).await {
                        return end;
                    }
                }
                io = futures_util::future::poll_fn(|cx| conn.poll_io(cx, writes, &mut written)) => match io {
                    Io::Wrote(done) => {
                        // A heartbeat ping's event travels with its answer (or the verdict) in
                        // one batch: half the wake-ups for a fleet that is only heartbeating.
                        let only_pings = !written.is_empty()
                            && written.iter().all(|o| matches!(o.report, Some(Event::Ping { app: false, .. })));
                        for o in written.drain(..) {
                            if let Some(e) = o.report {
                                self.sink.push(e);
                            }
                        }
                        if let Err(e) = done {
                            return broken(e);
                        }
                        if only_pings {
                            continue;
                        }
                    }
                    Io::Read(item) => {
                    let at = SystemTime::now();
                    let now = Instant::now();
                    if let Some(end) = self.on_frame(item, at, now, conn, first_app_ping) {
                        return end;
                    }
                    // Drain whatever else is already buffered into the same batch.
                    for _ in 1..MAX_BURST {
                        if self.sink.batch_bytes >= MAX_BURST_BYTES {
                            break;
                        }
                        match conn.ws.next().now_or_never() {
                            Some(item) => {
                                if let Some(end) = self.on_frame(item, at, now, conn, first_app_ping) {
                                    return end;
                                }
                            }
                            None => break,
                        }
                    }
                    }
                },
                _ = crate::deadline::sleep_until(timer) => {
                    if let Some(end) = self.on_timer(conn, Instant::now()) {
                        return end;
                    }
                }
            }
            if !self.sink.flush().await {
                return End::User(UserClose::Shutdown);
            }
        }
    }

    /// The next instant a timer of this connection is due.
    fn next_timer(&self, conn: &Conn) -> Option<Instant> {
        let stall = conn
            .writer
            .progress
            .filter(|_| conn.has_writes())
            .map(|t| t + self.s.pong_timeout);
        let stale = match (self.s.stale_after, conn.stale_since) {
            (Some(after), None) => Some(conn.last_data + after),
            _ => None,
        };
        let protocol = conn
            .protocol
            .as_ref()
            .and_then(|p| p.deadline())
            .map(|(t, _)| t);
        [
            conn.hb.next_deadline(),
            conn.app.as_ref().and_then(AppHeartbeat::next_deadline),
            protocol,
            stale,
            conn.stable_at,
            stall,
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| on_grid(t, self.s.timer_grid))
    }

    /// Whatever timer is due: pings, verdicts, staleness, stability.
    fn on_timer(&mut self, conn: &mut Conn, now: Instant) -> Option<End> {
        if conn
            .writer
            .progress
            .is_some_and(|t| conn.has_writes() && now >= t + self.s.pong_timeout)
        {
            return Some(End::Dead(Why::WriteStall(
                conn.writer.outbox.len() + conn.writer.unflushed.len(),
            )));
        }
        if let Some(p) = conn.protocol.as_ref()
            && let Some((due, why)) = p.deadline()
            && now >= due
        {
            if !conn.ready {
                return Some(End::Broken(
                    Failure::new(Cause::Timeout, Phase::App, why),
                    Some(1000),
                ));
            }
            return Some(End::Dead(Why::Protocol(why)));
        }
        match conn.hb.poll(now) {
            Some(Beat::Dead) => {
                return Some(End::Dead(Why::NoPong {
                    answered: conn.hb.answered_any(),
                }));
            }
            Some(Beat::Ping(seq)) => conn.push(ws_ping(seq), true, now),
            None => {}
        }
        if conn.ready
            && let Some(app) = conn.app.as_mut()
        {
            match app.poll(now) {
                Some(Beat::Dead) => return Some(End::Dead(Why::NoAppPong)),
                Some(Beat::Ping(seq)) => {
                    let text = self.s.app_ping.clone().unwrap_or_default();
                    let mut o = outgoing_text(text);
                    o.report = Some(Event::Ping { seq, app: true });
                    conn.push(o, true, now);
                }
                None => {}
            }
        }
        if let (Some(after), None) = (self.s.stale_after, conn.stale_since)
            && now >= conn.last_data + after
        {
            conn.stale_since = Some(conn.last_data);
            let silent = now - conn.last_data;
            self.sink.push(Event::Stale { silent });
            if self.s.stale_action == StaleAction::Reconnect {
                return Some(End::Stale(silent));
            }
        }
        if conn.stable_at.is_some_and(|t| now >= t) {
            conn.stable_at = None;
            self.backoff.reset();
        }
        None
    }

    async fn open_command(
        &mut self,
        cmd: Option<Command>,
        conn: &mut Conn,
        now: Instant,
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
                let seq = conn.hb.ping_sent(now);
                conn.push(ws_ping(seq), true, now);
                None
            }
            Some(Command::Send { kind, data }) => {
                let id = self.take_id();
                let o = Outgoing { id, kind, data };
                if o.data.len() > self.s.max_message_size {
                    self.sink.push(Event::Dropped {
                        id,
                        kind,
                        data: o.data,
                        reason: DropReason::TooLarge,
                    });
                } else if conn.ready {
                    conn.push(user_message(o), false, now);
                } else {
                    // The handshake is not done: it waits like a message sent while down.
                    self.hold(o, false);
                }
                None
            }
        }
    }

    fn on_frame(
        &mut self,
        item: Option<Result<tungstenite::Message, tungstenite::Error>>,
        at: SystemTime,
        now: Instant,
        conn: &mut Conn,
        first_app_ping: Duration,
    ) -> Option<End> {
        let msg = match item {
            None => return Some(broken(tungstenite::Error::ConnectionClosed)),
            Some(Err(e)) => return Some(broken(e)),
            Some(Ok(m)) => m,
        };
        conn.hb.frame_received();
        // Only a connection that answers texts (a preset, an application heartbeat, auto
        // replies) looks at them; a flood of plain data goes straight through.
        let looks = conn.protocol.is_some() || conn.app.is_some() || !self.s.auto_reply.is_empty();
        let (kind, data) = match msg {
            tungstenite::Message::Text(t) => (Kind::Text, Bytes::from(t)),
            tungstenite::Message::Binary(b) => (Kind::Binary, b),
            tungstenite::Message::Ping(_) => {
                self.sink.push_at(at, Event::PeerPing);
                return None;
            }
            tungstenite::Message::Pong(p) => {
                if let Some(rtt) = conn.hb.pong_received(&p, now) {
                    self.sink.push_at(at, Event::Rtt { rtt, app: false });
                }
                return None;
            }
            tungstenite::Message::Close(frame) => {
                let (code, reason) = match frame {
                    Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                    None => (Some(1005), String::new()),
                };
                return Some(End::ServerClose(code, reason));
            }
            tungstenite::Message::Frame(_) => return None,
        };
        let received = |data: Bytes| {
            Event::Message(Message {
                dir: Dir::In,
                kind,
                data,
                id: 0,
            })
        };
        let text = match kind {
            Kind::Text if looks => std::str::from_utf8(&data).ok(),
            _ => None,
        };
        if let Some(text) = text {
            // The preset's own traffic first.
            let seen = conn.protocol.as_mut().map(|p| p.on_text(text, now));
            match seen {
                None | Some(Seen::Data) => {}
                Some(Seen::Control) => {
                    self.sink.push_at(at, received(data));
                    return None;
                }
                Some(Seen::Handshake(reply)) => {
                    self.sink.push_at(at, received(data));
                    conn.push(outgoing_text(reply), false, now);
                    return None;
                }
                Some(Seen::Answer(reply)) => {
                    self.auto_reply(conn, data, reply, at, now);
                    return None;
                }
                Some(Seen::Ready(detail)) => {
                    self.sink.push_at(at, received(data));
                    let protocol = conn.protocol.as_ref().map_or("", |p| p.name());
                    self.sink.push_at(at, Event::Ready { protocol, detail });
                    self.became_ready(conn, now, first_app_ping);
                    return None;
                }
                Some(Seen::Failed(why)) => {
                    self.sink.push_at(at, received(data));
                    return Some(End::Broken(
                        Failure::new(Cause::Protocol, Phase::App, why),
                        Some(1000),
                    ));
                }
            }
            if let (Some(app), Some(re)) = (conn.app.as_mut(), self.s.app_pong.as_ref())
                && re.is_match(text)
            {
                if let Some(rtt) = app.answered(now) {
                    self.sink.push_at(at, Event::Rtt { rtt, app: true });
                }
                return None;
            }
            if let Some(rule) = self.s.auto_reply.iter().find(|r| r.when.is_match(text)) {
                let reply = rule.send.clone();
                self.auto_reply(conn, data, reply, at, now);
                return None;
            }
        }
        // Data: it keeps the feed fresh.
        conn.last_data = now;
        if let Some(since) = conn.stale_since.take() {
            self.sink.push_at(
                at,
                Event::Fresh {
                    silent: now - since,
                },
            );
        }
        self.sink.push_at(at, received(data));
        None
    }

    /// Answers `received` with `reply`, counted, not data.
    fn auto_reply(
        &mut self,
        conn: &mut Conn,
        received: Bytes,
        reply: String,
        at: SystemTime,
        now: Instant,
    ) {
        conn.replies += 1;
        self.sink.push_at(
            at,
            Event::AutoReply {
                received: String::from_utf8_lossy(&received).into(),
                sent: reply.as_str().into(),
                count: conn.replies,
            },
        );
        let mut o = outgoing_text(reply);
        o.report = None;
        conn.push(o, false, now);
    }

    /// Reports how the connection ended and decides what comes next.
    async fn ended(&mut self, end: End, mut ws: Ws, opened: Instant) -> Next {
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
            End::Dead(why) => {
                let (reason, message) = self.verdict(&why, uptime);
                self.sink.push(Event::Error(Arc::new(Failure::new(
                    Cause::Timeout,
                    Phase::Open,
                    message,
                ))));
                // The peer is not listening; do not wait for a close handshake.
                drop(ws);
                self.push_closed(None, reason, ClosedBy::Heartbeat, uptime);
                self.schedule_retry(None)
            }
            End::Stale(silent) => {
                let reason = format!(
                    "no data for {} (stale_after)",
                    crate::text::duration(silent)
                );
                self.sink.push(Event::Closing {
                    code: 1000,
                    reason: reason.clone(),
                });
                let _ = self.sink.flush().await;
                close_politely(&mut ws, 1000, &reason).await;
                self.push_closed(Some(1000), reason, ClosedBy::Stale, uptime);
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

    /// The heartbeat's verdict in words: the short reason of the close, and what was seen.
    fn verdict(&self, why: &Why, uptime: Duration) -> (String, String) {
        let timeout = crate::text::duration(self.s.pong_timeout);
        match why {
            Why::NoPong { answered } => {
                let reason = format!("no pong for {timeout}");
                // A pong earlier on this connection: the peer stopped answering. None at all:
                // it accepts connections but does not answer pings.
                let seen = if *answered {
                    "the peer answered pings and then went silent: the peer or the path is gone (half-open connection)".to_string()
                } else {
                    format!(
                        "the server accepted the connection {} ago but has answered no ping on it: it does not answer pings, or the path drops them",
                        crate::text::duration(uptime)
                    )
                };
                (reason.clone(), format!("{reason}: {seen}"))
            }
            Why::NoAppPong => {
                let pattern = self.s.app_pong.as_ref().map_or("", |r| r.as_str());
                let reason = format!("no application pong for {timeout}");
                (
                    reason.clone(),
                    format!(
                        "{reason}: nothing matching `{pattern}` answered `{}`: the server's application is not answering (WebSocket pings may still be)",
                        self.s.app_ping.as_deref().unwrap_or("")
                    ),
                )
            }
            Why::WriteStall(waiting) => {
                let reason = format!("nothing written for {timeout}");
                (
                    reason.clone(),
                    format!(
                        "{reason}: the peer stopped reading ({waiting} message{} waiting): the peer is frozen or the path is black-holed",
                        if *waiting == 1 { "" } else { "s" }
                    ),
                )
            }
            Why::Protocol(words) => ("protocol heartbeat stopped".into(), words.clone()),
        }
    }
}

/// A WebSocket ping carrying its sequence number.
fn ws_ping(seq: u64) -> Outbound {
    Outbound {
        frame: tungstenite::Message::Ping(Bytes::copy_from_slice(&Heartbeat::payload(seq))),
        report: Some(Event::Ping { seq, app: false }),
        held: None,
    }
}

/// A text wsmon sends on its own (a handshake, an `on_open` message), reported as sent.
fn outgoing_text(text: String) -> Outbound {
    let data = Bytes::from(text);
    Outbound {
        frame: to_ws_message(Kind::Text, data.clone()),
        report: Some(Event::Message(Message {
            dir: Dir::Out,
            kind: Kind::Text,
            data,
            id: 0,
        })),
        held: None,
    }
}

/// A message the user sent, reported as sent once written.
fn user_message(o: Outgoing) -> Outbound {
    Outbound {
        frame: to_ws_message(o.kind, o.data.clone()),
        report: Some(Event::Message(Message {
            dir: Dir::Out,
            kind: o.kind,
            data: o.data.clone(),
            id: o.id,
        })),
        held: Some(o),
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

/// The first point of the process-wide grid of step `grid` at or after `t` (`t` itself when
/// the grid is zero): timers of many connections due within one step fire together.
fn on_grid(t: Instant, grid: Duration) -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    if grid.is_zero() {
        return t;
    }
    let epoch = *EPOCH.get_or_init(Instant::now);
    let since = t.saturating_duration_since(epoch).as_nanos();
    let step = grid.as_nanos();
    let up = since.div_ceil(step) * step;
    epoch + Duration::from_nanos(u64::try_from(up).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    #[test]
    fn timers_due_within_a_step_fire_together() {
        let t = Instant::now() + Duration::from_secs(3);
        assert_eq!(on_grid(t, Duration::ZERO), t, "no grid: exactly when due");
        let grid = Duration::from_millis(50);
        let a = on_grid(t, grid);
        let b = on_grid(t + Duration::from_millis(20), grid);
        assert!(a >= t && a - t < grid, "at most one step late");
        // Two deadlines in the same step share a wake-up, or sit in neighbouring ones.
        assert!(b == a || b == a + grid);
        assert_eq!(on_grid(a, grid), a, "a point of the grid stays");
    }
}
