//! Events as schema lines, the slow way: what serde writes for each event. The fast encoder
//! must write the same, and a property test (`jsonl::tests`) holds it to this; nothing else
//! uses it, so it is compiled for the tests only.

use std::time::Duration;

use base64::Engine as _;

use super::header::joined_headers;
use super::schema::{Body, ErrorLine, Payload, WarningLine, WireLine};
use crate::engine::{Event, Kind, Stamped, Warning};

impl WireLine {
    /// The line for an event, as serde would write it (the fast encoder must agree).
    pub(crate) fn of(s: &Stamped, endpoint: Option<&str>) -> WireLine {
        WireLine {
            ts: s.at,
            endpoint: endpoint.map(str::to_string),
            body: Body::of(&s.event),
        }
    }
}

/// Milliseconds with a fraction, at microsecond precision.
fn ms_of(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// The `data` and `base64` fields of a payload.
fn fields_of(kind: Kind, data: &[u8]) -> (Option<String>, Option<String>) {
    match (kind, std::str::from_utf8(data)) {
        (Kind::Text, Ok(text)) => (Some(text.to_string()), None),
        _ => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(data)),
        ),
    }
}

impl Body {
    /// The line body for an event.
    pub(crate) fn of(e: &Event) -> Body {
        match e {
            Event::Connecting { attempt, url } => Body::Connecting {
                attempt: *attempt,
                url: url.to_string(),
            },
            Event::Open(info) => Body::Open {
                attempt: info.attempt,
                dns_ms: ms_of(info.phases.dns),
                tcp_ms: ms_of(info.phases.tcp),
                proxy_ms: info.phases.proxy.map(ms_of),
                tls_ms: info.phases.tls.map(ms_of),
                handshake_ms: ms_of(info.phases.handshake),
                remote: info.remote,
                proxy: info.proxy.clone(),
                subprotocol: info.subprotocol.clone(),
                tls_version: info.tls_version.map(str::to_string),
                cert: info.cert.clone(),
            },
            Event::Message(m) => {
                let (data, base64) = fields_of(m.kind, &m.data);
                let p = Payload {
                    kind: m.kind,
                    len: m.data.len(),
                    id: (m.id != 0).then_some(m.id),
                    data,
                    base64,
                    decoded: None,
                };
                match m.dir {
                    crate::engine::Dir::In => Body::Recv(p),
                    crate::engine::Dir::Out => Body::Sent(p),
                }
            }
            Event::Ping { seq, app } => Body::Ping {
                seq: *seq,
                app: *app,
            },
            Event::PeerPing => Body::PeerPing,
            Event::Rtt { rtt, app } => Body::Rtt {
                ms: ms_of(*rtt),
                app: *app,
            },
            Event::AutoReply {
                received,
                sent,
                count,
            } => Body::AutoReply {
                received: received.to_string(),
                sent: sent.to_string(),
                count: *count,
            },
            Event::Ready {
                protocol,
                detail,
                offsets,
            } => Body::Ready {
                protocol: protocol.to_string(),
                detail: detail.clone(),
                offsets: *offsets,
            },
            Event::Stale { silent } => Body::Stale {
                silent_ms: silent.as_millis() as u64,
            },
            Event::Fresh { silent } => Body::Fresh {
                silent_ms: silent.as_millis() as u64,
            },
            Event::Closing { code, reason } => Body::Closing {
                code: *code,
                reason: reason.clone(),
            },
            Event::Closed(c) => Body::Closed {
                code: c.code,
                code_name: c
                    .code
                    .map(|code| crate::engine::close_code::close_code_name(code).to_string()),
                reason: c.reason.clone(),
                by: c.by,
                uptime_ms: c.uptime.as_millis() as u64,
                verdict: c.verdict,
            },
            Event::Error(f) => Body::Error(ErrorLine {
                cause: f.cause,
                phase: f.phase,
                message: crate::describe::message(f),
                retry_after_ms: f.retry_after.map(|d| d.as_millis() as u64),
                status: f.http.as_ref().map(|h| h.status),
                reason: f.http.as_ref().map(|h| h.reason.clone()),
                headers: f.http.as_ref().map(|h| joined_headers(&h.headers)),
                body: f
                    .http
                    .as_ref()
                    .map(|h| String::from_utf8_lossy(&h.body).into_owned()),
                body_truncated: f.http.as_ref().map(|h| h.body_truncated),
                advice: crate::describe::fix(f),
                chain: f.chain.clone(),
                remote: f.reached.as_ref().map(|r| r.remote),
                dns_ms: f.reached.as_ref().map(|r| ms_of(r.phases.dns)),
                tcp_ms: f.reached.as_ref().map(|r| ms_of(r.phases.tcp)),
                proxy_ms: f.reached.as_ref().and_then(|r| r.phases.proxy.map(ms_of)),
                tls_ms: f.reached.as_ref().and_then(|r| r.phases.tls.map(ms_of)),
            }),
            Event::Retry { attempt, delay } => Body::Retry {
                attempt: *attempt,
                delay_ms: delay.as_millis() as u64,
            },
            Event::GaveUp { attempts } => Body::GaveUp {
                attempts: *attempts,
            },
            Event::Queued {
                id,
                kind,
                data,
                queued,
            } => {
                let (text, base64) = fields_of(*kind, data);
                Body::Queued {
                    id: *id,
                    kind: *kind,
                    len: data.len(),
                    queued: *queued,
                    data: text,
                    base64,
                }
            }
            Event::Dropped {
                id,
                kind,
                data,
                len,
                reason,
            } => {
                let (text, base64) = fields_of(*kind, data);
                Body::Dropped {
                    id: *id,
                    kind: *kind,
                    len: *len as usize,
                    reason: *reason,
                    data: text,
                    base64,
                }
            }
            Event::Warning(w) => Body::Warning(WarningLine {
                message: crate::describe::warning(w),
                code: w.code().map(str::to_string),
                line: match w {
                    Warning::SkippedLine { line, .. } => Some(*line),
                    _ => None,
                },
                reason: match w {
                    Warning::SkippedLine { reason, .. } => Some(reason.clone()),
                    _ => None,
                },
                replayed: match w {
                    Warning::EndOfRecording { replayed, .. } => Some(*replayed),
                    _ => None,
                },
                skipped: match w {
                    Warning::EndOfRecording { skipped, .. } => Some(*skipped),
                    _ => None,
                },
            }),
            Event::Stopped(why) => Body::Stopped { why: *why },
            Event::Crashed(message) => Body::Crashed {
                message: message.to_string(),
            },
            Event::Unconfirmed { ids, count, resent } => Body::Unconfirmed {
                ids: ids.to_vec(),
                count: *count,
                resent: *resent,
            },
        }
    }
}
