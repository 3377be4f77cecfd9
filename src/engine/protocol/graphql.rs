//! graphql-ws (the `graphql-transport-ws` subprotocol): `connection_init` on open, then
//! nothing may be subscribed until `connection_ack` (a subscribe before it is closed with
//! 4401); the server's `ping` is answered with `pong`; results are `next`, `error` and
//! `complete` with the subscription's id.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{Driver, Seen};

/// One connection's graphql-ws state.
pub struct GraphqlWs {
    payload: Option<String>,
    ack_by: Instant,
    wait: Duration,
    acked: bool,
}

impl GraphqlWs {
    /// State for a connection that opened `now`; the ack must come within `wait`.
    pub fn new(payload: Option<String>, wait: Duration, now: Instant) -> GraphqlWs {
        GraphqlWs {
            payload,
            ack_by: now + wait,
            wait,
            acked: false,
        }
    }
}

/// The `type` of a graphql-ws message, if it is one.
fn kind(v: &Value) -> Option<&str> {
    v.get("type")?.as_str()
}

impl Driver for GraphqlWs {
    fn name(&self) -> &'static str {
        "graphql-ws"
    }

    fn greet(&mut self, _now: Instant) -> Vec<String> {
        let init = match self.payload.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => format!(r#"{{"type":"connection_init","payload":{p}}}"#),
            _ => r#"{"type":"connection_init"}"#.to_string(),
        };
        vec![init]
    }

    fn on_text(&mut self, text: &str, _now: Instant) -> Seen {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return Seen::Data;
        };
        match kind(&v) {
            Some("connection_ack") => {
                self.acked = true;
                Seen::Ready("connection_ack".into())
            }
            Some("ping") => Seen::Answer(r#"{"type":"pong"}"#.into()),
            _ => Seen::Data,
        }
    }

    fn deadline(&self) -> Option<(Instant, String)> {
        (!self.acked).then(|| {
            (
                self.ack_by,
                format!(
                    "graphql-ws: no connection_ack within {} of connection_init (the server closes with 4408 when the init is late, 4403 when it is refused)",
                    crate::text::duration(self.wait)
                ),
            )
        })
    }

    fn ready(&self) -> bool {
        self.acked
    }
}

/// A result as `next #1 {...}`, `error #1 [...]`, `complete #1`.
pub fn decode(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let t = kind(&v)?;
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .map(|id| format!(" #{id}"))
        .unwrap_or_default();
    let payload = v
        .get("payload")
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    Some(format!("{t}{id}{payload}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_ack_then_results() {
        let t0 = Instant::now();
        let mut g = GraphqlWs::new(Some(r#"{"token":"x"}"#.into()), Duration::from_secs(3), t0);
        assert_eq!(
            g.greet(t0),
            [r#"{"type":"connection_init","payload":{"token":"x"}}"#]
        );
        assert!(!g.ready());
        assert_eq!(g.deadline().unwrap().0, t0 + Duration::from_secs(3));
        assert_eq!(
            g.on_text(r#"{"type":"connection_ack"}"#, t0),
            Seen::Ready("connection_ack".into())
        );
        assert!(g.ready() && g.deadline().is_none());
        assert_eq!(
            g.on_text(r#"{"type":"ping"}"#, t0),
            Seen::Answer(r#"{"type":"pong"}"#.into())
        );
        assert_eq!(
            g.on_text(r#"{"id":"1","type":"next","payload":{"data":{"n":1}}}"#, t0),
            Seen::Data
        );
        assert_eq!(
            decode(r#"{"id":"1","type":"next","payload":{"data":{"n":1}}}"#).unwrap(),
            r#"next #1 {"data":{"n":1}}"#
        );
        assert_eq!(
            decode(r#"{"id":"1","type":"complete"}"#).unwrap(),
            "complete #1"
        );
    }
}
