//! The fast encoder of the JSON-lines schema: hand-written so a flood costs a few copies per
//! message, not a serializer round trip. `schema` is what it must write; the tests there
//! check the two agree for every kind of event.

use std::time::{Duration, SystemTime};

use base64::Engine as _;

use super::header::joined_headers;
use crate::describe;
use crate::engine::close_code::close_code_name;
use crate::engine::{Event, Stamped, Warning};

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
    pub(crate) fn encode_for(&mut self, s: &Stamped, endpoint: Option<&str>, out: &mut Vec<u8>) {
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
                if let Some(c) = &info.cert {
                    out.extend_from_slice(b",\"cert\":");
                    push_cert(out, c);
                }
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
            Event::Ping { seq, app } => {
                out.extend_from_slice(b"ping\",\"seq\":");
                push_int(out, *seq);
                if *app {
                    out.extend_from_slice(b",\"app\":true");
                }
            }
            Event::PeerPing => out.extend_from_slice(b"peer_ping\""),
            Event::Rtt { rtt, app } => {
                out.extend_from_slice(b"rtt\",\"ms\":");
                push_ms(out, *rtt);
                if *app {
                    out.extend_from_slice(b",\"app\":true");
                }
            }
            Event::AutoReply {
                received,
                sent,
                count,
            } => {
                out.extend_from_slice(b"auto_reply\",\"received\":");
                push_str(out, received);
                out.extend_from_slice(b",\"sent\":");
                push_str(out, sent);
                out.extend_from_slice(b",\"count\":");
                push_int(out, *count);
            }
            Event::Ready {
                protocol,
                detail,
                offsets,
            } => {
                out.extend_from_slice(b"ready\",\"protocol\":");
                push_str(out, protocol);
                out.extend_from_slice(b",\"detail\":");
                push_str(out, detail);
                if *offsets {
                    out.extend_from_slice(b",\"offsets\":true");
                }
            }
            Event::Stale { silent } => {
                out.extend_from_slice(b"stale\",\"silent_ms\":");
                push_int(out, silent.as_millis() as u64);
            }
            Event::Fresh { silent } => {
                out.extend_from_slice(b"fresh\",\"silent_ms\":");
                push_int(out, silent.as_millis() as u64);
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
                if let Some(v) = c.verdict {
                    out.extend_from_slice(b",\"verdict\":\"");
                    out.extend_from_slice(v.as_str().as_bytes());
                    out.push(b'"');
                }
            }
            Event::Error(f) => {
                out.extend_from_slice(b"error\",\"cause\":\"");
                out.extend_from_slice(f.cause.as_str().as_bytes());
                out.extend_from_slice(b"\",\"phase\":\"");
                out.extend_from_slice(f.phase.as_str().as_bytes());
                out.extend_from_slice(b"\",\"message\":");
                push_str(out, &describe::message(f));
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
                    for (i, (name, value)) in joined_headers(&h.headers).iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        push_str(out, name);
                        out.push(b':');
                        push_str(out, value);
                    }
                    out.extend_from_slice(b"},\"body\":");
                    push_str(out, &String::from_utf8_lossy(&h.body));
                    out.extend_from_slice(b",\"body_truncated\":");
                    out.extend_from_slice(if h.body_truncated { b"true" } else { b"false" });
                }
                if let Some(a) = describe::fix(f) {
                    out.extend_from_slice(b",\"advice\":");
                    push_str(out, &a);
                }
                if !f.chain.is_empty() {
                    out.extend_from_slice(b",\"chain\":");
                    push_list(out, &f.chain, push_cert);
                }
                if let Some(r) = &f.reached {
                    out.extend_from_slice(b",\"remote\":");
                    push_str(out, &r.remote.to_string());
                    out.extend_from_slice(b",\"dns_ms\":");
                    push_ms(out, r.phases.dns);
                    out.extend_from_slice(b",\"tcp_ms\":");
                    push_ms(out, r.phases.tcp);
                    if let Some(p) = r.phases.proxy {
                        out.extend_from_slice(b",\"proxy_ms\":");
                        push_ms(out, p);
                    }
                    if let Some(t) = r.phases.tls {
                        out.extend_from_slice(b",\"tls_ms\":");
                        push_ms(out, t);
                    }
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
                len,
                reason,
            } => {
                out.extend_from_slice(b"dropped\",");
                push_id_kind_len(out, *id, *kind, *len as usize);
                out.extend_from_slice(b",\"reason\":\"");
                out.extend_from_slice(reason.as_str().as_bytes());
                out.push(b'"');
                push_payload(out, *kind, data);
            }
            Event::Warning(w) => {
                out.extend_from_slice(b"warning\",\"message\":");
                push_str(out, &crate::describe::warning(w));
                if let Some(code) = w.code() {
                    out.extend_from_slice(b",\"code\":\"");
                    out.extend_from_slice(code.as_bytes());
                    out.push(b'"');
                }
                match w {
                    Warning::SkippedLine { line, reason } => {
                        out.extend_from_slice(b",\"line\":");
                        push_int(out, *line);
                        out.extend_from_slice(b",\"reason\":");
                        push_str(out, reason);
                    }
                    Warning::EndOfRecording { replayed, skipped } => {
                        out.extend_from_slice(b",\"replayed\":");
                        push_int(out, *replayed);
                        out.extend_from_slice(b",\"skipped\":");
                        push_int(out, *skipped);
                    }
                    _ => {}
                }
            }
            Event::Unconfirmed { ids, count, resent } => {
                out.extend_from_slice(b"unconfirmed\",\"ids\":");
                push_list(out, ids, |out, id| push_int(out, *id));
                out.extend_from_slice(b",\"count\":");
                push_int(out, *count);
                out.extend_from_slice(if *resent {
                    b",\"resent\":true"
                } else {
                    b",\"resent\":false"
                });
            }
            Event::Crashed(message) => {
                out.extend_from_slice(b"crashed\",\"message\":");
                push_str(out, message);
            }
            Event::Stopped(why) => {
                out.extend_from_slice(b"stopped\",\"why\":\"");
                out.extend_from_slice(why.as_str().as_bytes());
                out.push(b'"');
            }
        }
        out.extend_from_slice(b"}\n");
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

/// A JSON array of `items`, each written by `push`.
fn push_list<T>(out: &mut Vec<u8>, items: &[T], push: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push(out, item);
    }
    out.push(b']');
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
        if b == 0xC2 {
            // U+0080 to U+009F (C1 controls, CSI among them) as \u escapes: a terminal that
            // shows the line must not obey them. Any other character is copied as it is.
            match bytes.get(at + 1) {
                Some(&c1 @ 0x80..=0x9F) => {
                    push_u00(out, c1);
                    start = at + 2;
                    i = at + 2;
                }
                _ => {
                    start = at;
                    i = at + 1;
                }
            }
            continue;
        }
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => push_u00(out, b),
        }
        start = at + 1;
        i = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `\u00XX` for the character `b`.
fn push_u00(out: &mut Vec<u8>, b: u8) {
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

/// Whether a byte needs escaping in a JSON string (controls, `"`, `\`, DEL), or may start a
/// C1 control (`0xC2`, looked at with the byte after it).
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f || b == 0xC2
}

/// The first byte at or after `from` that needs escaping; clean 32-byte blocks (four 8-byte
/// words tested at once, one branch) are skipped whole, which is most of a typical payload.
#[inline]
fn find_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 32 <= bytes.len() {
        let block = &bytes[i..i + 32];
        let w = |k: usize| u64::from_le_bytes(block[k..k + 8].try_into().expect("8 bytes"));
        if escapes_in(w(0)) | escapes_in(w(8)) | escapes_in(w(16)) | escapes_in(w(24)) != 0 {
            break;
        }
        i += 32;
    }
    while i + 8 <= bytes.len() {
        let w = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        if escapes_in(w) != 0 {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| needs_escape(b))
        .map(|p| i + p)
}

/// Non-zero when a byte of `w` needs escaping (high bit set in that byte's lane, and maybe in
/// lanes after it, which the byte-wise scan that follows sorts out).
#[inline(always)]
fn escapes_in(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    // Bytes below 0x20 (bytes with the high bit set are UTF-8 and never below 0x20).
    let below = w.wrapping_sub(LO * 0x20) & !w & HI;
    below
        | has_zero(w ^ (LO * b'"' as u64))
        | has_zero(w ^ (LO * b'\\' as u64))
        | has_zero(w ^ (LO * 0x7f))
        | has_zero(w ^ (LO * 0xC2))
}

/// A certificate as a JSON object; its names come from the network, so they go through
/// `push_str` (which escapes C1 controls too).
fn push_cert(out: &mut Vec<u8>, c: &crate::engine::CertInfo) {
    out.extend_from_slice(b"{\"subject\":");
    push_str(out, &c.subject);
    out.extend_from_slice(b",\"issuer\":");
    push_str(out, &c.issuer);
    if !c.names.is_empty() {
        out.extend_from_slice(b",\"names\":");
        push_list(out, &c.names, |out, n| push_str(out, n));
    }
    out.extend_from_slice(b",\"not_before\":");
    out.extend_from_slice(itoa::Buffer::new().format(c.not_before).as_bytes());
    out.extend_from_slice(b",\"not_after\":");
    out.extend_from_slice(itoa::Buffer::new().format(c.not_after).as_bytes());
    out.extend_from_slice(b",\"sha256\":");
    push_str(out, &c.sha256);
    out.push(b'}');
}
