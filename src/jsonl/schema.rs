//! The JSON-lines schema as serde types: what every line of the headless output and of a
//! recording holds. Lines are decoded with these types; the fast encoder writes the same JSON,
//! which the tests check over arbitrary events. Durations travel in milliseconds with
//! microsecond precision (`*_ms` with a fraction) or whole milliseconds (`uptime_ms`,
//! `delay_ms`, `retry_after_ms`); timestamps to the millisecond.

use std::net::SocketAddr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

mod decode;

pub use decode::{decode, decode_with_endpoint};

use crate::engine::CertInfo;
use crate::engine::{
    Cause, CloseInfo, ClosedBy, DropReason, Event, Failure, HttpFailure, Kind, Message, OpenInfo,
    Phase, Phases, Problem, Stamped, StopReason, Verdict, Warning,
};

/// One line: a recording header or an event, when it happened, and (in a fleet) whose it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct WireLine {
    /// When, as RFC 3339 UTC with milliseconds.
    #[serde(with = "super::fields::rfc3339")]
    pub ts: SystemTime,
    /// The endpoint's name, when several are watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub body: Body,
}

/// What a line says, named by its `event` field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Body {
    /// The first line of each recorded file: what is recorded, secrets masked.
    Recording(RecordHeader),
    /// A dial started.
    Connecting {
        /// Attempt in the outage (1 = first try).
        attempt: u32,
        /// The URL, secrets masked.
        url: String,
    },
    /// The connection is open.
    Open {
        /// Attempt that succeeded.
        attempt: u32,
        /// DNS time.
        dns_ms: f64,
        /// TCP connect time.
        tcp_ms: f64,
        /// Proxy CONNECT time, when a proxy was used.
        proxy_ms: Option<f64>,
        /// TLS handshake time, for wss.
        tls_ms: Option<f64>,
        /// Upgrade time.
        handshake_ms: f64,
        /// The address connected to.
        remote: SocketAddr,
        /// The proxy, masked.
        proxy: Option<String>,
        /// The subprotocol the server chose.
        subprotocol: Option<String>,
        /// The TLS version.
        tls_version: Option<String>,
        /// The server's certificate, for wss.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cert: Option<CertInfo>,
    },
    /// A message received.
    Recv(Payload),
    /// A message sent.
    Sent(Payload),
    /// A ping we sent.
    Ping {
        /// Its sequence number.
        seq: u64,
        /// An application-level ping (`app_ping`).
        #[serde(default, skip_serializing_if = "is_false")]
        app: bool,
    },
    /// A ping from the peer (answered automatically).
    PeerPing,
    /// A round-trip time.
    Rtt {
        /// Milliseconds.
        ms: f64,
        /// Of the application heartbeat.
        #[serde(default, skip_serializing_if = "is_false")]
        app: bool,
    },
    /// A received text answered automatically.
    AutoReply {
        /// What came in.
        received: String,
        /// What went back.
        sent: String,
        /// Replies on this connection so far.
        count: u64,
    },
    /// The application protocol's handshake completed.
    Ready {
        /// The protocol.
        protocol: String,
        /// What the server said, in a few words.
        detail: String,
        /// Events end with a recovery offset (Socket.IO).
        #[serde(default, skip_serializing_if = "is_false")]
        offsets: bool,
    },
    /// The feed has been silent for `stale_after`.
    Stale {
        /// How long, in ms.
        silent_ms: u64,
    },
    /// Data came again.
    Fresh {
        /// How long it had been silent, in ms.
        silent_ms: u64,
    },
    /// We started a close handshake.
    Closing {
        /// Close code sent.
        code: u16,
        /// Close reason sent.
        reason: String,
    },
    /// The connection ended.
    Closed {
        /// Close code (null when the connection ended without one).
        code: Option<u16>,
        /// The code's name.
        code_name: Option<String>,
        /// Close reason.
        reason: String,
        /// Who closed it.
        by: ClosedBy,
        /// How long it had been open.
        uptime_ms: u64,
        /// For a close by wsmon's heartbeat or staleness: which verdict.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verdict: Option<Verdict>,
    },
    /// A dial failed or a connection broke.
    Error(ErrorLine),
    /// The next attempt is scheduled.
    Retry {
        /// The attempt it will be.
        attempt: u32,
        /// How long until then.
        delay_ms: u64,
    },
    /// `max_attempts` ran out.
    GaveUp {
        /// Attempts made.
        attempts: u32,
    },
    /// A message waits for the connection.
    Queued {
        /// Its id.
        id: u64,
        /// Text or binary.
        kind: Kind,
        /// Payload length.
        len: usize,
        /// Messages waiting now.
        queued: usize,
        /// Text payload.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        /// Binary (or non-UTF-8) payload.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base64: Option<String>,
    },
    /// Messages written but not acknowledged by the peer's TCP when the connection ended.
    Unconfirmed {
        /// Their ids (the first 10,000).
        ids: Vec<u64>,
        /// How many.
        count: u64,
        /// Whether they wait to be sent again.
        resent: bool,
    },
    /// A message was not sent.
    Dropped {
        /// Its id.
        id: u64,
        /// Text or binary.
        kind: Kind,
        /// Payload length.
        len: usize,
        /// Why.
        reason: DropReason,
        /// Text payload.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        /// Binary (or non-UTF-8) payload.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base64: Option<String>,
    },
    /// Something to know that is not a failure.
    Warning(WarningLine),
    /// The engine for this endpoint stopped on a bug (a panic).
    Crashed {
        /// The panic's message.
        message: String,
    },
    /// The session ended: the last line of a recording (and of headless output).
    Stopped {
        /// Why.
        why: StopReason,
    },
    /// Headless only, derived from the events: a pattern in the drops was found, changed or
    /// ended. Readers of a recording skip it (they find patterns themselves).
    Pattern(PatternLine),
    /// Headless only, derived from the events: how the endpoint is doing changed. Readers of
    /// a recording skip it.
    Health(HealthLine),
    /// Headless only, the very last line for each endpoint: the session in numbers, from the
    /// same model as the report and the dashboard's exit line. Readers of a recording skip
    /// it.
    Summary(SummaryLine),
}

/// A `summary` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SummaryLine {
    /// How long the session was watched, in ms.
    pub watched_ms: u64,
    /// Up as a share of the time whose state is known, in percent (null before any).
    pub availability: Option<f64>,
    /// Time connected, in ms.
    pub up_ms: u64,
    /// Time seen down, in ms.
    pub down_ms: u64,
    /// Time not probed, in ms.
    pub not_probed_ms: u64,
    /// Successful opens.
    pub connects: u64,
    /// Connections that ended other than by the user.
    pub drops: u64,
    /// Dials started.
    pub dials: u64,
    /// How the endpoint was doing at the end (as `health` lines name it).
    pub health: String,
    /// The session in words, as the dashboard's exit line says it.
    pub message: String,
}

/// A `pattern` line: what the drops have in common, and who the evidence names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PatternLine {
    /// `server_closes`, `wsmon_verdicts`, `path_timeout`, `idle_timeout`, `flapping`; null
    /// when the pattern ended.
    pub kind: Option<String>,
    /// `server`, `wsmon`, `path` or `mixed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit: Option<String>,
    /// The close code the server sent, for `server_closes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// The typical lifetime of the connections, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_ms: Option<u64>,
    /// The pattern in words, with its advice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A `health` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct HealthLine {
    /// `healthy`, `pings_unanswered`, `flapping`, `stale`, `reconnecting`, `down`,
    /// `closed`, `gave_up`.
    pub health: String,
    /// Open but sick.
    pub degraded: bool,
    /// In words.
    pub message: String,
}

/// The `recording` line at the top of each recorded file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHeader {
    /// What wrote it (`wsmon 0.1.0`).
    #[serde(default)]
    pub tool: String,
    /// The URL, masked.
    #[serde(default)]
    pub url: String,
    /// Request headers, values of secret ones masked.
    #[serde(default, with = "super::fields::pairs")]
    pub headers: Vec<(String, String)>,
    /// Offered subprotocols.
    #[serde(default)]
    pub subprotocols: Vec<String>,
    /// Heartbeat period in ms (0 = off).
    #[serde(default)]
    pub ping_interval_ms: u64,
    /// Dead-peer timeout in ms.
    #[serde(default)]
    pub pong_timeout_ms: u64,
    /// The application protocol spoken (`socketio`, `graphql-ws`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// The application heartbeat's message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ping: Option<String>,
    /// How long without data makes the connection stale, in ms (0 = never).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stale_after_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A data message's line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Payload {
    /// Text or binary.
    pub kind: Kind,
    /// Payload length.
    pub len: usize,
    /// For sent messages, the id the frontend got when it asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Text payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Binary (or non-UTF-8) payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// Headless only: the message as its preset reads it (`sensors/1 {"t":21} · QoS 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
}

/// An `error` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErrorLine {
    /// The class of failure.
    pub cause: Cause,
    /// Where it happened.
    pub phase: Phase,
    /// The explanation.
    pub message: String,
    /// How long the server asked us to wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// HTTP status of a refused upgrade or CONNECT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Its reason phrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its headers: lower-case names, repeated headers joined with `, `, secrets masked.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::fields::opt_pairs"
    )]
    pub headers: Option<Vec<(String, String)>>,
    /// The start of its body (as text; bytes that are not UTF-8 are replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Whether the body was longer than what was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_truncated: Option<bool>,
    /// What to do about it, when wsmon knows (a certificate's fix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// The certificates the server presented, its own first, for a refused certificate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<CertInfo>,
    /// The address the dial reached before it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<SocketAddr>,
    /// Its DNS time, when it got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_ms: Option<f64>,
    /// Its TCP connect time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_ms: Option<f64>,
    /// Its proxy CONNECT time, when it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_ms: Option<f64>,
    /// Its TLS handshake time, when it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ms: Option<f64>,
}

/// A `warning` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct WarningLine {
    /// The warning in words.
    pub message: String,
    /// What it is about, when it is one wsmon knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// For `skipped_line`: the line number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// For `skipped_line`: what is wrong with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `end_of_recording`: events replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed: Option<u64>,
    /// For `end_of_recording`: lines skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u64>,
}

/// A decoded line.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// An engine event.
    Event(Stamped),
    /// The `recording` header that starts each recorded file.
    Header(SystemTime, RecordHeader),
    /// A line derived from the events (`pattern`, `health`): readers work it out themselves.
    Derived,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The recording header line, newline included.
pub(crate) fn header_line(at: SystemTime, header: &RecordHeader) -> Vec<u8> {
    let line = WireLine {
        ts: at,
        endpoint: None,
        body: Body::Recording(RecordHeader {
            tool: concat!("wsmon ", env!("CARGO_PKG_VERSION")).to_string(),
            ..header.clone()
        }),
    };
    let mut out = serde_json::to_vec(&line).expect("a header always serializes");
    out.push(b'\n');
    out
}
