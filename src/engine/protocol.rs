//! Application protocols spoken over the WebSocket (the presets): what to send when the
//! connection opens, what each received text is (data, the protocol's own traffic, a
//! heartbeat to answer, the end of the handshake, a failure), and the protocol's own timers.
//! Pure state machines: the open connection (`open.rs`) does the sending.

mod graphql;
mod socketio;

use tokio::time::Instant;

use super::settings::ConnSettings;

/// An application protocol wsmon speaks for the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Engine.IO v4 / Socket.IO 4 over WebSocket.
    SocketIo,
    /// graphql-ws (`graphql-transport-ws`).
    GraphqlWs,
}

impl Preset {
    /// Every preset, by its name in config.
    pub const NAMES: [(&'static str, Preset); 2] = [
        ("socketio", Preset::SocketIo),
        ("graphql-ws", Preset::GraphqlWs),
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
        }
    }

    /// A received text as a person reads it: a Socket.IO event as its name and arguments, a
    /// graphql-ws result with its subscription id; `None` when it is nothing special.
    pub fn decode(self, text: &str) -> Option<String> {
        match self {
            Preset::SocketIo => socketio::decode(text),
            Preset::GraphqlWs => graphql::decode(text),
        }
    }

    /// What a line typed in the dashboard sends: Socket.IO emits `event {json}` as an event;
    /// graphql-ws sends what was typed.
    pub fn encode_typed(self, line: &str) -> String {
        match self {
            Preset::SocketIo => socketio::emit(line),
            Preset::GraphqlWs => line.to_string(),
        }
    }
}

/// What a protocol makes of a received text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Application data: shown, and it keeps the feed fresh.
    Data,
    /// The protocol's own traffic (an ack, a no-op): shown, not data.
    Control,
    /// The protocol's own traffic, to which the handshake's next message is this: both shown,
    /// neither data.
    Handshake(String),
    /// A heartbeat to answer with this text: not data, counted with the auto-replies.
    Answer(String),
    /// The handshake completed; the words say with what.
    Ready(String),
    /// The session failed (refused, or ended by the server); the words say how.
    Failed(String),
}

/// A protocol's state on one connection.
pub trait Driver: Send {
    /// The protocol's name, for messages.
    fn name(&self) -> &'static str;
    /// What to send as soon as the connection opens.
    fn greet(&mut self, now: Instant) -> Vec<String>;
    /// Classifies a received text.
    fn on_text(&mut self, text: &str, now: Instant) -> Seen;
    /// When the protocol's own timer runs out (waiting for an ack, for the server's ping),
    /// and what that means.
    fn deadline(&self) -> Option<(Instant, String)>;
    /// Whether the handshake has completed (sends of the user wait for it).
    fn ready(&self) -> bool;
}

/// The protocol state for a new connection made with `s`.
pub fn driver(p: Preset, s: &ConnSettings, now: Instant) -> Box<dyn Driver> {
    match p {
        Preset::SocketIo => Box::new(socketio::SocketIo::new(
            &s.namespace,
            s.connect_timeout,
            now,
        )),
        Preset::GraphqlWs => Box::new(graphql::GraphqlWs::new(
            s.init_payload.clone(),
            s.connect_timeout,
            now,
        )),
    }
}
