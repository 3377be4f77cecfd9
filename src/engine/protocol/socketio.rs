//! Socket.IO 4 over Engine.IO v4, WebSocket transport only: the server's open packet gives
//! the heartbeat (it pings with `2`, the client answers `3`; no ping within pingInterval +
//! pingTimeout means the session is gone), the client joins its namespace (`40`) and waits
//! for the acknowledgement; events are `42["name",...args]`.

use std::time::Duration;

use tokio::time::Instant;

use super::{Driver, Seen};
use crate::text;

/// One connection's Socket.IO state.
pub struct SocketIo {
    namespace: String,
    /// Until the open packet comes, the dial's bound; then the server's heartbeat bound.
    deadline: Instant,
    ping_interval: Option<Duration>,
    ping_timeout: Duration,
    joined: bool,
}

impl SocketIo {
    /// State for a connection that opened `now`; the open packet and the namespace's
    /// acknowledgement must come within `wait`.
    pub fn new(namespace: &str, wait: Duration, now: Instant) -> SocketIo {
        SocketIo {
            namespace: normalise(namespace),
            deadline: now + wait,
            ping_interval: None,
            ping_timeout: Duration::from_secs(20),
            joined: false,
        }
    }

    /// `40` for the default namespace, `40/admin,` for another.
    fn connect_packet(&self) -> String {
        if self.namespace == "/" {
            "40".to_string()
        } else {
            format!("40{},", self.namespace)
        }
    }

    /// The body of a namespace packet of type `kind` for our namespace, if it is one.
    fn ours<'a>(&self, text: &'a str, kind: &str) -> Option<&'a str> {
        let rest = text.strip_prefix(kind)?;
        if self.namespace == "/" {
            // The default namespace's packets carry no namespace.
            if rest.starts_with('/') {
                return None;
            }
            return Some(rest);
        }
        let rest = rest.strip_prefix(self.namespace.as_str())?;
        Some(rest.strip_prefix(',').unwrap_or(rest))
    }
}

fn normalise(ns: &str) -> String {
    let ns = ns.trim();
    if ns.is_empty() || ns == "/" {
        "/".to_string()
    } else if ns.starts_with('/') {
        ns.to_string()
    } else {
        format!("/{ns}")
    }
}

/// A number field of a small JSON object.
fn number(json: &str, field: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get(field)?.as_u64()
}

impl Driver for SocketIo {
    fn name(&self) -> &'static str {
        "socket.io"
    }

    fn greet(&mut self, _now: Instant) -> Vec<String> {
        // The server speaks first (its open packet); the namespace is joined after it.
        Vec::new()
    }

    fn on_text(&mut self, text: &str, now: Instant) -> Seen {
        if let Some(open) = text.strip_prefix('0') {
            // The Engine.IO open packet: the heartbeat the server will keep.
            self.ping_interval = number(open, "pingInterval").map(Duration::from_millis);
            if let Some(t) = number(open, "pingTimeout") {
                self.ping_timeout = Duration::from_millis(t);
            }
            if let Some(i) = self.ping_interval {
                self.deadline = self.deadline.max(now + i + self.ping_timeout);
            }
            return Seen::Handshake(self.connect_packet());
        }
        if text == "2" {
            if let Some(i) = self.ping_interval {
                self.deadline = now + i + self.ping_timeout;
            }
            return Seen::Answer("3".into());
        }
        if text == "6" || text == "3" {
            return Seen::Control;
        }
        if text.starts_with('1') && text.len() == 1 {
            return Seen::Failed(
                "Socket.IO: the server closed the session (Engine.IO close)".into(),
            );
        }
        if let Some(body) = self.ours(text, "40") {
            self.joined = true;
            let sid = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("sid")?.as_str().map(str::to_string))
                .unwrap_or_default();
            let beat = match self.ping_interval {
                Some(i) => format!(
                    " · server pings every {}, gone after {} without one",
                    text::duration(i),
                    text::duration(i + self.ping_timeout)
                ),
                None => String::new(),
            };
            return Seen::Ready(format!("joined {}{beat} · sid {sid}", self.namespace));
        }
        if let Some(body) = self.ours(text, "44") {
            let why = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("message")?.as_str().map(str::to_string))
                .unwrap_or_else(|| body.to_string());
            return Seen::Failed(format!(
                "Socket.IO: the server refused namespace {}: {why}",
                self.namespace
            ));
        }
        if self.ours(text, "41").is_some() {
            return Seen::Failed(format!(
                "Socket.IO: the server disconnected namespace {}",
                self.namespace
            ));
        }
        Seen::Data
    }

    fn deadline(&self) -> Option<(Instant, String)> {
        let why = match (self.ping_interval, self.joined) {
            (None, _) => {
                "Socket.IO: no open packet from the server (is this a Socket.IO 4 endpoint?)"
                    .to_string()
            }
            (Some(_), false) => format!(
                "Socket.IO: namespace {} was not acknowledged",
                self.namespace
            ),
            (Some(i), true) => format!(
                "Socket.IO: no ping from the server for {} (its pingInterval + pingTimeout): the session is gone",
                crate::text::duration(i + self.ping_timeout)
            ),
        };
        Some((self.deadline, why))
    }

    fn ready(&self) -> bool {
        self.joined
    }
}

/// `42["tick",{"n":1}]` as `tick {"n":1}`; acks and namespaced events likewise.
pub fn decode(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix("42")
        .or_else(|| text.strip_prefix("43"))?;
    let (ns, rest) = match rest.strip_prefix('/') {
        Some(r) => {
            let (ns, body) = r.split_once(',')?;
            (format!("/{ns} "), body)
        }
        None => (String::new(), rest),
    };
    // An ack id may come before the array.
    let start = rest.find('[')?;
    let (id, json) = rest.split_at(start);
    let serde_json::Value::Array(items) = serde_json::from_str(json).ok()? else {
        return None;
    };
    let mut it = items.into_iter();
    let head = if text.starts_with("43") {
        format!("ack {id}")
    } else {
        it.next()?.as_str()?.to_string()
    };
    let args: Vec<String> = it.map(|v| v.to_string()).collect();
    Some(
        format!("{ns}{head} {}", args.join(" "))
            .trim_end()
            .to_string(),
    )
}

/// What a typed line emits: `name {json}` is `42["name",{json}]`; a line that is already a
/// Socket.IO packet (starts with a digit) goes as typed.
pub fn emit(line: &str) -> String {
    let line = line.trim();
    if line.starts_with(|c: char| c.is_ascii_digit()) {
        return line.to_string();
    }
    let (name, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let name = serde_json::Value::String(name.to_string()).to_string();
    let args = args.trim();
    if args.is_empty() {
        return format!("42[{name}]");
    }
    // Arguments that are not JSON go as one string.
    let arg = match serde_json::from_str::<serde_json::Value>(args) {
        Ok(v) => v.to_string(),
        Err(_) => serde_json::Value::String(args.to_string()).to_string(),
    };
    format!("42[{name},{arg}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_answers_pings_and_keeps_the_servers_heartbeat() {
        let t0 = Instant::now();
        let mut s = SocketIo::new("/", Duration::from_secs(10), t0);
        assert!(s.greet(t0).is_empty());
        assert_eq!(
            s.on_text(r#"0{"sid":"a","pingInterval":300,"pingTimeout":200}"#, t0),
            Seen::Handshake("40".into())
        );
        assert!(!s.ready());
        assert_eq!(
            s.on_text(r#"40{"sid":"b"}"#, t0),
            Seen::Ready(
                "joined / · server pings every 300ms, gone after 500ms without one · sid b".into()
            )
        );
        assert!(s.ready());
        let later = t0 + Duration::from_millis(250);
        assert_eq!(s.on_text("2", later), Seen::Answer("3".into()));
        assert_eq!(s.deadline().unwrap().0, later + Duration::from_millis(500));
        assert_eq!(s.on_text(r#"42["tick",1]"#, later), Seen::Data);
        assert!(matches!(s.on_text("41", later), Seen::Failed(_)));
    }

    #[test]
    fn another_namespace_is_joined_by_name_and_a_refusal_is_named() {
        let t0 = Instant::now();
        let mut s = SocketIo::new("admin", Duration::from_secs(10), t0);
        assert_eq!(
            s.on_text(r#"0{"sid":"a","pingInterval":300,"pingTimeout":200}"#, t0),
            Seen::Handshake("40/admin,".into())
        );
        assert_eq!(
            s.on_text(r#"44/admin,{"message":"Not authorized"}"#, t0),
            Seen::Failed("Socket.IO: the server refused namespace /admin: Not authorized".into())
        );
        // The default namespace's traffic is not ours.
        assert_eq!(s.on_text(r#"40{"sid":"x"}"#, t0), Seen::Data);
    }

    #[test]
    fn events_read_as_name_and_arguments() {
        assert_eq!(decode(r#"42["tick",{"n":1}]"#).unwrap(), r#"tick {"n":1}"#);
        assert_eq!(
            decode(r#"42/chat,["msg","hi"]"#).unwrap(),
            r#"/chat msg "hi""#
        );
        assert_eq!(decode(r#"4312["ok"]"#).unwrap(), r#"ack 12 "ok""#);
        assert_eq!(decode("2"), None);
        assert_eq!(emit(r#"chat {"text":"hi"}"#), r#"42["chat",{"text":"hi"}]"#);
        assert_eq!(emit("ping"), r#"42["ping"]"#);
        assert_eq!(emit("say hello there"), r#"42["say","hello there"]"#);
        assert_eq!(emit(r#"42["raw"]"#), r#"42["raw"]"#);
    }
}
