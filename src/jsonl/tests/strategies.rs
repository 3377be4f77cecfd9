//! Arbitrary events for the round-trip property: every field at the wire's precision.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use crate::engine::*;

/// Durations at the wire's precision: microseconds for `*_ms` with a fraction.
pub(super) fn micros() -> impl Strategy<Value = Duration> {
    (0u64..10_000_000_000).prop_map(Duration::from_micros)
}

/// Durations in whole milliseconds (`uptime_ms`, `delay_ms`, `retry_after_ms`).
pub(super) fn millis() -> impl Strategy<Value = Duration> {
    (0u64..100_000_000).prop_map(Duration::from_millis)
}

pub(super) fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Text), Just(Kind::Binary)]
}

/// A payload of its kind: text payloads are mostly UTF-8 (any string, controls included), and
/// sometimes not, as a text frame can hold only for outgoing data a frontend built.
pub(super) fn payload() -> impl Strategy<Value = bytes::Bytes> {
    prop_oneof![
        any::<String>().prop_map(bytes::Bytes::from),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(bytes::Bytes::from),
    ]
}

pub(super) fn text() -> impl Strategy<Value = String> {
    any::<String>()
}

pub(super) fn cert() -> impl Strategy<Value = crate::engine::CertInfo> {
    (
        text(),
        text(),
        proptest::collection::vec(text(), 0..3),
        any::<i64>(),
        any::<i64>(),
        text(),
    )
        .prop_map(|(subject, issuer, names, not_before, not_after, sha256)| {
            crate::engine::CertInfo {
                subject,
                issuer,
                names,
                not_before,
                not_after,
                sha256,
            }
        })
}

pub(super) fn reached() -> impl Strategy<Value = crate::engine::Reached> {
    (
        any::<SocketAddr>(),
        micros(),
        micros(),
        proptest::option::of(micros()),
        proptest::option::of(micros()),
    )
        .prop_map(|(remote, dns, tcp, proxy, tls)| crate::engine::Reached {
            remote,
            phases: Phases {
                dns,
                tcp,
                proxy,
                tls,
                handshake: Duration::ZERO,
            },
        })
}

pub(super) fn failure() -> impl Strategy<Value = Failure> {
    let cause = proptest::sample::select(Cause::ALL.to_vec());
    let phase = proptest::sample::select(vec![
        Phase::Dns,
        Phase::Tcp,
        Phase::Proxy,
        Phase::Tls,
        Phase::Upgrade,
        Phase::Open,
    ]);
    // Header names as the JSON object has them: lower case, each once.
    let headers = proptest::collection::btree_map("[a-z][a-z0-9-]{0,12}", text(), 0..4)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    let http = proptest::option::of(
        (100u16..600, text(), headers, text(), any::<bool>()).prop_map(
            |(status, reason, headers, body, body_truncated)| HttpFailure {
                status,
                reason,
                headers,
                body: body.into(),
                body_truncated,
            },
        ),
    );
    let more = (
        proptest::option::of(reached().prop_map(Box::new)),
        proptest::option::of(text()),
        proptest::collection::vec(cert(), 0..3),
    );
    (
        cause,
        phase,
        text(),
        http,
        proptest::option::of(millis()),
        more,
    )
        .prop_map(
            |(cause, phase, message, http, retry_after, (reached, advice, chain))| Failure {
                cause,
                phase,
                problem: Problem::Recorded {
                    message,
                    fix: advice,
                },
                http,
                retry_after,
                reached,
                chain,
            },
        )
}

pub(super) fn warning() -> impl Strategy<Value = Warning> {
    prop_oneof![
        Just(Warning::Insecure),
        Just(Warning::PingNotConnected),
        (any::<u64>(), text()).prop_map(|(line, reason)| Warning::SkippedLine { line, reason }),
        (any::<u64>(), any::<u64>())
            .prop_map(|(replayed, skipped)| Warning::EndOfRecording { replayed, skipped }),
        text().prop_map(Warning::Note),
    ]
}

pub(super) fn event() -> impl Strategy<Value = Event> {
    let open = (
        any::<u32>(),
        (micros(), micros(), proptest::option::of(micros())),
        (proptest::option::of(micros()), micros()),
        any::<SocketAddr>(),
        (proptest::option::of(text()), proptest::option::of(text())),
        (
            proptest::option::of(proptest::sample::select(vec![
                "TLS 1.3",
                "TLS 1.2",
                "TLS (old)",
            ])),
            proptest::option::of(cert()),
        ),
    )
        .prop_map(
            |(
                attempt,
                (dns, tcp, proxy_t),
                (tls, handshake),
                remote,
                (proxy, sub),
                (tls_v, cert),
            )| {
                Event::Open(Arc::new(OpenInfo {
                    attempt,
                    phases: Phases {
                        dns,
                        tcp,
                        proxy: proxy_t,
                        tls,
                        handshake,
                    },
                    remote,
                    proxy,
                    subprotocol: sub,
                    tls_version: tls_v,
                    cert,
                }))
            },
        );
    let by = proptest::sample::select(ClosedBy::ALL.to_vec());
    let reason = proptest::sample::select(vec![
        DropReason::QueueFull,
        DropReason::TooLarge,
        DropReason::Shutdown,
        DropReason::Discarded,
        DropReason::Unsendable,
    ]);
    prop_oneof![
        (any::<u32>(), text()).prop_map(|(attempt, url)| Event::Connecting {
            attempt,
            url: url.into()
        }),
        open,
        (any::<bool>(), kind(), payload(), any::<u64>()).prop_map(|(inbound, kind, data, id)| {
            Event::Message(Message {
                dir: if inbound { Dir::In } else { Dir::Out },
                kind,
                data,
                id,
            })
        }),
        (any::<u64>(), any::<bool>()).prop_map(|(seq, app)| Event::Ping { seq, app }),
        Just(Event::PeerPing),
        (micros(), any::<bool>()).prop_map(|(rtt, app)| Event::Rtt { rtt, app }),
        (text(), text(), any::<u64>()).prop_map(|(received, sent, count)| Event::AutoReply {
            received: received.into(),
            sent: sent.into(),
            count
        }),
        (
            proptest::sample::select(vec![
                "socket.io",
                "graphql-ws",
                "legacy subscriptions-transport-ws",
                "mqtt",
                "stomp"
            ]),
            text(),
            any::<bool>()
        )
            .prop_map(|(protocol, detail, offsets)| Event::Ready {
                protocol,
                detail,
                offsets
            }),
        millis().prop_map(|silent| Event::Stale { silent }),
        millis().prop_map(|silent| Event::Fresh { silent }),
        (any::<u16>(), text()).prop_map(|(code, reason)| Event::Closing { code, reason }),
        (
            proptest::option::of(any::<u16>()),
            text(),
            by,
            millis(),
            proptest::option::of(proptest::sample::select(vec![
                crate::engine::Verdict::NoPong,
                crate::engine::Verdict::NoAppPong,
                crate::engine::Verdict::WriteStall,
                crate::engine::Verdict::ProtocolHeartbeat,
                crate::engine::Verdict::Stale,
            ]))
        )
            .prop_map(
                |(code, reason, by, uptime, verdict)| Event::Closed(Arc::new(CloseInfo {
                    code,
                    reason,
                    by,
                    uptime,
                    verdict,
                }))
            ),
        failure().prop_map(|f| Event::Error(Arc::new(f))),
        (any::<u32>(), millis()).prop_map(|(attempt, delay)| Event::Retry { attempt, delay }),
        any::<u32>().prop_map(|attempts| Event::GaveUp { attempts }),
        (any::<u64>(), kind(), payload(), 0usize..100_000).prop_map(|(id, kind, data, queued)| {
            Event::Queued {
                id,
                kind,
                data,
                queued,
            }
        }),
        (any::<u64>(), kind(), payload(), reason, any::<u32>()).prop_map(
            |(id, kind, data, reason, more)| Event::Dropped {
                id,
                kind,
                len: data.len() as u64 + u64::from(more % 3),
                data,
                reason,
            }
        ),
        warning().prop_map(Event::Warning),
        proptest::sample::select(vec![
            StopReason::Quit,
            StopReason::Signal,
            StopReason::GaveUp,
            StopReason::OutputClosed,
            StopReason::EndOfInput,
            StopReason::RecordingStopped,
            StopReason::Rotated,
        ])
        .prop_map(Event::Stopped),
        (
            proptest::collection::vec(any::<u64>(), 0..20),
            any::<u64>(),
            any::<bool>()
        )
            .prop_map(|(ids, count, resent)| Event::Unconfirmed {
                ids: ids.into(),
                count,
                resent
            }),
    ]
}

/// The event as the wire can carry it: incoming messages have no id, and an IPv6 address is
/// written without its flow label (as every socket address is written).
pub(super) fn as_on_the_wire(e: Event) -> Event {
    match e {
        Event::Message(mut m) if m.dir == Dir::In => {
            m.id = 0;
            Event::Message(m)
        }
        Event::Open(info) => {
            let mut info = (*info).clone();
            if let SocketAddr::V6(a) = &mut info.remote {
                a.set_flowinfo(0);
            }
            Event::Open(Arc::new(info))
        }
        Event::Error(f) => {
            let mut f = (*f).clone();
            if let Some(r) = &mut f.reached
                && let SocketAddr::V6(a) = &mut r.remote
            {
                a.set_flowinfo(0);
            }
            Event::Error(Arc::new(f))
        }
        other => other,
    }
}
