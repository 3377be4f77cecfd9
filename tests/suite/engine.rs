//! The engine against real sockets: the built-in server, raw listeners, a test CA.

use crate::common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Probe, fast, reserve_port};
use wsmon::engine::{Cause, ClosedBy, Command, Dir, DropReason, Event, Kind, Phase};
use wsmon::model::ConnStats;
use wsmon::server::{ServeOptions, Server};

fn opts() -> ServeOptions {
    ServeOptions {
        keep_texts: 1000,
        port: 0,
        ..ServeOptions::default()
    }
}

async fn server(o: ServeOptions) -> Server {
    Server::start(o).await.expect("server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_round_trip_with_phase_timings() {
    let srv = server(opts()).await;
    let mut p = Probe::start(fast(&srv.url()));
    let open = p.until("open", |e| matches!(e, Event::Open(_))).await;
    let Event::Open(info) = open else {
        unreachable!()
    };
    assert_eq!(info.attempt, 1);
    assert_eq!(info.remote, srv.addr());
    assert_eq!(
        info.phases.dns,
        Duration::ZERO,
        "an IP literal needs no DNS"
    );
    assert!(info.phases.tls.is_none());
    assert!(info.tls_version.is_none());

    p.send_text("hello wsmon").await;
    let sent = p
        .until(
            "sent",
            |e| matches!(e, Event::Message(m) if m.dir == Dir::Out),
        )
        .await;
    let echoed = p
        .until(
            "echo",
            |e| matches!(e, Event::Message(m) if m.dir == Dir::In),
        )
        .await;
    let (Event::Message(sent), Event::Message(echoed)) = (sent, echoed) else {
        unreachable!()
    };
    assert_eq!(sent.data, "hello wsmon");
    assert_eq!(echoed.data, "hello wsmon");
    assert_eq!(echoed.kind, Kind::Text);

    p.send(Command::Send {
        kind: Kind::Binary,
        data: vec![0, 159, 146, 150].into(),
    })
    .await;
    let bin = p
        .until(
            "binary echo",
            |e| matches!(e, Event::Message(m) if m.dir == Dir::In && m.kind == Kind::Binary),
        )
        .await;
    let Event::Message(bin) = bin else {
        unreachable!()
    };
    assert_eq!(&bin.data[..], &[0, 159, 146, 150]);

    let log = p.shutdown().await;
    let closed = log.iter().rev().find_map(|s| match &s.event {
        Event::Closed(c) => Some(c.clone()),
        _ => None,
    });
    let closed = closed.expect("a closed event");
    assert_eq!((closed.by, closed.code), (ClosedBy::Client, Some(1001)));
    assert_eq!(srv.stats().closes(), [(1001, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_close_codes_are_reported_and_followed_by_a_reconnect() {
    for code in [1000u16, 1001, 1011, 1012, 4001] {
        let srv = server(ServeOptions {
            drop_after: Some(Duration::from_millis(150)),
            drop_code: Some(code),
            ..opts()
        })
        .await;
        let mut p = Probe::start(fast(&srv.url()));
        let closed = p.until("closed", |e| matches!(e, Event::Closed(_))).await;
        let Event::Closed(c) = closed else {
            unreachable!()
        };
        assert_eq!(
            (c.by, c.code),
            (ClosedBy::Server, Some(code)),
            "{}",
            p.dump()
        );
        assert!(c.uptime >= Duration::from_millis(100), "{:?}", c.uptime);
        p.until("retry", |e| matches!(e, Event::Retry { attempt: 1, .. }))
            .await;
        p.until("reopen", |e| matches!(e, Event::Open(_))).await;
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_is_redialled_with_growing_delays_one_dial_at_a_time() {
    let srv = server(opts()).await;
    let addr = srv.addr();
    let mut s = fast(&srv.url());
    s.reconnect_min = Duration::from_millis(40);
    s.reconnect_max = Duration::from_millis(2000);
    // The delays are drawn at random; a fixed seed makes this run's draws the same every time.
    s.seed = Some(7);
    let mut p = Probe::start(s);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    srv.kill().await;

    let closed = p.until("closed", |e| matches!(e, Event::Closed(_))).await;
    let Event::Closed(c) = closed else {
        unreachable!()
    };
    assert_eq!((c.by, c.code), (ClosedBy::Error, Some(1006)));

    // Five refused attempts; the retry delays stay inside doubling ceilings.
    let mut delays = Vec::new();
    for attempt in 1..=5u32 {
        let r = p.until("retry", |e| matches!(e, Event::Retry { .. })).await;
        let Event::Retry { attempt: a, delay } = r else {
            unreachable!()
        };
        assert_eq!(a, attempt);
        let ceiling = Duration::from_millis(40 * (1 << (attempt - 1)));
        assert!(
            delay >= Duration::from_millis(40) && delay <= ceiling,
            "attempt {attempt}: {delay:?} > {ceiling:?}"
        );
        delays.push(delay);
        let f = p.until("refused", |e| matches!(e, Event::Error(_))).await;
        let Event::Error(f) = f else { unreachable!() };
        assert_eq!(
            (f.cause, f.phase),
            (Cause::Refused, Phase::Tcp),
            "{}",
            wsmon::describe::message(&f)
        );
    }
    let first_two: Duration = delays[..2].iter().sum();
    let last_two: Duration = delays[3..].iter().sum();
    assert!(last_two > first_two, "delays should grow: {delays:?}");

    // Same port again, like a restarted service.
    let srv = common::restart::server_on(addr.port(), opts()).await;
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    // Once the engine has ended, every dial it made has reached the server.
    let log = p.shutdown().await;
    let stats = srv.stats();
    assert_eq!(
        stats.max_live.load(Ordering::SeqCst),
        1,
        "never two connections at once"
    );
    assert_eq!(
        stats.accepted.load(Ordering::SeqCst),
        1,
        "exactly one dial reached the new server"
    );

    let mut cs = ConnStats::default();
    log.iter().for_each(|e| cs.apply(e));
    assert_eq!((cs.connects, cs.reconnects, cs.drops), (2, 1, 1));
    assert_eq!(
        cs.failures_by_cause[1] as usize,
        delays.len().max(5),
        "refusals counted by cause"
    );
    // Every Connecting is followed by Open or Error before the next Connecting.
    let mut in_flight = false;
    for e in &log {
        match e.event {
            Event::Connecting { .. } => {
                assert!(!in_flight, "a second dial started while one was in flight");
                in_flight = true;
            }
            Event::Open(_) | Event::Error(_) if in_flight => in_flight = false,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peer_is_declared_dead_by_the_heartbeat() {
    // Completes the upgrade, then never reads or writes again: a half-open connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            held.push(tokio_tungstenite::accept_async(tcp).await.unwrap());
        }
    });
    let mut s = fast(&format!("ws://{addr}/"));
    s.ping_interval = Some(Duration::from_millis(300));
    s.pong_timeout = Duration::from_millis(400);
    let mut p = Probe::start(s);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    p.until("ping", |e| matches!(e, Event::Ping { .. })).await;
    let closed = p.until("closed", |e| matches!(e, Event::Closed(_))).await;
    let Event::Closed(c) = closed else {
        unreachable!()
    };
    assert_eq!(c.by, ClosedBy::Heartbeat);
    assert!(c.reason.contains("no pong"), "{}", c.reason);
    // The engine's own times: the verdict cannot come before ping_interval + pong_timeout.
    // (tests/engine_clock.rs checks the exact instant on tokio's paused clock.)
    let stamp = |pred: fn(&Event) -> bool| p.log.iter().find(|s| pred(&s.event)).unwrap().at;
    let took = stamp(|e| matches!(e, Event::Closed(_)))
        .duration_since(stamp(|e| matches!(e, Event::Open(_))))
        .unwrap();
    assert!(
        took >= Duration::from_millis(699),
        "declared dead too early: {took:?}"
    );
    let failure = p.log.iter().find_map(|s| match &s.event {
        Event::Error(f) => Some(f.clone()),
        _ => None,
    });
    assert_eq!(failure.unwrap().cause, Cause::Timeout);
    // And it keeps working: it dials again.
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    p.shutdown().await;
    holder.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pongs_give_rtt_samples() {
    let srv = server(ServeOptions {
        pong_delay: Some(Duration::from_millis(60)),
        ..opts()
    })
    .await;
    let mut s = fast(&srv.url());
    s.ping_interval = Some(Duration::from_millis(500));
    s.pong_timeout = Duration::from_secs(2);
    let mut p = Probe::start(s);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    let rtt = p.until("rtt", |e| matches!(e, Event::Rtt { .. })).await;
    let Event::Rtt { rtt, .. } = rtt else {
        unreachable!()
    };
    assert!(
        rtt >= Duration::from_millis(60),
        "rtt {rtt:?} should include the server's pong delay"
    );
    // The delayed pong is timed from its own ping, not held until the next one arrives.
    assert!(
        rtt < Duration::from_millis(450),
        "rtt {rtt:?}: the pong waited for the next ping"
    );
    p.send(Command::Ping).await;
    p.until("ping", |e| matches!(e, Event::Ping { .. })).await;
    p.until("rtt", |e| matches!(e, Event::Rtt { .. })).await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_upgrade_reports_status_headers_and_body() {
    let srv = server(ServeOptions {
        reject: Some(401),
        reject_body: Some("token expired\nplease log in again".into()),
        ..opts()
    })
    .await;
    let mut s = fast(&srv.url());
    s.headers = vec![("Authorization".into(), "Bearer old-token".into())];
    let mut p = Probe::start(s);
    let e = p.until("error", |e| matches!(e, Event::Error(_))).await;
    let Event::Error(f) = e else { unreachable!() };
    assert_eq!((f.cause, f.phase), (Cause::Http, Phase::Upgrade));
    let http = f.http.as_ref().expect("http details");
    assert_eq!(http.status, 401);
    assert_eq!(http.reason, "Unauthorized");
    assert_eq!(&http.body[..], b"token expired\nplease log in again");
    assert_eq!(
        http.header("www-authenticate"),
        Some("Bearer realm=\"wsmon\"")
    );
    assert!(
        wsmon::describe::message(&f).contains("401 Unauthorized: token expired"),
        "{}",
        wsmon::describe::message(&f)
    );
    assert!(
        !format!("{:?}", p.log).contains("old-token"),
        "the token must not leak into events"
    );
    p.until("retry", |e| matches!(e, Event::Retry { .. })).await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let srv = server(ServeOptions {
        reject: Some(429),
        retry_after: Some(2),
        ..opts()
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    let e = p.until("error", |e| matches!(e, Event::Error(_))).await;
    let Event::Error(f) = e else { unreachable!() };
    assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
    let r = p.until("retry", |e| matches!(e, Event::Retry { .. })).await;
    let Event::Retry { delay, .. } = r else {
        unreachable!()
    };
    assert!(delay >= Duration::from_secs(2), "{delay:?}");
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_and_giving_up() {
    let port = reserve_port();
    let mut s = fast(&format!("ws://127.0.0.1:{}/", port.port));
    s.max_attempts = 3;
    let mut p = Probe::start(s);
    let g = p
        .until("gave up", |e| matches!(e, Event::GaveUp { .. }))
        .await;
    assert_eq!(g, Event::GaveUp { attempts: 3 });
    let refusals = p
        .events()
        .filter(|e| matches!(e, Event::Error(f) if f.cause == Cause::Refused))
        .count();
    assert_eq!(refusals, 3);
    // A reconnect command starts a new round of attempts.
    p.send(Command::Reconnect).await;
    p.until("connecting", |e| {
        matches!(e, Event::Connecting { attempt: 1, .. })
    })
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresolvable_name_is_a_dns_failure() {
    let mut p = Probe::start(fast("ws://no-such-host.invalid:40100/"));
    let e = p.until("error", |e| matches!(e, Event::Error(_))).await;
    let Event::Error(f) = e else { unreachable!() };
    assert_eq!(
        (f.cause, f.phase),
        (Cause::Dns, Phase::Dns),
        "{}",
        wsmon::describe::message(&f)
    );
    assert!(
        wsmon::describe::message(&f).contains("no-such-host.invalid"),
        "{}",
        wsmon::describe::message(&f)
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_while_down_wait_and_go_out_in_order() {
    let reserved = reserve_port();
    let mut p = Probe::start(fast(&format!("ws://127.0.0.1:{}/", reserved.port)));
    p.until("refused", |e| matches!(e, Event::Error(_))).await;
    for text in ["first", "second", "third"] {
        p.send_text(text).await;
    }
    for id in 1..=3u64 {
        p.until(
            "queued",
            |e| matches!(e, Event::Queued { id: i, .. } if *i == id),
        )
        .await;
    }
    let srv = server(ServeOptions {
        port: reserved.release(),
        ..opts()
    })
    .await;
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    let mut out = Vec::new();
    for _ in 0..3 {
        let m = p
            .until(
                "sent",
                |e| matches!(e, Event::Message(m) if m.dir == Dir::Out),
            )
            .await;
        let Event::Message(m) = m else { unreachable!() };
        out.push((m.id, String::from_utf8(m.data.to_vec()).unwrap()));
    }
    assert_eq!(
        out,
        [
            (1, "first".into()),
            (2, "second".into()),
            (3, "third".into())
        ]
    );
    for _ in 0..3 {
        p.until(
            "echo",
            |e| matches!(e, Event::Message(m) if m.dir == Dir::In),
        )
        .await;
    }
    assert_eq!(srv.stats().texts(), ["first", "second", "third"]);
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_and_shutdown_reports_what_was_not_sent() {
    let port = reserve_port();
    let mut s = fast(&format!("ws://127.0.0.1:{}/", port.port));
    s.send_queue = 2;
    let mut p = Probe::start(s);
    for text in ["a", "b", "c"] {
        p.send_text(text).await;
    }
    let d = p
        .until("dropped", |e| matches!(e, Event::Dropped { .. }))
        .await;
    assert!(
        matches!(
            d,
            Event::Dropped {
                id: 3,
                reason: DropReason::QueueFull,
                ..
            }
        ),
        "{d:?}"
    );
    let log = p.shutdown().await;
    let not_sent: Vec<u64> = log
        .iter()
        .filter_map(|s| match &s.event {
            Event::Dropped {
                id,
                reason: DropReason::Shutdown,
                ..
            } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(not_sent, [1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_message_ends_the_connection_with_a_clear_cause() {
    let srv = server(ServeOptions {
        flood: 1,
        flood_size: 5000,
        ..opts()
    })
    .await;
    let mut s = fast(&srv.url());
    s.max_message_size = 4096;
    let mut p = Probe::start(s);
    let e = p.until("error", |e| matches!(e, Event::Error(_))).await;
    let Event::Error(f) = e else { unreachable!() };
    assert_eq!(f.cause, Cause::Protocol);
    assert!(
        wsmon::describe::message(&f).contains("5000 bytes")
            && wsmon::describe::message(&f).contains("max_message_size"),
        "{}",
        wsmon::describe::message(&f)
    );
    let c = p.until("closed", |e| matches!(e, Event::Closed(_))).await;
    let Event::Closed(c) = c else { unreachable!() };
    assert_eq!((c.by, c.code), (ClosedBy::Error, Some(1009)));
    p.until("retry", |e| matches!(e, Event::Retry { .. })).await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subprotocol_and_headers_reach_the_server() {
    let srv = server(opts()).await;
    let mut s = fast(&srv.url());
    s.subprotocols = vec!["v2.wsmon".into(), "v1.wsmon".into()];
    let mut p = Probe::start(s);
    let Event::Open(info) = p.until("open", |e| matches!(e, Event::Open(_))).await else {
        unreachable!()
    };
    assert_eq!(info.subprotocol.as_deref(), Some("v2.wsmon"));
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_close_stays_closed_until_reconnect() {
    let srv = server(opts()).await;
    let mut p = Probe::start(fast(&srv.url()));
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    p.send(Command::Close {
        code: 4000,
        reason: "bye".into(),
    })
    .await;
    p.until("closing", |e| {
        matches!(e, Event::Closing { code: 4000, .. })
    })
    .await;
    let Event::Closed(c) = p.until("closed", |e| matches!(e, Event::Closed(_))).await else {
        unreachable!()
    };
    assert_eq!(
        (c.by, c.code, c.reason.as_str()),
        (ClosedBy::Client, Some(4000), "bye")
    );
    // The engine handles commands in order: a ping asked for now is refused as "not
    // connected" after anything it would have dialled meanwhile.
    p.send(Command::Ping).await;
    p.until("not connected", |e| matches!(e, Event::Warning(_)))
        .await;
    assert!(
        !p.log
            .iter()
            .skip_while(|s| !matches!(s.event, Event::Closed(_)))
            .any(|s| matches!(s.event, Event::Connecting { .. }))
    );
    p.send_text("later").await;
    p.until("queued", |e| matches!(e, Event::Queued { .. }))
        .await;
    p.send(Command::Reconnect).await;
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    p.until(
        "sent",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::Out),
    )
    .await;
    assert_eq!(srv.stats().closes().first(), Some(&(4000, 1)));
    p.shutdown().await;
}
