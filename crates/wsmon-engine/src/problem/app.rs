//! What an application protocol (a preset) ran into, as facts; wsmon's `describe` words it.
//! What the server said is kept as it said it.

use std::time::Duration;

/// What a preset's protocol ran into: the server refused or ended the session, its
/// heartbeat stopped, or a line cannot be put in the protocol's form.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppProblem {
    /// The legacy GraphQL server answered `connection_init` with `connection_error`.
    GraphqlRefused {
        /// Its messages.
        said: String,
    },
    /// A GraphQL subscription failed (`error`).
    GraphqlSubscriptionFailed {
        /// `graphql-transport-ws` or `legacy subscriptions-transport-ws`.
        protocol: &'static str,
        /// The subscription's id.
        id: String,
        /// The server's messages.
        said: String,
    },
    /// A GraphQL result carried errors.
    GraphqlResultErrors {
        /// As above.
        protocol: &'static str,
        /// The subscription's id.
        id: String,
        /// The errors' messages.
        said: String,
    },
    /// The legacy GraphQL server's keep-alives stopped.
    GraphqlNoKeepAlive {
        /// How long none came.
        silent: Duration,
        /// How often they came.
        every: Duration,
    },
    /// No `connection_ack` in time.
    GraphqlNoAck {
        /// As above.
        protocol: &'static str,
        /// How long wsmon waited.
        wait: Duration,
    },
    /// The broker refused the MQTT connection (CONNACK).
    MqttRefused {
        /// The return code's name in the specification.
        reason: String,
        /// The return code.
        code: u8,
        /// The MQTT version spoken.
        version: &'static str,
        /// Whether the next connection speaks MQTT 5 (a 3.1.1 refusal of the version).
        next_v5: bool,
    },
    /// The broker did not accept a publish (PUBACK).
    MqttPublishRefused {
        /// The packet id.
        id: u16,
        /// The reason code.
        code: u8,
    },
    /// The broker refused a subscription (SUBACK).
    MqttSubscriptionRefused {
        /// The filter.
        filter: String,
        /// The reason code's name.
        reason: String,
    },
    /// The broker sent DISCONNECT.
    MqttDisconnected {
        /// Its reason code.
        code: u8,
    },
    /// A text message where MQTT over WebSocket is binary.
    MqttText,
    /// A packet that does not read.
    MqttMalformed {
        /// What is wrong with it.
        error: String,
    },
    /// No CONNACK in time.
    MqttNoConnack {
        /// How long wsmon waited.
        wait: Duration,
    },
    /// The broker closed the connection while a SUBSCRIBE was unanswered.
    MqttSubscribeUnanswered {
        /// Its filters.
        filters: Vec<String>,
    },
    /// A line that does not start with a topic to publish to.
    MqttNoTopic {
        /// The line.
        line: String,
    },
    /// The Engine.IO session was closed by the server.
    SocketIoClosed,
    /// The server refused the namespace.
    SocketIoRefused {
        /// The namespace.
        namespace: String,
        /// What it said.
        said: String,
    },
    /// The server disconnected the namespace.
    SocketIoDisconnected {
        /// The namespace.
        namespace: String,
    },
    /// No Engine.IO open packet.
    SocketIoNoOpen,
    /// The namespace was not acknowledged in time.
    SocketIoNotJoined {
        /// The namespace.
        namespace: String,
    },
    /// The server's pings stopped.
    SocketIoNoPing {
        /// pingInterval + pingTimeout.
        limit: Duration,
    },
    /// The STOMP server sent ERROR.
    StompError {
        /// Its `message` header.
        message: String,
        /// The first line of its body, when it says more.
        body: Option<String>,
        /// The virtual host wsmon sent, when the error is about the host.
        host: Option<String>,
    },
    /// No CONNECTED in time.
    StompNoConnected {
        /// How long wsmon waited.
        wait: Duration,
    },
    /// The server's heart-beats stopped.
    StompNoHeartbeat {
        /// How long none came.
        silent: Duration,
        /// As agreed.
        every: Duration,
    },
    /// The server closed right after a SUBSCRIBE, without an ERROR.
    StompSubscribeRefused {
        /// The destinations subscribed.
        destinations: Vec<String>,
    },
    /// A line that is not `destination body`.
    StompNoDestination,
}
