//! The JSON-lines form of engine events: the headless output and the recording format.
//! Hand-written so a flood costs a few copies per message, not a serializer round trip.

use std::time::{Duration, SystemTime};

use base64::Engine as _;

use crate::engine::close_code::close_code_name;
use crate::engine::{Event, Stamped};

/// Encodes events as JSON lines, reusing the timestamp text across a burst.
#[derive(Default)]
pub struct Encoder {
    ts_at: Option<SystemTime>,
    ts: String,
}

impl Encoder {
    /// A fresh encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one line (with its newline) for `s` to `out`.
    pub fn encode(&mut self, s: &Stamped, out: &mut Vec<u8>) {
        self.encode_for(s, None, out);
    }

    /// Appends one line, naming the endpoint when several are watched.
    pub fn encode_for(&mut self, s: &Stamped, endpoint: Option<&str>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"ts\":\"");
        // Events of one burst share their time; format it once.
        if self.ts_at != Some(s.at) {
            self.ts = crate::text::timestamp(s.at);
            self.ts_at = Some(s.at);
        }
        out.extend_from_slice(self.ts.as_bytes());
        if let Some(name) = endpoint {
            out.extend_from_slice(b"\",\"endpoint\":");
            push_str(out, name);
            out.extend_from_slice(b",\"event\":\"");
        } else {
            out.extend_from_slice(b"\",\"event\":\"");
        }
        match &s.event {
            Event::Connecting { attempt, url } => {
                out.extend_from_slice(b"connecting\",\"attempt\":");
                push_int(out, *attempt as u64);
                out.extend_from_slice(b",\"url\":");
                push_str(out, url);
            }
            Event::Open(info) => {
                out.extend_from_slice(b"open\",\"attempt\":");
                push_int(out, info.attempt as u64);
                let p = &info.phases;
                out.extend_from_slice(b",\"dns_ms\":");
                push_ms(out, p.dns);
                out.extend_from_slice(b",\"tcp_ms\":");
                push_ms(out, p.tcp);
                out.extend_from_slice(b",\"proxy_ms\":");
                push_opt_ms(out, p.proxy);
                out.extend_from_slice(b",\"tls_ms\":");
                push_opt_ms(out, p.tls);
                out.extend_from_slice(b",\"handshake_ms\":");
                push_ms(out, p.handshake);
                out.extend_from_slice(b",\"remote\":");
                push_str(out, &info.remote.to_string());
                out.extend_from_slice(b",\"proxy\":");
                push_opt_str(out, info.proxy.as_deref());
                out.extend_from_slice(b",\"subprotocol\":");
                push_opt_str(out, info.subprotocol.as_deref());
                out.extend_from_slice(b",\"tls_version\":");
                push_opt_str(out, info.tls_version);
            }
            Event::Message(m) => {
                out.extend_from_slice(match m.dir {
                    crate::engine::Dir::In => b"recv\",\"kind\":\"",
                    crate::engine::Dir::Out => b"sent\",\"kind\":\"",
                });
                out.extend_from_slice(m.kind.as_str().as_bytes());
                out.extend_from_slice(b"\",\"len\":");
                push_int(out, m.data.len() as u64);
                if m.id != 0 {
                    out.extend_from_slice(b",\"id\":");
                    push_int(out, m.id);
                }
                push_payload(out, m.kind, &m.data);
            }
            Event::Ping { seq } => {
                out.extend_from_slice(b"ping\",\"seq\":");
                push_int(out, *seq);
            }
            Event::PeerPing => out.extend_from_slice(b"peer_ping\""),
            Event::Rtt(rtt) => {
                out.extend_from_slice(b"rtt\",\"ms\":");
                push_ms(out, *rtt);
            }
            Event::Closing { code, reason } => {
                out.extend_from_slice(b"closing\",\"code\":");
                push_int(out, *code as u64);
                out.extend_from_slice(b",\"reason\":");
                push_str(out, reason);
            }
            Event::Closed(c) => {
                out.extend_from_slice(b"closed\",\"code\":");
                match c.code {
                    Some(code) => {
                        push_int(out, code as u64);
                        out.extend_from_slice(b",\"code_name\":");
                        push_str(out, close_code_name(code));
                    }
                    None => out.extend_from_slice(b"null,\"code_name\":null"),
                }
                out.extend_from_slice(b",\"reason\":");
                push_str(out, &c.reason);
                out.extend_from_slice(b",\"by\":\"");
                out.extend_from_slice(c.by.as_str().as_bytes());
                out.extend_from_slice(b"\",\"uptime_ms\":");
                push_int(out, c.uptime.as_millis() as u64);
            }
            Event::Error(f) => {
                out.extend_from_slice(b"error\",\"cause\":\"");
                out.extend_from_slice(f.cause.as_str().as_bytes());
                out.extend_from_slice(b"\",\"phase\":\"");
                out.extend_from_slice(phase_name(f.phase).as_bytes());
                out.extend_from_slice(b"\",\"message\":");
                push_str(out, &f.message);
                if let Some(wait) = f.retry_after {
                    out.extend_from_slice(b",\"retry_after_ms\":");
                    push_int(out, wait.as_millis() as u64);
                }
                if let Some(h) = &f.http {
                    out.extend_from_slice(b",\"status\":");
                    push_int(out, h.status as u64);
                    out.extend_from_slice(b",\"reason\":");
                    push_str(out, &h.reason);
                    out.extend_from_slice(b",\"headers\":{");
                    let mut names: Vec<String> = Vec::new();
                    for (name, _) in &h.headers {
                        let lower = name.to_ascii_lowercase();
                        if !names.contains(&lower) {
                            names.push(lower);
                        }
                    }
                    for (i, name) in names.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        push_str(out, name);
                        out.push(b':');
                        let joined = h
                            .headers
                            .iter()
                            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ");
                        push_str(out, &joined);
                    }
                    out.extend_from_slice(b"},\"body\":");
                    push_str(out, &String::from_utf8_lossy(&h.body));
                    out.extend_from_slice(b",\"body_truncated\":");
                    out.extend_from_slice(if h.body_truncated { b"true" } else { b"false" });
                }
            }
            Event::Retry { attempt, delay } => {
                out.extend_from_slice(b"retry\",\"attempt\":");
                push_int(out, *attempt as u64);
                out.extend_from_slice(b",\"delay_ms\":");
                push_int(out, delay.as_millis() as u64);
            }
            Event::GaveUp { attempts } => {
                out.extend_from_slice(b"gave_up\",\"attempts\":");
                push_int(out, *attempts as u64);
            }
            Event::Queued {
                id,
                kind,
                data,
                queued,
            } => {
                out.extend_from_slice(b"queued\",");
                push_id_kind_len(out, *id, *kind, data.len());
                out.extend_from_slice(b",\"queued\":");
                push_int(out, *queued as u64);
                push_payload(out, *kind, data);
            }
            Event::Dropped {
                id,
                kind,
                data,
                reason,
            } => {
                out.extend_from_slice(b"dropped\",");
                push_id_kind_len(out, *id, *kind, data.len());
                out.extend_from_slice(b",\"reason\":\"");
                out.extend_from_slice(reason.as_str().as_bytes());
                out.push(b'"');
                push_payload(out, *kind, data);
            }
            Event::Warning(text) => {
                out.extend_from_slice(b"warning\",\"message\":");
                push_str(out, text);
            }
        }
        out.extend_from_slice(b"}\n");
    }
}

/// The JSON name of a phase.
pub fn phase_name(p: crate::engine::Phase) -> &'static str {
    use crate::engine::Phase;
    match p {
        Phase::Dns => "dns",
        Phase::Tcp => "tcp",
        Phase::Proxy => "proxy",
        Phase::Tls => "tls",
        Phase::Upgrade => "upgrade",
        Phase::Open => "open",
    }
}

fn push_payload(out: &mut Vec<u8>, kind: crate::engine::Kind, data: &[u8]) {
    match (kind, std::str::from_utf8(data)) {
        (crate::engine::Kind::Text, Ok(text)) => {
            out.extend_from_slice(b",\"data\":");
            push_str(out, text);
        }
        _ => {
            out.extend_from_slice(b",\"base64\":\"");
            let start = out.len();
            let len = base64::encoded_len(data.len(), true).expect("payload fits in memory");
            out.resize(start + len, 0);
            base64::engine::general_purpose::STANDARD
                .encode_slice(data, &mut out[start..])
                .expect("buffer sized by encoded_len");
            out.push(b'"');
        }
    }
}

/// `"id":N,"kind":"text","len":N` of a queued or dropped message.
fn push_id_kind_len(out: &mut Vec<u8>, id: u64, kind: crate::engine::Kind, len: usize) {
    out.extend_from_slice(b"\"id\":");
    push_int(out, id);
    out.extend_from_slice(b",\"kind\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"len\":");
    push_int(out, len as u64);
}

fn push_int(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Milliseconds with microsecond precision: `12.345`.
fn push_ms(out: &mut Vec<u8>, d: Duration) {
    let micros = d.as_micros() as u64;
    push_int(out, micros / 1000);
    let frac = micros % 1000;
    out.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

fn push_opt_ms(out: &mut Vec<u8>, d: Option<Duration>) {
    match d {
        Some(d) => push_ms(out, d),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string literal; control characters are escaped, so no raw escape sequence from a
/// message can reach a terminal that shows the output.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while let Some(at) = find_escape(bytes, i) {
        out.extend_from_slice(&bytes[start..at]);
        let b = bytes[at];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 0xf) as usize],
                ]);
            }
        }
        start = at + 1;
        i = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether a byte needs escaping in a JSON string (controls, `"`, `\`, DEL).
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f
}

/// The first byte at or after `from` that needs escaping; clean 8-byte words are skipped
/// whole, which is most of a typical payload.
#[inline]
fn find_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let mut i = from;
    while i + 8 <= bytes.len() {
        let w = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        // Bytes below 0x20 (bytes with the high bit set are UTF-8 and never below 0x20).
        let below = w.wrapping_sub(LO * 0x20) & !w & HI;
        let hits = below
            | has_zero(w ^ (LO * b'"' as u64))
            | has_zero(w ^ (LO * b'\\' as u64))
            | has_zero(w ^ (LO * 0x7f));
        if hits != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| needs_escape(b))
        .map(|p| i + p)
}

/// One line of a recording.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// An engine event.
    Event(Stamped),
    /// The `recording` header that starts each recorded file.
    Header(SystemTime, crate::record::RecordHeader),
}

/// Parses one JSON line back into an event (the inverse of `Encoder::encode`).
pub fn decode(line: &str) -> Result<Line, String> {
    use crate::engine::*;
    use serde_json::Value;

    let v: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON ({e})"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
    let str_of = |k: &str| {
        get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("missing text field `{k}`"))
    };
    let opt_str = |k: &str| get(k).and_then(Value::as_str).map(str::to_string);
    let u64_of = |k: &str| {
        get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("missing number field `{k}`"))
    };
    let ms_of = |k: &str| -> Result<Duration, String> {
        let ms = get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("missing number field `{k}`"))?;
        if !(0.0..1e12).contains(&ms) {
            return Err(format!("`{k}` is out of range"));
        }
        Ok(Duration::from_secs_f64(ms / 1000.0))
    };
    let opt_ms = |k: &str| {
        get(k)
            .and_then(Value::as_f64)
            .filter(|ms| (0.0..1e12).contains(ms))
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
    };
    let kind_of = || match str_of("kind")? {
        "text" => Ok(Kind::Text),
        "binary" => Ok(Kind::Binary),
        other => Err(format!("unknown kind `{other}`")),
    };
    let payload = || -> Result<bytes::Bytes, String> {
        if let Some(text) = get("data").and_then(Value::as_str) {
            return Ok(bytes::Bytes::copy_from_slice(text.as_bytes()));
        }
        let b64 = str_of("base64")?;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(bytes::Bytes::from)
            .map_err(|e| format!("bad base64 ({e})"))
    };
    let small = |k: &str| -> Result<u32, String> {
        u32::try_from(u64_of(k)?).map_err(|_| format!("`{k}` is out of range"))
    };

    let ts = str_of("ts")?;
    let at = humantime::parse_rfc3339(ts).map_err(|e| format!("bad timestamp `{ts}` ({e})"))?;
    let name = str_of("event")?;
    let event = match name {
        "recording" => {
            let headers = get("headers")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let subprotocols = get("subprotocols")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            return Ok(Line::Header(
                at,
                crate::record::RecordHeader {
                    url: opt_str("url").unwrap_or_default(),
                    headers,
                    subprotocols,
                    ping_interval_ms: get("ping_interval_ms").and_then(Value::as_u64).unwrap_or(0),
                    pong_timeout_ms: get("pong_timeout_ms").and_then(Value::as_u64).unwrap_or(0),
                },
            ));
        }
        "connecting" => Event::Connecting {
            attempt: small("attempt")?,
            url: str_of("url")?.into(),
        },
        "open" => Event::Open(Box::new(OpenInfo {
            attempt: small("attempt")?,
            phases: Phases {
                dns: ms_of("dns_ms")?,
                tcp: ms_of("tcp_ms")?,
                proxy: opt_ms("proxy_ms"),
                tls: opt_ms("tls_ms"),
                handshake: ms_of("handshake_ms")?,
            },
            remote: str_of("remote")?
                .parse()
                .map_err(|_| "bad `remote` address".to_string())?,
            proxy: opt_str("proxy"),
            subprotocol: opt_str("subprotocol"),
            tls_version: opt_str("tls_version").map(|v| match v.as_str() {
                "TLS 1.3" => "TLS 1.3",
                "TLS 1.2" => "TLS 1.2",
                _ => "TLS (old)",
            }),
        })),
        "recv" | "sent" => Event::Message(Message {
            dir: if name == "recv" { Dir::In } else { Dir::Out },
            kind: kind_of()?,
            data: payload()?,
            id: get("id").and_then(Value::as_u64).unwrap_or(0),
        }),
        "ping" => Event::Ping {
            seq: u64_of("seq")?,
        },
        "peer_ping" => Event::PeerPing,
        "rtt" => Event::Rtt(ms_of("ms")?),
        "closing" => Event::Closing {
            code: u16::try_from(u64_of("code")?).map_err(|_| "bad close code")?,
            reason: opt_str("reason").unwrap_or_default(),
        },
        "closed" => Event::Closed(Box::new(CloseInfo {
            code: get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok()),
            reason: opt_str("reason").unwrap_or_default(),
            by: match str_of("by")? {
                "server" => ClosedBy::Server,
                "client" => ClosedBy::Client,
                "heartbeat" => ClosedBy::Heartbeat,
                "error" => ClosedBy::Error,
                other => return Err(format!("unknown `by` value `{other}`")),
            },
            uptime: Duration::from_millis(u64_of("uptime_ms")?),
        })),
        "error" => {
            let cause = Cause::from_name(str_of("cause")?).ok_or("unknown cause")?;
            let phase = match str_of("phase")? {
                "dns" => Phase::Dns,
                "tcp" => Phase::Tcp,
                "proxy" => Phase::Proxy,
                "tls" => Phase::Tls,
                "upgrade" => Phase::Upgrade,
                "open" => Phase::Open,
                other => return Err(format!("unknown phase `{other}`")),
            };
            let http = match get("status").and_then(Value::as_u64) {
                Some(status) => Some(HttpFailure {
                    status: u16::try_from(status).map_err(|_| "bad status")?,
                    reason: opt_str("reason").unwrap_or_default(),
                    headers: get("headers")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                                .collect()
                        })
                        .unwrap_or_default(),
                    body: bytes::Bytes::from(opt_str("body").unwrap_or_default()),
                    body_truncated: get("body_truncated")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                }),
                None => None,
            };
            Event::Error(Box::new(Failure {
                cause,
                phase,
                message: str_of("message")?.to_string(),
                http,
                retry_after: get("retry_after_ms")
                    .and_then(Value::as_u64)
                    .map(Duration::from_millis),
            }))
        }
        "retry" => Event::Retry {
            attempt: small("attempt")?,
            delay: Duration::from_millis(u64_of("delay_ms")?),
        },
        "gave_up" => Event::GaveUp {
            attempts: small("attempts")?,
        },
        "queued" => Event::Queued {
            id: u64_of("id")?,
            kind: kind_of()?,
            data: payload()?,
            queued: u64_of("queued")? as usize,
        },
        "dropped" => Event::Dropped {
            id: u64_of("id")?,
            kind: kind_of()?,
            data: payload()?,
            reason: DropReason::from_name(str_of("reason")?).ok_or("unknown drop reason")?,
        },
        "warning" => Event::Warning(str_of("message")?.to_string()),
        other => return Err(format!("unknown event `{other}`")),
    };
    Ok(Line::Event(Stamped { at, event }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::*;
    use serde_json::Value;
    use std::net::SocketAddr;
    use std::time::UNIX_EPOCH;

    fn line(event: Event) -> Value {
        let mut out = Vec::new();
        let at = UNIX_EPOCH + Duration::from_millis(1_764_091_437_123);
        Encoder::new().encode(&Stamped { at, event }, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(
            out.iter().filter(|&&b| b == b'\n').count(),
            1,
            "exactly one line"
        );
        serde_json::from_slice(&out).expect("valid JSON")
    }

    fn all_kinds() -> Vec<Event> {
        let mut f = Failure::new(
            Cause::Http,
            Phase::Upgrade,
            "the server answered the upgrade with 503",
        );
        f.retry_after = Some(Duration::from_secs(5));
        f.http = Some(HttpFailure {
            status: 503,
            reason: "Service Unavailable".into(),
            headers: vec![
                ("retry-after".into(), "5".into()),
                ("x-a".into(), "1, 2".into()),
            ],
            body: "maintenance".into(),
            body_truncated: true,
        });
        vec![
            Event::Connecting {
                attempt: 3,
                url: "wss://h/x?token=***".into(),
            },
            Event::Open(Box::new(OpenInfo {
                attempt: 3,
                phases: Phases {
                    dns: Duration::from_micros(1234),
                    tcp: Duration::from_micros(56),
                    proxy: Some(Duration::from_micros(789)),
                    tls: Some(Duration::from_micros(12_000)),
                    handshake: Duration::from_micros(999),
                },
                remote: SocketAddr::from(([10, 0, 0, 1], 443)),
                proxy: Some("http://p:3128/".into()),
                subprotocol: Some("v2".into()),
                tls_version: Some("TLS 1.3"),
            })),
            Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data: "a\"b\n\u{1b}é".into(),
                id: 0,
            }),
            Event::Message(Message {
                dir: Dir::Out,
                kind: Kind::Binary,
                data: vec![0, 255, 7].into(),
                id: 9,
            }),
            Event::Ping { seq: 4 },
            Event::PeerPing,
            Event::Rtt(Duration::from_micros(12_345)),
            Event::Closing {
                code: 4000,
                reason: "bye".into(),
            },
            Event::Closed(Box::new(CloseInfo {
                code: Some(1012),
                reason: "restart".into(),
                by: ClosedBy::Server,
                uptime: Duration::from_millis(61_000),
            })),
            Event::Closed(Box::new(CloseInfo {
                code: None,
                reason: "no pong for 10s".into(),
                by: ClosedBy::Heartbeat,
                uptime: Duration::ZERO,
            })),
            Event::Error(Box::new(f)),
            Event::Error(Box::new(Failure::new(
                Cause::Tls,
                Phase::Tls,
                "certificate expired",
            ))),
            Event::Retry {
                attempt: 2,
                delay: Duration::from_millis(1750),
            },
            Event::GaveUp { attempts: 5 },
            Event::Queued {
                id: 1,
                kind: Kind::Text,
                data: "later".into(),
                queued: 1,
            },
            Event::Dropped {
                id: 2,
                kind: Kind::Binary,
                data: vec![1, 2].into(),
                reason: DropReason::QueueFull,
            },
            Event::Warning("--insecure: not verified".into()),
        ]
    }

    #[test]
    fn every_event_round_trips() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_091_437_123);
        let mut enc = Encoder::new();
        for event in all_kinds() {
            let s = Stamped { at, event };
            let mut out = Vec::new();
            enc.encode(&s, &mut out);
            let text = std::str::from_utf8(&out).unwrap();
            assert_eq!(
                decode(text.trim_end()),
                Ok(Line::Event(s.clone())),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert!(
            decode("{not json")
                .unwrap_err()
                .starts_with("not valid JSON")
        );
        assert_eq!(decode("[1]").unwrap_err(), "not a JSON object");
        assert_eq!(
            decode(r#"{"ts":"2026-11-25T17:00:00.000Z"}"#).unwrap_err(),
            "missing text field `event`"
        );
        assert_eq!(
            decode(r#"{"ts":"x","event":"rtt","ms":1}"#).unwrap_err(),
            "bad timestamp `x` (timestamp format is invalid)"
        );
        assert_eq!(
            decode(r#"{"ts":"2026-11-25T17:00:00.000Z","event":"teleport"}"#).unwrap_err(),
            "unknown event `teleport`"
        );
        assert_eq!(
            decode(r#"{"ts":"2026-11-25T17:00:00.000Z","event":"rtt","ms":-5}"#).unwrap_err(),
            "`ms` is out of range"
        );
    }

    #[test]
    fn open_line_has_phase_timings() {
        let v = line(Event::Open(Box::new(OpenInfo {
            attempt: 2,
            phases: Phases {
                dns: Duration::from_micros(1234),
                tcp: Duration::from_micros(50),
                proxy: None,
                tls: Some(Duration::from_millis(12)),
                handshake: Duration::from_micros(999),
            },
            remote: SocketAddr::from(([10, 0, 0, 1], 443)),
            proxy: None,
            subprotocol: Some("v2".into()),
            tls_version: Some("TLS 1.3"),
        })));
        assert_eq!(v["ts"], "2025-11-25T17:23:57.123Z");
        assert_eq!(v["event"], "open");
        assert_eq!(v["attempt"], 2);
        assert_eq!(v["dns_ms"], 1.234);
        assert_eq!(v["tcp_ms"], 0.05);
        assert_eq!(v["tls_ms"], 12.0);
        assert_eq!(v["handshake_ms"], 0.999);
        assert_eq!(v["proxy_ms"], Value::Null);
        assert_eq!(v["remote"], "10.0.0.1:443");
        assert_eq!(v["subprotocol"], "v2");
        assert_eq!(v["tls_version"], "TLS 1.3");
    }

    #[test]
    fn messages_text_escaped_and_binary_base64() {
        let v = line(Event::Message(Message {
            dir: Dir::In,
            kind: Kind::Text,
            data: "a\"b\\\n\u{1b}[31m\u{7f}é".into(),
            id: 0,
        }));
        assert_eq!(v["event"], "recv");
        assert_eq!(v["kind"], "text");
        assert_eq!(v["data"], "a\"b\\\n\u{1b}[31m\u{7f}é");
        assert_eq!(v["len"], 13);
        let v = line(Event::Message(Message {
            dir: Dir::Out,
            kind: Kind::Binary,
            data: vec![0, 1, 254, 255].into(),
            id: 7,
        }));
        assert_eq!(
            (v["event"].as_str(), v["id"].as_u64()),
            (Some("sent"), Some(7))
        );
        assert_eq!(v["base64"], "AAH+/w==");
    }

    #[test]
    fn the_word_at_a_time_escaper_agrees_with_serde_json() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain ascii text that is long enough".into(),
            "é✓ unicode 日本".into(),
        ];
        for b in 0u8..0x80 {
            for pos in 0..17 {
                let mut t = "x".repeat(pos);
                t.push(b as char);
                t.push_str("tail-of-text");
                cases.push(t);
            }
        }
        for c in cases {
            let mut out = Vec::new();
            push_str(&mut out, &c);
            let back: String = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{c:?}: {e}: {}", String::from_utf8_lossy(&out)));
            assert_eq!(back, c);
            assert!(
                !out.iter().any(|&b| b < 0x20 || b == 0x7f),
                "raw control in {:?}",
                String::from_utf8_lossy(&out)
            );
        }
    }

    #[test]
    fn raw_escape_bytes_never_reach_the_output() {
        let mut out = Vec::new();
        let event = Event::Message(Message {
            dir: Dir::In,
            kind: Kind::Text,
            data: "\u{1b}]0;pwned\u{7}".into(),
            id: 0,
        });
        Encoder::new().encode(
            &Stamped {
                at: UNIX_EPOCH,
                event,
            },
            &mut out,
        );
        assert!(
            !out.iter().any(|&b| b == 0x1b || b == 0x07),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn closed_error_and_retry_lines() {
        let v = line(Event::Closed(Box::new(CloseInfo {
            code: Some(1012),
            reason: "deploy".into(),
            by: ClosedBy::Server,
            uptime: Duration::from_millis(1500),
        })));
        assert_eq!(
            (
                v["code"].as_u64(),
                v["code_name"].as_str(),
                v["by"].as_str(),
                v["uptime_ms"].as_u64()
            ),
            (
                Some(1012),
                Some("service restart"),
                Some("server"),
                Some(1500)
            )
        );
        let v = line(Event::Closed(Box::new(CloseInfo {
            code: None,
            reason: "no pong for 10s".into(),
            by: ClosedBy::Heartbeat,
            uptime: Duration::ZERO,
        })));
        assert_eq!(
            (v["code"].clone(), v["by"].as_str()),
            (Value::Null, Some("heartbeat"))
        );
        let mut f = Failure::new(
            Cause::Http,
            Phase::Upgrade,
            "the server answered the upgrade with 401 Unauthorized",
        );
        f.http = Some(HttpFailure {
            status: 401,
            reason: "Unauthorized".into(),
            headers: vec![
                ("WWW-Authenticate".into(), "Bearer".into()),
                ("Set-Cookie".into(), "***".into()),
                ("set-cookie".into(), "***".into()),
            ],
            body: "token expired".into(),
            body_truncated: false,
        });
        let v = line(Event::Error(Box::new(f)));
        assert_eq!(
            (
                v["cause"].as_str(),
                v["status"].as_u64(),
                v["body"].as_str()
            ),
            (Some("http"), Some(401), Some("token expired"))
        );
        assert_eq!(v["headers"]["www-authenticate"], "Bearer");
        assert_eq!(v["headers"]["set-cookie"], "***, ***");
        let v = line(Event::Retry {
            attempt: 3,
            delay: Duration::from_millis(1750),
        });
        assert_eq!(
            (v["attempt"].as_u64(), v["delay_ms"].as_u64()),
            (Some(3), Some(1750))
        );
    }
}
