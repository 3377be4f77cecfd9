//! Reading a line back: its JSON into the schema's types, then into the engine's events, with
//! an error that names the field at fault.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;

use super::*;

/// Parses one JSON line (the inverse of `Encoder::encode`).
pub fn decode(line: &str) -> Result<Line, String> {
    decode_with_endpoint(line).map(|(_, l)| l)
}

/// Parses one JSON line and the endpoint it names, if any.
pub fn decode_with_endpoint(line: &str) -> Result<(Option<String>, Line), String> {
    let wire: WireLine = serde_json::from_str(line).map_err(explain)?;
    let at = wire.ts;
    let line = match wire.body {
        Body::Recording(h) => Line::Header(at, h),
        Body::Pattern(_) | Body::Health(_) | Body::Summary(_) => Line::Derived,
        body => Line::Event(Stamped {
            at,
            event: body.into_event()?,
        }),
    };
    Ok((wire.endpoint, line))
}

/// serde_json's message, said for a person reading about a recording.
fn explain(e: serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON ({e})"),
        Category::Data | Category::Io => {
            // Drop serde_json's "at line 1 column N": the caller names the line.
            let text = e.to_string();
            let text = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(t, _)| t);
            text.replace("internally tagged enum Body", "line")
                .replace("struct WireLine", "a JSON object")
                .replace("variant", "event")
        }
    }
}

/// Milliseconds with a fraction, as a duration at microsecond precision.
fn ms(v: f64, field: &str) -> Result<Duration, String> {
    if !(0.0..1e12).contains(&v) {
        return Err(format!("`{field}` is out of range"));
    }
    Ok(Duration::from_micros((v * 1000.0).round() as u64))
}

/// A payload from its `data` or `base64` field.
fn payload(data: Option<String>, b64: Option<String>) -> Result<Bytes, String> {
    match (data, b64) {
        (Some(text), _) => Ok(Bytes::from(text)),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(Bytes::from)
            .map_err(|e| format!("bad base64 ({e})")),
        (None, None) => Err("missing field `data` or `base64`".into()),
    }
}

/// A protocol's name as the engine has it.
fn protocol_name(name: &str) -> &'static str {
    match name {
        "socket.io" => "socket.io",
        "graphql-ws" => "graphql-ws",
        "legacy subscriptions-transport-ws" => "legacy subscriptions-transport-ws",
        "mqtt" => "mqtt",
        "stomp" => "stomp",
        _ => "application protocol",
    }
}

fn tls_version(v: &str) -> &'static str {
    match v {
        "TLS 1.3" => "TLS 1.3",
        "TLS 1.2" => "TLS 1.2",
        _ => "TLS (old)",
    }
}

impl Body {
    /// The engine event this line stands for.
    fn into_event(self) -> Result<Event, String> {
        Ok(match self {
            Body::Recording(_) | Body::Pattern(_) | Body::Health(_) | Body::Summary(_) => {
                return Err("a recording header or a derived line is not an event".into());
            }
            Body::Connecting { attempt, url } => Event::Connecting {
                attempt,
                url: url.into(),
            },
            Body::Open {
                attempt,
                dns_ms,
                tcp_ms,
                proxy_ms,
                tls_ms,
                handshake_ms,
                remote,
                proxy,
                subprotocol,
                tls_version: tls,
                cert,
            } => Event::Open(Arc::new(OpenInfo {
                attempt,
                phases: Phases {
                    dns: ms(dns_ms, "dns_ms")?,
                    tcp: ms(tcp_ms, "tcp_ms")?,
                    proxy: proxy_ms.map(|v| ms(v, "proxy_ms")).transpose()?,
                    tls: tls_ms.map(|v| ms(v, "tls_ms")).transpose()?,
                    handshake: ms(handshake_ms, "handshake_ms")?,
                },
                remote,
                proxy,
                subprotocol,
                tls_version: tls.as_deref().map(tls_version),
                cert,
            })),
            Body::Recv(p) => Event::Message(p.into_message(crate::engine::Dir::In)?),
            Body::Sent(p) => Event::Message(p.into_message(crate::engine::Dir::Out)?),
            Body::Ping { seq, app } => Event::Ping { seq, app },
            Body::PeerPing => Event::PeerPing,
            Body::Rtt { ms: v, app } => Event::Rtt {
                rtt: ms(v, "ms")?,
                app,
            },
            Body::AutoReply {
                received,
                sent,
                count,
            } => Event::AutoReply {
                received: received.into(),
                sent: sent.into(),
                count,
            },
            Body::Ready {
                protocol,
                detail,
                offsets,
            } => Event::Ready {
                protocol: protocol_name(&protocol),
                detail,
                offsets,
            },
            Body::Stale { silent_ms } => Event::Stale {
                silent: Duration::from_millis(silent_ms),
            },
            Body::Fresh { silent_ms } => Event::Fresh {
                silent: Duration::from_millis(silent_ms),
            },
            Body::Closing { code, reason } => Event::Closing { code, reason },
            Body::Closed {
                code,
                reason,
                by,
                uptime_ms,
                verdict,
                ..
            } => Event::Closed(Arc::new(CloseInfo {
                code,
                reason,
                by,
                uptime: Duration::from_millis(uptime_ms),
                verdict,
            })),
            Body::Error(e) => Event::Error(Arc::new(e.into_failure()?)),
            Body::Retry { attempt, delay_ms } => Event::Retry {
                attempt,
                delay: Duration::from_millis(delay_ms),
            },
            Body::GaveUp { attempts } => Event::GaveUp { attempts },
            Body::Queued {
                id,
                kind,
                queued,
                data,
                base64,
                ..
            } => Event::Queued {
                id,
                kind,
                data: payload(data, base64)?,
                queued,
            },
            Body::Dropped {
                id,
                kind,
                len,
                reason,
                data,
                base64,
            } => Event::Dropped {
                id,
                kind,
                data: payload(data, base64)?,
                len: len as u64,
                reason,
            },
            Body::Warning(w) => Event::Warning(w.into_warning()),
            Body::Stopped { why } => Event::Stopped(why),
            Body::Crashed { message } => Event::Crashed(message.into()),
            Body::Unconfirmed { ids, count, resent } => Event::Unconfirmed {
                ids: ids.into(),
                count,
                resent,
            },
        })
    }
}

impl Payload {
    fn into_message(self, dir: crate::engine::Dir) -> Result<Message, String> {
        Ok(Message {
            dir,
            kind: self.kind,
            data: payload(self.data, self.base64)?,
            id: self.id.unwrap_or(0),
        })
    }
}

impl ErrorLine {
    fn into_failure(self) -> Result<Failure, String> {
        let http = self.status.map(|status| HttpFailure {
            status,
            reason: self.reason.clone().unwrap_or_default(),
            headers: self.headers.clone().unwrap_or_default(),
            body: Bytes::from(self.body.clone().unwrap_or_default()),
            body_truncated: self.body_truncated.unwrap_or(false),
        });
        let opt = |v: Option<f64>, field| v.map(|v| ms(v, field)).transpose();
        let reached = match self.remote {
            Some(remote) => Some(Box::new(crate::engine::Reached {
                remote,
                phases: Phases {
                    dns: opt(self.dns_ms, "dns_ms")?.unwrap_or_default(),
                    tcp: opt(self.tcp_ms, "tcp_ms")?.unwrap_or_default(),
                    proxy: opt(self.proxy_ms, "proxy_ms")?,
                    tls: opt(self.tls_ms, "tls_ms")?,
                    handshake: Duration::ZERO,
                },
            })),
            None => None,
        };
        Ok(Failure {
            cause: self.cause,
            phase: self.phase,
            problem: Problem::Recorded {
                message: self.message,
                fix: self.advice,
            },
            http,
            retry_after: self.retry_after_ms.map(Duration::from_millis),
            reached,
            chain: self.chain,
        })
    }
}

impl WarningLine {
    fn into_warning(self) -> Warning {
        match self.code.as_deref() {
            Some("insecure") => Warning::Insecure,
            Some("ping_not_connected") => Warning::PingNotConnected,
            Some("skipped_line") => Warning::SkippedLine {
                line: self.line.unwrap_or(0),
                reason: self.reason.unwrap_or_default(),
            },
            Some("end_of_recording") => Warning::EndOfRecording {
                replayed: self.replayed.unwrap_or(0),
                skipped: self.skipped.unwrap_or(0),
            },
            _ => Warning::Note(self.message),
        }
    }
}
