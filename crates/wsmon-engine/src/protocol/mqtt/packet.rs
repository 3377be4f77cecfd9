//! MQTT 3.1.1 and 5 control packets: just what a monitoring client sends and reads. Every
//! read is bounds-checked: a broker (or anything pretending to be one) cannot make it panic.

use bytes::{BufMut, Bytes, BytesMut};

/// MQTT protocol levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// 3.1.1 (level 4).
    V311,
    /// 5 (level 5).
    V5,
}

impl Version {
    /// As people write it.
    pub fn name(self) -> &'static str {
        match self {
            Version::V311 => "3.1.1",
            Version::V5 => "5",
        }
    }
}

/// A packet read from the broker (or one wsmon sent, for display).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Packet {
    /// CONNECT (shown, never parsed for its password).
    Connect {
        /// Protocol level.
        level: u8,
        /// Client identifier.
        client_id: String,
        /// Keep alive, seconds.
        keepalive: u16,
        /// User name, when given.
        username: Option<String>,
        /// Whether a password is in it (never shown).
        password: bool,
    },
    /// CONNACK with its return (reason) code.
    ConnAck {
        /// The broker kept a session.
        session_present: bool,
        /// 0 is accepted.
        code: u8,
    },
    /// PUBLISH.
    Publish {
        /// Topic name.
        topic: String,
        /// QoS 0, 1 or 2.
        qos: u8,
        /// Retained message.
        retain: bool,
        /// Packet id (QoS 1 and 2).
        id: Option<u16>,
        /// Application payload.
        payload: Bytes,
    },
    /// PUBACK.
    PubAck {
        /// Packet id.
        id: u16,
        /// Reason code (MQTT 5; 0 otherwise).
        code: u8,
    },
    /// SUBSCRIBE.
    Subscribe {
        /// Packet id.
        id: u16,
        /// Topic filters.
        filters: Vec<String>,
    },
    /// SUBACK: a return code per filter.
    SubAck {
        /// Packet id.
        id: u16,
        /// Granted QoS, or a failure code (0x80 and up).
        codes: Vec<u8>,
    },
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT (MQTT 5 brokers send one with a reason).
    Disconnect {
        /// Reason code (0 when absent).
        code: u8,
    },
    /// Another packet type (QoS 2 flow, AUTH...), by its type number.
    Other(u8),
}

/// Reads one packet from the start of `buf`: the packet and its length, `Ok(None)` when more
/// bytes are needed, an error when the bytes are not MQTT.
pub(super) fn read(buf: &[u8], v: Version) -> Result<Option<(Packet, usize)>, String> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let Some((len, head)) = remaining_length(&buf[1..])? else {
        return Ok(None);
    };
    let total = 1 + head + len;
    if buf.len() < total {
        return Ok(None);
    }
    let body = &buf[1 + head..total];
    let kind = first >> 4;
    let packet = parse(kind, first & 0x0f, body, v)
        .ok_or_else(|| format!("a malformed MQTT packet of type {kind}"))?;
    Ok(Some((packet, total)))
}

/// The remaining length (a variable byte integer) and how many bytes it took.
fn remaining_length(buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    Err("an MQTT remaining length longer than 4 bytes".into())
}

/// A cursor over a packet body.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(a)
    }

    fn string(&mut self) -> Option<String> {
        let n = usize::from(self.u16()?);
        Some(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    /// MQTT 5 properties: skipped (their length is a variable byte integer).
    fn properties(&mut self, v: Version) -> Option<()> {
        if v == Version::V5 {
            let (len, head) = remaining_length(self.0).ok()??;
            self.take(head)?;
            self.take(len)?;
        }
        Some(())
    }

    fn rest(self) -> &'a [u8] {
        self.0
    }
}

fn parse(kind: u8, flags: u8, body: &[u8], v: Version) -> Option<Packet> {
    let mut c = Cursor(body);
    Some(match kind {
        1 => {
            let _name = c.string()?;
            let level = c.u8()?;
            let cflags = c.u8()?;
            let keepalive = c.u16()?;
            if level == 5 {
                c.properties(Version::V5)?;
            }
            let client_id = c.string()?;
            if cflags & 0x04 != 0 {
                if level == 5 {
                    c.properties(Version::V5)?;
                }
                c.string()?;
                c.string()?;
            }
            let username = (cflags & 0x80 != 0).then(|| c.string()).flatten();
            Packet::Connect {
                level,
                client_id,
                keepalive,
                username,
                password: cflags & 0x40 != 0,
            }
        }
        2 => {
            let session_present = c.u8()? & 1 == 1;
            let code = c.u8()?;
            Packet::ConnAck {
                session_present,
                code,
            }
        }
        3 => {
            let qos = (flags >> 1) & 3;
            let topic = c.string()?;
            let id = if qos > 0 { Some(c.u16()?) } else { None };
            c.properties(v)?;
            Packet::Publish {
                topic,
                qos,
                retain: flags & 1 == 1,
                id,
                payload: Bytes::copy_from_slice(c.rest()),
            }
        }
        4 => {
            let id = c.u16()?;
            Packet::PubAck {
                id,
                code: c.u8().unwrap_or(0),
            }
        }
        8 => {
            let id = c.u16()?;
            c.properties(v)?;
            let mut filters = Vec::new();
            while !c.0.is_empty() {
                filters.push(c.string()?);
                c.u8()?;
            }
            Packet::Subscribe { id, filters }
        }
        9 => {
            let id = c.u16()?;
            c.properties(v)?;
            Packet::SubAck {
                id,
                codes: c.rest().to_vec(),
            }
        }
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => Packet::Disconnect {
            code: c.u8().unwrap_or(0),
        },
        other => Packet::Other(other),
    })
}

/// A packet with its fixed header: type and flags, then the remaining length.
fn framed(first: u8, body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(body.len() + 5);
    out.put_u8(first);
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        out.put_u8(b);
        if len == 0 {
            break;
        }
    }
    out.put_slice(body);
    out.freeze()
}

fn put_str(out: &mut BytesMut, s: &str) {
    let b = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.put_u16(b.len() as u16);
    out.put_slice(b);
}

/// CONNECT with a clean session.
pub(super) fn connect(
    v: Version,
    client_id: &str,
    keepalive: u16,
    login: Option<(&str, &str)>,
) -> Bytes {
    let mut b = BytesMut::new();
    put_str(&mut b, "MQTT");
    b.put_u8(match v {
        Version::V311 => 4,
        Version::V5 => 5,
    });
    let mut flags = 0x02;
    if let Some((_, pass)) = login {
        flags |= 0x80;
        if !pass.is_empty() {
            flags |= 0x40;
        }
    }
    b.put_u8(flags);
    b.put_u16(keepalive);
    if v == Version::V5 {
        b.put_u8(0);
    }
    put_str(&mut b, client_id);
    if let Some((user, pass)) = login {
        put_str(&mut b, user);
        if !pass.is_empty() {
            put_str(&mut b, pass);
        }
    }
    framed(0x10, &b)
}

/// PUBLISH; `id` for QoS 1.
pub(super) fn publish(v: Version, topic: &str, payload: &[u8], id: Option<u16>) -> Bytes {
    let mut b = BytesMut::new();
    put_str(&mut b, topic);
    if let Some(id) = id {
        b.put_u16(id);
    }
    if v == Version::V5 {
        b.put_u8(0);
    }
    b.put_slice(payload);
    framed(if id.is_some() { 0x32 } else { 0x30 }, &b)
}

/// PUBACK for a QoS 1 PUBLISH received.
pub(super) fn puback(id: u16) -> Bytes {
    framed(0x40, &id.to_be_bytes())
}

/// SUBSCRIBE to `filters`, each at QoS 1.
pub(super) fn subscribe(v: Version, id: u16, filters: &[String]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u16(id);
    if v == Version::V5 {
        b.put_u8(0);
    }
    for f in filters {
        put_str(&mut b, f);
        b.put_u8(1);
    }
    framed(0x82, &b)
}

/// PINGREQ.
pub(super) fn pingreq() -> Bytes {
    Bytes::from_static(&[0xc0, 0x00])
}

/// DISCONNECT (normal disconnection).
pub(super) fn disconnect() -> Bytes {
    Bytes::from_static(&[0xe0, 0x00])
}

/// A CONNACK code in words (3.1.1 return codes, 5 reason codes).
pub(super) fn connack_words(v: Version, code: u8) -> &'static str {
    match (v, code) {
        (_, 0) => "accepted",
        (Version::V311, 1) => "unacceptable protocol version",
        (Version::V311, 2) => "identifier rejected",
        (Version::V311, 3) => "server unavailable",
        (Version::V311, 4) => "bad user name or password",
        (Version::V311, 5) => "not authorized",
        (Version::V5, 0x84) => "unsupported protocol version",
        (Version::V5, 0x85) => "client identifier not valid",
        (Version::V5, 0x86) => "bad user name or password",
        (Version::V5, 0x87) => "not authorized",
        (Version::V5, 0x88) => "server unavailable",
        (Version::V5, 0x89) => "server busy",
        (Version::V5, 0x8a) => "banned",
        (Version::V5, 0x8c) => "bad authentication method",
        (Version::V5, 0x95) => "packet too large",
        (Version::V5, 0x97) => "quota exceeded",
        (Version::V5, 0x9f) => "connection rate exceeded",
        _ => "refused",
    }
}

/// A SUBACK code in words: the QoS granted, or why the filter was refused.
pub(super) fn suback_words(code: u8) -> String {
    match code {
        0..=2 => format!("granted QoS {code}"),
        0x80 => "refused".into(),
        0x83 => "refused (implementation specific error)".into(),
        0x87 => "refused: not authorized".into(),
        0x8f => "refused: topic filter invalid".into(),
        0x91 => "refused: packet identifier in use".into(),
        0x97 => "refused: quota exceeded".into(),
        0x9e => "refused: shared subscriptions not supported".into(),
        0xa1 => "refused: subscription identifiers not supported".into(),
        0xa2 => "refused: wildcard subscriptions not supported".into(),
        other => format!("refused (0x{other:02x})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        for v in [Version::V311, Version::V5] {
            let c = connect(v, "wsmon-1", 15, Some(("u", "p")));
            let (p, n) = read(&c, v).unwrap().unwrap();
            assert_eq!(n, c.len());
            assert_eq!(
                p,
                Packet::Connect {
                    level: if v == Version::V5 { 5 } else { 4 },
                    client_id: "wsmon-1".into(),
                    keepalive: 15,
                    username: Some("u".into()),
                    password: true,
                }
            );
            let big = vec![b'x'; 300];
            let m = publish(v, "a/b", &big, Some(7));
            assert_eq!(
                read(&m, v).unwrap().unwrap().0,
                Packet::Publish {
                    topic: "a/b".into(),
                    qos: 1,
                    retain: false,
                    id: Some(7),
                    payload: Bytes::from(big.clone()),
                }
            );
            // Cut anywhere, a packet waits for the rest.
            for cut in 0..m.len() {
                assert_eq!(read(&m[..cut], v).unwrap(), None, "cut at {cut}");
            }
            let s = subscribe(v, 3, &["x/#".into(), "y".into()]);
            assert_eq!(
                read(&s, v).unwrap().unwrap().0,
                Packet::Subscribe {
                    id: 3,
                    filters: vec!["x/#".into(), "y".into()]
                }
            );
        }
        assert_eq!(
            read(&pingreq(), Version::V311).unwrap().unwrap().0,
            Packet::PingReq
        );
        assert_eq!(
            read(&[0x90, 0x04, 0, 1, 0x01, 0x80], Version::V311)
                .unwrap()
                .unwrap()
                .0,
            Packet::SubAck {
                id: 1,
                codes: vec![1, 0x80]
            }
        );
        assert!(read(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01], Version::V311).is_err());
        assert!(
            read(&[0x30, 0x01, 0x00], Version::V311).is_err(),
            "a topic cut short"
        );
    }
}
