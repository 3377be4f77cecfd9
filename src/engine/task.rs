//! The socket task: dials, reconnects, keeps the heartbeat, queues sends, and reports events.
//! It is the only code that touches the socket, and there is one dial in flight at most
//! because every step below runs in this one task, one after the other.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Utf8Bytes};

use super::backoff::Backoff;
use super::dial::{self, Ws};
use super::event::{
    Batch, Cause, CloseInfo, ClosedBy, Command, Dir, DropReason, Event, Failure, Kind, Message,
    Phase, Stamped, Tap, Warning,
};
use super::heartbeat::{Beat, Heartbeat};
use super::settings::ConnSettings;

/// Most events put in one batch, so a flood reaches the frontend in few channel sends.
const MAX_BURST: usize = 4096;
/// Most payload bytes in one batch: with the channel's bound this caps the memory in flight
/// between the socket and the frontend (64 batches), whatever the message size.
const MAX_BURST_BYTES: usize = 256 * 1024;
/// How long a close handshake may take before the socket is dropped anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Where batches go: the engine's own channel, or a fleet's shared one with its index.
pub(super) enum Out {
    /// One engine, one channel.
    Single(mpsc::Sender<Batch>),
    /// One of many, tagged.
    Tagged(usize, mpsc::Sender<(usize, Batch)>),
}

impl Out {
    fn is_closed(&self) -> bool {
        match self {
            Out::Single(tx) => tx.is_closed(),
            Out::Tagged(_, tx) => tx.is_closed(),
        }
    }

    async fn send(&self, batch: Batch) -> bool {
        match self {
            Out::Single(tx) => tx.send(batch).await.is_ok(),
            Out::Tagged(id, tx) => tx.send((*id, batch)).await.is_ok(),
        }
    }
}

/// Collects events and hands them over in batches, to the frontend and to a recorder.
struct Sink {
    tx: Out,
    tap: Option<Tap>,
    batch: Vec<Stamped>,
    // Payload bytes in `batch`.
    batch_bytes: usize,
    // The open event of the current connection, so a recorder attached later starts from it.
    current_open: Option<Stamped>,
}

impl Sink {
    fn push(&mut self, event: Event) {
        self.push_at(SystemTime::now(), event);
    }

    fn push_at(&mut self, at: SystemTime, event: Event) {
        log_event(&event);
        if let Event::Message(m) = &event {
            self.batch_bytes += m.data.len();
        }
        match &event {
            Event::Open(_) => {
                self.current_open = Some(Stamped {
                    at,
                    event: event.clone(),
                })
            }
            Event::Closed(_) => self.current_open = None,
            _ => {}
        }
        self.batch.push(Stamped { at, event });
    }

    /// Attaches (or detaches) a recorder; one attached mid-connection first gets the open event.
    async fn set_tap(&mut self, tap: Option<Tap>) {
        if let (Some(t), Some(open)) = (&tap, &self.current_open)
            && t.0.send(Arc::new(vec![open.clone()])).await.is_err()
        {
            self.tap = None;
            return;
        }
        self.tap = tap;
    }

    /// Sends what was collected; false once no frontend listens any more.
    async fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return !self.tx.is_closed();
        }
        let batch = Arc::new(std::mem::replace(&mut self.batch, Vec::with_capacity(64)));
        self.batch_bytes = 0;
        if let Some(tap) = &self.tap
            && tap.0.send(batch.clone()).await.is_err()
        {
            // The recorder stopped; monitoring goes on.
            self.tap = None;
        }
        self.tx.send(batch).await
    }
}

/// Connection events go to the log file too (messages do not: they can be many).
fn log_event(event: &Event) {
    match event {
        Event::Connecting { attempt, url } => tracing::info!(attempt, %url, "connecting"),
        Event::Open(info) => tracing::info!(remote = %info.remote, attempt = info.attempt, "open"),
        Event::Closed(c) => {
            tracing::info!(code = ?c.code, by = c.by.as_str(), reason = %c.reason, "closed")
        }
        Event::Error(f) => {
            tracing::warn!(cause = %f.cause, phase = f.phase.as_str(), "{}", f.message)
        }
        Event::Retry { attempt, delay } => tracing::info!(
            attempt,
            delay_ms = delay.as_millis() as u64,
            "retry scheduled"
        ),
        Event::GaveUp { attempts } => tracing::warn!(attempts, "gave up"),
        Event::Warning(w) => tracing::warn!(warning = ?w, "warning"),
        _ => {}
    }
}

struct Outgoing {
    id: u64,
    kind: Kind,
    data: Bytes,
}

/// What the task does next.
enum Next {
    Dial,
    Wait(Duration),
    Idle,
    Exit,
}

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

pub(super) struct Task {
    s: Arc<ConnSettings>,
    cmds: mpsc::Receiver<Command>,
    sink: Sink,
    queue: VecDeque<Outgoing>,
    next_id: u64,
    backoff: Backoff,
    attempt: u32,
    url: Arc<str>,
}

impl Task {
    pub(super) fn new(
        s: Arc<ConnSettings>,
        cmds: mpsc::Receiver<Command>,
        tx: Out,
        tap: Option<Tap>,
    ) -> Self {
        Task {
            backoff: if s.stagger.is_zero() {
                Backoff::new(s.reconnect_min, s.reconnect_max)
            } else {
                Backoff::new(s.reconnect_min, s.reconnect_max).spread()
            },
            url: s.shown_url().into(),
            s,
            cmds,
            sink: Sink {
                tx,
                tap,
                batch: Vec::with_capacity(64),
                batch_bytes: 0,
                current_open: None,
            },
            queue: VecDeque::new(),
            next_id: 0,
            attempt: 0,
        }
    }

    pub(super) async fn run(mut self) {
        if self.s.insecure && self.s.target.is_secure() {
            self.sink.push(Event::Warning(Warning::Insecure));
        }
        // A fleet's engines start spread over the stagger window, not in one burst.
        let mut next = if self.s.stagger.is_zero() {
            Next::Dial
        } else {
            Next::Wait(random_part(self.s.stagger))
        };
        loop {
            next = match next {
                Next::Dial => self.dial_once().await,
                Next::Wait(delay) => self.wait(delay).await,
                Next::Idle => self.idle().await,
                Next::Exit => break,
            };
            if !self.sink.flush().await {
                break;
            }
        }
        // Never lose a send silently: whatever still waits is reported as not sent.
        while let Some(o) = self.queue.pop_front() {
            self.sink.push(Event::Dropped {
                id: o.id,
                kind: o.kind,
                data: o.data,
                reason: DropReason::Shutdown,
            });
        }
        self.sink.flush().await;
    }

    fn enqueue(&mut self, kind: Kind, data: Bytes) {
        self.next_id += 1;
        let id = self.next_id;
        if data.len() > self.s.max_message_size {
            self.sink.push(Event::Dropped {
                id,
                kind,
                data,
                reason: DropReason::TooLarge,
            });
        } else if self.queue.len() >= self.s.send_queue {
            self.sink.push(Event::Dropped {
                id,
                kind,
                data,
                reason: DropReason::QueueFull,
            });
        } else {
            self.queue.push_back(Outgoing {
                id,
                kind,
                data: data.clone(),
            });
            self.sink.push(Event::Queued {
                id,
                kind,
                data,
                queued: self.queue.len(),
            });
        }
    }

    /// Commands while not open; `Some` when the command changes what happens next.
    async fn offline_command(&mut self, cmd: Option<Command>) -> Option<Next> {
        match cmd {
            Some(Command::Tap(tap)) => {
                self.sink.set_tap(tap).await;
                None
            }
            None | Some(Command::Shutdown) => Some(Next::Exit),
            Some(Command::Send { kind, data }) => {
                self.enqueue(kind, data);
                None
            }
            Some(Command::Ping) => {
                self.sink.push(Event::Warning(Warning::PingNotConnected));
                None
            }
            Some(Command::Reconnect) => {
                self.backoff.reset();
                self.attempt = 0;
                Some(Next::Dial)
            }
            Some(Command::Close { .. }) => Some(Next::Idle),
        }
    }

    fn push_cancelled(&mut self) {
        self.sink.push(Event::Closed(Arc::new(CloseInfo {
            code: None,
            reason: "closed by you before connecting".into(),
            by: ClosedBy::Client,
            uptime: Duration::ZERO,
        })));
    }

    async fn dial_once(&mut self) -> Next {
        self.attempt += 1;
        self.sink.push(Event::Connecting {
            attempt: self.attempt,
            url: self.url.clone(),
        });
        if !self.sink.flush().await {
            return Next::Exit;
        }
        let s = self.s.clone();
        let deadline = Instant::now() + s.connect_timeout;
        let mut phase = Phase::Dns;
        let result = {
            let dial = dial::dial(&s, deadline, &mut phase);
            tokio::pin!(dial);
            loop {
                tokio::select! {
                    r = &mut dial => break Some(r),
                    _ = sleep_until(deadline) => break None,
                    cmd = self.cmds.recv() => {
                        if let Some(next) = self.offline_command(cmd).await {
                            if matches!(next, Next::Idle) {
                                self.push_cancelled();
                            }
                            return next;
                        }
                        if !self.sink.flush().await {
                            return Next::Exit;
                        }
                    }
                }
            }
        };
        let failure = match result {
            Some(Ok(dialed)) => return self.connected(dialed).await,
            Some(Err(f)) => f,
            None => dial::timeout_failure(phase, s.connect_timeout),
        };
        let retry_after = failure.retry_after;
        self.sink.push(Event::Error(Arc::new(failure)));
        self.schedule_retry(retry_after)
    }

    /// After a failure or drop: give up, or pick the delay before the next attempt.
    fn schedule_retry(&mut self, retry_after: Option<Duration>) -> Next {
        if self.s.max_attempts > 0 && self.attempt >= self.s.max_attempts {
            self.sink.push(Event::GaveUp {
                attempts: self.attempt,
            });
            return Next::Idle;
        }
        let mut delay = self.backoff.next_delay();
        if let Some(asked) = retry_after {
            // Honour the server's Retry-After, within reason.
            delay = delay.max(asked.min(Duration::from_secs(3600)));
        }
        self.sink.push(Event::Retry {
            attempt: self.attempt + 1,
            delay,
        });
        Next::Wait(delay)
    }

    async fn wait(&mut self, delay: Duration) -> Next {
        let until = Instant::now() + delay;
        loop {
            tokio::select! {
                _ = sleep_until(until) => return Next::Dial,
                cmd = self.cmds.recv() => {
                    if let Some(next) = self.offline_command(cmd).await {
                        if matches!(next, Next::Idle) {
                            self.push_cancelled();
                        }
                        return next;
                    }
                    if !self.sink.flush().await {
                        return Next::Exit;
                    }
                }
            }
        }
    }

    async fn idle(&mut self) -> Next {
        loop {
            let cmd = self.cmds.recv().await;
            if let Some(next) = self.offline_command(cmd).await
                && !matches!(next, Next::Idle)
            {
                return next;
            }
            if !self.sink.flush().await {
                return Next::Exit;
            }
        }
    }

    async fn connected(&mut self, dialed: dial::Dialed) -> Next {
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

    fn push_closed(&mut self, code: Option<u16>, reason: String, by: ClosedBy, uptime: Duration) {
        self.sink.push(Event::Closed(Arc::new(CloseInfo {
            code,
            reason,
            by,
            uptime,
        })));
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
            Some(i) if !self.s.stagger.is_zero() => i / 2 + random_part(i / 2),
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
                _ = sleep_until_opt(beat_at) => {
                    match hb.poll(Instant::now()) {
                        Some(Beat::Dead) => return End::Dead,
                        Some(Beat::Ping(seq)) => {
                            if let Err(e) = ws.send(tungstenite::Message::Ping(Bytes::copy_from_slice(&Heartbeat::payload(seq)))).await {
                                return broken(e);
                            }
                            self.sink.push(Event::Ping { seq });
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
                if let Err(e) = ws
                    .send(tungstenite::Message::Ping(Bytes::copy_from_slice(
                        &Heartbeat::payload(seq),
                    )))
                    .await
                {
                    return Some(broken(e));
                }
                self.sink.push(Event::Ping { seq });
                None
            }
            Some(Command::Send { kind, data }) => {
                self.next_id += 1;
                let id = self.next_id;
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
                    self.queue.push_front(Outgoing {
                        id,
                        kind,
                        data: data.clone(),
                    });
                    self.sink.push(Event::Queued {
                        id,
                        kind,
                        data,
                        queued: self.queue.len(),
                    });
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

/// A uniformly random duration in `[0, d]`.
fn random_part(d: Duration) -> Duration {
    use rand::RngExt;
    Duration::from_nanos(rand::rng().random_range(0..=d.as_nanos() as u64))
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
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
