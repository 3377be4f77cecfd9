//! Socket.IO 4 over Engine.IO v4, WebSocket transport only: the server's open packet gives
//! the heartbeat (it pings with `2`, the client answers `3`; no ping within pingInterval +
//! pingTimeout means the session is gone); the client joins its namespace with a CONNECT
//! packet (`40/chat,{auth}`) and waits for the acknowledgement; events are
//! `42/chat,["name",...args]`, every one of them in the joined namespace.
//!
//! Connection state recovery: a server that has it gives a private session id (`pid`) in
//! the acknowledgement and ends every event with an offset; the next CONNECT carries both,
//! and the server replays what was missed before acknowledging with the same `pid`.

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::{AppProblem, Driver, Due, Encoded, Payload, Reaction, Seen};
use crate::event::Kind;
use crate::fmt as text;
use crate::settings::ConnSettings;

/// Socket.IO's state: the session kept across connections, and this connection's.
pub(super) struct SocketIo {
    namespace: String,
    /// The CONNECT packet's auth object (`init_payload`).
    auth: Map<String, Value>,
    wait: Duration,
    /// Until the open packet comes, the dial's bound; then the server's heartbeat bound.
    deadline: Instant,
    ping_interval: Option<Duration>,
    ping_timeout: Duration,
    joined: bool,
    /// The recoverable session: its private id and the last offset seen.
    pid: Option<String>,
    offset: Option<String>,
    /// This CONNECT asked to recover the session with this pid.
    recovering: Option<String>,
    /// Events of our namespace that came before the acknowledgement: the replayed ones.
    replayed: u64,
}

impl SocketIo {
    /// A driver for settings `s` (its namespace, and `init_payload` as the auth object).
    pub(super) fn new(s: &ConnSettings) -> SocketIo {
        let auth = s
            .init_payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .unwrap_or_default();
        SocketIo {
            namespace: normalise(&s.namespace),
            auth,
            wait: s.connect_timeout,
            deadline: Instant::now(),
            ping_interval: None,
            ping_timeout: Duration::from_secs(20),
            joined: false,
            pid: None,
            offset: None,
            recovering: None,
            replayed: 0,
        }
    }

    /// `/chat,` for another namespace; nothing for the default one.
    fn prefix(&self) -> String {
        if self.namespace == "/" {
            String::new()
        } else {
            format!("{},", self.namespace)
        }
    }

    /// `40` (with the auth, and the session to recover) for our namespace.
    fn connect_packet(&mut self) -> String {
        let mut data = self.auth.clone();
        self.recovering = None;
        if let (Some(pid), Some(offset)) = (&self.pid, &self.offset) {
            data.insert("pid".into(), Value::String(pid.clone()));
            data.insert("offset".into(), Value::String(offset.clone()));
            self.recovering = Some(pid.clone());
        }
        let body = if data.is_empty() {
            String::new()
        } else {
            Value::Object(data).to_string()
        };
        format!("40{}{body}", self.prefix())
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
        // `/chat` must not take `/chatter`'s packets.
        match rest.strip_prefix(',') {
            Some(body) => Some(body),
            None if rest.is_empty() => Some(rest),
            None => None,
        }
    }

    /// The acknowledgement of our CONNECT: joined, and whether the session was recovered.
    fn joined(&mut self, body: &str) -> Reaction {
        self.joined = true;
        let v = serde_json::from_str::<Value>(body).unwrap_or_default();
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let sid = field("sid").unwrap_or_default();
        let pid = field("pid");
        let recovery = match (&self.recovering, &pid) {
            (Some(asked), Some(got)) if asked == got => format!(
                " · recovered: {} replayed",
                text::counted(self.replayed, "missed event", "missed events")
            ),
            (Some(_), _) => " · not recovered: a new session".to_string(),
            (None, Some(_)) => " · recovery on".to_string(),
            (None, None) => String::new(),
        };
        if pid != self.pid {
            // A new session: its offsets start again.
            self.offset = None;
        }
        self.pid = pid;
        self.recovering = None;
        let beat = match self.ping_interval {
            Some(i) => format!(
                " · server pings every {}, gone after {} without one",
                text::duration(i),
                text::duration(i + self.ping_timeout)
            ),
            None => String::new(),
        };
        Reaction::just(Seen::Ready(format!(
            "joined {}{beat} · sid {sid}{recovery}",
            self.namespace
        )))
    }

    /// An event of ours: remembers its offset when the session is recoverable.
    fn event(&mut self, body: &str) {
        if !self.joined {
            self.replayed += 1;
        }
        if self.pid.is_none() && self.recovering.is_none() {
            return;
        }
        let Some(start) = body.find('[') else {
            return;
        };
        if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&body[start..])
            && items.len() > 1
            && let Some(Value::String(offset)) = items.last()
        {
            self.offset = Some(offset.clone());
        }
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
    let v: Value = serde_json::from_str(json).ok()?;
    v.get(field)?.as_u64()
}

/// Why a CONNECT was refused: its message, and its data (`{"content": ...}`) when it has any.
fn refusal(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    let message = v.get("message").and_then(Value::as_str).map(str::to_string);
    let data = v.get("data").filter(|d| !d.is_null()).map(|d| match d {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.len() == 1 && m.contains_key("content") => match &m["content"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    });
    match (message, data) {
        (Some(m), Some(d)) => format!("{m} ({d})"),
        (Some(m), None) => m,
        (None, Some(d)) => d,
        (None, None) => v.to_string(),
    }
}

impl Driver for SocketIo {
    fn name(&self) -> &'static str {
        "socket.io"
    }

    fn start(&mut self, now: Instant, _subprotocol: Option<&str>) -> Vec<Payload> {
        self.deadline = now + self.wait;
        self.ping_interval = None;
        self.joined = false;
        self.replayed = 0;
        // The server speaks first (its open packet); the namespace is joined after it.
        Vec::new()
    }

    fn receive(&mut self, kind: Kind, data: &[u8], now: Instant) -> Reaction {
        let Some(text) = (kind == Kind::Text)
            .then(|| std::str::from_utf8(data).ok())
            .flatten()
        else {
            return Reaction::just(Seen::Data);
        };
        if let Some(open) = text.strip_prefix('0') {
            // The Engine.IO open packet: the heartbeat the server will keep.
            self.ping_interval = number(open, "pingInterval").map(Duration::from_millis);
            if let Some(t) = number(open, "pingTimeout") {
                self.ping_timeout = Duration::from_millis(t);
            }
            if let Some(i) = self.ping_interval {
                self.deadline = self.deadline.max(now + i + self.ping_timeout);
            }
            let connect = self.connect_packet();
            return Reaction::answer(Seen::Control, vec![Payload::text(connect)]);
        }
        if text == "2" {
            if let Some(i) = self.ping_interval {
                self.deadline = now + i + self.ping_timeout;
            }
            return Reaction::answer(Seen::Heartbeat, vec![Payload::text("3")]);
        }
        if text == "6" || text == "3" {
            return Reaction::just(Seen::Control);
        }
        if text == "1" {
            return Reaction::just(Seen::Failed(AppProblem::SocketIoClosed));
        }
        if let Some(body) = self.ours(text, "40") {
            return self.joined(body);
        }
        if let Some(body) = self.ours(text, "44") {
            return Reaction::just(Seen::Failed(AppProblem::SocketIoRefused {
                namespace: self.namespace.clone(),
                said: refusal(body),
            }));
        }
        if self.ours(text, "41").is_some() {
            return Reaction::just(Seen::Failed(AppProblem::SocketIoDisconnected {
                namespace: self.namespace.clone(),
            }));
        }
        if let Some(body) = self.ours(text, "42") {
            self.event(body);
        }
        Reaction::just(Seen::Data)
    }

    fn deadline(&self) -> Option<Instant> {
        Some(self.deadline)
    }

    fn on_deadline(&mut self, _now: Instant) -> Due {
        Due::Dead(match (self.ping_interval, self.joined) {
            (None, _) => AppProblem::SocketIoNoOpen,
            (Some(_), false) => AppProblem::SocketIoNotJoined {
                namespace: self.namespace.clone(),
            },
            (Some(i), true) => AppProblem::SocketIoNoPing {
                limit: i + self.ping_timeout,
            },
        })
    }

    fn ready(&self) -> bool {
        self.joined
    }

    fn encode(&mut self, line: &str) -> Result<Encoded, AppProblem> {
        Ok(Encoded {
            payload: Payload::text(emit(line, &self.prefix())),
            ack: None,
        })
    }

    fn app_ping(&self) -> Option<Payload> {
        // The server pings; the client only answers.
        None
    }

    fn farewell(&mut self) -> Vec<Payload> {
        if self.joined {
            vec![Payload::text(format!("41{}", self.prefix()))]
        } else {
            Vec::new()
        }
    }

    fn offsets(&self) -> bool {
        self.pid.is_some()
    }
}

/// `42["tick",{"n":1}]` as `tick {"n":1}`; acks and namespaced events likewise; with
/// `offsets`, the last argument of an event is the session's offset.
pub(super) fn decode(text: &str, offsets: bool) -> Option<String> {
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
    let Value::Array(mut items) = serde_json::from_str(json).ok()? else {
        return None;
    };
    let ack = text.starts_with("43");
    let offset = match items.last() {
        Some(Value::String(o)) if offsets && !ack && items.len() > 1 => {
            let o = o.clone();
            items.pop();
            Some(o)
        }
        _ => None,
    };
    let mut it = items.into_iter();
    let head = if ack {
        format!("ack {id}")
    } else {
        it.next()?.as_str()?.to_string()
    };
    let args: Vec<String> = it.map(|v| v.to_string()).collect();
    let mut out = format!("{ns}{head} {}", args.join(" "))
        .trim_end()
        .to_string();
    if let Some(o) = offset {
        out.push_str(&format!(" · offset {o}"));
    }
    Some(out)
}

/// What a line emits in the namespace of `prefix` (`/chat,` or empty): `name {json}` is
/// `42/chat,["name",{json}]`; a line that is already a Socket.IO packet (starts with a
/// digit) goes as written.
pub(super) fn emit(line: &str, prefix: &str) -> String {
    let line = line.trim();
    if line.starts_with(|c: char| c.is_ascii_digit()) {
        return line.to_string();
    }
    let (name, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let name = Value::String(name.to_string()).to_string();
    let args = args.trim();
    if args.is_empty() {
        return format!("42{prefix}[{name}]");
    }
    // Arguments that are not JSON go as one string.
    let arg = match serde_json::from_str::<Value>(args) {
        Ok(v) => v.to_string(),
        Err(_) => Value::String(args.to_string()).to_string(),
    };
    format!("42{prefix}[{name},{arg}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(ns: &str, auth: Option<&str>) -> ConnSettings {
        ConnSettings {
            namespace: ns.into(),
            init_payload: auth.map(str::to_string),
            connect_timeout: Duration::from_secs(10),
            ..ConnSettings::default()
        }
    }

    fn said(s: &mut SocketIo, text: &str, now: Instant) -> Reaction {
        s.receive(Kind::Text, text.as_bytes(), now)
    }

    /// The server's open packet: pings every 300 ms, 200 ms to answer.
    fn open(s: &mut SocketIo, now: Instant) -> Reaction {
        said(
            s,
            r#"0{"sid":"a","pingInterval":300,"pingTimeout":200}"#,
            now,
        )
    }

    #[test]
    fn joins_answers_pings_and_keeps_the_servers_heartbeat() {
        let t0 = Instant::now();
        let mut s = SocketIo::new(&settings("/", None));
        assert!(s.start(t0, None).is_empty());
        let r = said(
            &mut s,
            r#"0{"sid":"a","pingInterval":300,"pingTimeout":200}"#,
            t0,
        );
        assert_eq!(r.send, [Payload::text("40")]);
        assert!(!s.ready());
        assert_eq!(
            said(&mut s, r#"40{"sid":"b"}"#, t0).seen,
            Seen::Ready(
                "joined / · server pings every 300ms, gone after 500ms without one · sid b".into()
            )
        );
        assert!(s.ready());
        let later = t0 + Duration::from_millis(250);
        let r = said(&mut s, "2", later);
        assert_eq!(
            (r.seen, r.send),
            (Seen::Heartbeat, vec![Payload::text("3")])
        );
        assert_eq!(s.deadline().unwrap(), later + Duration::from_millis(500));
        assert_eq!(said(&mut s, r#"42["tick",1]"#, later).seen, Seen::Data);
        assert!(matches!(said(&mut s, "41", later).seen, Seen::Failed(_)));
    }

    #[test]
    fn a_namespace_gets_every_emit_and_the_auth_in_its_connect() {
        let t0 = Instant::now();
        let mut s = SocketIo::new(&settings("chat", Some(r#"{"token":"t"}"#)));
        s.start(t0, None);
        let r = said(
            &mut s,
            r#"0{"sid":"a","pingInterval":300,"pingTimeout":200}"#,
            t0,
        );
        assert_eq!(r.send, [Payload::text(r#"40/chat,{"token":"t"}"#)]);
        assert_eq!(
            s.encode(r#"hello {"via":"on-open"}"#).unwrap().payload,
            Payload::text(r#"42/chat,["hello",{"via":"on-open"}]"#)
        );
        // Another namespace's traffic is not ours; `/chatter` is not `/chat`.
        assert_eq!(said(&mut s, r#"40{"sid":"x"}"#, t0).seen, Seen::Data);
        assert_eq!(
            said(&mut s, r#"40/chatter,{"sid":"x"}"#, t0).seen,
            Seen::Data
        );
        assert_eq!(
            said(
                &mut s,
                r#"44/chat,{"message":"invalid token","data":{"content":"renew it"}}"#,
                t0
            )
            .seen,
            Seen::Failed(AppProblem::SocketIoRefused {
                namespace: "/chat".into(),
                said: "invalid token (renew it)".into()
            })
        );
        assert_eq!(
            s.farewell(),
            Vec::<Payload>::new(),
            "not joined: nothing to leave"
        );
    }

    #[test]
    fn a_recoverable_session_is_asked_back_and_the_replay_counted() {
        let t0 = Instant::now();
        let mut s = SocketIo::new(&settings("/", None));
        s.start(t0, None);
        open(&mut s, t0);
        let r = said(&mut s, r#"40{"sid":"s1","pid":"P1"}"#, t0);
        assert!(
            matches!(r.seen, Seen::Ready(ref d) if d.ends_with("recovery on")),
            "{r:?}"
        );
        assert!(s.offsets());
        said(&mut s, r#"42["tick",{"n":1},"O1"]"#, t0);
        said(&mut s, r#"42["tick",{"n":2},"O2"]"#, t0);
        // The next connection asks for the session back from the last offset.
        s.start(t0, None);
        let r = open(&mut s, t0);
        assert_eq!(r.send, [Payload::text(r#"40{"pid":"P1","offset":"O2"}"#)]);
        for n in 3..6 {
            said(&mut s, &format!(r#"42["tick",{{"n":{n}}},"O{n}"]"#), t0);
        }
        let r = said(&mut s, r#"40{"sid":"s1","pid":"P1"}"#, t0);
        assert!(
            matches!(r.seen, Seen::Ready(ref d) if d.ends_with("recovered: 3 missed events replayed")),
            "{r:?}"
        );
        // A server that lost the session says so with a new pid.
        s.start(t0, None);
        open(&mut s, t0);
        let r = said(&mut s, r#"40{"sid":"s2","pid":"P2"}"#, t0);
        assert!(
            matches!(r.seen, Seen::Ready(ref d) if d.ends_with("not recovered: a new session")),
            "{r:?}"
        );
    }

    #[test]
    fn events_read_as_name_and_arguments() {
        assert_eq!(
            decode(r#"42["tick",{"n":1}]"#, false).unwrap(),
            r#"tick {"n":1}"#
        );
        assert_eq!(
            decode(r#"42/chat,["msg","hi"]"#, false).unwrap(),
            r#"/chat msg "hi""#
        );
        assert_eq!(
            decode(r#"42["tick",{"n":119},"Q910L_g"]"#, true).unwrap(),
            r#"tick {"n":119} · offset Q910L_g"#
        );
        assert_eq!(decode(r#"4312["ok"]"#, false).unwrap(), r#"ack 12 "ok""#);
        assert_eq!(decode("2", false), None);
        assert_eq!(
            emit(r#"chat {"text":"hi"}"#, ""),
            r#"42["chat",{"text":"hi"}]"#
        );
        assert_eq!(emit("ping", "/a,"), r#"42/a,["ping"]"#);
        assert_eq!(emit("say hello there", ""), r#"42["say","hello there"]"#);
        assert_eq!(emit(r#"42["raw"]"#, "/a,"), r#"42["raw"]"#);
    }
}
