//! GraphQL over WebSocket, in the protocol the server chooses from the two offered:
//!
//! - graphql-ws (subprotocol `graphql-transport-ws`): `connection_init`, then nothing may be
//!   subscribed until `connection_ack`; `subscribe` with an id; results `next`, `error`,
//!   `complete`; either side pings with `ping`, answered `pong`.
//! - the legacy subscriptions-transport-ws (subprotocol `graphql-ws`, Apollo's old one):
//!   `connection_init`, `connection_ack` (or `connection_error`); `start`/`stop`; results
//!   `data`, `error`, `complete`; the server's `ka` keep-alives are its heartbeat, and the
//!   client has no ping of its own.
//!
//! Both are offered as `graphql-ws, graphql-transport-ws`: a legacy server takes the first
//! and closes with 1002 on anything else; a graphql-ws server finds its own anywhere in the
//! list.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{AppProblem, Driver, Due, Encoded, Payload, Reaction, Seen};
use crate::event::Kind;
use crate::settings::ConnSettings;

/// The subprotocols offered, in the order both kinds of server accept.
pub(super) const SUBPROTOCOLS: [&str; 2] = ["graphql-ws", "graphql-transport-ws"];

/// Which of the two protocols the server chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    /// graphql-ws (`graphql-transport-ws`).
    Modern,
    /// subscriptions-transport-ws (`graphql-ws`).
    Legacy,
}

/// GraphQL's state on one engine.
pub(super) struct Graphql {
    payload: Option<Value>,
    subscriptions: Vec<String>,
    wait: Duration,
    flavour: Flavour,
    ack_by: Instant,
    acked: bool,
    next_id: u64,
    /// The legacy server's keep-alives: when the last came, and how far apart they come.
    last_ka: Option<Instant>,
    ka_every: Option<Duration>,
}

impl Graphql {
    /// A driver for settings `s`: `init_payload` and the `subscribe` documents.
    pub(super) fn new(s: &ConnSettings) -> Graphql {
        Graphql {
            payload: s
                .init_payload
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
            subscriptions: s.subscribe.clone(),
            wait: s.connect_timeout,
            flavour: Flavour::Modern,
            ack_by: Instant::now(),
            acked: false,
            next_id: 0,
            last_ka: None,
            ka_every: None,
        }
    }

    /// When the legacy server's silence means the session is gone: three of its keep-alive
    /// intervals without one.
    fn ka_limit(&self) -> Option<Instant> {
        Some(self.last_ka? + self.ka_every? * 3)
    }

    /// A subscription (or query) document as the protocol's start message, with a new id.
    fn subscribe(&mut self, document: &str) -> Payload {
        self.next_id += 1;
        let kind = match self.flavour {
            Flavour::Modern => "subscribe",
            Flavour::Legacy => "start",
        };
        Payload::text(
            json!({
                "id": self.next_id.to_string(),
                "type": kind,
                "payload": {"query": document},
            })
            .to_string(),
        )
    }

    fn protocol(&self) -> &'static str {
        match self.flavour {
            Flavour::Modern => "graphql-ws",
            Flavour::Legacy => "legacy subscriptions-transport-ws",
        }
    }
}

/// The `type` of a message, if it is one.
fn kind(v: &Value) -> Option<&str> {
    v.get("type")?.as_str()
}

/// The messages of a GraphQL error payload (a list of errors, or one).
fn messages(payload: Option<&Value>) -> String {
    let one = |e: &Value| {
        e.get("message")
            .and_then(Value::as_str)
            .map_or_else(|| e.to_string(), str::to_string)
    };
    match payload {
        Some(Value::Array(errors)) => errors.iter().map(one).collect::<Vec<_>>().join("; "),
        Some(Value::String(s)) => s.clone(),
        Some(other) => one(other),
        None => "(no message)".into(),
    }
}

/// A line that is a GraphQL document rather than a protocol message.
fn is_document(line: &str) -> bool {
    let l = line.trim_start();
    ["subscription", "query", "mutation", "{"]
        .iter()
        .any(|k| l.starts_with(k))
        && serde_json::from_str::<Value>(l).is_err()
}

impl Driver for Graphql {
    fn name(&self) -> &'static str {
        self.protocol()
    }

    fn start(&mut self, now: Instant, subprotocol: Option<&str>) -> Vec<Payload> {
        self.flavour = match subprotocol {
            Some("graphql-ws") => Flavour::Legacy,
            _ => Flavour::Modern,
        };
        self.acked = false;
        self.ack_by = now + self.wait;
        self.next_id = 0;
        self.last_ka = None;
        self.ka_every = None;
        let init = match &self.payload {
            Some(p) => json!({"type": "connection_init", "payload": p}),
            None => json!({"type": "connection_init"}),
        };
        vec![Payload::text(init.to_string())]
    }

    fn receive(&mut self, kind_: Kind, data: &[u8], now: Instant) -> Reaction {
        let Some(v) = (kind_ == Kind::Text)
            .then(|| serde_json::from_slice::<Value>(data).ok())
            .flatten()
        else {
            return Reaction::just(Seen::Data);
        };
        let id = v.get("id").and_then(Value::as_str).unwrap_or("?");
        match (self.flavour, kind(&v)) {
            (_, Some("connection_ack")) => {
                self.acked = true;
                let subs: Vec<Payload> = self
                    .subscriptions
                    .clone()
                    .iter()
                    .map(|d| self.subscribe(d))
                    .collect();
                let detail = match self.flavour {
                    Flavour::Modern => "connection_ack".to_string(),
                    Flavour::Legacy => {
                        "connection_ack · legacy subscriptions-transport-ws (subprotocol graphql-ws)"
                            .to_string()
                    }
                };
                let detail = if subs.is_empty() {
                    detail
                } else {
                    format!("{detail} · {} subscribed", subs.len())
                };
                Reaction::answer(Seen::Ready(detail), subs)
            }
            (Flavour::Modern, Some("ping")) => {
                Reaction::answer(Seen::Heartbeat, vec![Payload::text(r#"{"type":"pong"}"#)])
            }
            (Flavour::Modern, Some("pong")) => Reaction::just(Seen::Pong),
            (Flavour::Legacy, Some("ka")) => {
                if let Some(last) = self.last_ka {
                    self.ka_every = Some(now.saturating_duration_since(last));
                }
                self.last_ka = Some(now);
                Reaction::just(Seen::Beat)
            }
            (Flavour::Legacy, Some("connection_error")) => {
                Reaction::just(Seen::Failed(AppProblem::GraphqlRefused {
                    said: messages(v.get("payload")),
                }))
            }
            (_, Some("error")) => {
                Reaction::just(Seen::Data).saying(AppProblem::GraphqlSubscriptionFailed {
                    protocol: self.protocol(),
                    id: id.to_string(),
                    said: messages(v.get("payload")),
                })
            }
            (_, Some("complete")) => Reaction::just(Seen::Control),
            // A result that carries errors: data, and the errors named.
            (_, Some("next" | "data"))
                if v.pointer("/payload/errors")
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty()) =>
            {
                Reaction::just(Seen::Data).saying(AppProblem::GraphqlResultErrors {
                    protocol: self.protocol(),
                    id: id.to_string(),
                    said: messages(v.pointer("/payload/errors")),
                })
            }
            _ => Reaction::just(Seen::Data),
        }
    }

    fn deadline(&self) -> Option<Instant> {
        if self.acked {
            self.ka_limit()
        } else {
            Some(self.ack_by)
        }
    }

    fn on_deadline(&mut self, now: Instant) -> Due {
        if self.acked
            && let (Some(last), Some(every)) = (self.last_ka, self.ka_every)
        {
            return Due::Dead(AppProblem::GraphqlNoKeepAlive {
                silent: now.saturating_duration_since(last),
                every,
            });
        }
        Due::Dead(AppProblem::GraphqlNoAck {
            protocol: self.protocol(),
            wait: self.wait,
        })
    }

    fn ready(&self) -> bool {
        self.acked
    }

    fn encode(&mut self, line: &str) -> Result<Encoded, AppProblem> {
        // A document subscribes; anything else (JSON of the protocol's) goes as written.
        let payload = if is_document(line) {
            self.subscribe(line.trim())
        } else {
            Payload::text(line)
        };
        Ok(Encoded { payload, ack: None })
    }

    fn app_ping(&self) -> Option<Payload> {
        match self.flavour {
            Flavour::Modern => Some(Payload::text(r#"{"type":"ping"}"#)),
            // The legacy protocol has no client ping: the server's `ka` is the heartbeat.
            Flavour::Legacy => None,
        }
    }

    fn farewell(&mut self) -> Vec<Payload> {
        match self.flavour {
            Flavour::Legacy if self.acked => {
                vec![Payload::text(r#"{"type":"connection_terminate"}"#)]
            }
            _ => Vec::new(),
        }
    }
}

/// A result as `next #1 {...}`, `data #1 {...}`, `error #1 [...]`, `complete #1`.
pub(super) fn decode(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let t = kind(&v)?;
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .map(|id| format!(" #{id}"))
        .unwrap_or_default();
    let payload = match (t, v.get("payload")) {
        ("subscribe" | "start", Some(p)) => p
            .get("query")
            .and_then(Value::as_str)
            .map(|q| format!(" {}", q.split_whitespace().collect::<Vec<_>>().join(" ")))
            .unwrap_or_else(|| format!(" {p}")),
        (_, Some(p)) => format!(" {p}"),
        (_, None) => String::new(),
    };
    Some(format!("{t}{id}{payload}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(g: &mut Graphql, text: &str) -> Reaction {
        g.receive(Kind::Text, text.as_bytes(), Instant::now())
    }

    fn graphql(payload: Option<&str>, subscribe: &[&str]) -> Graphql {
        Graphql::new(&ConnSettings {
            init_payload: payload.map(str::to_string),
            subscribe: subscribe.iter().map(|s| s.to_string()).collect(),
            connect_timeout: Duration::from_secs(3),
            ..ConnSettings::default()
        })
    }

    #[test]
    fn init_then_ack_then_subscriptions_and_results() {
        let t0 = Instant::now();
        let mut g = graphql(Some(r#"{"token":"x"}"#), &["subscription { tick }"]);
        assert_eq!(
            g.start(t0, Some("graphql-transport-ws")),
            [Payload::text(
                r#"{"type":"connection_init","payload":{"token":"x"}}"#
            )]
        );
        assert!(!g.ready());
        assert_eq!(g.deadline(), Some(t0 + Duration::from_secs(3)));
        let r = said(&mut g, r#"{"type":"connection_ack"}"#);
        assert_eq!(r.seen, Seen::Ready("connection_ack · 1 subscribed".into()));
        assert_eq!(
            r.send,
            [Payload::text(
                r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { tick }"}}"#
            )]
        );
        assert!(g.ready() && g.deadline().is_none());
        assert_eq!(said(&mut g, r#"{"type":"ping"}"#).seen, Seen::Heartbeat);
        assert_eq!(said(&mut g, r#"{"type":"pong"}"#).seen, Seen::Pong);
        assert_eq!(g.app_ping(), Some(Payload::text(r#"{"type":"ping"}"#)));
        assert_eq!(
            said(
                &mut g,
                r#"{"id":"1","type":"next","payload":{"data":{"n":1}}}"#
            )
            .seen,
            Seen::Data
        );
        let r = said(
            &mut g,
            r#"{"id":"1","type":"error","payload":[{"message":"no such field"}]}"#,
        );
        assert_eq!(
            r.say,
            [AppProblem::GraphqlSubscriptionFailed {
                protocol: "graphql-ws",
                id: "1".into(),
                said: "no such field".into()
            }]
        );
        let r = said(
            &mut g,
            r#"{"id":"2","type":"next","payload":{"data":null,"errors":[{"message":"broken"}]}}"#,
        );
        assert_eq!(
            (r.seen, r.say),
            (
                Seen::Data,
                vec![AppProblem::GraphqlResultErrors {
                    protocol: "graphql-ws",
                    id: "2".into(),
                    said: "broken".into()
                }]
            )
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

    #[test]
    fn the_legacy_protocol_starts_takes_ka_and_names_its_refusal() {
        let t0 = Instant::now();
        let mut g = graphql(None, &["subscription { tick }"]);
        g.start(t0, Some("graphql-ws"));
        assert_eq!(g.name(), "legacy subscriptions-transport-ws");
        let r = said(&mut g, r#"{"type":"connection_ack"}"#);
        assert!(
            matches!(r.seen, Seen::Ready(ref d) if d.contains("legacy subscriptions-transport-ws"))
        );
        assert!(
            r.send[0]
                .data
                .starts_with(br#"{"id":"1","type":"start","payload":"#)
        );
        assert_eq!(said(&mut g, r#"{"type":"ka"}"#).seen, Seen::Beat);
        // Keep-alives 500 ms apart make 1.5 s of silence the end of the session.
        let t1 = Instant::now();
        g.receive(Kind::Text, br#"{"type":"ka"}"#, t1);
        g.receive(
            Kind::Text,
            br#"{"type":"ka"}"#,
            t1 + Duration::from_millis(500),
        );
        assert_eq!(g.deadline(), Some(t1 + Duration::from_millis(2000)));
        assert!(matches!(
            g.on_deadline(t1 + Duration::from_millis(2000)),
            Due::Dead(AppProblem::GraphqlNoKeepAlive { silent, every })
                if silent == Duration::from_millis(1500) && every == Duration::from_millis(500)
        ));
        assert_eq!(g.app_ping(), None, "no client ping in the legacy protocol");
        assert_eq!(
            g.encode("subscription { other }").unwrap().payload.data,
            r#"{"id":"2","type":"start","payload":{"query":"subscription { other }"}}"#
        );
        g.start(t0, Some("graphql-ws"));
        assert_eq!(
            said(
                &mut g,
                r#"{"type":"connection_error","payload":{"message":"bad token"}}"#
            )
            .seen,
            Seen::Failed(AppProblem::GraphqlRefused {
                said: "bad token".into()
            })
        );
    }
}
