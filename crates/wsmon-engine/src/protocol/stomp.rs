//! STOMP over WebSocket (subprotocols `v12.stomp, v11.stomp, v10.stomp`): CONNECT with
//! `accept-version`, `host`, the login and the heart-beats wsmon can keep; CONNECTED's
//! version, server and agreed heart-beats shown; SUBSCRIBE for each `subscribe` destination;
//! MESSAGE shown as `destination body`; ERROR named with its `message` and body; a line
//! `destination body` is a SEND with a receipt, confirmed by its RECEIPT; DISCONNECT on quit.
//! The agreed heart-beat: wsmon sends an EOL every outgoing interval and judges the server's
//! beats (anything it sends counts) against twice the incoming one.

use std::time::Duration;

use tokio::time::Instant;

use super::{AppProblem, Driver, Due, Encoded, Payload, Reaction, Seen};
use crate::event::Kind;
use crate::settings::ConnSettings;

/// The subprotocols offered, newest first.
pub(super) const SUBPROTOCOLS: [&str; 3] = ["v12.stomp", "v11.stomp", "v10.stomp"];

/// A frame: its command, headers and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Frame {
    /// CONNECTED, MESSAGE, ERROR, RECEIPT...
    pub command: String,
    /// Headers in order (the first of a repeated one counts).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Frame {
    /// The first value of header `name`.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A header value with STOMP 1.2's escapes undone.
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('c') => out.push(':'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A header value escaped for STOMP 1.2.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace(':', "\\c")
}

/// Reads a frame; `None` for a heart-beat (EOLs only) or what is not a frame.
pub(super) fn parse(data: &[u8]) -> Option<Frame> {
    let start = data.iter().position(|b| *b != b'\n' && *b != b'\r')?;
    let data = &data[start..];
    let head_end = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2))
        .or_else(|| {
            data.windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| (i, i + 4))
        })?;
    let head = std::str::from_utf8(&data[..head_end.0]).ok()?;
    let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
    let command = lines.next()?.to_string();
    if command.is_empty() || !command.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let unescaped = command != "CONNECTED";
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            if unescaped {
                (unescape(k), unescape(v))
            } else {
                (k.to_string(), v.to_string())
            }
        })
        .collect::<Vec<_>>();
    let rest = &data[head_end.1..];
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .filter(|n| *n <= rest.len());
    let body = match len {
        Some(n) => rest[..n].to_vec(),
        None => rest.split(|b| *b == 0).next().unwrap_or_default().to_vec(),
    };
    Some(Frame {
        command,
        headers,
        body,
    })
}

/// A frame on the wire: headers escaped (except in CONNECT), then the NUL.
fn frame(command: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut s = format!("{command}\n");
    for (k, v) in headers {
        if command == "CONNECT" {
            s.push_str(&format!("{k}:{v}\n"));
        } else {
            s.push_str(&format!("{}:{}\n", escape(k), escape(v)));
        }
    }
    s.push('\n');
    s.push_str(body);
    s.push('\0');
    s
}

/// STOMP's state on one engine.
pub(super) struct Stomp {
    host: String,
    login: Option<(String, String)>,
    destinations: Vec<String>,
    /// The heart-beat wsmon offers both ways, in ms (the application heartbeat's interval).
    offer: u64,
    wait: Duration,
    connected_by: Option<Instant>,
    connected: bool,
    /// Agreed: wsmon sends an EOL this often; the server sends something this often.
    send_every: Option<Duration>,
    hear_every: Option<Duration>,
    next_beat: Option<Instant>,
    last_heard: Instant,
    receipts: u64,
    /// Since CONNECTED, nothing but heart-beats and receipts came: a close now follows the
    /// SUBSCRIBE frames.
    quiet_since_subscribe: bool,
}

impl Stomp {
    /// A driver for settings `s`.
    pub(super) fn new(s: &ConnSettings) -> Stomp {
        let login = super::login(s);
        Stomp {
            host: s
                .stomp_host
                .clone()
                .unwrap_or_else(|| s.target.host().to_string()),
            login,
            destinations: s.subscribe.clone(),
            offer: super::app_interval(s).map_or(0, |i| i.as_millis() as u64),
            wait: s.connect_timeout,
            connected_by: None,
            connected: false,
            send_every: None,
            hear_every: None,
            next_beat: None,
            last_heard: Instant::now(),
            receipts: 0,
            quiet_since_subscribe: false,
        }
    }

    fn connect_frame(&self, mask: bool) -> String {
        let beat = format!("{},{}", self.offer, self.offer);
        let mut headers = vec![
            ("accept-version", "1.2,1.1,1.0"),
            ("host", self.host.as_str()),
            ("heart-beat", beat.as_str()),
        ];
        if let Some((user, pass)) = &self.login {
            headers.push(("login", user.as_str()));
            headers.push(("passcode", if mask { "***" } else { pass.as_str() }));
        }
        frame("CONNECT", &headers, "")
    }

    /// CONNECTED: the version and server, the heart-beats agreed, the subscriptions sent.
    fn connected(&mut self, f: &Frame, now: Instant) -> Reaction {
        self.connected = true;
        self.connected_by = None;
        let (sx, sy) = f
            .header("heart-beat")
            .and_then(|h| h.split_once(','))
            .map(|(a, b)| {
                (
                    a.trim().parse::<u64>().unwrap_or(0),
                    b.trim().parse::<u64>().unwrap_or(0),
                )
            })
            .unwrap_or((0, 0));
        let agreed = |ours: u64, theirs: u64| {
            (ours > 0 && theirs > 0).then(|| Duration::from_millis(ours.max(theirs)))
        };
        self.send_every = agreed(self.offer, sy);
        self.hear_every = agreed(self.offer, sx);
        self.next_beat = self.send_every.map(|e| now + e);
        self.last_heard = now;
        let mut detail = format!("CONNECTED · STOMP {}", f.header("version").unwrap_or("1.0"));
        if let Some(server) = f.header("server") {
            detail.push_str(&format!(" · server {server}"));
        }
        let beats = |d: Option<Duration>| d.map_or("off".to_string(), crate::fmt::duration);
        detail.push_str(&format!(
            " · heart-beats: wsmon {}, server {}",
            beats(self.send_every),
            beats(self.hear_every)
        ));
        let subs: Vec<Payload> = self
            .destinations
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let id = format!("sub-{}", i + 1);
                Payload::text(frame(
                    "SUBSCRIBE",
                    &[("id", &id), ("destination", d), ("ack", "auto")],
                    "",
                ))
            })
            .collect();
        if !subs.is_empty() {
            detail.push_str(&format!(
                " · subscribed to {}",
                self.destinations.join(", ")
            ));
        }
        self.quiet_since_subscribe = !subs.is_empty();
        Reaction::answer(Seen::Ready(detail), subs)
    }

    /// When the server's silence means it is gone.
    fn silence_limit(&self) -> Option<Instant> {
        self.hear_every.map(|e| self.last_heard + e * 2)
    }
}

impl Driver for Stomp {
    fn name(&self) -> &'static str {
        "stomp"
    }

    fn start(&mut self, now: Instant, _subprotocol: Option<&str>) -> Vec<Payload> {
        self.connected = false;
        self.quiet_since_subscribe = false;
        self.connected_by = Some(now + self.wait);
        self.send_every = None;
        self.hear_every = None;
        self.next_beat = None;
        self.last_heard = now;
        vec![Payload {
            shown: Some(self.connect_frame(true).into()),
            ..Payload::text(self.connect_frame(false))
        }]
    }

    fn receive(&mut self, _kind: Kind, data: &[u8], now: Instant) -> Reaction {
        self.last_heard = now;
        let Some(f) = parse(data) else {
            // EOLs: the server's heart-beat.
            return Reaction::just(if data.iter().all(|b| *b == b'\n' || *b == b'\r') {
                Seen::Beat
            } else {
                Seen::Data
            });
        };
        match f.command.as_str() {
            "CONNECTED" => self.connected(&f, now),
            "MESSAGE" => {
                self.quiet_since_subscribe = false;
                Reaction::just(Seen::Data)
            }
            "RECEIPT" => {
                let mut r = Reaction::just(Seen::Control);
                if let Some(n) = f.header("receipt-id").and_then(|id| id.parse::<u64>().ok()) {
                    r.acked.push(n);
                }
                r
            }
            "ERROR" => {
                let message = f.header("message").unwrap_or("(no message)");
                let body = String::from_utf8_lossy(&f.body);
                let body = body.trim();
                let about_host = !self.connected
                    && format!("{message} {body}")
                        .to_ascii_lowercase()
                        .contains("host");
                Reaction::just(Seen::Failed(AppProblem::StompError {
                    message: message.to_string(),
                    body: (!body.is_empty() && body != message)
                        .then(|| body.lines().next().unwrap_or(body).to_string()),
                    host: about_host.then(|| self.host.clone()),
                }))
            }
            _ => Reaction::just(Seen::Control),
        }
    }

    fn deadline(&self) -> Option<Instant> {
        [self.connected_by, self.next_beat, self.silence_limit()]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_deadline(&mut self, now: Instant) -> Due {
        if self.connected_by.is_some_and(|t| now >= t) {
            return Due::Dead(AppProblem::StompNoConnected { wait: self.wait });
        }
        if let (Some(limit), Some(every)) = (self.silence_limit(), self.hear_every)
            && now >= limit
        {
            return Due::Dead(AppProblem::StompNoHeartbeat {
                silent: now - self.last_heard,
                every,
            });
        }
        match (self.next_beat, self.send_every) {
            (Some(t), Some(every)) if now >= t => {
                self.next_beat = Some(now + every);
                Due::Send(vec![Payload::text("\n")])
            }
            _ => Due::Send(Vec::new()),
        }
    }

    fn ready(&self) -> bool {
        self.connected
    }

    fn encode(&mut self, line: &str) -> Result<Encoded, AppProblem> {
        let line = line.trim_start();
        let (dest, body) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if dest.is_empty() {
            return Err(AppProblem::StompNoDestination);
        }
        self.receipts += 1;
        let receipt = self.receipts.to_string();
        Ok(Encoded {
            payload: Payload::text(frame(
                "SEND",
                &[
                    ("destination", dest),
                    ("content-type", "text/plain"),
                    ("receipt", &receipt),
                ],
                body,
            )),
            ack: Some(self.receipts),
        })
    }

    fn app_ping(&self) -> Option<Payload> {
        // The heart-beat is a timer of the protocol's, with no answer to time.
        None
    }

    fn farewell(&mut self) -> Vec<Payload> {
        if self.connected {
            vec![Payload::text(frame(
                "DISCONNECT",
                &[("receipt", "bye")],
                "",
            ))]
        } else {
            Vec::new()
        }
    }

    fn ended(&mut self, uptime: Duration) -> Option<AppProblem> {
        let quiet = std::mem::take(&mut self.quiet_since_subscribe);
        (self.connected && quiet && uptime < Duration::from_secs(2)).then(|| {
            AppProblem::StompSubscribeRefused {
                destinations: self.destinations.clone(),
            }
        })
    }
}

/// A frame as a person reads it: MESSAGE as `destination body`, others by their command and
/// telling headers; a heart-beat as such.
pub(super) fn decode(data: &[u8]) -> Option<String> {
    if !data.is_empty() && data.iter().all(|b| *b == b'\n' || *b == b'\r') {
        return Some("heart-beat".into());
    }
    let f = parse(data)?;
    let body = String::from_utf8_lossy(&f.body);
    let body = body.trim_end();
    let h = |n: &str| f.header(n).unwrap_or("");
    Some(match f.command.as_str() {
        "MESSAGE" => format!("{} {body}", h("destination"))
            .trim_end()
            .to_string(),
        "SEND" => format!("SEND {} {body}", h("destination"))
            .trim_end()
            .to_string(),
        "SUBSCRIBE" => format!("SUBSCRIBE {} ({})", h("destination"), h("id")),
        "CONNECT" | "STOMP" => {
            let mut s = format!("CONNECT host {} heart-beat {}", h("host"), h("heart-beat"));
            if let Some(l) = f.header("login") {
                s.push_str(&format!(" login {l} passcode ***"));
            }
            s
        }
        "CONNECTED" => format!(
            "CONNECTED STOMP {} {} heart-beat {}",
            h("version"),
            h("server"),
            h("heart-beat")
        ),
        "RECEIPT" => format!("RECEIPT {}", h("receipt-id")),
        "ERROR" => format!("ERROR {} {body}", h("message"))
            .trim_end()
            .to_string(),
        other => format!("{other} {body}").trim_end().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stomp(subscribe: &[&str]) -> Stomp {
        Stomp::new(&ConnSettings {
            subscribe: subscribe.iter().map(|s| s.to_string()).collect(),
            username: Some("guest".into()),
            password: Some(crate::settings::Secret("guest".into())),
            stomp_host: Some("/".into()),
            ..ConnSettings::default()
        })
    }

    fn said(s: &mut Stomp, text: &str, now: Instant) -> Reaction {
        s.receive(Kind::Text, text.as_bytes(), now)
    }

    #[test]
    fn connects_agrees_heart_beats_subscribes_and_sends_with_receipts() {
        let t0 = Instant::now();
        let mut s = stomp(&["/topic/t"]);
        let hello = s.start(t0, Some("v12.stomp"));
        let shown = String::from_utf8_lossy(hello[0].shown.as_ref().unwrap()).into_owned();
        assert!(shown.contains("passcode:***") && !shown.contains("passcode:guest"));
        assert!(String::from_utf8_lossy(&hello[0].data).contains("heart-beat:15000,15000"));
        let r = said(
            &mut s,
            "CONNECTED\nversion:1.2\nserver:RabbitMQ/3.10.8\nheart-beat:5000,20000\n\n\0",
            t0,
        );
        assert_eq!(
            r.seen,
            Seen::Ready(
                "CONNECTED · STOMP 1.2 · server RabbitMQ/3.10.8 · heart-beats: wsmon 20s, server 15s · subscribed to /topic/t"
                    .into()
            )
        );
        assert_eq!(
            decode(&r.send[0].data).unwrap(),
            "SUBSCRIBE /topic/t (sub-1)"
        );
        assert_eq!(s.deadline(), Some(t0 + Duration::from_secs(20)));
        assert_eq!(
            s.on_deadline(t0 + Duration::from_secs(20)),
            Due::Send(vec![Payload::text("\n")])
        );
        assert_eq!(
            s.on_deadline(t0 + Duration::from_secs(30)),
            Due::Dead(AppProblem::StompNoHeartbeat {
                silent: Duration::from_secs(30),
                every: Duration::from_secs(15)
            })
        );
        let m = "MESSAGE\ndestination:/topic/t\nmessage-id:1\nsubscription:sub-1\n\nhello\0";
        assert_eq!(said(&mut s, m, t0).seen, Seen::Data);
        assert_eq!(decode(m.as_bytes()).unwrap(), "/topic/t hello");
        let e = s.encode("/queue/q a:b").unwrap();
        assert_eq!(e.ack, Some(1));
        assert_eq!(decode(&e.payload.data).unwrap(), "SEND /queue/q a:b");
        assert_eq!(said(&mut s, "RECEIPT\nreceipt-id:1\n\n\0", t0).acked, [1]);
        assert_eq!(said(&mut s, "\n", t0).seen, Seen::Beat);
        let r = said(
            &mut s,
            "ERROR\nmessage:not_found\n\nNO_ROUTE: no queue 'x'\0",
            t0,
        );
        assert_eq!(
            r.seen,
            Seen::Failed(AppProblem::StompError {
                message: "not_found".into(),
                body: Some("NO_ROUTE: no queue 'x'".into()),
                host: None
            })
        );
    }

    #[test]
    fn header_escapes_round_trip() {
        let f = frame("SEND", &[("destination", "/q/a:b\nc")], "x");
        assert!(f.contains("destination:/q/a\\cb\\nc"));
        assert_eq!(
            parse(f.as_bytes()).unwrap().header("destination"),
            Some("/q/a:b\nc")
        );
        assert_eq!(parse(b"\n"), None);
        assert_eq!(parse(b"not a frame"), None);
    }
}
