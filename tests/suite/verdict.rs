//! The verdict names the right culprit, against servers others wrote: a server that closes
//! each connection itself (Python `websockets`) is named with the application-heartbeat
//! advice; a load balancer that cuts idle tunnels (Debian's HAProxy) is named as the path,
//! with the WebSocket-heartbeat advice; and each advice, followed, stops the drops. Beside
//! them: availability that counts only what wsmon saw, every drop counted, `max_attempts`
//! against a server that refuses every connection after opening it, a server's invalid close
//! frame as it sent it, true round-trip times, and sickness while open.

use crate::common;

use std::time::{Duration, Instant};

use common::bin::{Lines, is};
use common::peers::Peer;
use common::{Probe, fast};
use serde_json::Value;
use wsmon::engine::{ClosedBy, Command, Event};
use wsmon::model::{ConnStats, Health, Pattern};
use wsmon::server::ServeOptions;

/// Collects headless lines for `run` and stops wsmon.
async fn watch_for(mut w: Lines, run: Duration) -> Vec<Value> {
    let _ = tokio::time::timeout(run, w.until("nothing", |_| false)).await;
    w.signal("-TERM").await;
    w.finish().await.1
}

fn count(lines: &[Value], event: &str) -> usize {
    lines.iter().filter(|v| v["event"] == event).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_closes_each_connection_itself_is_named_with_the_advice_that_fits() {
    let srv = Peer::python("closer.py", &["heartbeat", "1"]).await;
    // WebSocket pings every 300 ms: the `websockets` library answers them, its application
    // never sees them, and closes after a second without an application ping.
    let mut w = Lines::spawn(&[
        "--headless",
        "--ping-interval",
        "300ms",
        "--reconnect-min",
        "50ms",
        "--reconnect-max",
        "200ms",
        &srv.url(),
    ]);
    let p = w
        .until("the pattern", |v| {
            v["event"] == "pattern" && v["kind"] == "server_closes"
        })
        .await;
    assert_eq!(
        (p["culprit"].as_str(), p["code"].as_u64()),
        (Some("server"), Some(4000))
    );
    let period = p["period_ms"].as_u64().expect("a steady period");
    assert!((900..1500).contains(&period), "{p}");
    let message = p["message"].as_str().unwrap();
    assert!(
        message.starts_with("the server closes each connection after ~1s (")
            && message.contains("4000 heartbeat timeout: no ping for 1s")
            && message.contains("set app_ping to the message it expects")
            && message.contains("WebSocket pings (ping_interval) do not reach the application"),
        "{message}"
    );
    assert!(!message.contains("path"), "not the path's: {message}");
    let health = w
        .until("flapping", |v| {
            v["event"] == "health" && v["health"] == "flapping"
        })
        .await;
    assert_eq!(health["degraded"], true);
    w.signal("-TERM").await;
    let (code, seen, _) = w.finish().await;
    assert_eq!(code, 0);
    let summary = seen.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(
        summary["down_ms"], 0,
        "the server accepted every dial: {summary}"
    );

    // The advice, followed: an application ping every 300 ms, and it stays up.
    let w = Lines::spawn(&[
        "--headless",
        "--ping-interval",
        "300ms",
        "--app-ping",
        r#"{"op":"ping"}"#,
        "--app-pong",
        r#""op"\s*:\s*"pong""#,
        &srv.url(),
    ]);
    let seen = watch_for(w, Duration::from_millis(3500)).await;
    assert_eq!(count(&seen, "open"), 1, "{seen:#?}");
    assert!(
        !seen
            .iter()
            .any(|v| v["event"] == "closed" && v["by"] == "server"),
        "{seen:#?}"
    );
    assert!(
        seen.iter()
            .filter(|v| v["event"] == "rtt" && v["app"] == true)
            .count()
            >= 5,
        "application pings answered: {seen:#?}"
    );
}

/// An application ping that comes too rarely for the server (every ping_interval, 15 s, where
/// it wants one every 2 s) is named as such; app_ping_interval fixes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_ping_rarer_than_the_server_wants_is_named_and_app_ping_interval_fixes_it() {
    let srv = Peer::python("closer.py", &["heartbeat", "2"]).await;
    let app = [
        "--app-ping",
        r#"{"op":"ping"}"#,
        "--app-pong",
        r#""op"\s*:\s*"pong""#,
    ];
    let mut args = vec!["--headless", "--reconnect-min", "50ms"];
    args.extend(app);
    let url = srv.url();
    args.push(&url);
    let mut w = Lines::spawn(&args);
    let warning = w.until("the warning", |v| v["event"] == "warning").await;
    let message = warning["message"].as_str().unwrap();
    assert_eq!(warning["code"], "app_ping_too_slow", "{warning}");
    assert!(
        message.starts_with("the server ended the last 2 connections after 2")
            && message.contains("sooner than the application heartbeat's interval (15s)")
            && message.contains("set app_ping_interval"),
        "{message}"
    );
    w.signal("-TERM").await;
    w.finish().await;

    let mut args = vec!["--headless", "--app-ping-interval", "1s"];
    args.extend(app);
    args.push(&url);
    let seen = watch_for(Lines::spawn(&args), Duration::from_millis(5000)).await;
    assert_eq!(count(&seen, "open"), 1, "{seen:#?}");
    assert_eq!(count(&seen, "warning"), 0, "{seen:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_balancer_that_cuts_idle_tunnels_is_named_as_the_path() {
    let srv = common::echo_server().await;
    let lb = common::debian::haproxy(srv.addr(), Duration::from_secs(1)).await;
    let url = format!("ws://127.0.0.1:{}/", lb.port);
    let mut w = Lines::spawn(&[
        "--headless",
        "--ping-interval",
        "0",
        "--reconnect-min",
        "50ms",
        "--reconnect-max",
        "200ms",
        &url,
    ]);
    let p = w
        .until("the pattern", |v| {
            v["event"] == "pattern" && v["kind"] == "path_timeout"
        })
        .await;
    let message = p["message"].as_str().unwrap();
    assert_eq!(p["culprit"], "path", "{p}");
    assert!(
        message.contains("without a close frame")
            && message.contains("an idle timeout on the path")
            && message.contains("a heartbeat (ping_interval) shorter than 1s keeps it open"),
        "{message}\n{}",
        lb.log()
    );
    w.signal("-TERM").await;
    let (_, seen, _) = w.finish().await;
    assert!(
        seen.iter()
            .filter(|v| v["event"] == "closed")
            .all(|v| v["by"] != "server"),
        "HAProxy sends no close frame: {seen:#?}"
    );

    // The advice, followed: a WebSocket ping every 300 ms keeps the tunnel busy.
    let w = Lines::spawn(&["--headless", "--ping-interval", "300ms", &url]);
    let seen = watch_for(w, Duration::from_millis(3500)).await;
    assert_eq!(count(&seen, "open"), 1, "{seen:#?}");
    assert_eq!(count(&seen, "error"), 0, "{seen:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_attempts_gives_up_on_a_server_that_closes_every_connection_with_1008() {
    let srv = Peer::python("closer.py", &["refuse"]).await;
    let w = Lines::spawn(&[
        "--headless",
        "--max-attempts",
        "3",
        "--reconnect-min",
        "20ms",
        "--reconnect-max",
        "50ms",
        &srv.url(),
    ]);
    let (code, seen, err) = w.finish().await;
    assert_eq!(code, 1, "gave up: {err}");
    assert_eq!(count(&seen, "open"), 3, "{seen:#?}");
    assert_eq!(
        seen.iter().find(|v| v["event"] == "gave_up").unwrap()["attempts"],
        3
    );
    assert!(
        err.starts_with("wsmon: gave up after 3 failed attempts (max_attempts); last: closed by server: 1008 policy violation")
            && err.contains("bad token"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_drops_every_connection_is_counted_each_time_and_never_seen_down() {
    let srv = common::server(ServeOptions {
        drop_after: Some(Duration::from_millis(300)),
        drop_code: Some(1012),
        ..Default::default()
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    for _ in 0..5 {
        p.until("a drop", |e| matches!(e, Event::Closed(_))).await;
    }
    p.until("open again", |e| matches!(e, Event::Open(_))).await;
    let log = p.shutdown().await;
    let mut s = ConnStats::default();
    let mut closes = 0;
    for e in &log {
        s.apply(e);
        closes += u64::from(matches!(&e.event, Event::Closed(c) if c.by == ClosedBy::Server));
    }
    assert_eq!(s.drops, closes, "every drop counted");
    assert!(s.drops >= 5);
    let end = log.last().unwrap().at;
    assert_eq!(
        s.down_total(end),
        Duration::ZERO,
        "the server accepted every dial"
    );
    assert!(
        s.availability(end)
            .is_some_and(|a| (a - 100.0).abs() < 1e-9)
    );
    assert!(
        s.unprobed_total(end) > Duration::ZERO,
        "wsmon's waits are not probed"
    );
    let Some(Pattern::ServerCloses { code, period, .. }) = s.pattern(end) else {
        panic!("{:?}", s.pattern(end));
    };
    assert_eq!(code, Some(1012));
    assert!(
        period.is_some_and(|p| p.abs_diff(Duration::from_millis(300)) < Duration::from_millis(100)),
        "{period:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn availability_matches_a_restarting_servers_up_windows() {
    let ups = [1200u64, 700, 1500, 500, 1000];
    let downs = [800u64, 1200, 400, 1000];
    let first = common::echo_server().await;
    let port = first.addr().port();
    let mut s = fast(&first.url());
    let mut srv = Some(first);
    s.reconnect_min = Duration::from_millis(50);
    s.reconnect_max = Duration::from_millis(200);
    let mut p = Probe::start(s);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    // The server's schedule runs beside the probe, which keeps reading events (an engine whose
    // events are not read waits, and would miss a window).
    let schedule = tokio::spawn(async move {
        let (mut up, mut down) = (Duration::ZERO, Duration::ZERO);
        for (i, u) in ups.iter().enumerate() {
            let started = Instant::now();
            tokio::time::sleep(Duration::from_millis(*u)).await;
            srv.take().unwrap().kill().await;
            up += started.elapsed();
            if let Some(d) = downs.get(i) {
                let killed = Instant::now();
                tokio::time::sleep(Duration::from_millis(*d)).await;
                srv = Some(common::restart::server_on(port, ServeOptions::default()).await);
                down += killed.elapsed();
            }
        }
        (up, down)
    });
    for _ in 0..ups.len() {
        p.until("a drop", |e| matches!(e, Event::Closed(_))).await;
    }
    let (up, down) = schedule.await.unwrap();
    let log = p.shutdown().await;
    let mut stats = ConnStats::default();
    log.iter().for_each(|e| stats.apply(e));
    // The first open came at the start of the first window: count from it, as the server's
    // windows are.
    let first_open = log
        .iter()
        .find(|e| matches!(e.event, Event::Open(_)))
        .unwrap()
        .at;
    let last_drop = log
        .iter()
        .rev()
        .find(|e| matches!(e.event, Event::Closed(_)))
        .unwrap()
        .at;
    assert_eq!(stats.drops, ups.len() as u64, "every drop counted");
    assert_eq!(stats.connects, ups.len() as u64, "every up-window seen");
    // Each window is seen late by at most one retry delay (200 ms) and a dial; each outage
    // is the same amount longer.
    let resolution = Duration::from_millis(300) * ups.len() as u32;
    let seen_up = stats.up_total(last_drop);
    assert!(
        seen_up <= up + Duration::from_millis(200) && seen_up + resolution >= up,
        "up {seen_up:?}, the server was up {up:?}"
    );
    let seen_down = stats.down_total(last_drop) + stats.unprobed_total(last_drop);
    assert!(
        seen_down + Duration::from_millis(200) >= down && seen_down <= down + resolution,
        "down {seen_down:?}, the server was down {down:?}"
    );
    let expected = 100.0 * up.as_secs_f64() / (up + down).as_secs_f64();
    let got = stats.availability(last_drop).unwrap();
    assert!(
        (got - expected).abs() < 12.0,
        "availability {got:.1}%, the server's {expected:.1}%"
    );
    assert!(last_drop > first_open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rtt_is_from_the_write_to_the_pong_whatever_sent_the_ping() {
    let delay = Duration::from_millis(100);
    let srv = common::server(ServeOptions {
        pong_delay: Some(delay),
        ..Default::default()
    })
    .await;
    let rtts = |p: &Probe, app: bool| -> Vec<Duration> {
        p.events()
            .filter_map(|e| match e {
                Event::Rtt { rtt, app: a } if *a == app => Some(*rtt),
                _ => None,
            })
            .collect()
    };
    let within = |d: Duration| d >= delay && d < delay * 4;

    // The heartbeat's pings.
    let mut s = fast(&srv.url());
    s.ping_interval = Some(Duration::from_millis(250));
    let mut p = Probe::start(s);
    for _ in 0..3 {
        p.until("an rtt", |e| matches!(e, Event::Rtt { .. })).await;
    }
    let heartbeat = rtts(&p, false);
    assert!(heartbeat.iter().all(|d| within(*d)), "{heartbeat:?}");
    p.shutdown().await;

    // A manual ping (F4, /ping) on a connection idle for 1.5 s: not 1.5 s.
    let mut p = Probe::start(fast(&srv.url()));
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    p.send(Command::Ping).await;
    p.until("the rtt", |e| matches!(e, Event::Rtt { .. })).await;
    let manual = rtts(&p, false);
    assert!(manual.iter().all(|d| within(*d)), "{manual:?}");
    p.shutdown().await;

    // The application heartbeat, against a server whose application answers 100 ms later.
    let py = Peer::python("closer.py", &["delayed-pong", "100"]).await;
    let mut s = fast(&py.url());
    s.ping_interval = Some(Duration::from_millis(300));
    s.app_ping = Some(r#"{"op":"ping"}"#.into());
    s.app_pong = Some(regex::Regex::new(r#""op"\s*:\s*"pong""#).unwrap());
    let mut p = Probe::start(s);
    for _ in 0..3 {
        p.until("an app rtt", |e| matches!(e, Event::Rtt { app: true, .. }))
            .await;
    }
    let app = rtts(&p, true);
    assert!(app.iter().all(|d| within(*d)), "{app:?}");
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_frame_no_peer_may_send_is_reported_as_the_server_sent_it() {
    use common::faults::{RawServer, frame, handshake};
    use tokio::io::AsyncWriteExt;
    for (payload, said) in [
        (
            [&999u16.to_be_bytes()[..], b"bye"].concat(),
            "it sent close code 999, which no peer may send (RFC 6455 7.4), reason \"bye\"",
        ),
        (
            [&1005u16.to_be_bytes()[..], b""].concat(),
            "it sent close code 1005, which no peer may send (RFC 6455 7.4), reason \"\"",
        ),
        (
            [&4000u16.to_be_bytes()[..], b"\xff\xfeoops"].concat(),
            "it sent close code 4000 with a reason that is not UTF-8, reason \"\\xff\\xfeoops\"",
        ),
    ] {
        let srv = RawServer::start(move |tcp| {
            let payload = payload.clone();
            async move {
                let mut tcp = handshake(tcp).await;
                let _ = tcp.write_all(&frame(true, 0x8, &payload)).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
        .await;
        let mut p = Probe::start(fast(&srv.url()));
        let e = p.until("the error", |e| matches!(e, Event::Error(_))).await;
        let Event::Error(f) = e else { unreachable!() };
        assert!(
            wsmon::describe::message(&f)
                .starts_with(&format!("the server broke the WebSocket protocol: {said}")),
            "{}",
            wsmon::describe::message(&f)
        );
        let c = p.until("closed", |e| matches!(e, Event::Closed(_))).await;
        let Event::Closed(c) = c else { unreachable!() };
        assert_eq!(
            (c.code, c.by),
            (Some(1002), ClosedBy::Error),
            "wsmon's own reply"
        );
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_connection_whose_pings_go_unanswered_is_sick_everywhere() {
    let srv = common::server(ServeOptions {
        no_pong: true,
        tick: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--ping-interval",
        "200ms",
        "--pong-timeout",
        "5s",
        &srv.url(),
    ]);
    w.until("open", is("open")).await;
    let h = w
        .until("sick", |v| {
            v["event"] == "health" && v["health"] == "pings_unanswered"
        })
        .await;
    assert_eq!(h["degraded"], true);
    w.signal("-TERM").await;
    let (_, seen, _) = w.finish().await;
    let summary = seen.last().unwrap();
    assert_eq!(summary["health"], "pings_unanswered", "{summary}");
    assert_eq!(
        count(&seen, "closed"),
        1,
        "frames keep coming: no verdict, {seen:#?}"
    );
    let _ = Health::Healthy;
}
