//! The encoder against the schema: every event and arbitrary ones round-trip, and the fast
//! encoder writes what serde writes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use serde_json::Value;

mod strategies;

use super::schema::WireLine;
use super::*;
use crate::engine::*;
use strategies::{as_on_the_wire, event};

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
        Problem::Recorded {
            message: "the server answered the upgrade with 503".into(),
            fix: None,
        },
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
        Event::Open(Arc::new(OpenInfo {
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
            cert: None,
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
        Event::Ping { seq: 4, app: false },
        Event::Ping { seq: 5, app: true },
        Event::PeerPing,
        Event::Rtt {
            rtt: Duration::from_micros(12_345),
            app: false,
        },
        Event::Rtt {
            rtt: Duration::from_micros(2_500),
            app: true,
        },
        Event::AutoReply {
            received: "2".into(),
            sent: "3".into(),
            count: 7,
        },
        Event::Ready {
            protocol: "socket.io",
            detail: "joined / · sid x".into(),
            offsets: true,
        },
        Event::Stale {
            silent: Duration::from_millis(30_000),
        },
        Event::Fresh {
            silent: Duration::from_millis(31_250),
        },
        Event::Closing {
            code: 4000,
            reason: "bye".into(),
        },
        Event::Closed(Arc::new(CloseInfo {
            code: Some(1012),
            reason: "restart".into(),
            by: ClosedBy::Server,
            uptime: Duration::from_millis(61_000),
            verdict: None,
        })),
        Event::Closed(Arc::new(CloseInfo {
            code: None,
            reason: "no pong for 10s".into(),
            by: ClosedBy::Heartbeat,
            uptime: Duration::ZERO,
            verdict: Some(crate::engine::Verdict::NoPong),
        })),
        Event::Error(Arc::new(f)),
        Event::Error(Arc::new(Failure::new(
            Cause::Tls,
            Phase::Tls,
            Problem::Recorded {
                message: "certificate expired".into(),
                fix: None,
            },
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
            len: 2,
            reason: DropReason::QueueFull,
        },
        Event::Warning(Warning::Insecure),
        Event::Stopped(StopReason::Quit),
        Event::Unconfirmed {
            ids: vec![3, 4].into(),
            count: 2,
            resent: false,
        },
        Event::Warning(Warning::Note("from another version".into())),
        Event::Warning(Warning::SkippedLine {
            line: 7,
            reason: "not valid JSON".into(),
        }),
        Event::Warning(Warning::EndOfRecording {
            replayed: 10,
            skipped: 1,
        }),
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
    assert_eq!(
        decode("[1]").unwrap_err(),
        "invalid type: sequence, expected a JSON object"
    );
    assert_eq!(
        decode(r#"{"ts":"2026-11-25T17:00:00.000Z"}"#).unwrap_err(),
        "missing field `event`"
    );
    assert_eq!(
        decode(r#"{"ts":"x","event":"rtt","ms":1}"#).unwrap_err(),
        "bad timestamp `x` (timestamp format is invalid)"
    );
    assert!(
        decode(r#"{"ts":"2026-11-25T17:00:00.000Z","event":"teleport"}"#)
            .unwrap_err()
            .starts_with("unknown event `teleport`, expected one of `recording`, `connecting`"),
    );
    assert_eq!(
        decode(r#"{"ts":"2026-11-25T17:00:00.000Z","event":"rtt","ms":-5}"#).unwrap_err(),
        "`ms` is out of range"
    );
}

#[test]
fn open_line_has_phase_timings() {
    let v = line(Event::Open(Arc::new(OpenInfo {
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
        cert: None,
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
    // ASCII, and the Latin-1 range whose first byte is 0xC2: C1 controls among them.
    for c in (0u32..0x80).chain(0x80..0x100) {
        for pos in 0..17 {
            let mut t = "x".repeat(pos);
            t.push(char::from_u32(c).unwrap());
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
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(|ch| ch.is_control()),
            "raw control in {text:?}"
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
    let v = line(Event::Closed(Arc::new(CloseInfo {
        code: Some(1012),
        reason: "deploy".into(),
        by: ClosedBy::Server,
        uptime: Duration::from_millis(1500),
        verdict: None,
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
    let v = line(Event::Closed(Arc::new(CloseInfo {
        code: None,
        reason: "no pong for 10s".into(),
        by: ClosedBy::Heartbeat,
        uptime: Duration::ZERO,
        verdict: Some(crate::engine::Verdict::WriteStall),
    })));
    assert_eq!(
        (v["code"].clone(), v["by"].as_str(), v["verdict"].as_str()),
        (Value::Null, Some("heartbeat"), Some("write_stall"))
    );
    let mut f = Failure::new(
        Cause::Http,
        Phase::Upgrade,
        Problem::Recorded {
            message: "the server answered the upgrade with 401 Unauthorized".into(),
            fix: None,
        },
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
    let v = line(Event::Error(Arc::new(f)));
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

#[test]
fn the_fast_encoder_writes_what_the_schema_writes() {
    let at = UNIX_EPOCH + Duration::from_millis(1_764_091_437_123);
    let mut enc = Encoder::new();
    for event in all_kinds() {
        let s = Stamped { at, event };
        for endpoint in [None, Some("eu-1")] {
            let mut fast = Vec::new();
            enc.encode_for(&s, endpoint, &mut fast);
            let fast: Value = serde_json::from_slice(&fast).unwrap();
            let slow = serde_json::to_value(WireLine::of(&s, endpoint)).unwrap();
            assert_eq!(fast, slow, "{:?}", s.event);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any event, written by the fast encoder, reads back as itself through the schema, and
    /// is the JSON serde writes for it.
    #[test]
    fn arbitrary_events_round_trip(
        event in event().prop_map(as_on_the_wire),
        ms in 0u64..4_102_444_800_000,
        endpoint in proptest::option::of("[a-z0-9 #-]{1,20}"),
    ) {
        let at = UNIX_EPOCH + Duration::from_millis(ms);
        let s = Stamped { at, event };
        let mut out = Vec::new();
        Encoder::new().encode_for(&s, endpoint.as_deref(), &mut out);
        prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let text = std::str::from_utf8(&out).unwrap().trim_end();
        let (named, line) = schema::decode_with_endpoint(text).map_err(|e| {
            TestCaseError::fail(format!("{e}: {text}"))
        })?;
        prop_assert_eq!(named, endpoint.clone());
        prop_assert_eq!(line, Line::Event(s.clone()));
        let fast: Value = serde_json::from_str(text).unwrap();
        let slow = serde_json::to_value(WireLine::of(&s, endpoint.as_deref())).unwrap();
        prop_assert_eq!(fast, slow);
    }
}
