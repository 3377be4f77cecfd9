//! Application protocols spoken over the WebSocket (the presets): the handshake on every open,
//! what each received message is (data, the protocol's own traffic, a heartbeat, an answer to
//! the application ping, the end of the handshake, a refusal), how a line a person writes is
//! put in the protocol's form, and the protocol's own timers. A driver lives as long as its
//! engine, so what a protocol keeps across connections (a Socket.IO session to recover, an
//! MQTT protocol version the broker asked for) survives a reconnect. Pure state machines:
//! the open connection (`open.rs`) does the sending.

mod graphql;
mod line;
mod mqtt;
mod socketio;
mod stomp;

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

pub use line::Line;
pub use mqtt::VersionChoice;

use super::event::Kind;
pub use super::problem::AppProblem;
use super::settings::ConnSettings;

/// An application protocol wsmon speaks for the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Engine.IO v4 / Socket.IO 4 over WebSocket.
    SocketIo,
    /// GraphQL over WebSocket: graphql-ws (`graphql-transport-ws`), or the legacy
    /// subscriptions-transport-ws (`graphql-ws`) when the server chooses it.
    GraphqlWs,
    /// MQTT 3.1.1 (and 5) over WebSocket.
    Mqtt,
    /// STOMP 1.2 (1.1, 1.0) over WebSocket.
    Stomp,
}

impl Preset {
    /// Every preset, by its name in config.
    pub const NAMES: [(&'static str, Preset); 4] = [
        ("socketio", Preset::SocketIo),
        ("graphql-ws", Preset::GraphqlWs),
        ("mqtt", Preset::Mqtt),
        ("stomp", Preset::Stomp),
    ];

    /// The preset of this name in config.
    pub fn named(name: &str) -> Option<Preset> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
    }

    /// Its name in config.
    pub fn name(self) -> &'static str {
        match self {
            Preset::SocketIo => "socketio",
            Preset::GraphqlWs => "graphql-ws",
            Preset::Mqtt => "mqtt",
            Preset::Stomp => "stomp",
        }
    }

    /// What it speaks and does, in one line (`wsmon --preset list`).
    pub fn about(self) -> &'static str {
        match self {
            Preset::SocketIo => {
                "Socket.IO 4 (Engine.IO v4): joins --namespace with --init-payload as auth, answers the server's pings, recovers the session; a line `event {json}` emits"
            }
            Preset::GraphqlWs => {
                "GraphQL over WebSocket, graphql-ws or the legacy subscriptions-transport-ws (the server chooses): --subscribe a subscription document; ping/pong or ka"
            }
            Preset::Mqtt => {
                "MQTT 3.1.1 (5 when the broker asks): CONNECT, --subscribe a topic filter, PINGREQ as the heartbeat, QoS 1 acknowledged; a line `topic payload` publishes"
            }
            Preset::Stomp => {
                "STOMP 1.2/1.1: CONNECT with heart-beats, --subscribe a destination, receipts; a line `destination body` is a SEND"
            }
        }
    }

    /// What a `subscribe` value is to this preset; `None` when it has no such notion.
    pub fn subscribe_means(self) -> Option<&'static str> {
        match self {
            Preset::SocketIo => None,
            Preset::GraphqlWs => Some("a GraphQL subscription document"),
            Preset::Mqtt => Some("an MQTT topic filter"),
            Preset::Stomp => Some("a STOMP destination"),
        }
    }

    /// The protocol's own application heartbeat, named for display (`None`: it has none of
    /// its own, and `app_ping` is the user's).
    pub fn heartbeat(self) -> Option<&'static str> {
        match self {
            Preset::SocketIo => None,
            Preset::GraphqlWs => Some("graphql-ws ping (legacy: the server's ka)"),
            Preset::Mqtt => Some("MQTT PINGREQ"),
            Preset::Stomp => Some("STOMP heart-beat"),
        }
    }

    /// A received (or sent) message as a person reads it: a Socket.IO event as its name and
    /// arguments, a GraphQL result with its subscription id, an MQTT packet, a STOMP frame;
    /// `None` when it is nothing special. `offsets`: Socket.IO events end with the session's
    /// offset (connection state recovery), shown as such.
    pub fn decode(self, kind: Kind, data: &[u8], offsets: bool) -> Option<String> {
        let text = || std::str::from_utf8(data).ok();
        match self {
            Preset::SocketIo => socketio::decode(text()?, offsets),
            Preset::GraphqlWs => graphql::decode(text()?),
            Preset::Mqtt => (kind == Kind::Binary).then(|| mqtt::decode(data))?,
            Preset::Stomp => stomp::decode(data),
        }
    }
}

/// A message as it goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// Text or binary.
    pub kind: Kind,
    /// The bytes; UTF-8 for text.
    pub data: Bytes,
    /// What is reported (shown, recorded) instead of `data`: the same message with its
    /// password masked.
    pub shown: Option<Bytes>,
}

impl Payload {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Payload {
        Payload {
            kind: Kind::Text,
            data: Bytes::from(text.into()),
            shown: None,
        }
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Payload {
        Payload {
            kind: Kind::Binary,
            data: data.into(),
            shown: None,
        }
    }
}

/// A line of the user's in the protocol's form, and the tag of the acknowledgement that will
/// confirm it (an MQTT QoS 1 packet id, a STOMP receipt), if the protocol gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// What goes on the wire.
    pub payload: Payload,
    /// The protocol acknowledges it under this tag.
    pub ack: Option<u64>,
}

/// What a protocol makes of a received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Application data: shown, and it keeps the feed fresh.
    Data,
    /// The protocol's own traffic (an ack, a keep-alive, the handshake): shown, not data.
    Control,
    /// A heartbeat of the server's, answered with `Reaction::send`: counted with the
    /// auto-replies, not data.
    Heartbeat,
    /// The answer to the application ping: a round trip.
    Pong,
    /// A heart-beat of the server's that needs no answer (a STOMP EOL): not shown, not data.
    Beat,
    /// The handshake completed; the words say with what.
    Ready(String),
    /// The session failed (refused, or ended by the server).
    Failed(AppProblem),
}

/// What a protocol does about a received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// What it is.
    pub seen: Seen,
    /// What to send in answer (the next step of the handshake, the subscriptions once
    /// ready, a heartbeat's answer, an acknowledgement).
    pub send: Vec<Payload>,
    /// What the user should know (a refused subscription, an error message of the
    /// protocol's), said as a warning.
    pub say: Vec<AppProblem>,
    /// Acknowledgement tags that arrived (see `Encoded::ack`).
    pub acked: Vec<u64>,
}

impl Reaction {
    /// A message that is only this.
    pub fn just(seen: Seen) -> Reaction {
        Reaction {
            seen,
            send: Vec::new(),
            say: Vec::new(),
            acked: Vec::new(),
        }
    }

    /// A message that is this, answered with `send`.
    pub fn answer(seen: Seen, send: Vec<Payload>) -> Reaction {
        Reaction {
            send,
            ..Reaction::just(seen)
        }
    }

    /// Adds something to say.
    pub fn saying(mut self, what: AppProblem) -> Reaction {
        self.say.push(what);
        self
    }
}

/// What the engine asks of a protocol's timer when it runs out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
    /// Send these (a STOMP heart-beat) and go on.
    Send(Vec<Payload>),
    /// The session is gone (or the handshake never completed).
    Dead(AppProblem),
}

/// A protocol's state: one per engine, started again on each connection.
pub trait Driver: Send {
    /// The protocol's name, for messages.
    fn name(&self) -> &'static str;
    /// A connection opened at `now` with this subprotocol (the server's choice): what to
    /// send first.
    fn start(&mut self, now: Instant, subprotocol: Option<&str>) -> Vec<Payload>;
    /// Classifies a received message and says what to do about it.
    fn receive(&mut self, kind: Kind, data: &[u8], now: Instant) -> Reaction;
    /// When the protocol's own timer runs out next.
    fn deadline(&self) -> Option<Instant>;
    /// The protocol's timer ran out at `now`.
    fn on_deadline(&mut self, now: Instant) -> Due;
    /// Whether the handshake has completed (sends of the user wait for it).
    fn ready(&self) -> bool;
    /// A line of the user's (typed, from stdin, `on_open`) in the protocol's form, or why it
    /// cannot be sent.
    fn encode(&mut self, line: &str) -> Result<Encoded, AppProblem>;
    /// The protocol's own application ping, when it keeps one and the server takes it now.
    fn app_ping(&self) -> Option<Payload>;
    /// What to send before a polite close (a DISCONNECT).
    fn farewell(&mut self) -> Vec<Payload>;
    /// Whether received events end with a recovery offset (Socket.IO), for display.
    fn offsets(&self) -> bool {
        false
    }
    /// The connection ended (not by the user) after `uptime`: what the protocol knows of
    /// why (a SUBSCRIBE the broker answered by closing).
    fn ended(&mut self, _uptime: std::time::Duration) -> Option<AppProblem> {
        None
    }
}

/// The driver of preset `p` for an engine with settings `s`.
pub fn driver(p: Preset, s: &ConnSettings) -> Box<dyn Driver> {
    match p {
        Preset::SocketIo => Box::new(socketio::SocketIo::new(s)),
        Preset::GraphqlWs => Box::new(graphql::Graphql::new(s)),
        Preset::Mqtt => Box::new(mqtt::Mqtt::new(s)),
        Preset::Stomp => Box::new(stomp::Stomp::new(s)),
    }
}

/// The subprotocols the graphql-ws preset offers, in the order both kinds of server accept.
pub fn graphql_subprotocols() -> Vec<String> {
    graphql::SUBPROTOCOLS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The subprotocols the stomp preset offers, newest first.
pub fn stomp_subprotocols() -> Vec<String> {
    stomp::SUBPROTOCOLS.iter().map(|s| s.to_string()).collect()
}

/// The login of settings `s` (MQTT, STOMP): `username` and `password`, else the URL's.
fn login(s: &ConnSettings) -> Option<(String, String)> {
    let password = s.password.as_ref().map(|p| p.0.clone());
    match (&s.username, password) {
        (Some(u), p) => Some((u.clone(), p.unwrap_or_default())),
        (None, Some(p)) => Some((String::new(), p)),
        (None, None) => s.target.credentials(),
    }
}

/// The interval of the application heartbeat of settings `s`: `app_ping_interval`, else
/// `ping_interval`; `None` when both are off.
pub fn app_interval(s: &ConnSettings) -> Option<Duration> {
    s.app_ping_interval.or(s.ping_interval)
}
