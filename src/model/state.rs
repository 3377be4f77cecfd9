//! Where a connection is, and how an endpoint is doing: the state machine's position and the
//! one health verdict every frontend shows, ranks and colours by.

use std::time::{Duration, SystemTime};

/// Where the connection is, as a person would say it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ConnState {
    /// Nothing happened yet.
    #[default]
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
    /// The engine stopped on a bug; nothing more will happen.
    Crashed,
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
            ConnState::Crashed => "ENGINE STOPPED",
        }
    }

    /// The numeric state for metrics: 0 starting, 1 connecting, 2 open, 3 closing, 4 closed,
    /// 5 waiting, 6 gave up, 7 engine stopped.
    pub fn code(&self) -> u8 {
        match self {
            ConnState::Starting => 0,
            ConnState::Connecting { .. } => 1,
            ConnState::Open => 2,
            ConnState::Closing => 3,
            ConnState::Closed => 4,
            ConnState::Waiting { .. } => 5,
            ConnState::GaveUp => 6,
            ConnState::Crashed => 7,
        }
    }
}

/// How an endpoint is doing: open and well, open but sick, or not open and why. One verdict
/// for the title badge, the fleet's ranking and colour, the exit summary, headless and the
/// metrics, so a sick endpoint is never shown green anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Open, answering pings, carrying data as expected.
    Healthy,
    /// Open, and frames arrive, but the last `unanswered` pings got no pong.
    PingsUnanswered {
        /// Pings of this connection without an answer.
        unanswered: u64,
    },
    /// Connections keep ending soon after they open (the drops' pattern says so).
    Flapping,
    /// Open, but no data for `stale_after`.
    Stale {
        /// How long nothing has come.
        silent: Duration,
    },
    /// Not open, and not known to be down: starting, dialling, waiting after a drop.
    Reconnecting,
    /// A dial failed and none has succeeded since.
    Down,
    /// Closed by the user.
    Closed,
    /// `max_attempts` ran out.
    GaveUp,
}

impl Health {
    /// The wire name: headless `health` lines and the metrics' `health` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::PingsUnanswered { .. } => "pings_unanswered",
            Health::Flapping => "flapping",
            Health::Stale { .. } => "stale",
            Health::Reconnecting => "reconnecting",
            Health::Down => "down",
            Health::Closed => "closed",
            Health::GaveUp => "gave_up",
        }
    }

    /// Every health's wire name, for metrics that give each a series.
    pub const NAMES: [&'static str; 8] = [
        "healthy",
        "pings_unanswered",
        "flapping",
        "stale",
        "reconnecting",
        "down",
        "closed",
        "gave_up",
    ];

    /// Open but sick: a state that needs a look although the connection is up.
    pub fn degraded(self) -> bool {
        matches!(
            self,
            Health::PingsUnanswered { .. } | Health::Flapping | Health::Stale { .. }
        )
    }

    /// Worst first: where an endpoint sorts in a fleet. A sick endpoint never sorts with the
    /// healthy ones.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Health::GaveUp => 0,
            Health::Down => 1,
            Health::Flapping => 2,
            Health::Reconnecting => 3,
            Health::Stale { .. } => 4,
            Health::PingsUnanswered { .. } => 5,
            Health::Closed => 6,
            Health::Healthy => 7,
        }
    }
}
