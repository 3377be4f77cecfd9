use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::*;
use crate::engine::{
    Cause, CloseInfo, ClosedBy, Event, Failure, HttpFailure, Kind, Message, OpenInfo, Phase,
    Phases, Stamped, StopReason, Verdict,
};

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
}

fn ev(secs: u64, event: Event) -> Stamped {
    Stamped {
        at: at(secs),
        event,
    }
}

fn connecting(attempt: u32) -> Event {
    Event::Connecting {
        attempt,
        url: "ws://x".into(),
    }
}

fn open(attempt: u32) -> Event {
    Event::Open(Arc::new(OpenInfo {
        attempt,
        phases: Phases::default(),
        remote: SocketAddr::from(([127, 0, 0, 1], 1)),
        proxy: None,
        subprotocol: None,
        tls_version: None,
        cert: None,
    }))
}

fn closed(by: ClosedBy, code: Option<u16>, uptime: u64) -> Event {
    Event::Closed(Arc::new(CloseInfo {
        code,
        reason: String::new(),
        by,
        uptime: Duration::from_secs(uptime),
        verdict: None,
    }))
}

fn refused() -> Event {
    Event::Error(Arc::new(Failure::new(
        Cause::Refused,
        Phase::Tcp,
        Problem::ConnectRefused {
            addr: "127.0.0.1:1".parse().unwrap(),
            tried: 1,
        },
    )))
}

fn fold(events: &[(u64, Event)]) -> ConnStats {
    let mut s = ConnStats::default();
    for (t, e) in events {
        s.apply(&ev(*t, e.clone()));
    }
    s
}

#[test]
fn a_drop_and_an_immediate_reconnect_is_not_downtime() {
    let s = fold(&[
        (0, connecting(1)),
        (1, open(1)),
        (31, closed(ClosedBy::Server, Some(1012), 30)),
        (40, connecting(1)),
        (41, open(1)),
    ]);
    assert_eq!(s.up_total(at(61)), Duration::from_secs(50));
    // The 10 s after the drop ended in a successful dial: wsmon chose to wait, the endpoint
    // was not seen down.
    assert_eq!(s.down_total(at(61)), Duration::ZERO);
    assert_eq!(s.unprobed_total(at(61)), Duration::from_secs(10));
    assert_eq!(s.availability(at(61)), Some(100.0));
    assert_eq!(s.uptime(at(61)), Some(Duration::from_secs(20)));
    assert_eq!(s.longest_outage, Some(Duration::from_secs(10)));
    assert_eq!(s.longest_down, None);
    assert!(s.outage_began().is_none(), "the outage is over");
    assert_eq!(
        (s.connects, s.reconnects, s.drops, s.total_attempts),
        (2, 1, 1, 2)
    );
    assert!(
        matches!(&s.last_failure, Some((_, Trouble::Dropped(c))) if c.code == Some(1012)),
        "{:?}",
        s.last_failure
    );
    assert_eq!(s.closes_by, [1, 0, 0, 0, 0]);
    assert_eq!(s.reconnects_by_cause, [("server_close", 1)]);
    assert_eq!(
        s.drops_by.0,
        [(Step::Dropped(Culprit::Server { code: Some(1012) }), 1)]
    );
}

#[test]
fn a_failed_dial_makes_the_outage_down_from_the_drop() {
    let s = fold(&[
        (0, open(1)),
        (10, closed(ClosedBy::Error, Some(1006), 10)),
        (11, connecting(1)),
        (11, refused()),
        (12, connecting(2)),
        (12, refused()),
    ]);
    assert_eq!(s.down_for(at(15)), Some(Duration::from_secs(5)));
    assert_eq!(s.health(at(15)), Health::Down);
    let mut s = s;
    s.apply(&ev(16, connecting(3)));
    s.apply(&ev(16, open(3)));
    assert_eq!(s.down_for(at(17)), None);
    assert_eq!(s.down_total(at(17)), Duration::from_secs(6));
    assert_eq!(s.longest_down, Some(Duration::from_secs(6)));
    let Some(Period::Out(o)) = s.timeline.periods().iter().rev().nth(1) else {
        panic!("the outage before the open: {:?}", s.timeline.periods());
    };
    assert_eq!(
        o.steps,
        [
            (Step::Dropped(Culprit::Abrupt), 1),
            (
                Step::Failed {
                    cause: Cause::Refused,
                    phase: Phase::Tcp,
                    status: None
                },
                2
            )
        ]
    );
    assert_eq!((o.dials, o.seen_down), (3, true));
    let never = fold(&[(3, connecting(1)), (3, refused())]);
    assert_eq!(never.down_for(at(4)), Some(Duration::from_secs(1)));
}

#[test]
fn a_stop_ends_the_count_and_a_wait_is_not_down_at_the_end() {
    let mut s = fold(&[
        (0, open(1)),
        (10, closed(ClosedBy::Server, Some(1001), 10)),
        (
            10,
            Event::Retry {
                attempt: 1,
                delay: Duration::from_secs(3),
            },
        ),
    ]);
    s.apply(&ev(12, Event::Stopped(StopReason::Quit)));
    assert_eq!(s.stopped, Some((at(12), StopReason::Quit)));
    assert_eq!(
        s.down_for(at(99)),
        None,
        "stopped while waiting: not seen down"
    );
    assert_eq!(s.up_total(at(99)), Duration::from_secs(10));
    assert_eq!(s.unprobed_total(at(99)), Duration::from_secs(2));
}

#[test]
fn waiting_state_has_the_retry_time() {
    let s = fold(&[(
        5,
        Event::Retry {
            attempt: 3,
            delay: Duration::from_secs(4),
        },
    )]);
    assert_eq!(
        s.state,
        ConnState::Waiting {
            until: at(9),
            attempt: 3
        }
    );
}

#[test]
fn http_failures_are_counted_and_put_in_the_outage() {
    let f = Failure {
        cause: Cause::Http,
        phase: Phase::Upgrade,
        http: Some(HttpFailure {
            status: 401,
            reason: "Unauthorized".into(),
            headers: vec![],
            body: "token expired".into(),
            body_truncated: false,
        }),
        retry_after: None,
        ..Failure::new(Cause::Http, Phase::Upgrade, Problem::UpgradeRefused)
    };
    let s = fold(&[(0, connecting(1)), (0, Event::Error(Arc::new(f)))]);
    assert_eq!(s.failures_by_cause[4], 1);
    assert_eq!(
        s.timeline.outage().unwrap().steps,
        [(
            Step::Failed {
                cause: Cause::Http,
                phase: Phase::Upgrade,
                status: Some(401)
            },
            1
        )]
    );
}

#[test]
fn counts_traffic_and_rtt() {
    let mut s = ConnStats::default();
    for i in 0..100u64 {
        s.apply(&ev(
            i,
            Event::Rtt {
                rtt: Duration::from_millis(i + 1),
                app: false,
            },
        ));
    }
    // 1 ms falls in the bucket up to 1 ms, 2 ms in the one up to 2.5 ms; none above 5 s.
    assert_eq!(s.rtt.buckets[1], 1);
    assert_eq!(s.rtt.buckets[2], 1);
    assert_eq!(s.rtt.buckets.iter().sum::<u64>(), 100);
    assert_eq!(s.rtt.buckets[RTT_BUCKETS.len()], 0);
    let [p50, p99] = s.rtt.percentiles([50.0, 99.0]);
    assert_eq!(p50, Some(Duration::from_millis(50)));
    assert_eq!(p99, Some(Duration::from_millis(99)));
    assert_eq!(s.rtt.min, Some(Duration::from_millis(1)));
    s.apply(&ev(
        0,
        Event::Message(Message {
            dir: Dir::In,
            kind: Kind::Text,
            data: "hello".into(),
            id: 0,
        }),
    ));
    s.apply(&ev(
        0,
        Event::Message(Message {
            dir: Dir::Out,
            kind: Kind::Binary,
            data: vec![0; 3].into(),
            id: 1,
        }),
    ));
    assert_eq!(
        (s.msgs_in, s.bytes_in, s.msgs_out, s.bytes_out),
        (1, 5, 1, 3)
    );
}

#[test]
fn closing_by_the_user_is_not_a_drop() {
    let s = fold(&[(0, open(1)), (1, closed(ClosedBy::Client, Some(1000), 1))]);
    assert_eq!(s.drops, 0);
    assert!(s.last_failure.is_none());
    assert_eq!(s.state, ConnState::Closed);
    assert_eq!(s.health(at(2)), Health::Closed);
}

#[test]
fn an_open_connection_whose_pings_go_unanswered_is_sick_not_green() {
    let mut s = fold(&[(0, open(1))]);
    for t in 1..=3 {
        s.apply(&ev(t, Event::Ping { seq: t, app: false }));
        s.apply(&ev(
            t,
            Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data: "tick".into(),
                id: 0,
            }),
        ));
    }
    assert_eq!(s.health(at(4)), Health::PingsUnanswered { unanswered: 3 });
    s.apply(&ev(
        4,
        Event::Rtt {
            rtt: Duration::from_millis(1),
            app: false,
        },
    ));
    assert_eq!(s.health(at(4)), Health::Healthy);
}

#[test]
fn a_server_that_closes_every_few_seconds_is_flapping_and_named() {
    let mut s = ConnStats::default();
    let mut t = 0;
    for _ in 0..4 {
        s.apply(&ev(t, open(1)));
        t += 3;
        s.apply(&ev(
            t,
            Event::Closed(Arc::new(CloseInfo {
                code: Some(4000),
                reason: "heartbeat timeout: no ping for 3s".into(),
                by: ClosedBy::Server,
                uptime: Duration::from_secs(3),
                verdict: None,
            })),
        ));
    }
    s.apply(&ev(t, open(1)));
    let p = s.pattern(at(t + 1)).unwrap();
    assert!(
        matches!(
            p,
            Pattern::ServerCloses {
                code: Some(4000),
                wants_heartbeat: true,
                run: 4,
                ..
            }
        ),
        "{p:?}"
    );
    assert_eq!(s.health(at(t + 1)), Health::Flapping);
}

#[test]
fn wsmons_own_verdicts_are_its_own() {
    let mut s = ConnStats::default();
    for i in 0..3 {
        s.apply(&ev(i * 20, open(1)));
        s.apply(&ev(
            i * 20 + 20,
            Event::Closed(Arc::new(CloseInfo {
                code: None,
                reason: "no pong for 10s".into(),
                by: ClosedBy::Heartbeat,
                uptime: Duration::from_secs(20),
                verdict: Some(Verdict::NoPong),
            })),
        ));
    }
    assert!(matches!(
        s.pattern(at(61)),
        Some(Pattern::Verdicts {
            verdict: Verdict::NoPong,
            run: 3,
            ..
        })
    ));
    assert_eq!(s.heartbeat_drops, 3);
}
