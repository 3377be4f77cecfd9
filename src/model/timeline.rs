//! An endpoint's life as typed periods: each connection (how it opened, how long it lasted,
//! who ended it) and each outage between them (what began it, what every dial met, whether
//! the endpoint was seen down or only not probed). The dashboard's timeline, the exit summary
//! and the report's rows are all rendered from these; nothing here is a sentence.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::engine::{Cause, CloseInfo, ClosedBy, Failure, OpenInfo, Phase, Verdict};

/// Who ended a connection, from the evidence: the server's close frame, wsmon's own verdict,
/// or an end without a close frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Culprit {
    /// The server sent a close frame: its own decision, with its code (1005: a frame
    /// without one).
    Server {
        /// The code it sent.
        code: Option<u16>,
    },
    /// The server broke the WebSocket or application protocol (an invalid frame, a refused
    /// handshake), and wsmon closed.
    ServerProtocol,
    /// wsmon's own verdict: no pong, no application pong, nothing written, stale.
    Wsmon(Verdict),
    /// No close frame: the TCP connection ended (reset, EOF): the server's process died, or
    /// something on the path (a load balancer, proxy, NAT) cut it.
    Abrupt,
    /// The user closed it (not a drop).
    User,
}

impl Culprit {
    /// Who ended the connection of `close`; `failure` is what broke it, when it broke.
    pub fn of(close: &CloseInfo, failure: Option<&Failure>) -> Culprit {
        match close.by {
            ClosedBy::Server => Culprit::Server { code: close.code },
            ClosedBy::Client => Culprit::User,
            ClosedBy::Heartbeat => Culprit::Wsmon(close.verdict.unwrap_or(Verdict::NoPong)),
            ClosedBy::Stale => Culprit::Wsmon(Verdict::Stale),
            ClosedBy::Error => match failure {
                Some(f) if f.phase == Phase::App || f.cause == Cause::Protocol => {
                    Culprit::ServerProtocol
                }
                _ => Culprit::Abrupt,
            },
        }
    }
}

/// One thing an outage met: the drop that began it, or a failed dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// An open connection ended.
    Dropped(Culprit),
    /// A dial failed.
    Failed {
        /// The class of failure.
        cause: Cause,
        /// Where.
        phase: Phase,
        /// The HTTP status, for a refused upgrade or CONNECT.
        status: Option<u16>,
    },
}

impl Step {
    /// The step a failed dial is.
    pub(crate) fn of_failure(f: &Failure) -> Step {
        Step::Failed {
            cause: f.cause,
            phase: f.phase,
            status: f.http.as_ref().map(|h| h.status),
        }
    }
}

/// Steps of one outage kept; a long outage stays one line.
pub const PATH_LEN: usize = 12;

/// Adds `step` to an outage's path, counting a repeat of the last step.
pub fn extend_path(path: &mut Vec<(Step, u32)>, step: Step) {
    let full = path.len() >= PATH_LEN;
    match path.last_mut() {
        Some((last, n)) if *last == step => *n += 1,
        _ if full => {}
        _ => crate::small::push(path, (step, 1)),
    }
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Ending {
    /// When.
    pub at: SystemTime,
    /// The close as reported.
    pub close: Arc<CloseInfo>,
    /// What broke it, for a connection that broke (`ClosedBy::Error`).
    pub failure: Option<Arc<Failure>>,
    /// Who ended it.
    pub culprit: Culprit,
}

/// One connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    /// When it opened.
    pub at: SystemTime,
    /// How it opened: the attempt, the phases, the remote.
    pub info: Arc<OpenInfo>,
    /// How it ended; `None` while open.
    pub end: Option<Ending>,
}

/// What began an outage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Began {
    /// wsmon started and had not connected yet.
    Start,
    /// A connection ended other than by the user.
    Drop,
    /// The user closed the connection.
    User,
}

/// Time without a connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Outage {
    /// When it began.
    pub at: SystemTime,
    /// What began it.
    pub began: Began,
    /// The drop that began it and each failed dial, in order, repeats counted.
    pub steps: Vec<(Step, u32)>,
    /// Dials made.
    pub dials: u32,
    /// Whether a dial failed in it: the endpoint was seen down, from the start of the outage.
    pub seen_down: bool,
    /// When a connection opened again.
    pub until: Option<SystemTime>,
    /// Whether wsmon gave up (`max_attempts`).
    pub gave_up: bool,
}

impl Outage {
    /// How long it lasted, or has lasted by `now`.
    pub(crate) fn lasted(&self, now: SystemTime) -> Duration {
        self.until
            .unwrap_or(now)
            .duration_since(self.at)
            .unwrap_or_default()
    }
}

/// A stretch of an endpoint's life.
#[derive(Clone, Debug, PartialEq)]
pub enum Period {
    /// A connection.
    Up(Connection),
    /// Time without one.
    Out(Outage),
}

impl Period {
    /// When it began.
    pub fn at(&self) -> SystemTime {
        match self {
            Period::Up(c) => c.at,
            Period::Out(o) => o.at,
        }
    }
}

/// The last periods, oldest first.
#[derive(Clone, Debug)]
pub struct Timeline {
    periods: VecDeque<Period>,
    /// Periods left out at the start.
    pub cut: u64,
    cap: usize,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::keeping(64)
    }
}

impl Timeline {
    /// A timeline that keeps the last `cap` periods.
    pub(crate) fn keeping(cap: usize) -> Timeline {
        Timeline {
            periods: VecDeque::new(),
            cut: 0,
            cap: cap.max(2),
        }
    }

    /// The periods kept, oldest first.
    pub fn periods(&self) -> &VecDeque<Period> {
        &self.periods
    }

    pub(super) fn push(&mut self, p: Period) {
        if self.periods.len() == self.cap {
            self.periods.pop_front();
            self.cut += 1;
        }
        crate::small::push_back(&mut self.periods, p);
    }

    /// The outage going on, if any.
    pub fn outage(&self) -> Option<&Outage> {
        match self.periods.back() {
            Some(Period::Out(o)) if o.until.is_none() => Some(o),
            _ => None,
        }
    }

    pub(super) fn outage_mut(&mut self) -> Option<&mut Outage> {
        match self.periods.back_mut() {
            Some(Period::Out(o)) if o.until.is_none() => Some(o),
            _ => None,
        }
    }

    /// The connection open now, if any.
    pub fn connection(&self) -> Option<&Connection> {
        match self.periods.back() {
            Some(Period::Up(c)) if c.end.is_none() => Some(c),
            _ => None,
        }
    }

    pub(super) fn connection_mut(&mut self) -> Option<&mut Connection> {
        match self.periods.back_mut() {
            Some(Period::Up(c)) if c.end.is_none() => Some(c),
            _ => None,
        }
    }
}

/// The last thing that went wrong: a failure, or a close by someone other than the user.
#[derive(Clone, Debug, PartialEq)]
pub enum Trouble {
    /// A dial failed, or an open connection broke.
    Failed(Arc<Failure>),
    /// The server closed, or the heartbeat gave up on the peer.
    Dropped(Arc<CloseInfo>),
}

/// Counts of steps in first-seen order: drops by who ended them, failed dials by what they
/// met.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally(pub Vec<(Step, u64)>);

impl Tally {
    pub(super) fn add(&mut self, step: Step) {
        match self.0.iter_mut().find(|(s, _)| *s == step) {
            Some((_, n)) => *n += 1,
            None => crate::small::push(&mut self.0, (step, 1)),
        }
    }

    /// Total counted.
    pub(crate) fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }
}
