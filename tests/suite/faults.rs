//! Network faults against real sockets: for each, the verdict wsmon gives, and that it keeps
//! working afterwards.

use crate::common;

use std::time::{Duration, Instant};

use common::faults::{FaultyProxy, RawServer, frame, handshake, hold, read_request};
use common::{Probe, fast};
use tokio::io::AsyncWriteExt;
use wsmon::engine::{Cause, ClosedBy, Dir, Event, Phase};
use wsmon::model::ConnStats;
use wsmon::server::{ServeOptions, Server};

fn opts() -> ServeOptions {
    ServeOptions {
        keep_texts: 1000,
        port: 0,
        ..ServeOptions::default()
    }
}

fn error_of(e: Event) -> wsmon::engine::Failure {
    match e {
        Event::Error(f) => (*f).clone(),
        other => panic!("not an error: {other:?}"),
    }
}

fn closed_of(e: Event) -> wsmon::engine::CloseInfo {
    match e {
        Event::Closed(c) => (*c).clone(),
        other => panic!("not a close: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_path_is_found_by_the_heartbeat_and_left_when_it_heals() {
    let srv = Server::start(opts()).await.unwrap();
    let proxy = FaultyProxy::start(srv.addr()).await;
    let mut s = fast(&proxy.url());
    s.ping_interval = Some(Duration::from_millis(300));
    s.pong_timeout = Duration::from_millis(400);
    s.connect_timeout = Duration::from_millis(800);
    let mut p = Probe::start(s);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    p.until("a pong", |e| matches!(e, Event::Rtt { .. })).await;

    // The path stops forwarding; nothing is closed.
    proxy.blackhole(true);
    let c = closed_of(p.until("dead", |e| matches!(e, Event::Closed(_))).await);
    assert_eq!(c.by, ClosedBy::Heartbeat, "the heartbeat found it");
    // Dials through the dead path get TCP (the proxy) but no upgrade answer.
    let f = error_of(
        p.until(
            "timeout",
            |e| matches!(e, Event::Error(f) if f.phase != Phase::Open),
        )
        .await,
    );
    assert_eq!(
        (f.cause, f.phase),
        (Cause::Timeout, Phase::Upgrade),
        "{}",
        wsmon::describe::message(&f)
    );

    // The path heals: it connects again and works.
    proxy.blackhole(false);
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    p.send_text("after the outage").await;
    p.until(
        "echo",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::In && m.data == "after the outage"),
    )
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_the_upgrade_times_out() {
    let srv = RawServer::start(|mut tcp| async move {
        read_request(&mut tcp).await;
        hold(tcp).await;
    })
    .await;
    let mut s = fast(&srv.url());
    s.connect_timeout = Duration::from_millis(400);
    let mut p = Probe::start(s);
    let t0 = Instant::now();
    let f = error_of(p.until("timeout", |e| matches!(e, Event::Error(_))).await);
    assert!(t0.elapsed() >= Duration::from_millis(400));
    assert_eq!((f.cause, f.phase), (Cause::Timeout, Phase::Upgrade));
    assert!(
        wsmon::describe::message(&f).contains("did not answer the WebSocket upgrade within 400ms"),
        "{}",
        wsmon::describe::message(&f)
    );
    p.until("a retry", |e| matches!(e, Event::Retry { .. }))
        .await;
    p.until("a second timeout", |e| matches!(e, Event::Error(_)))
        .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upgrade_within_the_timeout_connects() {
    let srv = RawServer::start(|tcp| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        hold(ws.into_inner()).await;
    })
    .await;
    let mut s = fast(&srv.url());
    s.connect_timeout = Duration::from_secs(3);
    let mut p = Probe::start(s);
    let Event::Open(info) = p.until("open", |e| matches!(e, Event::Open(_))).await else {
        unreachable!()
    };
    assert!(
        info.phases.handshake >= Duration::from_millis(290),
        "{:?}",
        info.phases.handshake
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_http_is_a_protocol_failure() {
    let srv = RawServer::start(|mut tcp| async move {
        read_request(&mut tcp).await;
        let _ = tcp.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n").await;
        let _ = tcp.shutdown().await;
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    let f = error_of(p.until("error", |e| matches!(e, Event::Error(_))).await);
    assert_eq!((f.cause, f.phase), (Cause::Protocol, Phase::Upgrade));
    assert!(
        wsmon::describe::message(&f).contains("did not answer with HTTP")
            && wsmon::describe::message(&f).contains("SSH-2.0-OpenSSH"),
        "{}",
        wsmon::describe::message(&f)
    );
    p.until("retry", |e| matches!(e, Event::Retry { .. })).await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_status_is_reported_and_retried() {
    for status in [400u16, 401, 403, 404, 426, 429, 500, 502, 503] {
        let srv = Server::start(ServeOptions {
            reject: Some(status),
            reject_body: Some(format!("body of {status}")),
            ..opts()
        })
        .await
        .unwrap();
        let mut p = Probe::start(fast(&srv.url()));
        let f = error_of(p.until("refusal", |e| matches!(e, Event::Error(_))).await);
        let h = f.http.as_ref().expect("http details");
        assert_eq!((f.cause, h.status), (Cause::Http, status));
        assert_eq!(&h.body[..], format!("body of {status}").as_bytes());
        p.until("retry", |e| matches!(e, Event::Retry { .. })).await;
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_on_429_sets_the_next_delay() {
    let srv = Server::start(ServeOptions {
        reject: Some(429),
        retry_after: Some(1),
        ..opts()
    })
    .await
    .unwrap();
    let mut p = Probe::start(fast(&srv.url()));
    let Event::Retry { delay, .. } = p.until("retry", |e| matches!(e, Event::Retry { .. })).await
    else {
        unreachable!()
    };
    assert!(
        delay >= Duration::from_secs(1),
        "Retry-After: 1 honoured, got {delay:?}"
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_names_its_location() {
    let srv = Server::start(ServeOptions {
        reject: Some(302),
        ..opts()
    })
    .await
    .unwrap();
    let mut p = Probe::start(fast(&srv.url()));
    let f = error_of(p.until("redirect", |e| matches!(e, Event::Error(_))).await);
    assert_eq!(f.http.as_ref().unwrap().status, 302);
    assert!(
        wsmon::describe::message(&f).contains("302 Found -> ws://")
            && wsmon::describe::message(&f).contains("/moved: connect to that URL instead"),
        "{}",
        wsmon::describe::message(&f)
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_close_code_is_named_and_followed_by_a_reconnect() {
    for (code, name) in [
        (1000u16, "normal closure"),
        (1001, "going away"),
        (1008, "policy violation"),
        (1011, "internal error"),
        (1012, "service restart"),
        (1013, "try again later"),
        (4004, "application"),
    ] {
        let srv = Server::start(ServeOptions {
            drop_after: Some(Duration::from_millis(100)),
            drop_code: Some(code),
            ..opts()
        })
        .await
        .unwrap();
        let mut p = Probe::start(fast(&srv.url()));
        let c = closed_of(p.until("close", |e| matches!(e, Event::Closed(_))).await);
        assert_eq!((c.by, c.code), (ClosedBy::Server, Some(code)));
        assert!(wsmon::describe::close(&c).contains(&format!("{code} {name}")));
        p.until("reopen", |e| matches!(e, Event::Open(_))).await;
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_in_the_middle_of_a_message_is_an_io_failure() {
    let srv = RawServer::start(|tcp| async move {
        let mut tcp = handshake(tcp).await;
        // A header that promises 1000 bytes, ten of them, then a TCP reset.
        let f = frame(true, 1, &[b'x'; 1000]);
        let _ = tcp.write_all(&f[..14]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A zero linger makes the close a reset (RST) instead of a FIN.
        let _ = socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO));
        drop(tcp);
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    let f = error_of(p.until("reset", |e| matches!(e, Event::Error(_))).await);
    assert_eq!((f.cause, f.phase), (Cause::Io, Phase::Open));
    assert!(
        wsmon::describe::message(&f).contains("reset"),
        "{}",
        wsmon::describe::message(&f)
    );
    let c = closed_of(p.until("closed", |e| matches!(e, Event::Closed(_))).await);
    assert_eq!((c.by, c.code), (ClosedBy::Error, Some(1006)));
    p.until("retry", |e| matches!(e, Event::Retry { .. })).await;
    p.until("it dials again", |e| matches!(e, Event::Open(_)))
        .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_without_a_close_frame_is_1006() {
    let srv = RawServer::start(|tcp| async move {
        let mut tcp = handshake(tcp).await;
        let _ = tcp.write_all(&frame(true, 1, b"last words")).await;
        let _ = tcp.shutdown().await;
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    p.until(
        "the message before",
        |e| matches!(e, Event::Message(m) if m.data == "last words"),
    )
    .await;
    let f = error_of(p.until("error", |e| matches!(e, Event::Error(_))).await);
    assert!(
        wsmon::describe::message(&f).contains("without a close frame"),
        "{}",
        wsmon::describe::message(&f)
    );
    let c = closed_of(p.until("closed", |e| matches!(e, Event::Closed(_))).await);
    assert_eq!(c.code, Some(1006));
    assert!(wsmon::describe::close(&c).contains("1006 abnormal closure"));
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragmented_message_arrives_whole() {
    let srv = RawServer::start(|tcp| async move {
        let mut tcp = handshake(tcp).await;
        let mut bytes = frame(false, 1, b"Hel");
        bytes.extend(frame(false, 0, b"lo, "));
        bytes.extend(frame(true, 0, b"wsmon"));
        let _ = tcp.write_all(&bytes).await;
        hold(tcp).await;
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    let m = p.until("message", |e| matches!(e, Event::Message(_))).await;
    assert!(matches!(m, Event::Message(m) if m.data == "Hello, wsmon"));
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_in_a_text_frame_is_a_protocol_failure_and_it_reconnects() {
    let srv = RawServer::start(|tcp| async move {
        let mut tcp = handshake(tcp).await;
        let _ = tcp
            .write_all(&frame(true, 1, &[b'o', b'k', 0xff, 0xfe]))
            .await;
        hold(tcp).await;
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    let f = error_of(p.until("error", |e| matches!(e, Event::Error(_))).await);
    assert_eq!(f.cause, Cause::Protocol);
    assert!(
        wsmon::describe::message(&f).contains("not valid UTF-8"),
        "{}",
        wsmon::describe::message(&f)
    );
    let c = closed_of(p.until("closed", |e| matches!(e, Event::Closed(_))).await);
    assert_eq!(c.code, Some(1007), "invalid payload data");
    p.until("it dials again", |e| matches!(e, Event::Connecting { .. }))
        .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_is_answered_and_the_connection_stays() {
    const PINGS: u64 = 10_000;
    let srv = RawServer::start(|tcp| async move {
        let mut tcp = handshake(tcp).await;
        let mut bytes = Vec::new();
        for i in 0..PINGS {
            bytes.extend(frame(true, 9, &i.to_be_bytes()));
        }
        bytes.extend(frame(true, 1, b"after the pings"));
        let _ = tcp.write_all(&bytes).await;
        hold(tcp).await;
    })
    .await;
    let mut p = Probe::start(fast(&srv.url()));
    p.until(
        "the message after",
        |e| matches!(e, Event::Message(m) if m.data == "after the pings"),
    )
    .await;
    let mut stats = ConnStats::default();
    p.log.iter().for_each(|s| stats.apply(s));
    assert_eq!(stats.peer_pings, PINGS);
    assert_eq!(stats.drops, 0, "still connected");
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv6_literal_connects() {
    let srv = Server::start(ServeOptions {
        bind: "::1".parse().unwrap(),
        ..opts()
    })
    .await
    .unwrap();
    let url = format!("ws://[::1]:{}/", srv.addr().port());
    let mut p = Probe::start(fast(&url));
    let Event::Open(info) = p.until("open", |e| matches!(e, Event::Open(_))).await else {
        unreachable!()
    };
    assert!(info.remote.is_ipv6(), "{}", info.remote);
    p.send_text("over v6").await;
    p.until(
        "echo",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::In),
    )
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_during_a_flood_all_arrive_in_order() {
    let srv = Server::start(ServeOptions {
        flood: 300_000,
        flood_size: 100,
        no_echo: true,
        ..opts()
    })
    .await
    .unwrap();
    let mut p = Probe::start(fast(&srv.url()));
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    let typed: Vec<String> = (0..200).map(|i| format!("typed {i}")).collect();
    for t in &typed {
        p.send_text(t).await;
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let mut received = 0u64;
    let mut sent = 0;
    while received < 300_000 || sent < typed.len() {
        let e = p
            .until("flood and sends", |e| matches!(e, Event::Message(_)))
            .await;
        match e {
            Event::Message(m) if m.dir == Dir::In => received += 1,
            _ => sent += 1,
        }
    }
    // The engine reported each as sent; the server reads them a moment later.
    let stats = srv.stats();
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    while stats.texts().len() < typed.len() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        stats.texts(),
        typed,
        "every typed message reached the server, in order"
    );
    p.shutdown().await;
}

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    // Linux counts in USER_HZ, 100 a second on every architecture it runs on.
    ticks / 100.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_out_of_file_descriptors_pauses_instead_of_spinning() {
    use tokio::io::AsyncBufReadExt;
    // `wsmon serve` with room for only a few sockets; then more connections than that wait
    // in its listen queue, and every accept fails with EMFILE while they do.
    let mut c = std::process::Command::new("sh");
    c.arg("-c").arg(format!(
        "ulimit -n 24 && exec {} serve --port 0",
        env!("CARGO_BIN_EXE_wsmon")
    ));
    common::bin::hermetic(&mut c, &common::bin::sandbox());
    let mut child = tokio::process::Command::from(c)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = out.next_line().await.unwrap().unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    // Let it take what it can and hit the limit.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_seconds(pid) - before;
    // Spinning on accept burns a whole core (2 s here); pausing up to a second costs nothing.
    assert!(
        used < 0.5,
        "the server used {used:.2} CPU s in 2 s while out of file descriptors"
    );
    drop(held);
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_reading_while_we_send_is_judged_dead() {
    // The upgrade completes, then the server never reads again: the kernel's buffers fill and
    // every write waits. (tests/engine_app.rs times the verdict exactly on a paused clock.)
    let srv = RawServer::start(|tcp| async move {
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        hold(ws.into_inner()).await;
    })
    .await;
    let mut s = fast(&srv.url());
    s.ping_interval = Some(Duration::from_secs(1));
    s.pong_timeout = Duration::from_secs(1);
    let mut p = Probe::start(s);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    for _ in 0..64 {
        p.send(wsmon::engine::Command::Send {
            kind: wsmon::engine::Kind::Binary,
            data: vec![7u8; 1 << 20].into(),
        })
        .await;
    }
    let c = closed_of(p.until("closed", |e| matches!(e, Event::Closed(_))).await);
    assert_eq!(c.by, ClosedBy::Heartbeat);
    assert_eq!(c.reason, "nothing written for 1s");
    let f = p.failure_messages().remove(0);
    assert!(f.contains("the peer stopped reading"), "{f}");
    p.shutdown().await;
}
