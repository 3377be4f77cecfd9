//! The socket task: dials, reconnects, keeps the heartbeat, queues sends, and reports events.
//! It is the only code that touches the socket, and there is one dial in flight at most
//! because every step runs in this one task, one after the other. This file is the task
//! while it is not connected; `open.rs` is the task while a connection is open.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

use super::backoff::Backoff;
use super::batcher::{Batcher, Out};
use super::command::{Command, Tap};
use super::dial::{self, Connector};
use super::event::{
    CloseInfo, ClosedBy, DropReason, Event, Kind, Phase, Verdict, Warning, preview,
};
use super::protocol::{self, Driver};
use super::settings::ConnSettings;

/// A message waiting for the connection.
#[derive(Clone)]
pub(super) struct Outgoing {
    pub(super) id: u64,
    pub(super) kind: Kind,
    /// The payload, or with `typed`, the line to put in the preset's form when it goes out
    /// (on whichever connection that is).
    pub(super) data: Bytes,
    /// A line as a person writes it (`Command::Emit`).
    pub(super) typed: bool,
    /// Once written: the protocol acknowledges it under this tag (MQTT, STOMP).
    pub(super) ack: Option<u64>,
}

impl Outgoing {
    /// A message of the user's, as it is or (`typed`) to be put in the preset's form.
    pub(super) fn new(id: u64, kind: Kind, data: Bytes, typed: bool) -> Outgoing {
        Outgoing {
            id,
            kind,
            data,
            typed,
            ack: None,
        }
    }
}

/// What the task does next.
pub(super) enum Next {
    Dial,
    Wait(Duration),
    Idle,
    Exit,
}

/// How waiting for something while not connected ended: it came, or a command changed what
/// happens next.
enum Waited<T> {
    Done(T),
    Then(Next),
}

pub(super) struct Task {
    pub(super) s: Arc<ConnSettings>,
    pub(super) cmds: mpsc::Receiver<Command>,
    pub(super) batcher: Batcher,
    pub(super) queue: VecDeque<Outgoing>,
    pub(super) next_id: u64,
    pub(super) backoff: Backoff,
    /// Dials in this outage (1 = the first), as `Connecting` and `Retry` say.
    pub(super) attempt: u32,
    /// Failed attempts in a row, for `max_attempts`: failed dials, and connections that
    /// closed before `stable_after` or with a code that says retrying is pointless.
    pub(super) failures: u32,
    /// Connections in a row that closed before `stable_after`: the next delay keeps a short
    /// floor after them, never the grown one.
    pub(super) short_lives: u32,
    url: Arc<str>,
    connector: Arc<dyn Connector>,
    /// The preset's protocol, kept across connections (a session to recover, a version the
    /// server asked for).
    pub(super) protocol: Option<Box<dyn Driver>>,
    /// Answers sent for the server on this connection (heartbeats, auto replies).
    pub(super) replies: u64,
    /// Lifetimes of the last connections the server ended sooner than the application
    /// heartbeat's interval, and whether that was said.
    pub(super) short_of_app: Vec<Duration>,
    pub(super) warned_app_interval: bool,
    /// Jitter and stagger; seeded from the settings when a test asserts on them.
    pub(super) rng: SmallRng,
}

impl Task {
    pub(super) fn new(
        s: Arc<ConnSettings>,
        cmds: mpsc::Receiver<Command>,
        tx: Out,
        tap: Option<Tap>,
        connector: Arc<dyn Connector>,
    ) -> Self {
        let backoff = Backoff::new(s.reconnect_min, s.reconnect_max);
        Task {
            backoff: if s.stagger.is_zero() {
                backoff
            } else {
                backoff.spread()
            },
            rng: match s.seed {
                Some(seed) => SmallRng::seed_from_u64(seed),
                None => rand::make_rng(),
            },
            url: s.shown_url().into(),
            protocol: s.preset.map(|p| protocol::driver(p, &s)),
            replies: 0,
            short_of_app: Vec::new(),
            warned_app_interval: false,
            s,
            cmds,
            batcher: Batcher::new(tx, tap),
            queue: VecDeque::new(),
            next_id: 0,
            attempt: 0,
            failures: 0,
            short_lives: 0,
            connector,
        }
    }

    pub(super) async fn run(mut self) {
        if self.s.insecure && self.s.target.is_secure() {
            self.batcher.push(Event::Warning(Warning::Insecure));
        }
        // A fleet's engines start spread over the stagger window, not in one burst.
        let mut next = if self.s.stagger.is_zero() {
            Next::Dial
        } else {
            Next::Wait(self.random_part(self.s.stagger))
        };
        loop {
            next = match next {
                Next::Dial => self.dial_once().await,
                Next::Wait(delay) => self.wait(delay).await,
                Next::Idle => self.idle().await,
                Next::Exit => break,
            };
            if !self.batcher.flush().await {
                break;
            }
        }
        // Never lose a send silently: whatever still waits is reported as not sent.
        while let Some(o) = self.queue.pop_front() {
            self.batcher.push(Event::Dropped {
                id: o.id,
                kind: o.kind,
                len: o.data.len() as u64,
                data: o.data,
                reason: DropReason::Shutdown,
            });
        }
        self.batcher.flush().await;
    }

    /// A uniformly random duration in `[0, d]`.
    pub(super) fn random_part(&mut self, d: Duration) -> Duration {
        Duration::from_nanos(self.rng.random_range(0..=d.as_nanos() as u64))
    }

    /// The id of the next outgoing message.
    pub(super) fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Queues a message until the connection is open, or says why it cannot wait.
    fn enqueue(&mut self, kind: Kind, data: Bytes, typed: bool) {
        let id = self.take_id();
        if data.len() > self.s.max_message_size {
            self.too_large(kind, preview(&data), data.len() as u64);
        } else if self.queue.len() >= self.s.send_queue {
            self.batcher.push(Event::Dropped {
                id,
                kind,
                len: data.len() as u64,
                data,
                reason: DropReason::QueueFull,
            });
        } else {
            self.hold(Outgoing::new(id, kind, data, typed), false);
        }
    }

    /// Refuses a message longer than `max_message_size`, known by its first bytes.
    pub(super) fn too_large(&mut self, kind: Kind, preview: Bytes, len: u64) {
        let id = self.take_id();
        self.batcher.push(Event::Dropped {
            id,
            kind,
            data: preview,
            len,
            reason: DropReason::TooLarge,
        });
    }

    /// Puts a message in the queue (at the front when it was next to go) and reports it.
    pub(super) fn hold(&mut self, o: Outgoing, front: bool) {
        let (id, kind, data) = (o.id, o.kind, o.data.clone());
        if front {
            self.queue.push_front(o);
        } else {
            self.queue.push_back(o);
        }
        self.batcher.push(Event::Queued {
            id,
            kind,
            data,
            queued: self.queue.len(),
        });
    }

    /// Commands while not open; `Some` when the command changes what happens next.
    async fn offline_command(&mut self, cmd: Option<Command>) -> Option<Next> {
        match cmd {
            Some(Command::Tap(tap)) => {
                self.batcher.set_tap(tap).await;
                None
            }
            None | Some(Command::Shutdown) => Some(Next::Exit),
            Some(Command::Send { kind, data }) => {
                self.enqueue(kind, data, false);
                None
            }
            Some(Command::Emit { line }) => {
                self.enqueue(Kind::Text, Bytes::from(line), true);
                None
            }
            Some(Command::TooLarge { kind, preview, len }) => {
                self.too_large(kind, preview, len);
                None
            }
            Some(Command::Ping) => {
                self.batcher.push(Event::Warning(Warning::PingNotConnected));
                None
            }
            Some(Command::Reconnect) => {
                self.backoff.reset();
                self.attempt = 0;
                self.failures = 0;
                Some(Next::Dial)
            }
            Some(Command::Close { .. }) => Some(Next::Idle),
        }
    }

    /// Waits for `fut` while answering commands; a command that changes what happens next
    /// ends the wait (a close before the connection opened is reported as such).
    async fn offline_until<F: Future>(&mut self, fut: F) -> Waited<F::Output> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Waited::Done(out),
                cmd = self.cmds.recv() => {
                    if let Some(next) = self.offline_command(cmd).await {
                        if matches!(next, Next::Idle) {
                            self.push_closed(None, "closed by you before connecting".into(), ClosedBy::Client, Duration::ZERO, None);
                        }
                        return Waited::Then(next);
                    }
                    if !self.batcher.flush().await {
                        return Waited::Then(Next::Exit);
                    }
                }
            }
        }
    }

    pub(super) fn push_closed(
        &mut self,
        code: Option<u16>,
        reason: String,
        by: ClosedBy,
        uptime: Duration,
        verdict: Option<Verdict>,
    ) {
        self.batcher.push(Event::Closed(Arc::new(CloseInfo {
            code,
            reason,
            by,
            uptime,
            verdict,
        })));
    }

    async fn dial_once(&mut self) -> Next {
        self.attempt += 1;
        self.batcher.push(Event::Connecting {
            attempt: self.attempt,
            url: self.url.clone(),
        });
        if !self.batcher.flush().await {
            return Next::Exit;
        }
        let (s, connector) = (self.s.clone(), self.connector.clone());
        let deadline = Instant::now() + s.connect_timeout;
        let mut phase = Phase::Dns;
        let dial = timeout_at(deadline, connector.connect(&s, deadline, &mut phase));
        let failure = match self.offline_until(dial).await {
            Waited::Then(next) => return next,
            Waited::Done(Ok(Ok(dialed))) => return self.connected(dialed).await,
            Waited::Done(Ok(Err(f))) => f,
            Waited::Done(Err(_)) => {
                dial::timeout_failure(phase, s.connect_timeout, s.proxy.as_ref())
            }
        };
        let retry_after = failure.retry_after;
        self.batcher.push(Event::Error(Arc::new(failure)));
        self.failures += 1;
        self.schedule_retry(retry_after)
    }

    /// After a failure or drop: give up, or pick the delay before the next attempt.
    pub(super) fn schedule_retry(&mut self, retry_after: Option<Duration>) -> Next {
        if self.s.max_attempts > 0 && self.failures >= self.s.max_attempts {
            self.batcher.push(Event::GaveUp {
                attempts: self.failures,
            });
            return Next::Idle;
        }
        let mut delay = self.backoff.next_delay(&mut self.rng);
        if let Some(asked) = retry_after {
            // Honour the server's Retry-After, within reason.
            delay = delay.max(asked.min(Duration::from_secs(3600)));
        }
        self.batcher.push(Event::Retry {
            attempt: self.attempt + 1,
            delay,
        });
        Next::Wait(delay)
    }

    async fn wait(&mut self, delay: Duration) -> Next {
        match self.offline_until(tokio::time::sleep(delay)).await {
            Waited::Done(()) => Next::Dial,
            Waited::Then(next) => next,
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
            if !self.batcher.flush().await {
                return Next::Exit;
            }
        }
    }
}
