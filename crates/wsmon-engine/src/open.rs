//! The socket task while a connection is open. Reads, writes, commands and timers are served
//! together: a write that waits for the socket never holds up a read, the heartbeat or a
//! shutdown, and a socket that takes nothing for `pong_timeout` is a dead peer. A preset's
//! handshake comes first, then the `on_open` messages, then what was queued. `writer` holds
//! what waits for the socket; `ending` reports who ended the connection and why.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::batcher::{MAX_BURST, MAX_BURST_BYTES};
use super::command::Command;
use super::dial::{Dialed, Ws};
use super::ending::{End, UserClose, Why, broken};
use super::event::{Cause, Dir, Event, Failure, Kind, Message, Phase, preview};
use super::heartbeat::{AppHeartbeat, Beat, Heartbeat};
use super::ledger::{Ledger, Unsettled};
use super::preset_io::Reacted;
use super::problem::Problem;
use super::protocol::{self, Due};
use super::settings::StaleAction;
use super::task::{Next, Outgoing, Task};
use super::writer::{Outbound, Writer, payload_out, ws_ping};

/// One open connection's state.
struct Conn {
    /// The socket, whole: reads and writes are polled by one future (`SocketTurn`), so a message
    /// read takes no lock, as a split socket's halves would.
    ws: Ws,
    writer: Writer,
    hb: Heartbeat,
    /// The application heartbeat, from the end of the handshake.
    app: Option<AppHeartbeat>,
    /// The preset's handshake is done (always, without a preset): the user's sends go out.
    ready: bool,
    last_data: Instant,
    stale_since: Option<Instant>,
    stable_at: Option<Instant>,
    /// The user's messages written and not yet acknowledged by the peer's TCP.
    ledger: Ledger,
    /// When the ledger next asks the kernel what was acknowledged.
    ledger_due: Option<Instant>,
}

/// What the socket did: took the queued writes (or failed to), or gave a frame.
enum SocketTurn {
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
    ) -> Poll<SocketTurn> {
        if writes && let Poll::Ready(done) = self.writer.poll_write(&mut self.ws, cx, written) {
            return Poll::Ready(SocketTurn::Wrote(done));
        }
        self.ws.poll_next_unpin(cx).map(SocketTurn::Read)
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

/// Pending writes that have made no progress for this long are stalled: a close frame is
/// not even tried.
const STALLED_AFTER: Duration = Duration::from_millis(250);
/// How often the ledger asks the kernel what the peer acknowledged, while messages wait.
const LEDGER_EVERY: Duration = Duration::from_millis(200);

impl Task {
    pub(super) async fn connected(&mut self, dialed: Dialed) -> Next {
        let mut info = dialed.info;
        info.attempt = self.attempt;
        let opened = Instant::now();
        let subprotocol = info.subprotocol.clone();
        self.batcher.push(Event::Open(Arc::new(info)));
        if !self.batcher.flush().await {
            return Next::Exit;
        }
        let mut conn = self.open_state(dialed.ws, opened, subprotocol.as_deref());
        let end = self.serve(&mut conn).await;
        let Conn {
            ws,
            writer:
                Writer {
                    outbox,
                    unflushed,
                    batch_start,
                    progress,
                },
            ledger,
            ..
        } = conn;
        // Writes that cannot progress: a close frame would not get through either.
        let stalled = progress.is_some_and(|t| t.elapsed() >= STALLED_AFTER);
        let unsettled = Unsettled {
            ledger,
            unflushed,
            outbox,
            batch_start,
            stalled,
        };
        self.ended(end, ws, opened, unsettled).await
    }

    /// The state of a connection that opened at `opened`, the server having chosen
    /// `subprotocol`; the preset's handshake begins.
    fn open_state(&mut self, ws: Ws, opened: Instant, subprotocol: Option<&str>) -> Conn {
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
        self.replies = 0;
        let greeting = self
            .protocol
            .as_mut()
            .map(|p| p.start(opened, subprotocol))
            .unwrap_or_default();
        let mut conn = Conn {
            ws,
            writer: Writer {
                outbox: VecDeque::new(),
                unflushed: Vec::new(),
                progress: None,
                batch_start: None,
            },
            ledger: Ledger::default(),
            ledger_due: None,
            hb,
            app: None,
            ready: self.protocol.is_none(),
            last_data: opened,
            stale_since: None,
            stable_at: Some(opened + self.s.stable_after),
        };
        for p in greeting {
            conn.push(payload_out(p), false, opened);
        }
        if conn.ready {
            self.became_ready(&mut conn, opened);
        }
        conn
    }

    /// The handshake is done (or there is none): the `on_open` messages, a custom preset's
    /// subscriptions, then what was queued, go out; the application heartbeat starts, its
    /// first ping right away (in a fleet, within half an interval).
    fn became_ready(&mut self, conn: &mut Conn, now: Instant) {
        conn.ready = true;
        // The outage is over only now: a connection whose handshake fails counts as a failed
        // attempt (max_attempts gives up on a namespace the server refuses every time).
        self.attempt = 0;
        let s = self.s.clone();
        for value in &s.on_open {
            if let Some(o) = self.line_out(value) {
                conn.push(o, false, now);
            }
        }
        if let Some(template) = &s.subscribe_template {
            for sub in &s.subscribe {
                if let Some(o) = self.line_out(&template.replace("{}", sub)) {
                    conn.push(o, false, now);
                }
            }
        }
        while let Some(o) = self.queue.pop_front() {
            if let Some(out) = self.user_out(o) {
                conn.push(out, false, now);
            }
        }
        let pings = s.app_ping.is_some()
            || self
                .protocol
                .as_ref()
                .is_some_and(|p| p.app_ping().is_some());
        if let (true, Some(interval)) = (pings, protocol::app_interval(&s)) {
            let first = if s.stagger.is_zero() {
                Duration::from_millis(1)
            } else {
                self.random_part(interval / 2).max(Duration::from_millis(1))
            };
            let mut app = AppHeartbeat::new(interval, s.pong_timeout);
            app.start(now, first);
            conn.app = Some(app);
        }
    }

    /// The application ping to send now: the user's `app_ping`, or the protocol's own.
    fn app_ping_payload(&mut self) -> Option<protocol::Payload> {
        match self.s.app_ping.clone() {
            Some(value) => self.line_payload(&value),
            None => self.protocol.as_ref().and_then(|p| p.app_ping()),
        }
    }

    /// Serves an open connection until it ends.
    async fn serve(&mut self, conn: &mut Conn) -> End {
        loop {
            let timer = self.next_timer(conn);
            let writes = conn.has_writes();
            let mut written = Vec::new();
            tokio::select! {
                biased;
                cmd = self.cmds.recv() => {
                    if let Some(end) = self.open_command(cmd, conn).await {
                        return end;
                    }
                }
                io = futures_util::future::poll_fn(|cx| conn.poll_io(cx, writes, &mut written)) => match io {
                    SocketTurn::Wrote(done) => {
                        // A heartbeat ping's event travels with its answer (or the verdict) in
                        // one batch: half the wake-ups for a fleet that is only heartbeating.
                        let only_pings = !written.is_empty()
                            && written.iter().all(|o| matches!(o.report, Some(Event::Ping { app: false, .. })));
                        // A ping's round trip starts when it is written, not when it was due
                        // or asked for: the RTT is the path's, not the wait's.
                        let wrote_at = Instant::now();
                        let (mut sent, mut pings) = (Vec::new(), Vec::new());
                        for o in written.drain(..) {
                            match o.report {
                                Some(Event::Ping { seq, app: false }) => {
                                    conn.hb.written(seq, wrote_at);
                                    pings.push(seq);
                                }
                                Some(Event::Ping { seq, app: true }) => {
                                    if let Some(app) = conn.app.as_mut() {
                                        app.written(seq, wrote_at);
                                    }
                                }
                                _ => {}
                            }
                            if let Some(e) = o.report {
                                self.batcher.push(e);
                            }
                            sent.extend(o.held);
                        }
                        conn.ledger.wrote(conn.ws.get_ref().delivery(), sent, pings);
                        if conn.ledger.waiting() && conn.ledger_due.is_none() {
                            conn.ledger_due = Some(wrote_at + LEDGER_EVERY);
                        }
                        if let Err(e) = done {
                            return broken(e);
                        }
                        if only_pings {
                            continue;
                        }
                    }
                    SocketTurn::Read(item) => {
                    let at = SystemTime::now();
                    let now = Instant::now();
                    if let Some(end) = self.on_frame(item, at, now, conn) {
                        return end;
                    }
                    // Drain whatever else is already buffered into the same batch.
                    for _ in 1..MAX_BURST {
                        if self.batcher.batch_bytes >= MAX_BURST_BYTES {
                            break;
                        }
                        // Polled with this task's own waker: a stand-in waker would be swapped
                        // with it on every frame (a clone and a drop in the stream's waker slot).
                        let next = std::future::poll_fn(|cx| {
                            std::task::Poll::Ready(match conn.ws.poll_next_unpin(cx) {
                                std::task::Poll::Ready(item) => Some(item),
                                std::task::Poll::Pending => None,
                            })
                        })
                        .await;
                        match next {
                            Some(item) => {
                                if let Some(end) = self.on_frame(item, at, now, conn) {
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
            if !self.batcher.flush().await {
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
        let protocol = self.protocol.as_ref().and_then(|p| p.deadline());
        [
            conn.hb.next_deadline(),
            conn.app.as_ref().and_then(AppHeartbeat::next_deadline),
            protocol,
            stale,
            conn.stable_at,
            stall,
            conn.ledger_due,
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| on_grid(t, self.s.timer_grid))
    }

    /// Whatever timer is due: pings, verdicts, staleness, stability.
    fn on_timer(&mut self, conn: &mut Conn, now: Instant) -> Option<End> {
        if conn.ledger_due.is_some_and(|t| now >= t) {
            conn.ledger.confirm(conn.ws.get_ref().delivery());
            conn.ledger_due = conn.ledger.waiting().then_some(now + LEDGER_EVERY);
        }
        if conn
            .writer
            .progress
            .is_some_and(|t| conn.has_writes() && now >= t + self.s.pong_timeout)
        {
            return Some(End::Dead(Why::WriteStall(
                conn.writer.outbox.len() + conn.writer.unflushed.len(),
            )));
        }
        if let Some(p) = self.protocol.as_mut()
            && p.deadline().is_some_and(|due| now >= due)
        {
            match p.on_deadline(now) {
                Due::Dead(why) if !conn.ready => {
                    return Some(End::Broken(
                        Failure::new(Cause::Timeout, Phase::App, Problem::App(Box::new(why))),
                        Some(1000),
                    ));
                }
                Due::Dead(why) => return Some(End::Dead(Why::Protocol(why))),
                Due::Send(beats) => {
                    // A protocol's heart-beat: not worth a row each.
                    for p in beats {
                        let mut o = payload_out(p);
                        o.report = None;
                        conn.push(o, true, now);
                    }
                }
            }
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
                    if let Some(p) = self.app_ping_payload() {
                        let mut o = payload_out(p);
                        o.report = Some(Event::Ping { seq, app: true });
                        conn.push(o, true, now);
                    }
                }
                None => {}
            }
        }
        if let (Some(after), None) = (self.s.stale_after, conn.stale_since)
            && now >= conn.last_data + after
        {
            conn.stale_since = Some(conn.last_data);
            let silent = now - conn.last_data;
            self.batcher.push(Event::Stale { silent });
            if self.s.stale_action == StaleAction::Reconnect {
                return Some(End::Stale(silent));
            }
        }
        if conn.stable_at.is_some_and(|t| now >= t) {
            conn.stable_at = None;
            self.backoff.reset();
            self.failures = 0;
            self.short_lives = 0;
        }
        None
    }

    async fn open_command(&mut self, cmd: Option<Command>, conn: &mut Conn) -> Option<End> {
        // Not the loop's `now`: that is when it last woke, maybe long ago on an idle
        // connection, and a ping or a send is timed from when it is asked for.
        let now = Instant::now();
        match cmd {
            None | Some(Command::Shutdown) => Some(End::User(UserClose::Shutdown)),
            Some(Command::Tap(tap)) => {
                self.batcher.set_tap(tap).await;
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
            Some(Command::TooLarge { kind, preview, len }) => {
                self.too_large(kind, preview, len);
                None
            }
            Some(Command::Send { kind, data }) => {
                self.send_now(conn, kind, data, false, now);
                None
            }
            Some(Command::Emit { line }) => {
                self.send_now(conn, Kind::Text, Bytes::from(line), true, now);
                None
            }
        }
    }

    /// A message of the user's while open: out now, or (before the handshake is done)
    /// queued like a message sent while down.
    fn send_now(&mut self, conn: &mut Conn, kind: Kind, data: Bytes, typed: bool, now: Instant) {
        if data.len() > self.s.max_message_size {
            self.too_large(kind, preview(&data), data.len() as u64);
            return;
        }
        let id = self.take_id();
        let o = Outgoing::new(id, kind, data, typed);
        if !conn.ready {
            self.hold(o, false);
        } else if let Some(out) = self.user_out(o) {
            conn.push(out, false, now);
        }
    }

    fn on_frame(
        &mut self,
        item: Option<Result<tungstenite::Message, tungstenite::Error>>,
        at: SystemTime,
        now: Instant,
        conn: &mut Conn,
    ) -> Option<End> {
        let msg = match item {
            None => return Some(broken(tungstenite::Error::ConnectionClosed)),
            Some(Err(tungstenite::Error::Utf8(detail))) => {
                // A close frame whose reason is not UTF-8 is the server's close, said wrong.
                return Some(
                    match conn
                        .ws
                        .get_ref()
                        .last_close_frame(|_, reason| std::str::from_utf8(reason).is_err())
                    {
                        Some((sent, bytes)) => End::BadClose(sent, bytes),
                        None => broken(tungstenite::Error::Utf8(detail)),
                    },
                );
            }
            Some(Err(e)) => return Some(broken(e)),
            Some(Ok(m)) => m,
        };
        conn.hb.frame_received();
        // Only a connection that answers messages (a preset, an application heartbeat, auto
        // replies) looks at them; a flood of plain data goes straight through.
        let looks = self.protocol.is_some() || conn.app.is_some() || !self.s.auto_reply.is_empty();
        let (kind, data) = match msg {
            tungstenite::Message::Text(t) => (Kind::Text, Bytes::from(t)),
            tungstenite::Message::Binary(b) => (Kind::Binary, b),
            tungstenite::Message::Ping(_) => {
                self.batcher.push_at(at, Event::PeerPing);
                return None;
            }
            tungstenite::Message::Pong(p) => {
                if let Some(rtt) = conn.hb.pong_received(&p, now) {
                    self.batcher.push_at(at, Event::Rtt { rtt, app: false });
                }
                if let Ok(seq) = <[u8; 8]>::try_from(&p[..]) {
                    let delivery = conn.ws.get_ref().delivery();
                    conn.ledger.pong(u64::from_be_bytes(seq), delivery);
                }
                return None;
            }
            tungstenite::Message::Close(frame) => {
                let (code, reason) = match frame {
                    Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                    None => (Some(1005), String::new()),
                };
                // tungstenite puts its own 1002 in place of a code no peer may send.
                if code == Some(1002)
                    && reason == "Protocol violation"
                    && let Some((sent, bytes)) = conn.ws.get_ref().last_close_frame(|c, _| {
                        c.is_some_and(|c| !CloseCode::from(c).is_allowed())
                    })
                {
                    return Some(End::BadClose(sent, bytes));
                }
                return Some(End::ServerClose(code, reason));
            }
            tungstenite::Message::Frame(_) => return None,
        };
        if looks {
            // The preset's own traffic first.
            if let Some(p) = self.protocol.as_mut() {
                let r = p.receive(kind, &data, now);
                if !r.acked.is_empty() {
                    conn.ledger.acked(&r.acked);
                }
                let mut out = Vec::new();
                let reacted = self.react(r, kind, &data, at, |o| out.push(o));
                for o in out {
                    conn.push(o, false, now);
                }
                match reacted {
                    Reacted::Data => {}
                    Reacted::Done => {
                        if !conn.ready && self.protocol.as_ref().is_some_and(|p| p.ready()) {
                            self.became_ready(conn, now);
                        }
                        return None;
                    }
                    Reacted::Pong => {
                        if let Some(rtt) = conn.app.as_mut().and_then(|a| a.answered(now)) {
                            self.batcher.push_at(at, Event::Rtt { rtt, app: true });
                        }
                        return None;
                    }
                    Reacted::End(end) => return Some(*end),
                }
            }
            let text = match kind {
                Kind::Text => std::str::from_utf8(&data).ok(),
                Kind::Binary => None,
            };
            if let Some(text) = text {
                if let (Some(app), Some(re)) = (conn.app.as_mut(), self.s.app_pong.as_ref())
                    && re.is_match(text)
                {
                    if let Some(rtt) = app.answered(now) {
                        self.batcher.push_at(at, Event::Rtt { rtt, app: true });
                    }
                    return None;
                }
                if let Some(rule) = self.s.auto_reply.iter().find(|r| r.when.is_match(text)) {
                    let reply = rule.send.clone();
                    if let Some(mut o) = self.line_out(&reply) {
                        o.report = None;
                        self.count_reply(&data, &reply, at);
                        conn.push(o, false, now);
                    }
                    return None;
                }
            }
        }
        // Data: it keeps the feed fresh.
        conn.last_data = now;
        if let Some(since) = conn.stale_since.take() {
            self.batcher.push_at(
                at,
                Event::Fresh {
                    silent: now - since,
                },
            );
        }
        self.batcher.push_at(
            at,
            Event::Message(Message {
                dir: Dir::In,
                kind,
                data,
                id: 0,
            }),
        );
        None
    }
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
