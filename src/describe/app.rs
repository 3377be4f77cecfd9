//! What an application protocol ran into (`engine::AppProblem`), in words: the protocol
//! first, what the server said as it said it, and what to check.

use crate::engine::AppProblem;
use crate::text::duration;

/// An application protocol's problem in one line: "MQTT: the broker refused the
/// connection: not authorized (CONNACK 0x05, MQTT 3.1.1)".
pub fn app_problem(p: &AppProblem) -> String {
    match p {
        AppProblem::GraphqlRefused { said } => format!(
            "GraphQL (legacy subscriptions-transport-ws): the server refused the connection: {said}"
        ),
        AppProblem::GraphqlSubscriptionFailed { protocol, id, said } => {
            format!("GraphQL ({protocol}): subscription #{id} failed: {said}")
        }
        AppProblem::GraphqlResultErrors { protocol, id, said } => {
            format!("GraphQL ({protocol}): subscription #{id} returned errors: {said}")
        }
        AppProblem::GraphqlNoKeepAlive { silent, every } => format!(
            "GraphQL (legacy subscriptions-transport-ws): no keep-alive (ka) from the server for {}; it sent one every {}: the session is gone",
            duration(*silent),
            duration(*every)
        ),
        AppProblem::GraphqlNoAck { protocol, wait } => format!(
            "{protocol}: no connection_ack within {} of connection_init (graphql-ws closes with 4408 when the init is late, 4403 when it is refused)",
            duration(*wait)
        ),
        AppProblem::MqttRefused {
            reason,
            code,
            version,
            next_v5,
        } => format!(
            "MQTT: the broker refused the connection: {reason} (CONNACK {code:#04x}, MQTT {version}){}",
            if *next_v5 {
                "; the next connection speaks MQTT 5"
            } else {
                ""
            }
        ),
        AppProblem::MqttPublishRefused { id, code } => {
            format!("MQTT: the broker did not accept publish #{id} (PUBACK {code:#04x})")
        }
        AppProblem::MqttSubscriptionRefused { filter, reason } => {
            format!("MQTT: the broker refused the subscription to `{filter}`: {reason}")
        }
        AppProblem::MqttDisconnected { code } => {
            format!("MQTT: the broker sent DISCONNECT (reason {code:#04x})")
        }
        AppProblem::MqttText => "MQTT: the broker sent a text message; MQTT over WebSocket is binary (is this an MQTT endpoint?)".to_string(),
        AppProblem::MqttMalformed { error } => format!("MQTT: {error} from the broker"),
        AppProblem::MqttNoConnack { wait } => format!(
            "MQTT: no CONNACK within {} of CONNECT (is this an MQTT broker's WebSocket listener?)",
            duration(*wait)
        ),
        AppProblem::MqttSubscribeUnanswered { filters } => format!(
            "MQTT: the broker closed the connection while the SUBSCRIBE to {} was unanswered: it refuses one of these filters (not authorized, or not valid), and some brokers (RabbitMQ) answer that by closing",
            filters.join(", ")
        ),
        AppProblem::MqttNoTopic { line } => format!(
            "MQTT: `{line}` does not start with a topic to publish to (write `topic payload`, e.g. `sensors/1 {{\"t\":21}}`; + and # are for subscribing)"
        ),
        AppProblem::SocketIoClosed => {
            "Socket.IO: the server closed the session (Engine.IO close)".to_string()
        }
        AppProblem::SocketIoRefused { namespace, said } => {
            format!("Socket.IO: the server refused namespace {namespace}: {said}")
        }
        AppProblem::SocketIoDisconnected { namespace } => {
            format!("Socket.IO: the server disconnected namespace {namespace}")
        }
        AppProblem::SocketIoNoOpen => {
            "Socket.IO: no open packet from the server (is this a Socket.IO 4 endpoint?)"
                .to_string()
        }
        AppProblem::SocketIoNotJoined { namespace } => {
            format!("Socket.IO: namespace {namespace} was not acknowledged")
        }
        AppProblem::SocketIoNoPing { limit } => format!(
            "Socket.IO: no ping from the server for {} (its pingInterval + pingTimeout): the session is gone",
            duration(*limit)
        ),
        AppProblem::StompError {
            message,
            body,
            host,
        } => {
            let mut out = format!("STOMP: the server sent ERROR: {message}");
            if let Some(b) = body {
                out.push_str(&format!(" — {b}"));
            }
            if let Some(h) = host {
                out.push_str(&format!(
                    " (wsmon sent host `{h}`: set stomp_host to the server's virtual host, e.g. /)"
                ));
            }
            out
        }
        AppProblem::StompNoConnected { wait } => format!(
            "STOMP: no CONNECTED within {} of CONNECT (is this a STOMP endpoint?)",
            duration(*wait)
        ),
        AppProblem::StompNoHeartbeat { silent, every } => format!(
            "STOMP: no heart-beat from the server for {} (agreed every {}): the session is gone",
            duration(*silent),
            duration(*every)
        ),
        AppProblem::StompSubscribeRefused { destinations } => format!(
            "STOMP: the server closed the connection right after the SUBSCRIBE to {}, without an ERROR: it refuses one of these destinations (access refused?)",
            destinations.join(", ")
        ),
        AppProblem::StompNoDestination => {
            "STOMP: write `destination body`, e.g. `/queue/orders hello`".to_string()
        }
        // A problem of a protocol this version has no words for is still named.
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_server_said_is_quoted_and_the_fix_follows() {
        let refused = AppProblem::MqttRefused {
            reason: "unacceptable protocol version".into(),
            code: 1,
            version: "3.1.1",
            next_v5: true,
        };
        assert_eq!(
            app_problem(&refused),
            "MQTT: the broker refused the connection: unacceptable protocol version (CONNACK 0x01, MQTT 3.1.1); the next connection speaks MQTT 5"
        );
        let host = AppProblem::StompError {
            message: "Bad CONNECT".into(),
            body: Some("Virtual host '/x' access denied".into()),
            host: Some("/x".into()),
        };
        assert_eq!(
            app_problem(&host),
            "STOMP: the server sent ERROR: Bad CONNECT — Virtual host '/x' access denied (wsmon sent host `/x`: set stomp_host to the server's virtual host, e.g. /)"
        );
    }
}
