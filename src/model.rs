//! One model of the truth about an endpoint: a pure fold over its stamped events that the
//! dashboard, headless mode, the metrics, the exit summary, replay and the report all read,
//! so each says the same numbers and names the same culprit. Its parts each fold one concern:
//! `availability` (up, down, not probed), `timeline` (connections and outages as typed
//! periods), `pattern` (what the drops have in common, and who ended them), `rtt`, and the
//! `state` and `Health` of the endpoint.

mod availability;
mod pattern;
mod rtt;
mod state;
#[cfg(test)]
mod tests;
mod timeline;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use availability::{Availability, RECENT, Seen, Span};
pub use pattern::{DropLog, DropRecord, FLAP_WITHIN, Pattern, asks_for_heartbeat};
pub use rtt::{RTT_BUCKETS, RttStats, SPARK_LEN};
pub use state::{ConnState, Health};
pub use timeline::{
    Began, Connection, Culprit, Ending, Outage, PATH_LEN, Period, Step, Tally, Timeline, Trouble,
    extend_path,
};

use crate::engine::{
    Cause, CloseInfo, ClosedBy, Dir, Event, Failure, OpenInfo, Phase, Problem, Stamped, StopReason,
};

/// Pings in a row without a pong, while frames arrive, that make an open connection sick.
const UNANSWERED_SICK: u64 = 2;

/// What began an outage, as the metrics label it.
pub(crate) fn outage_cause_name(by: ClosedBy, failure: Option<Cause>) -> &'static str {
    match by {
        ClosedBy::Server => "server_close",
        ClosedBy::Client => "user",
        ClosedBy::Heartbeat => "heartbeat",
        ClosedBy::Stale => "stale",
        ClosedBy::Error => failure.map_or("io", Cause::as_str),
    }
}

/// Everything frontends show about one connection, derived from its events.
#[derive(Clone, Debug, Default)]
pub struct ConnStats {
    /// Current state.
    pub state: ConnState,
    /// Time of the first event.
    pub started: Option<SystemTime>,
    /// When and why the session ended (a `stopped` event), if it has.
    pub stopped: Option<(SystemTime, StopReason)>,
    /// When the current connection opened.
    pub open_since: Option<SystemTime>,
    /// Up, down and not-probed time.
    pub avail: Availability,
    /// Connections and outages, typed.
    pub timeline: Timeline,
    /// Dials in the current outage.
    pub outage_attempts: u32,
    /// Dials started since start.
    pub total_attempts: u64,
    /// Successful opens since start.
    pub connects: u64,
    /// Opens after the first one.
    pub reconnects: u64,
    /// Connections that ended other than by the user.
    pub drops: u64,
    /// Every drop by who ended it (`Step::Dropped`), first seen first.
    pub drops_by: Tally,
    /// Every failed dial by what it met (`Step::Failed`), first seen first.
    pub failures_by: Tally,
    /// The longest outage that ended.
    pub longest_outage: Option<Duration>,
    /// The longest time seen down, of the outages that ended.
    pub longest_down: Option<Duration>,
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
    /// Messages waiting to be sent.
    pub queued: usize,
    /// Sends that were refused or discarded.
    pub dropped_sends: u64,
    /// Messages written but not acknowledged by the peer's TCP when their connection died.
    pub unconfirmed: u64,
    /// Of them, the ones sent again on the next connection (`resend_unconfirmed`).
    pub resent: u64,
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
    // When anything last crossed the connection, either way (an idle timeout counts both),
    // and the longest silence on it before that.
    last_traffic: Option<SystemTime>,
    busiest_gap: Duration,
    // What began the current outage, once it began; counted when the connection is back.
    outage_cause: Option<&'static str>,
    // The failure of the open connection, for the close that follows it.
    open_failure: Option<Arc<Failure>>,
    // How the endpoint was doing when wsmon closed the connection to stop (1001 "going
    // away"): that, not "closed by you", is its health at the end of the session.
    health_at_shutdown: Option<Health>,
}

impl ConnStats {
    /// A fold whose timeline keeps the last `periods` connections and outages (the report
    /// keeps more than a dashboard).
    pub(crate) fn keeping(periods: usize) -> ConnStats {
        ConnStats {
            timeline: Timeline::keeping(periods),
            ..ConnStats::default()
        }
    }

    /// Folds one event in.
    pub fn apply(&mut self, s: &Stamped) {
        let at = s.at;
        if self.started.is_none() {
            self.started = Some(at);
            self.avail.start(at);
            self.timeline.push(Period::Out(Outage {
                at,
                began: Began::Start,
                steps: Vec::new(),
                dials: 0,
                seen_down: false,
                until: None,
                gave_up: false,
            }));
        }
        if matches!(
            s.event,
            Event::Message(_)
                | Event::Ping { .. }
                | Event::PeerPing
                | Event::Rtt { .. }
                | Event::AutoReply { .. }
        ) && self.open_since.is_some()
        {
            // A read burst stamps its messages alike: only a later stamp can widen the gap.
            if let Some(last) = self.last_traffic
                && at > last
            {
                self.busiest_gap = self
                    .busiest_gap
                    .max(at.duration_since(last).unwrap_or_default());
            }
            self.last_traffic = Some(at);
        }
        match &s.event {
            Event::Connecting { attempt, .. } => {
                self.state = ConnState::Connecting { attempt: *attempt };
                self.outage_attempts = *attempt;
                self.total_attempts += 1;
                if let Some(o) = self.timeline.outage_mut() {
                    o.dials += 1;
                }
            }
            Event::Open(info) => self.opened(at, info),
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
            Event::Ready {
                protocol, detail, ..
            } => {
                self.ready = Some((protocol, detail.clone()));
            }
            Event::Stale { silent } => {
                self.stales += 1;
                let since = at.checked_sub(*silent).unwrap_or(at);
                self.stale_since = Some(since);
                if self.open_since.is_some() {
                    self.avail.enter(since, Seen::Stale);
                }
            }
            Event::Fresh { .. } => {
                self.stale_since = None;
                if self.open_since.is_some() {
                    self.avail.enter(at, Seen::Up);
                }
            }
            Event::Closing { .. } => self.state = ConnState::Closing,
            Event::Closed(info) => self.closed(at, info),
            Event::Error(f) => self.failed(at, f),
            Event::Retry { attempt, delay } => {
                self.state = ConnState::Waiting {
                    until: at + *delay,
                    attempt: *attempt,
                };
                self.next_delay = Some(*delay);
            }
            Event::GaveUp { .. } => {
                self.state = ConnState::GaveUp;
                if let Some(o) = self.timeline.outage_mut() {
                    o.gave_up = true;
                }
            }
            Event::Queued { queued, .. } => self.queued = *queued,
            Event::Dropped { .. } => self.dropped_sends += 1,
            Event::Unconfirmed { count, resent, .. } => {
                self.unconfirmed += count;
                if *resent {
                    self.resent += count;
                }
            }
            Event::Warning(_) => {}
            Event::Stopped(why) => {
                self.stopped = Some((at, *why));
                self.avail.stop(at);
            }
            Event::Crashed(message) => {
                self.state = ConnState::Crashed;
                self.open_since = None;
                let f = Arc::new(Failure::new(
                    Cause::Io,
                    Phase::Open,
                    Problem::EngineStopped {
                        panic: message.to_string(),
                    },
                ));
                self.last_failure = Some((at, Trouble::Failed(f.clone())));
                self.last_error = Some(f);
                self.avail.stop(at);
            }
        }
    }

    fn opened(&mut self, at: SystemTime, info: &Arc<OpenInfo>) {
        if let Some(o) = self.timeline.outage_mut() {
            o.until = Some(at);
            let o = o.clone();
            if o.began != Began::Start {
                let lasted = o.lasted(at);
                self.longest_outage = Some(self.longest_outage.unwrap_or_default().max(lasted));
                if o.seen_down {
                    self.longest_down = Some(self.longest_down.unwrap_or_default().max(lasted));
                }
            }
        }
        self.avail.enter(at, Seen::Up);
        self.timeline.push(Period::Up(Connection {
            at,
            info: info.clone(),
            end: None,
        }));
        self.state = ConnState::Open;
        self.open_since = Some(at);
        self.last_frame = Some(at);
        self.last_traffic = Some(at);
        self.busiest_gap = Duration::ZERO;
        // A new connection: its own heartbeat, feed and handshake.
        self.unanswered = 0;
        self.app_unanswered = 0;
        self.stale_since = None;
        self.ready = None;
        self.open_failure = None;
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
        self.last_open = Some(info.clone());
    }

    fn closed(&mut self, at: SystemTime, info: &Arc<CloseInfo>) {
        let shutdown =
            info.by == ClosedBy::Client && info.code == Some(1001) && info.reason == "going away";
        self.health_at_shutdown = shutdown.then(|| self.health(at));
        let was_open = self.open_since.take().is_some();
        self.state = ConnState::Closed;
        self.stale_since = None;
        self.last_close = Some(info.clone());
        if !was_open {
            // Closed by the user before a dial finished: the outage goes on, unwatched.
            if info.by == ClosedBy::Client {
                self.avail.enter(at, Seen::Unprobed);
            }
            return;
        }
        let failure = self.open_failure.take();
        let culprit = Culprit::of(info, failure.as_deref());
        self.closes_by[ClosedBy::ALL
            .iter()
            .position(|b| *b == info.by)
            .unwrap_or(0)] += 1;
        self.outage_cause = Some(outage_cause_name(
            info.by,
            failure.as_ref().map(|f| f.cause),
        ));
        if let Some(c) = self.timeline.connection_mut() {
            c.end = Some(Ending {
                at,
                close: info.clone(),
                failure: failure.clone(),
                culprit,
            });
        }
        self.avail.enter(at, Seen::Unprobed);
        let by_user = info.by == ClosedBy::Client;
        let mut steps = Vec::new();
        if !by_user {
            self.drops += 1;
            self.drops_by.add(Step::Dropped(culprit));
            self.last_failure = Some((
                at,
                match failure {
                    Some(f) => Trouble::Failed(f),
                    None => Trouble::Dropped(info.clone()),
                },
            ));
            if info.by == ClosedBy::Heartbeat {
                self.heartbeat_drops += 1;
            }
            let idle = self
                .last_traffic
                .and_then(|t| at.duration_since(t).ok())
                .unwrap_or_default()
                .min(info.uptime);
            self.drop_log.push(DropRecord {
                at,
                up: info.uptime,
                idle,
                busiest_gap: self.busiest_gap,
                culprit,
                reason: info.reason.as_str().into(),
            });
            steps.push((Step::Dropped(culprit), 1));
        }
        self.timeline.push(Period::Out(Outage {
            at,
            began: if by_user { Began::User } else { Began::Drop },
            steps,
            dials: 0,
            seen_down: false,
            until: None,
            gave_up: false,
        }));
    }

    fn failed(&mut self, at: SystemTime, f: &Arc<Failure>) {
        self.failures_by_cause[Cause::ALL.iter().position(|c| *c == f.cause).unwrap_or(0)] += 1;
        self.last_failure = Some((at, Trouble::Failed(f.clone())));
        self.last_error = Some(f.clone());
        if matches!(f.phase, Phase::Open | Phase::App) && self.open_since.is_some() {
            // The open connection broke; its close follows and is counted there.
            self.open_failure = Some(f.clone());
            return;
        }
        let step = Step::of_failure(f);
        self.failures_by.add(step);
        self.avail.found_down(at);
        if let Some(o) = self.timeline.outage_mut() {
            o.seen_down = true;
            extend_path(&mut o.steps, step);
        }
    }

    /// What the drops so far have in common, as of `now`.
    pub fn pattern(&self, now: SystemTime) -> Option<Pattern> {
        self.drop_log.pattern(self.uptime(now))
    }

    /// How the endpoint is doing as of `now`: one verdict for every frontend.
    pub fn health(&self, now: SystemTime) -> Health {
        match self.state {
            ConnState::GaveUp | ConnState::Crashed => return Health::GaveUp,
            ConnState::Closed
                if self
                    .last_close
                    .as_ref()
                    .is_some_and(|c| c.by == ClosedBy::Client) =>
            {
                return self.health_at_shutdown.unwrap_or(Health::Closed);
            }
            _ => {}
        }
        if self.timeline.outage().is_some_and(|o| o.seen_down) {
            return Health::Down;
        }
        if self.pattern(now).is_some_and(|p| p.flapping()) {
            return Health::Flapping;
        }
        if self.open_since.is_none() {
            return Health::Reconnecting;
        }
        if let Some(silent) = self.stale_for(now) {
            return Health::Stale { silent };
        }
        if self.unanswered >= UNANSWERED_SICK {
            return Health::PingsUnanswered {
                unanswered: self.unanswered,
            };
        }
        Health::Healthy
    }

    /// Whether the last thing that happened was wsmon closing an open connection because it
    /// stopped: the connection was fine until then.
    pub(crate) fn closed_at_shutdown(&self) -> bool {
        self.state == ConnState::Closed && self.health_at_shutdown.is_some()
    }

    /// How long the current connection has been open.
    pub fn uptime(&self, now: SystemTime) -> Option<Duration> {
        self.open_since
            .map(|s| now.duration_since(s).unwrap_or_default())
    }

    /// The end of the session as of `now`: the stop, if it stopped.
    pub fn end(&self, now: SystemTime) -> SystemTime {
        self.stopped.map_or(now, |(at, _)| at.min(now))
    }

    /// How long the session has been watched, up to `now` or its stop.
    pub fn watched(&self, now: SystemTime) -> Duration {
        self.started
            .map(|s| self.end(now).duration_since(s).unwrap_or_default())
            .unwrap_or_default()
    }

    /// Total time connected since start.
    pub fn up_total(&self, now: SystemTime) -> Duration {
        self.avail.up(self.end(now))
    }

    /// Total time seen down since start (not the time wsmon chose not to look).
    pub fn down_total(&self, now: SystemTime) -> Duration {
        self.avail.down(self.end(now))
    }

    /// Total time not probed: between a drop and a dial that succeeded, before the first
    /// result, while closed by the user.
    pub fn unprobed_total(&self, now: SystemTime) -> Duration {
        self.avail.unprobed(self.end(now))
    }

    /// Share of the observed time connected, in percent.
    pub fn availability(&self, now: SystemTime) -> Option<f64> {
        self.avail.percent(self.end(now))
    }

    /// How long the open connection has had no data, once it is stale.
    pub(crate) fn stale_for(&self, now: SystemTime) -> Option<Duration> {
        self.stale_since
            .map(|s| now.duration_since(s).unwrap_or_default())
    }

    /// The age of the last data message (of the start of the connection, before any came).
    pub(crate) fn data_age(&self, now: SystemTime) -> Option<Duration> {
        let since = match (self.last_data, self.open_since) {
            (Some(d), Some(o)) => Some(d.max(o)),
            (d, o) => d.or(o),
        }?;
        Some(now.duration_since(since).unwrap_or_default())
    }

    /// When the outage going on began (the drop, or the start if never connected).
    pub(crate) fn outage_since(&self) -> Option<SystemTime> {
        self.timeline.outage().map(|o| o.at)
    }

    /// How long the outage going on has lasted, seen down or not.
    pub(crate) fn outage_for(&self, now: SystemTime) -> Option<Duration> {
        self.outage_since()
            .map(|s| self.end(now).duration_since(s).unwrap_or_default())
    }

    /// How long the endpoint has been seen down, while it is: a dial failed in this outage.
    pub(crate) fn down_for(&self, now: SystemTime) -> Option<Duration> {
        let o = self.timeline.outage().filter(|o| o.seen_down)?;
        Some(self.end(now).duration_since(o.at).unwrap_or_default())
    }

    /// What began the outage going on, and when: the drop or the first failed dial.
    pub fn outage_began(&self) -> Option<(SystemTime, Trouble)> {
        let o = self.timeline.outage()?;
        if o.began == Began::Drop {
            return self.timeline.periods().iter().rev().find_map(|p| match p {
                Period::Up(c) => c.end.as_ref().map(|e| {
                    (
                        e.at,
                        match &e.failure {
                            Some(f) => Trouble::Failed(f.clone()),
                            None => Trouble::Dropped(e.close.clone()),
                        },
                    )
                }),
                Period::Out(_) => None,
            });
        }
        // Never connected, or closed by the user: what the dials met.
        o.seen_down
            .then(|| self.last_failure.clone())
            .flatten()
            .filter(|(at, _)| *at >= o.at)
    }

    /// Time since the last frame from the peer.
    pub(crate) fn since_last_frame(&self, now: SystemTime) -> Option<Duration> {
        self.last_frame
            .map(|t| now.duration_since(t).unwrap_or_default())
    }
}

/// The whole dial: DNS, TCP, proxy, TLS and upgrade.
pub(crate) fn dial_time(info: &OpenInfo) -> Duration {
    let p = &info.phases;
    p.dns + p.tcp + p.proxy.unwrap_or_default() + p.tls.unwrap_or_default() + p.handshake
}
