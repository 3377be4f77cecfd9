//! The typed boundary between the socket task and any frontend.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use crate::tls::CertInfo;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::problem::{AppProblem, Problem};

/// Which way a data message travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dir {
    /// Received from the peer.
    In,
    /// Sent by us.
    Out,
}

/// The kind of a WebSocket data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A text frame; the payload is valid UTF-8.
    Text,
    /// A binary frame.
    Binary,
}

impl Kind {
    /// The wire name (as serde writes it; the JSON lines round-trip test checks they agree).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
        }
    }
}

/// A data message that crossed the socket.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// In or out.
    pub dir: Dir,
    /// Text or binary.
    pub kind: Kind,
    /// The payload; for `Kind::Text` it is valid UTF-8.
    pub data: Bytes,
    /// For outgoing messages, the id given when the frontend asked to send it; 0 for incoming.
    pub id: u64,
}

impl Message {
    /// The same message with its payload in an allocation of its own. A received payload is a
    /// slice of the socket's read buffer and keeps all of it alive; anything kept for long
    /// (the log, the report) should hold a detached copy.
    pub fn detached(&self) -> Message {
        Message {
            data: Bytes::copy_from_slice(&self.data),
            ..self.clone()
        }
    }

    /// The payload as text, when it is a text message.
    pub fn text(&self) -> Option<&str> {
        match self.kind {
            Kind::Text => std::str::from_utf8(&self.data).ok(),
            Kind::Binary => None,
        }
    }
}

/// A step of the dial, used to say where a failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Resolving the host name.
    Dns,
    /// Opening the TCP connection.
    Tcp,
    /// Asking the HTTP proxy for a tunnel.
    Proxy,
    /// The TLS handshake.
    Tls,
    /// The HTTP upgrade to WebSocket.
    Upgrade,
    /// The application protocol's handshake (a preset's), after the upgrade.
    App,
    /// After the connection was open.
    Open,
}

impl Phase {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Tcp => "tcp",
            Phase::Proxy => "proxy",
            Phase::Tls => "tls",
            Phase::Upgrade => "upgrade",
            Phase::App => "app",
            Phase::Open => "open",
        }
    }
}

/// Time spent in each phase of one successful dial.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Phases {
    /// Name resolution (zero for an IP literal).
    pub dns: Duration,
    /// TCP connect, including addresses that refused before the one that answered.
    pub tcp: Duration,
    /// The proxy CONNECT exchange, when a proxy was used.
    pub proxy: Option<Duration>,
    /// The TLS handshake, for `wss://`.
    pub tls: Option<Duration>,
    /// The HTTP upgrade request and its 101 answer.
    pub handshake: Duration,
}

/// What is known about a connection that just opened.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenInfo {
    /// Attempt number within the outage that this connect ended (1 = first try).
    pub attempt: u32,
    /// Phase timings.
    pub phases: Phases,
    /// The address actually connected to (the proxy's when tunnelling).
    pub remote: SocketAddr,
    /// The proxy used, redacted, if any.
    pub proxy: Option<String>,
    /// The subprotocol the server chose.
    pub subprotocol: Option<String>,
    /// The negotiated TLS version, for `wss://`.
    pub tls_version: Option<&'static str>,
    /// The server's certificate, for `wss://`.
    pub cert: Option<CertInfo>,
}

/// Who ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    /// The server sent a close frame.
    Server,
    /// We closed it (user command or shutdown).
    Client,
    /// The heartbeat declared the peer dead.
    Heartbeat,
    /// No data came for `stale_after`, and `stale_action` is to reconnect.
    Stale,
    /// The connection failed: reset, protocol error, closed without a close frame.
    Error,
}

impl ClosedBy {
    /// Every closer, in a stable order.
    pub const ALL: [ClosedBy; 5] = [
        ClosedBy::Server,
        ClosedBy::Client,
        ClosedBy::Heartbeat,
        ClosedBy::Stale,
        ClosedBy::Error,
    ];

    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedBy::Server => "server",
            ClosedBy::Client => "client",
            ClosedBy::Heartbeat => "heartbeat",
            ClosedBy::Stale => "stale",
            ClosedBy::Error => "error",
        }
    }
}

/// Why wsmon itself gave up on an open connection (`ClosedBy::Heartbeat` or `Stale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No frame at all within `pong_timeout` after a WebSocket ping.
    NoPong,
    /// No answer matching `app_pong` within `pong_timeout` after `app_ping`.
    NoAppPong,
    /// The socket took none of our bytes for `pong_timeout`.
    WriteStall,
    /// The application protocol's own heartbeat (a Socket.IO server's pings) stopped.
    ProtocolHeartbeat,
    /// No data for `stale_after`, and `stale_action` is to reconnect.
    Stale,
}

impl Verdict {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::NoPong => "no_pong",
            Verdict::NoAppPong => "no_app_pong",
            Verdict::WriteStall => "write_stall",
            Verdict::ProtocolHeartbeat => "protocol_heartbeat",
            Verdict::Stale => "stale",
        }
    }
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq)]
pub struct CloseInfo {
    /// The close code, if a close frame carried one (1006 when none was received).
    pub code: Option<u16>,
    /// The close reason text.
    pub reason: String,
    /// Who closed it.
    pub by: ClosedBy,
    /// How long the connection had been open.
    pub uptime: Duration,
    /// For a close by wsmon's heartbeat or staleness: which verdict.
    pub verdict: Option<Verdict>,
}

/// A failure class a person can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The host name did not resolve.
    Dns,
    /// Nothing listens on the port (TCP RST).
    Refused,
    /// A phase or the heartbeat ran out of time.
    Timeout,
    /// The TLS handshake failed (certificate named where known).
    Tls,
    /// The upgrade was answered with a status other than 101.
    Http,
    /// The peer broke the WebSocket or HTTP protocol.
    Protocol,
    /// Any other I/O failure (reset, unreachable network).
    Io,
}

impl Cause {
    /// Every cause, in a stable order.
    pub const ALL: [Cause; 7] = [
        Cause::Dns,
        Cause::Refused,
        Cause::Timeout,
        Cause::Tls,
        Cause::Http,
        Cause::Protocol,
        Cause::Io,
    ];

    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Dns => "dns",
            Cause::Refused => "refused",
            Cause::Timeout => "timeout",
            Cause::Tls => "tls",
            Cause::Http => "http",
            Cause::Protocol => "protocol",
            Cause::Io => "io",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to an upgrade that was not 101 Switching Protocols.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpFailure {
    /// HTTP status code.
    pub status: u16,
    /// The reason phrase the server sent.
    pub reason: String,
    /// Response headers in order, secrets masked.
    pub headers: Vec<(String, String)>,
    /// The first 4 KiB of the body.
    pub body: Bytes,
    /// True when the body was longer than what was kept.
    pub body_truncated: bool,
}

impl HttpFailure {
    /// A redirect's `Location` and the ws/wss URL it gives (`http` -> `ws`); `None` when
    /// the answer is not a redirect or has no `Location`.
    pub fn redirect(&self) -> Option<(&str, String)> {
        if self.status / 100 != 3 {
            return None;
        }
        self.header("location")
            .map(|loc| (loc, super::http::as_websocket_url(loc)))
    }

    /// What the body says, in one clean line of at most 120 characters: an HTML error page
    /// by its title or first sentence of text (not `<html>`), anything else by its first
    /// non-empty line; empty when the body is not text.
    pub fn body_line(&self) -> String {
        super::http::body_summary(&self.body, self.status, &self.reason)
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A failed dial or a connection that broke, classified.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The class of failure.
    pub cause: Cause,
    /// Where it happened.
    pub phase: Phase,
    /// What it ran into, as facts (`wsmon::describe` words it).
    pub problem: Problem,
    /// The HTTP answer, for `Cause::Http`.
    pub http: Option<HttpFailure>,
    /// How long the server asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// What the dial reached before it failed: the address and the phases that finished.
    pub reached: Option<Box<Reached>>,
    /// The certificates the server presented, server's first, for a refused certificate.
    pub chain: Vec<CertInfo>,
}

/// How far a failed dial got: the address it reached and how long each finished phase took.
#[derive(Clone, Debug, PartialEq)]
pub struct Reached {
    /// The address connected to (the proxy's when tunnelling).
    pub remote: SocketAddr,
    /// The phases that finished (the failed one and those after it are zero or `None`).
    pub phases: Phases,
}

impl Failure {
    /// A failure without HTTP details.
    pub fn new(cause: Cause, phase: Phase, problem: Problem) -> Self {
        Failure {
            cause,
            phase,
            problem,
            http: None,
            retry_after: None,
            reached: None,
            chain: Vec::new(),
        }
    }
}

/// Bytes of a message refused as too large that its `dropped` event keeps.
pub const PREVIEW: usize = 256;

/// The first `PREVIEW` bytes of `data`.
pub(crate) fn preview(data: &Bytes) -> Bytes {
    data.slice(..data.len().min(PREVIEW))
}

/// Why an outgoing message was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The send queue was full while disconnected.
    QueueFull,
    /// Larger than `max_message_size`.
    TooLarge,
    /// wsmon shut down before the connection came back.
    Shutdown,
    /// The connection was closed by the user and the queue discarded.
    Discarded,
    /// The preset cannot put it in its form (an MQTT line without a topic).
    Unsendable,
}

impl DropReason {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::TooLarge => "too_large",
            DropReason::Shutdown => "shutdown",
            DropReason::Discarded => "discarded",
            DropReason::Unsendable => "unsendable",
        }
    }
}

/// Why a session (and so its recording) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The user quit.
    Quit,
    /// A signal: SIGTERM, SIGINT, SIGHUP.
    Signal,
    /// Every endpoint gave up (`max_attempts`).
    GaveUp,
    /// The output went away (`| head`).
    OutputClosed,
    /// The events ran out (a replay reached the end of its recording).
    EndOfInput,
    /// The user stopped the recording; watching went on.
    RecordingStopped,
    /// The recording continues in a new file (rotated by size).
    Rotated,
}

impl StopReason {
    /// The wire name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Quit => "quit",
            StopReason::Signal => "signal",
            StopReason::GaveUp => "gave_up",
            StopReason::OutputClosed => "output_closed",
            StopReason::EndOfInput => "end_of_input",
            StopReason::RecordingStopped => "recording_stopped",
            StopReason::Rotated => "rotated",
        }
    }
}

/// What the engine reports to frontends.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A dial started.
    Connecting {
        /// Attempt number in the current outage (1 = first try).
        attempt: u32,
        /// The URL being dialled, secrets masked.
        url: Arc<str>,
    },
    /// The connection is open.
    Open(Arc<OpenInfo>),
    /// A data message was received or sent.
    Message(Message),
    /// We sent a heartbeat or manual ping: a WebSocket ping, or (`app`) the application
    /// heartbeat message `app_ping`.
    Ping {
        /// Sequence number (in a WebSocket ping's payload).
        seq: u64,
        /// An application-level ping.
        app: bool,
    },
    /// The peer pinged us (we answered automatically).
    PeerPing,
    /// An answer to our ping came back: a pong, or (`app`) a message matching `app_pong`.
    Rtt {
        /// The round trip.
        rtt: Duration,
        /// An application-level answer.
        app: bool,
    },
    /// A received message matched an `auto_reply` rule (or the preset's heartbeat) and its
    /// reply went out; neither is data.
    AutoReply {
        /// What came in (shared, not `Bytes`: every event pays for the largest variant).
        received: Arc<str>,
        /// What went back.
        sent: Arc<str>,
        /// Replies made on this connection so far.
        count: u64,
    },
    /// The application protocol's handshake completed (a preset): sends may go out now.
    Ready {
        /// The protocol.
        protocol: &'static str,
        /// What the server said, in a few words (a session id, a namespace).
        detail: String,
        /// Received events end with a recovery offset (Socket.IO connection state
        /// recovery), shown as such rather than as an argument.
        offsets: bool,
    },
    /// No data came for `stale_after` on an open connection.
    Stale {
        /// How long nothing has come.
        silent: Duration,
    },
    /// Data came again after the connection was stale.
    Fresh {
        /// How long nothing had come.
        silent: Duration,
    },
    /// We started a close handshake.
    Closing {
        /// Close code we sent.
        code: u16,
        /// Close reason we sent.
        reason: String,
    },
    /// The connection ended.
    Closed(Arc<CloseInfo>),
    /// A dial failed or an open connection broke.
    Error(Arc<Failure>),
    /// The next attempt is scheduled.
    Retry {
        /// The attempt number it will be.
        attempt: u32,
        /// How long until it starts.
        delay: Duration,
    },
    /// `max_attempts` was exhausted; the engine waits for a reconnect command.
    GaveUp {
        /// Attempts made in the outage.
        attempts: u32,
    },
    /// A message was accepted while not open and waits in the queue.
    Queued {
        /// Id of the outgoing message.
        id: u64,
        /// Text or binary.
        kind: Kind,
        /// Payload, kept so that frontends can show what waits.
        data: Bytes,
        /// Messages now waiting.
        queued: usize,
    },
    /// Messages were written but the peer's TCP had not acknowledged them when the
    /// connection ended: they may or may not have arrived. Not sent again unless
    /// `resend_unconfirmed`.
    Unconfirmed {
        /// The ids of the first of them (at most 10,000).
        ids: Arc<[u64]>,
        /// How many.
        count: u64,
        /// Whether they wait to be sent again on the next connection.
        resent: bool,
    },
    /// A message was refused or discarded.
    Dropped {
        /// Id of the outgoing message.
        id: u64,
        /// Text or binary.
        kind: Kind,
        /// Payload, so a recording keeps what was not sent; of a message refused as too
        /// large, only its first `PREVIEW` bytes.
        data: Bytes,
        /// The whole message's length.
        len: u64,
        /// Why.
        reason: DropReason,
    },
    /// Something the user should know that is not a failure.
    Warning(Warning),
    /// The engine for this endpoint stopped on a bug (a panic), with its message. The
    /// endpoint is watched no more; the others go on. Never sent otherwise.
    Crashed(Arc<str>),
    /// The session ended here. The engine never sends it: a recorder writes it as the last
    /// line of a recording, and a frontend folds it at exit, so every reader of a session
    /// knows when and why it ended.
    Stopped(StopReason),
}

/// What a warning is about; frontends put it in words.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// Certificate verification is off (`--insecure`) on a `wss://` connection.
    Insecure,
    /// A ping was asked for while not connected; none was sent.
    PingNotConnected,
    /// A line of a replayed recording could not be used.
    SkippedLine {
        /// Its 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A replay reached the end of its recording.
    EndOfRecording {
        /// Events replayed.
        replayed: u64,
        /// Lines skipped.
        skipped: u64,
    },
    /// The server ended the last connections sooner than the application heartbeat's
    /// interval: it may want an application ping more often.
    AppPingTooSlow {
        /// How long the last two connections lived.
        lives: Vec<Duration>,
        /// `app_ping_interval`.
        interval: Duration,
    },
    /// A line the preset cannot put in its protocol's form was not sent (the preset's reason).
    NotSent(Box<AppProblem>),
    /// What an application protocol said that is not a failure (a refused subscription, a
    /// result with errors, a SUBSCRIBE answered by closing).
    App(Box<AppProblem>),
    /// A warning known only by its words: one read back from a recording.
    Note(String),
}

impl Warning {
    /// The wire name of the warning (`code` in JSON lines); `None` for a plain note.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Warning::Insecure => Some("insecure"),
            Warning::PingNotConnected => Some("ping_not_connected"),
            Warning::SkippedLine { .. } => Some("skipped_line"),
            Warning::EndOfRecording { .. } => Some("end_of_recording"),
            Warning::AppPingTooSlow { .. } => Some("app_ping_too_slow"),
            Warning::NotSent(_) => Some("not_sent"),
            Warning::App(_) => None,
            Warning::Note(_) => None,
        }
    }

    /// Whether it is about reading a recording rather than about the connection.
    pub fn about_the_recording(&self) -> bool {
        matches!(
            self,
            Warning::SkippedLine { .. } | Warning::EndOfRecording { .. }
        )
    }
}

/// An event with the wall-clock time it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Stamped {
    /// When the engine saw it.
    pub at: SystemTime,
    /// What happened.
    pub event: Event,
}

/// Events handed over together; shared, so a recorder sees the same batch as the frontend.
pub type Batch = Arc<Vec<Stamped>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stays_small() {
        // Every message of a flood is an `Event` in a batch: a large rare variant makes every
        // one of them larger (an auto-reply of two `Bytes` cost 5% of the 1M-message ingest).
        // Put what is large behind an `Arc`.
        assert!(
            std::mem::size_of::<Event>() <= 56,
            "{}",
            std::mem::size_of::<Event>()
        );
    }
}
