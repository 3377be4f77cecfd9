//! MQTT over WebSocket (subprotocol `mqtt`): CONNECT on every open, with a client id, the
//! application heartbeat's interval as keep-alive and the login from the URL or the keys;
//! CONNACK's code named; SUBSCRIBE for each `subscribe` filter, a refused one named from the
//! SUBACK; PINGREQ/PINGRESP as the application heartbeat; PUBLISH received shown as `topic
//! payload` and acknowledged at QoS 1; a line `topic payload` publishes at QoS 1, confirmed
//! by its PUBACK; DISCONNECT on quit. MQTT 3.1.1 is spoken unless the broker turns it down
//! or `mqtt_version` says 5.

mod packet;

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

pub(super) use packet::Version;

use super::{AppProblem, Driver, Due, Encoded, Payload, Reaction, Seen};
use crate::event::Kind;
use crate::settings::ConnSettings;
use packet::Packet;

/// Which MQTT version to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionChoice {
    /// 3.1.1, and 5 from the next connection when the broker refuses 3.1.1.
    Auto,
    /// Always this one.
    Only(Version),
}

impl VersionChoice {
    /// Every choice, by its name in config.
    pub const NAMES: [(&'static str, VersionChoice); 3] = [
        ("auto", VersionChoice::Auto),
        ("3.1.1", VersionChoice::Only(Version::V311)),
        ("5", VersionChoice::Only(Version::V5)),
    ];

    /// Its name in config.
    pub fn name(self) -> &'static str {
        match self {
            VersionChoice::Auto => "auto",
            VersionChoice::Only(v) => v.name(),
        }
    }
}

/// MQTT's state on one engine.
pub(super) struct Mqtt {
    choice: VersionChoice,
    version: Version,
    client_id: String,
    login: Option<(String, String)>,
    keepalive: u16,
    filters: Vec<String>,
    wait: Duration,
    /// The CONNACK is due by then.
    connack_by: Option<Instant>,
    connected: bool,
    /// Bytes of a packet split across WebSocket messages.
    partial: Vec<u8>,
    next_id: u16,
    /// The SUBSCRIBE waiting for its SUBACK, and its filters.
    subscribing: Option<(u16, Vec<String>)>,
}

impl Mqtt {
    /// A driver for settings `s`.
    pub(super) fn new(s: &ConnSettings) -> Mqtt {
        let keepalive = super::app_interval(s)
            .map_or(0, |i| i.as_secs_f64().ceil().clamp(1.0, 65_535.0) as u16);
        let login = super::login(s);
        Mqtt {
            choice: s.mqtt_version,
            version: match s.mqtt_version {
                VersionChoice::Only(v) => v,
                VersionChoice::Auto => Version::V311,
            },
            client_id: s
                .client_id
                .clone()
                .unwrap_or_else(|| format!("wsmon-{:08x}", rand::random::<u32>())),
            login,
            keepalive,
            filters: s.subscribe.clone(),
            wait: s.connect_timeout,
            connack_by: None,
            connected: false,
            partial: Vec::new(),
            next_id: 0,
            subscribing: None,
        }
    }

    fn take_id(&mut self) -> u16 {
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        self.next_id
    }

    /// A CONNACK: connected, and subscribed; or refused, and maybe MQTT 5 next time.
    fn connack(&mut self, code: u8, session_present: bool, r: &mut Reaction) {
        if code != 0 {
            let reason = packet::connack_words(self.version, code).to_string();
            let version = self.version.name();
            let next_v5 =
                self.version == Version::V311 && code == 1 && self.choice == VersionChoice::Auto;
            if next_v5 {
                self.version = Version::V5;
            }
            r.seen = Seen::Failed(AppProblem::MqttRefused {
                reason,
                code,
                version,
                next_v5,
            });
            return;
        }
        self.connected = true;
        self.connack_by = None;
        let mut detail = format!(
            "CONNACK accepted · MQTT {} · client {} · keep-alive {}",
            self.version.name(),
            self.client_id,
            if self.keepalive == 0 {
                "off".to_string()
            } else {
                crate::fmt::duration(Duration::from_secs(u64::from(self.keepalive)))
            }
        );
        if session_present {
            detail.push_str(" · session present");
        }
        if !self.filters.is_empty() {
            let id = self.take_id();
            r.send.push(Payload::binary(packet::subscribe(
                self.version,
                id,
                &self.filters,
            )));
            self.subscribing = Some((id, self.filters.clone()));
            detail.push_str(&format!(" · subscribing to {}", self.filters.join(", ")));
        }
        r.seen = Seen::Ready(detail);
    }

    /// One packet from the broker.
    fn packet(&mut self, p: Packet, r: &mut Reaction) {
        let rank = |s: &Seen| match s {
            Seen::Failed(_) => 6,
            Seen::Ready(_) => 5,
            Seen::Data => 4,
            Seen::Pong | Seen::Beat => 3,
            Seen::Heartbeat => 2,
            Seen::Control => 1,
        };
        let mut seen = Seen::Control;
        match p {
            Packet::ConnAck {
                code,
                session_present,
            } => {
                self.connack(code, session_present, r);
                return;
            }
            Packet::Publish { qos, id, .. } => {
                if qos == 1
                    && let Some(id) = id
                {
                    r.send.push(Payload::binary(packet::puback(id)));
                }
                seen = Seen::Data;
            }
            Packet::PubAck { id, code } => {
                r.acked.push(u64::from(id));
                if code >= 0x80 {
                    r.say.push(AppProblem::MqttPublishRefused { id, code });
                }
            }
            Packet::SubAck { id, codes } => {
                if let Some((want, filters)) = self.subscribing.take_if(|(w, _)| *w == id) {
                    let _ = want;
                    for (f, c) in filters.iter().zip(&codes) {
                        if *c >= 0x80 {
                            r.say.push(AppProblem::MqttSubscriptionRefused {
                                filter: f.clone(),
                                reason: packet::suback_words(*c).to_string(),
                            });
                        }
                    }
                }
            }
            Packet::PingResp => seen = Seen::Pong,
            Packet::Disconnect { code } => {
                seen = Seen::Failed(AppProblem::MqttDisconnected { code });
            }
            Packet::PingReq
            | Packet::Connect { .. }
            | Packet::Subscribe { .. }
            | Packet::Other(_) => {}
        }
        if rank(&seen) > rank(&r.seen) {
            r.seen = seen;
        }
    }
}

impl Driver for Mqtt {
    fn name(&self) -> &'static str {
        "mqtt"
    }

    fn start(&mut self, now: Instant, _subprotocol: Option<&str>) -> Vec<Payload> {
        self.connected = false;
        self.partial.clear();
        self.subscribing = None;
        self.connack_by = Some(now + self.wait);
        let login = self.login.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        let wire = packet::connect(self.version, &self.client_id, self.keepalive, login);
        // Reported with the password masked.
        let shown = packet::connect(
            self.version,
            &self.client_id,
            self.keepalive,
            login.map(|(u, p)| (u, if p.is_empty() { "" } else { "***" })),
        );
        vec![Payload {
            shown: Some(shown),
            ..Payload::binary(wire)
        }]
    }

    fn receive(&mut self, kind: Kind, data: &[u8], _now: Instant) -> Reaction {
        let mut r = Reaction::just(Seen::Control);
        if kind != Kind::Binary {
            r.seen = Seen::Failed(AppProblem::MqttText);
            return r;
        }
        self.partial.extend_from_slice(data);
        let mut at = 0;
        loop {
            match packet::read(&self.partial[at..], self.version) {
                Ok(Some((p, n))) => {
                    at += n;
                    self.packet(p, &mut r);
                    if matches!(r.seen, Seen::Failed(_)) {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    r.seen = Seen::Failed(AppProblem::MqttMalformed { error: e });
                    break;
                }
            }
        }
        self.partial.drain(..at);
        r
    }

    fn deadline(&self) -> Option<Instant> {
        self.connack_by
    }

    fn on_deadline(&mut self, _now: Instant) -> Due {
        Due::Dead(AppProblem::MqttNoConnack { wait: self.wait })
    }

    fn ready(&self) -> bool {
        self.connected
    }

    fn encode(&mut self, line: &str) -> Result<Encoded, AppProblem> {
        let line = line.trim_start();
        let (topic, payload) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if topic.is_empty() || topic.contains(['+', '#']) {
            return Err(AppProblem::MqttNoTopic {
                line: line.to_string(),
            });
        }
        let id = self.take_id();
        Ok(Encoded {
            payload: Payload::binary(packet::publish(
                self.version,
                topic,
                payload.as_bytes(),
                Some(id),
            )),
            ack: Some(u64::from(id)),
        })
    }

    fn app_ping(&self) -> Option<Payload> {
        (self.keepalive > 0).then(|| Payload::binary(packet::pingreq()))
    }

    fn farewell(&mut self) -> Vec<Payload> {
        if self.connected {
            vec![Payload::binary(packet::disconnect())]
        } else {
            Vec::new()
        }
    }

    fn ended(&mut self, _uptime: Duration) -> Option<AppProblem> {
        let (_, filters) = self.subscribing.take()?;
        Some(AppProblem::MqttSubscribeUnanswered { filters })
    }
}

/// A WebSocket message of MQTT packets as a person reads them: PUBLISH as `topic payload`.
pub(super) fn decode(data: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    let mut rest = data;
    // The level is not known from one message: MQTT 5 packets are read as 5 when 3.1.1
    // cannot read them.
    while !rest.is_empty() {
        let (p, n) = match packet::read(rest, Version::V311) {
            Ok(Some(x)) => x,
            _ => packet::read(rest, Version::V5).ok().flatten()?,
        };
        rest = &rest[n..];
        out.push(shown(p));
    }
    (!out.is_empty()).then(|| out.join(" · "))
}

/// One packet in words.
fn shown(p: Packet) -> String {
    let payload = |b: &Bytes| match std::str::from_utf8(b) {
        Ok(t) => t.to_string(),
        Err(_) => crate::fmt::preview_hex(b, 64),
    };
    match p {
        Packet::Connect {
            level,
            client_id,
            keepalive,
            username,
            password,
        } => {
            let v = if level == 5 { "5" } else { "3.1.1" };
            let mut s = format!("CONNECT MQTT {v} client {client_id} keep-alive {keepalive}s");
            if let Some(u) = username {
                s.push_str(&format!(" user {u}"));
            }
            if password {
                s.push_str(" password ***");
            }
            s
        }
        Packet::ConnAck { code, .. } => {
            format!("CONNACK {}", packet::connack_words(Version::V311, code))
        }
        Packet::Publish {
            topic,
            qos,
            retain,
            payload: p,
            ..
        } => {
            let mut s = format!("{topic} {}", payload(&p));
            if qos > 0 || retain {
                s.push_str(&format!(
                    " · QoS {qos}{}",
                    if retain { " retained" } else { "" }
                ));
            }
            s
        }
        Packet::PubAck { id, .. } => format!("PUBACK #{id}"),
        Packet::Subscribe { id, filters } => format!("SUBSCRIBE #{id} {}", filters.join(", ")),
        Packet::SubAck { id, codes } => format!(
            "SUBACK #{id} {}",
            codes
                .iter()
                .map(|c| packet::suback_words(*c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Packet::PingReq => "PINGREQ".into(),
        Packet::PingResp => "PINGRESP".into(),
        Packet::Disconnect { code } => format!("DISCONNECT {code:#04x}"),
        Packet::Other(t) => format!("MQTT packet type {t}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mqtt(subscribe: &[&str]) -> Mqtt {
        Mqtt::new(&ConnSettings {
            subscribe: subscribe.iter().map(|s| s.to_string()).collect(),
            client_id: Some("wsmon-test".into()),
            username: Some("alice".into()),
            password: Some(crate::settings::Secret("s3cret".into())),
            ..ConnSettings::default()
        })
    }

    #[test]
    fn connects_subscribes_and_names_what_the_broker_refuses() {
        let t0 = Instant::now();
        let mut m = mqtt(&["sensors/#", "secret/x"]);
        let hello = m.start(t0, Some("mqtt"));
        let shown = decode(hello[0].shown.as_ref().unwrap()).unwrap();
        assert_eq!(
            shown,
            "CONNECT MQTT 3.1.1 client wsmon-test keep-alive 15s user alice password ***"
        );
        assert!(!String::from_utf8_lossy(hello[0].shown.as_ref().unwrap()).contains("s3cret"));
        assert!(m.deadline().is_some());
        let r = m.receive(Kind::Binary, &[0x20, 0x02, 0x00, 0x00], t0);
        assert!(
            matches!(r.seen, Seen::Ready(ref d) if d.contains("subscribing to sensors/#, secret/x"))
        );
        assert_eq!(
            decode(&r.send[0].data).unwrap(),
            "SUBSCRIBE #1 sensors/#, secret/x"
        );
        let r = m.receive(Kind::Binary, &[0x90, 0x04, 0x00, 0x01, 0x01, 0x80], t0);
        assert_eq!(
            r.say,
            [AppProblem::MqttSubscriptionRefused {
                filter: "secret/x".into(),
                reason: "refused".into()
            }]
        );
        // A PUBLISH at QoS 1, split over two messages, is read whole and acknowledged.
        let p = packet::publish(Version::V311, "sensors/1", b"{\"t\":21}", Some(9));
        assert_eq!(m.receive(Kind::Binary, &p[..4], t0).seen, Seen::Control);
        let r = m.receive(Kind::Binary, &p[4..], t0);
        assert_eq!(r.seen, Seen::Data);
        assert_eq!(r.send, [Payload::binary(packet::puback(9))]);
        assert_eq!(decode(&p).unwrap(), "sensors/1 {\"t\":21} · QoS 1");
        assert_eq!(m.receive(Kind::Binary, &[0xd0, 0x00], t0).seen, Seen::Pong);
        let e = m.encode("alerts/1 fire").unwrap();
        assert_eq!(e.ack, Some(2));
        assert_eq!(decode(&e.payload.data).unwrap(), "alerts/1 fire · QoS 1");
        let r = m.receive(Kind::Binary, &[0x40, 0x02, 0x00, 0x02], t0);
        assert_eq!(r.acked, [2]);
        assert!(m.encode("sensors/# x").is_err());
        assert_eq!(m.farewell(), [Payload::binary(packet::disconnect())]);
    }

    #[test]
    fn a_refused_connect_is_named_and_3_1_1_refused_tries_5() {
        let t0 = Instant::now();
        let mut m = mqtt(&[]);
        m.start(t0, None);
        let r = m.receive(Kind::Binary, &[0x20, 0x02, 0x00, 0x05], t0);
        assert_eq!(
            r.seen,
            Seen::Failed(AppProblem::MqttRefused {
                reason: "not authorized".into(),
                code: 5,
                version: "3.1.1",
                next_v5: false
            })
        );
        m.start(t0, None);
        let r = m.receive(Kind::Binary, &[0x20, 0x02, 0x00, 0x01], t0);
        assert!(matches!(
            r.seen,
            Seen::Failed(AppProblem::MqttRefused { next_v5: true, .. })
        ));
        let hello = m.start(t0, None);
        assert!(
            decode(&hello[0].data)
                .unwrap()
                .starts_with("CONNECT MQTT 5 ")
        );
    }
}
