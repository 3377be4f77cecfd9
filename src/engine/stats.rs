//! Connection statistics as a pure fold over stamped events, so that every frontend (and a
//! replayed recording) derives the same numbers from the same events.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use std::sync::Arc;

use super::event::{Cause, CloseInfo, ClosedBy, Dir, Event, Failure, OpenInfo, Phase, Stamped};
use super::pattern::{DropLog, DropRecord, Pattern};

/// How many RTT samples feed the percentiles.
const RTT_WINDOW: usize = 1024;
/// How many RTT samples the sparkline shows at most.
pub const SPARK_LEN: usize = 120;
/// How many connects and drops the timeline keeps.
const TIMELINE_LEN: usize = 64;

/// Where the connection is, as a person would say it.
#[derive(Clone, Debug, PartialEq)]
pub enum ConnState {
    /// Nothing happened yet.
    Starting,
    /// A dial is in flight.
    Connecting {
        /// Attempt in this outage.
        attempt: u32,
    },
    /// Open.
    Open,
    /// We sent a close frame and wait for the answer.
    Closing,
    /// Closed by the user; nothing scheduled.
    Closed,
    /// Waiting to retry.
    Waiting {
        /// When the next attempt starts.
        until: SystemTime,
        /// Its attempt number.
        attempt: u32,
    },
    /// `max_attempts` exhausted.
    GaveUp,
}

impl ConnState {
    /// Short upper-case label.
    pub fn label(&self) -> &'static str {
        match self {
            ConnState::Starting => "STARTING",
            ConnState::Connecting { .. } => "CONNECTING",
            ConnState::Open => "OPEN",
            ConnState::Closing => "CLOSING",
            ConnState::Closed => "CLOSED",
            ConnState::Waiting { .. } => "WAITING",
            ConnState::GaveUp => "GAVE UP",
        }
    }

    /// The numeric state for metrics: 0 starting, 1 connecting, 2 open, 3 closing, 4 closed,
    /// 5 waiting, 6 gave up.
    pub fn code(&self) -> u8 {
        match self {
            ConnState::Starting => 0,
            ConnState::Connecting { .. } => 1,
            ConnState::Open => 2,
            ConnState::Closing => 3,
            ConnState::Closed => 4,
            ConnState::Waiting { .. } => 5,
            ConnState::GaveUp => 6,
        }
    }
}

/// Round-trip samples: running totals plus a window for percentiles.
#[derive(Clone, Debug, Default)]
pub struct RttStats {
    // In microseconds: a fleet holds one window per endpoint (4 KiB full, not 16).
    window: VecDeque<u32>,
    /// Newest sample.
    pub last: Option<Duration>,
    /// Smallest sample ever.
    pub min: Option<Duration>,
    /// Largest sample ever.
    pub max: Option<Duration>,
    /// Sum of all samples.
    pub sum: Duration,
    /// Samples seen.
    pub count: u64,
    /// Samples per `RTT_BUCKETS` bucket (not cumulative); the last counts those above them all.
    pub buckets: [u64; RTT_BUCKETS.len() + 1],
}

impl RttStats {
    /// Adds a sample.
    pub fn add(&mut self, rtt: Duration) {
        if self.window.len() == RTT_WINDOW {
            self.window.pop_front();
        }
        let micros = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX);
        crate::small::push_back(&mut self.window, micros);
        self.last = Some(rtt);
        self.min = Some(self.min.map_or(rtt, |m| m.min(rtt)));
        self.max = Some(self.max.map_or(rtt, |m| m.max(rtt)));
        self.sum += rtt;
        self.count += 1;
        let secs = rtt.as_secs_f64();
        let bucket = RTT_BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(RTT_BUCKETS.len());
        self.buckets[bucket] += 1;
    }

    /// Mean of all samples.
    pub fn avg(&self) -> Option<Duration> {
        (self.count > 0).then(|| self.sum / self.count as u32)
    }

    /// Nearest-rank percentiles over the recent window, for each `p` in 0..=100.
    pub fn percentiles<const N: usize>(&self, ps: [f64; N]) -> [Option<Duration>; N] {
        if self.window.is_empty() {
            return [None; N];
        }
        let mut sorted: Vec<u32> = self.window.iter().copied().collect();
        sorted.sort_unstable();
        ps.map(|p| {
            let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            Some(Duration::from_micros(u64::from(
                sorted[rank.clamp(1, sorted.len()) - 1],
            )))
        })
    }

    /// The newest samples, oldest first, at most `n`.
    pub fn recent(&self, n: usize) -> impl Iterator<Item = Duration> + '_ {
        self.window
            .iter()
            .skip(self.window.len().saturating_sub(n))
            .map(|&us| Duration::from_micros(u64::from(us)))
    }
}

/// Upper bounds of the RTT histogram's buckets, in seconds (the last bucket is unbounded).
pub const RTT_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A connect or a drop: what the timeline shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Milestone {
    /// A connection opened.
    Connected(Arc<OpenInfo>),
    /// A dial failed.
    Failed(Arc<Failure>),
    /// An open connection ended other than by the user.
    Dropped(Arc<CloseInfo>),
    /// `max_attempts` ran out.
    GaveUp {
        /// Attempts made in the outage.
        attempts: u32,
    },
}

impl Milestone {
    /// True for a connect.
    pub fn up(&self) -> bool {
        matches!(self, Milestone::Connected(_))
    }
}

/// One line of the connect/drop timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    /// When (the first time, for a repeated failure).
    pub at: SystemTime,
    /// What happened.
    pub what: Milestone,
    /// How many times in a row (the same failure, dial after dial, is one line).
    pub times: u32,
    /// For a connect after an outage: how long it was down.
    pub down: Option<Duration>,
    /// For a connect after an outage: what began it and what each dial met, repeats counted.
    pub path: Vec<(Step, u32)>,
}

/// One thing an outage met: the drop that began it, or a failed dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// An open connection ended.
    Dropped {
        /// Who ended it.
        by: ClosedBy,
        /// Its close code, if a close frame came.
        code: Option<u16>,
    },
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
    /// The step a close is.
    pub fn of_close(c: &CloseInfo) -> Step {
        Step::Dropped {
            by: c.by,
            code: c.code,
        }
    }

    /// The step a failed dial is.
    pub fn of_failure(f: &Failure) -> Step {
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
        _ => path.push((step, 1)),
    }
}

impl Milestone {
    /// The same failure as `other`, dial after dial: one timeline line counts them.
    fn repeats(&self, other: &Milestone) -> bool {
        match (self, other) {
            (Milestone::Failed(a), Milestone::Failed(b)) => {
                a.cause == b.cause && a.phase == b.phase && a.message == b.message
            }
            _ => false,
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

/// What began an outage, as the metrics label it.
pub fn outage_cause_name(by: ClosedBy, failure: Option<Cause>) -> &'static str {
    match by {
        ClosedBy::Server => "server_close",
        ClosedBy::Client => "user",
        ClosedBy::Heartbeat => "heartbeat",
        ClosedBy::Stale => "stale",
        ClosedBy::Error => failure.map_or("io", Cause::as_str),
    }
}

/// Everything frontends show about one connection, derived from its events.
#[derive(Clone, Debug)]
pub struct ConnStats {
    /// Current state.
    pub state: ConnState,
    /// Time of the first event.
    pub started: Option<SystemTime>,
    /// Where availability is counted from: the start, or the first open when the first dial
    /// succeeded (dialling once is not an outage).
    pub avail_from: Option<SystemTime>,
    /// When the current connection opened.
    pub open_since: Option<SystemTime>,
    /// When the current outage began (the drop, or the start if never connected).
    pub down_since: Option<SystemTime>,
    up_closed: Duration,
    /// Attempts in the current outage.
    pub outage_attempts: u32,
    /// What began the current outage and when (it stays until the connection is back).
    pub outage_began: Option<(SystemTime, Trouble)>,
    /// How long the last outage lasted, once the connection was back.
    pub last_outage: Option<Duration>,
    /// Dials started since start.
    pub total_attempts: u64,
    /// Successful opens since start.
    pub connects: u64,
    /// Opens after the first one.
    pub reconnects: u64,
    /// Connections that ended other than by the user.
    pub drops: u64,
    /// Messages received.
    pub msgs_in: u64,
    /// Messages sent.
    pub msgs_out: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Round-trip times.
    pub rtt: RttStats,
    /// Last frame of any kind from the peer.
    pub last_frame: Option<SystemTime>,
    /// What the last successful dial reported.
    pub last_open: Option<Arc<OpenInfo>>,
    /// The last failure or drop, and when.
    pub last_failure: Option<(SystemTime, Trouble)>,
    /// The last failure as reported (for HTTP details).
    pub last_error: Option<Arc<Failure>>,
    /// How the last connection ended.
    pub last_close: Option<Arc<CloseInfo>>,
    /// Recent connects and drops, oldest first.
    pub timeline: VecDeque<TimelineEntry>,
    /// Messages waiting to be sent.
    pub queued: usize,
    /// Sends that were refused or discarded.
    pub dropped_sends: u64,
    /// Failures counted by cause, in `Cause::ALL` order.
    pub failures_by_cause: [u64; 7],
    /// Drops by heartbeat.
    pub heartbeat_drops: u64,
    /// WebSocket pings we sent.
    pub pings_sent: u64,
    /// WebSocket pings of this connection not answered yet (reset by an answer).
    pub unanswered: u64,
    /// Application pings we sent.
    pub app_pings_sent: u64,
    /// Application pings of this connection not answered yet.
    pub app_unanswered: u64,
    /// Round-trip times of the application heartbeat.
    pub app_rtt: RttStats,
    /// The last data message from the peer.
    pub last_data: Option<SystemTime>,
    /// Since when the open connection has had no data (once it is stale).
    pub stale_since: Option<SystemTime>,
    /// Times the feed fell silent for `stale_after`.
    pub stales: u64,
    /// Messages answered by an auto-reply (or a preset's heartbeat).
    pub auto_replies: u64,
    /// The application protocol's handshake on this connection, once done: protocol and words.
    pub ready: Option<(&'static str, String)>,
    /// Pings the peer sent us.
    pub peer_pings: u64,
    /// Seconds we were told to wait by the last `Retry` event.
    pub next_delay: Option<Duration>,
    /// Closed connections by who closed them, in `ClosedBy::ALL` order.
    pub closes_by: [u64; 5],
    /// Connections opened again after an outage, by what began the outage.
    pub reconnects_by_cause: Vec<(&'static str, u64)>,
    /// The last drops, for finding what they have in common.
    pub drop_log: DropLog,
    /// What the current outage met so far, in order.
    pub outage_path: Vec<(Step, u32)>,
    // When anything last crossed the connection, either way (an idle timeout counts both).
    last_traffic: Option<SystemTime>,
    // What began the current outage, once it began; counted when the connection is back.
    outage_cause: Option<&'static str>,
    // The cause of the last failure of an open connection, for the close that follows it.
    open_failure: Option<Cause>,
}

impl Default for ConnStats {
    fn default() -> Self {
        ConnStats {
            state: ConnState::Starting,
            started: None,
            avail_from: None,
            open_since: None,
            down_since: None,
            up_closed: Duration::ZERO,
            outage_attempts: 0,
            outage_began: None,
            last_outage: None,
            total_attempts: 0,
            connects: 0,
            reconnects: 0,
            drops: 0,
            msgs_in: 0,
            msgs_out: 0,
            bytes_in: 0,
            bytes_out: 0,
            rtt: RttStats::default(),
            last_frame: None,
            last_open: None,
            last_failure: None,
            last_error: None,
            last_close: None,
            timeline: VecDeque::new(),
            queued: 0,
            dropped_sends: 0,
            failures_by_cause: [0; 7],
            heartbeat_drops: 0,
            pings_sent: 0,
            unanswered: 0,
            app_pings_sent: 0,
            app_unanswered: 0,
            app_rtt: RttStats::default(),
            last_data: None,
            stale_since: None,
            stales: 0,
            auto_replies: 0,
            ready: None,
            peer_pings: 0,
            next_delay: None,
            closes_by: [0; 5],
            reconnects_by_cause: Vec::new(),
            drop_log: DropLog::default(),
            outage_path: Vec::new(),
            last_traffic: None,
            outage_cause: None,
            open_failure: None,
        }
    }
}

impl ConnStats {
    /// Folds one event in.
    pub fn apply(&mut self, s: &Stamped) {
        let at = s.at;
        self.started.get_or_insert(at);
        self.avail_from.get_or_insert(at);
        if matches!(
            s.event,
            Event::Open(_)
                | Event::Message(_)
                | Event::Ping { .. }
                | Event::PeerPing
                | Event::Rtt { .. }
                | Event::AutoReply { .. }
        ) {
            self.last_traffic = Some(at);
        }
        match &s.event {
            Event::Connecting { attempt, .. } => {
                if self.open_since.is_none() && self.down_since.is_none() {
                    self.down_since = Some(at);
                }
                self.state = ConnState::Connecting { attempt: *attempt };
                self.outage_attempts = *attempt;
                self.total_attempts += 1;
            }
            Event::Open(info) => {
                if self.connects == 0 && self.total_attempts <= 1 {
                    self.avail_from = Some(at);
                }
                let down = match (self.connects, self.down_since) {
                    (0, _) if self.outage_began.is_none() => None,
                    (_, Some(since)) => Some(at.duration_since(since).unwrap_or_default()),
                    _ => None,
                };
                self.last_outage = down;
                self.outage_began = None;
                self.state = ConnState::Open;
                self.open_since = Some(at);
                self.down_since = None;
                self.last_frame = Some(at);
                // A new connection: its own heartbeat, feed and handshake.
                self.unanswered = 0;
                self.app_unanswered = 0;
                self.stale_since = None;
                self.ready = None;
                self.connects += 1;
                if self.connects > 1 {
                    self.reconnects += 1;
                }
                self.outage_attempts = 0;
                if let Some(cause) = self.outage_cause.take() {
                    match self
                        .reconnects_by_cause
                        .iter_mut()
                        .find(|(c, _)| *c == cause)
                    {
                        Some((_, n)) => *n += 1,
                        None => self.reconnects_by_cause.push((cause, 1)),
                    }
                }
                self.push_timeline(at, Milestone::Connected(info.clone()));
                let path = std::mem::take(&mut self.outage_path);
                if let Some(last) = self.timeline.back_mut() {
                    last.down = down;
                    last.path = path;
                }
                self.last_open = Some(info.clone());
            }
            Event::Message(m) => {
                let len = m.data.len() as u64;
                match m.dir {
                    Dir::In => {
                        self.msgs_in += 1;
                        self.bytes_in += len;
                        self.last_frame = Some(at);
                        self.last_data = Some(at);
                    }
                    Dir::Out => {
                        self.msgs_out += 1;
                        self.bytes_out += len;
                        if m.id != 0 && self.queued > 0 {
                            // A queued message went out (ids are in queue order).
                            self.queued = self.queued.saturating_sub(1);
                        }
                    }
                }
            }
            Event::Ping { app: false, .. } => {
                self.pings_sent += 1;
                self.unanswered += 1;
            }
            Event::Ping { app: true, .. } => {
                self.app_pings_sent += 1;
                self.app_unanswered += 1;
            }
            Event::PeerPing => {
                self.peer_pings += 1;
                self.last_frame = Some(at);
            }
            Event::Rtt { rtt, app: false } => {
                self.rtt.add(*rtt);
                self.unanswered = 0;
                self.last_frame = Some(at);
            }
            Event::Rtt { rtt, app: true } => {
                self.app_rtt.add(*rtt);
                self.app_unanswered = 0;
                self.last_frame = Some(at);
            }
            Event::AutoReply { .. } => {
                self.auto_replies += 1;
                self.last_frame = Some(at);
            }
            Event::Ready { protocol, detail } => {
                self.ready = Some((protocol, detail.clone()));
            }
            Event::Stale { silent } => {
                self.stales += 1;
                self.stale_since = Some(at - *silent);
            }
            Event::Fresh { .. } => self.stale_since = None,
            Event::Closing { .. } => self.state = ConnState::Closing,
            Event::Closed(info) => {
                if let Some(since) = self.open_since.take() {
                    self.up_closed += at.duration_since(since).unwrap_or_default();
                    self.down_since = Some(at);
                }
                self.state = ConnState::Closed;
                self.stale_since = None;
                self.closes_by[ClosedBy::ALL
                    .iter()
                    .position(|b| *b == info.by)
                    .unwrap_or(0)] += 1;
                self.outage_cause = Some(outage_cause_name(info.by, self.open_failure.take()));
                if info.by != ClosedBy::Client {
                    self.drops += 1;
                    if info.by != ClosedBy::Error {
                        // An error close was already described by its Error event.
                        self.last_failure = Some((at, Trouble::Dropped(info.clone())));
                    }
                    self.outage_began = Some((
                        at,
                        match (&self.last_failure, info.by) {
                            (Some((_, t)), ClosedBy::Error) => t.clone(),
                            _ => Trouble::Dropped(info.clone()),
                        },
                    ));
                    if info.by == ClosedBy::Heartbeat {
                        self.heartbeat_drops += 1;
                    }
                    if info.by != ClosedBy::Stale {
                        self.drop_log.push(DropRecord {
                            at,
                            up: info.uptime,
                            idle: self
                                .last_traffic
                                .and_then(|t| at.duration_since(t).ok())
                                .unwrap_or_default()
                                .min(info.uptime),
                        });
                    }
                    self.push_timeline(at, Milestone::Dropped(info.clone()));
                    self.outage_path.clear();
                    extend_path(&mut self.outage_path, Step::of_close(info));
                }
                self.last_close = Some(info.clone());
            }
            Event::Error(f) => {
                self.failures_by_cause
                    [Cause::ALL.iter().position(|c| *c == f.cause).unwrap_or(0)] += 1;
                self.last_failure = Some((at, Trouble::Failed(f.clone())));
                self.last_error = Some(f.clone());
                if self.outage_began.is_none() && self.state != ConnState::Open {
                    // Never connected yet, or the first failure of a redial: it began here.
                    self.outage_began = Some((at, Trouble::Failed(f.clone())));
                }
                if f.phase == Phase::Open {
                    self.open_failure = Some(f.cause);
                } else {
                    // Failures of an open connection are put on the timeline by their Closed
                    // event.
                    self.push_timeline(at, Milestone::Failed(f.clone()));
                    extend_path(&mut self.outage_path, Step::of_failure(f));
                }
            }
            Event::Retry { attempt, delay } => {
                self.state = ConnState::Waiting {
                    until: at + *delay,
                    attempt: *attempt,
                };
                self.next_delay = Some(*delay);
            }
            Event::GaveUp { attempts } => {
                self.state = ConnState::GaveUp;
                self.push_timeline(
                    at,
                    Milestone::GaveUp {
                        attempts: *attempts,
                    },
                );
            }
            Event::Queued { queued, .. } => self.queued = *queued,
            Event::Dropped { .. } => self.dropped_sends += 1,
            Event::Warning(_) => {}
        }
    }

    fn push_timeline(&mut self, at: SystemTime, what: Milestone) {
        if let Some(last) = self.timeline.back_mut()
            && last.what.repeats(&what)
        {
            last.times += 1;
            return;
        }
        if self.timeline.len() == TIMELINE_LEN {
            self.timeline.pop_front();
        }
        crate::small::push_back(
            &mut self.timeline,
            TimelineEntry {
                at,
                what,
                times: 1,
                down: None,
                path: Vec::new(),
            },
        );
    }

    /// What the drops so far have in common, as of `now`.
    pub fn pattern(&self, now: SystemTime) -> Option<Pattern> {
        self.drop_log.pattern(self.uptime(now))
    }

    /// How long the current connection has been open.
    pub fn uptime(&self, now: SystemTime) -> Option<Duration> {
        self.open_since
            .map(|s| now.duration_since(s).unwrap_or_default())
    }

    /// Total time connected since start.
    pub fn up_total(&self, now: SystemTime) -> Duration {
        self.up_closed + self.uptime(now).unwrap_or_default()
    }

    /// Total time not connected since start.
    pub fn down_total(&self, now: SystemTime) -> Duration {
        let elapsed = self
            .avail_from
            .map(|s| now.duration_since(s).unwrap_or_default())
            .unwrap_or_default();
        elapsed.saturating_sub(self.up_total(now))
    }

    /// Share of time connected, in percent.
    pub fn availability(&self, now: SystemTime) -> Option<f64> {
        let up = self.up_total(now).as_secs_f64();
        let total = up + self.down_total(now).as_secs_f64();
        (total > 0.0).then(|| 100.0 * up / total)
    }

    /// How long the open connection has had no data, once it is stale.
    pub fn stale_for(&self, now: SystemTime) -> Option<Duration> {
        self.stale_since
            .map(|s| now.duration_since(s).unwrap_or_default())
    }

    /// The age of the last data message (of the start of the connection, before any came).
    pub fn data_age(&self, now: SystemTime) -> Option<Duration> {
        let since = match (self.last_data, self.open_since) {
            (Some(d), Some(o)) => Some(d.max(o)),
            (d, o) => d.or(o),
        }?;
        Some(now.duration_since(since).unwrap_or_default())
    }

    /// How long the current outage has lasted.
    pub fn down_for(&self, now: SystemTime) -> Option<Duration> {
        self.down_since
            .map(|s| now.duration_since(s).unwrap_or_default())
    }

    /// Time since the last frame from the peer.
    pub fn since_last_frame(&self, now: SystemTime) -> Option<Duration> {
        self.last_frame
            .map(|t| now.duration_since(t).unwrap_or_default())
    }
}

/// The whole dial: DNS, TCP, proxy, TLS and upgrade.
pub fn dial_time(info: &OpenInfo) -> Duration {
    let p = &info.phases;
    p.dns + p.tcp + p.proxy.unwrap_or_default() + p.tls.unwrap_or_default() + p.handshake
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::{HttpFailure, Kind, Message, Phases};
    use std::net::SocketAddr;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
    }

    fn ev(secs: u64, event: Event) -> Stamped {
        Stamped {
            at: at(secs),
            event,
        }
    }

    fn open(attempt: u32) -> Event {
        Event::Open(Arc::new(OpenInfo {
            attempt,
            phases: Phases::default(),
            remote: SocketAddr::from(([127, 0, 0, 1], 1)),
            proxy: None,
            subprotocol: None,
            tls_version: None,
        }))
    }

    fn closed(by: ClosedBy, code: Option<u16>) -> Event {
        Event::Closed(Arc::new(CloseInfo {
            code,
            reason: String::new(),
            by,
            uptime: Duration::ZERO,
        }))
    }

    #[test]
    fn uptime_downtime_and_availability() {
        let mut s = ConnStats::default();
        s.apply(&ev(
            0,
            Event::Connecting {
                attempt: 1,
                url: "ws://x".into(),
            },
        ));
        s.apply(&ev(1, open(1)));
        s.apply(&ev(31, closed(ClosedBy::Server, Some(1012))));
        s.apply(&ev(
            31,
            Event::Retry {
                attempt: 1,
                delay: Duration::from_secs(9),
            },
        ));
        s.apply(&ev(
            40,
            Event::Connecting {
                attempt: 1,
                url: "ws://x".into(),
            },
        ));
        s.apply(&ev(41, open(1)));
        assert_eq!(s.up_total(at(61)), Duration::from_secs(50));
        // The first dial succeeded: its second is not an outage; the 10 s after the drop are.
        assert_eq!(s.down_total(at(61)), Duration::from_secs(10));
        assert_eq!(s.uptime(at(61)), Some(Duration::from_secs(20)));
        let a = s.availability(at(61)).unwrap();
        assert!((a - 83.333).abs() < 0.01, "{a}");
        assert_eq!(s.last_outage, Some(Duration::from_secs(10)));
        assert!(s.outage_began.is_none(), "the outage is over");
        assert_eq!(
            s.timeline.back().unwrap().down,
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            (s.connects, s.reconnects, s.drops, s.total_attempts),
            (2, 1, 1, 2)
        );
        assert!(
            matches!(&s.last_failure, Some((_, Trouble::Dropped(c))) if c.code == Some(1012)),
            "{:?}",
            s.last_failure
        );
        assert_eq!(s.closes_by, [1, 0, 0, 0, 0]);
        assert_eq!(s.reconnects_by_cause, [("server_close", 1)]);
    }

    #[test]
    fn an_outage_is_timed_from_the_drop_not_from_the_last_attempt() {
        let mut s = ConnStats::default();
        s.apply(&ev(0, open(1)));
        s.apply(&ev(10, closed(ClosedBy::Server, Some(1001))));
        s.apply(&ev(
            11,
            Event::Connecting {
                attempt: 1,
                url: "ws://x".into(),
            },
        ));
        s.apply(&ev(
            12,
            Event::Connecting {
                attempt: 2,
                url: "ws://x".into(),
            },
        ));
        assert_eq!(s.down_for(at(15)), Some(Duration::from_secs(5)));
        s.apply(&ev(16, open(3)));
        assert_eq!(s.down_for(at(17)), None);
        let mut never = ConnStats::default();
        never.apply(&ev(
            3,
            Event::Connecting {
                attempt: 1,
                url: "ws://x".into(),
            },
        ));
        assert_eq!(never.down_for(at(4)), Some(Duration::from_secs(1)));
    }

    #[test]
    fn waiting_state_has_the_retry_time() {
        let mut s = ConnStats::default();
        s.apply(&ev(
            5,
            Event::Retry {
                attempt: 3,
                delay: Duration::from_secs(4),
            },
        ));
        assert_eq!(
            s.state,
            ConnState::Waiting {
                until: at(9),
                attempt: 3
            }
        );
    }

    #[test]
    fn http_failures_are_counted_and_put_on_the_timeline() {
        let f = Failure {
            cause: Cause::Http,
            phase: Phase::Upgrade,
            message: "the server answered the upgrade with 401 Unauthorized".into(),
            http: Some(HttpFailure {
                status: 401,
                reason: "Unauthorized".into(),
                headers: vec![],
                body: "token expired".into(),
                body_truncated: false,
            }),
            retry_after: None,
        };
        let mut s = ConnStats::default();
        s.apply(&ev(0, Event::Error(Arc::new(f.clone()))));
        assert_eq!(s.failures_by_cause[4], 1);
        assert_eq!(
            s.timeline.back().unwrap().what,
            Milestone::Failed(Arc::new(f))
        );
    }

    #[test]
    fn counts_traffic_and_rtt() {
        let mut s = ConnStats::default();
        for i in 0..100u64 {
            s.apply(&ev(
                i,
                Event::Rtt {
                    rtt: Duration::from_millis(i + 1),
                    app: false,
                },
            ));
        }
        // 1 ms falls in the bucket up to 1 ms, 2 ms in the one up to 2.5 ms; none above 5 s.
        assert_eq!(s.rtt.buckets[1], 1);
        assert_eq!(s.rtt.buckets[2], 1);
        assert_eq!(s.rtt.buckets.iter().sum::<u64>(), 100);
        assert_eq!(s.rtt.buckets[RTT_BUCKETS.len()], 0);
        let [p50, p99] = s.rtt.percentiles([50.0, 99.0]);
        assert_eq!(p50, Some(Duration::from_millis(50)));
        assert_eq!(p99, Some(Duration::from_millis(99)));
        assert_eq!(s.rtt.min, Some(Duration::from_millis(1)));
        s.apply(&ev(
            0,
            Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data: "hello".into(),
                id: 0,
            }),
        ));
        s.apply(&ev(
            0,
            Event::Message(Message {
                dir: Dir::Out,
                kind: Kind::Binary,
                data: vec![0; 3].into(),
                id: 1,
            }),
        ));
        assert_eq!(
            (s.msgs_in, s.bytes_in, s.msgs_out, s.bytes_out),
            (1, 5, 1, 3)
        );
    }

    #[test]
    fn closing_by_the_user_is_not_a_drop() {
        let mut s = ConnStats::default();
        s.apply(&ev(0, open(1)));
        s.apply(&ev(1, closed(ClosedBy::Client, Some(1000))));
        assert_eq!(s.drops, 0);
        assert!(s.last_failure.is_none());
        assert_eq!(s.state, ConnState::Closed);
    }
}
