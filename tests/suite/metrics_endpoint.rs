//! The `/metrics` endpoint of the real binary as an unfriendly network meets it: methods and
//! paths it does not serve, hundreds of idle connections, a client that sends its request a
//! byte at a time, and a scrape flood during a message flood.

use crate::common;

use std::time::{Duration, Instant};

use common::bin::Lines;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsmon::server::{ServeOptions, Server};

/// Sends `request` raw and reads the whole answer (wsmon closes after each).
async fn raw(port: u16, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut answer))
        .await
        .expect("answered or closed");
    // Closed with the request unread, the connection is reset: no answer, as intended.
    if let Err(e) = read {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
        return String::new();
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Open files of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

async fn watched(srv: &Server) -> (Lines, u16) {
    let mut w = Lines::spawn(&["--headless", "--metrics", "127.0.0.1:0", &srv.url()]);
    let port = w.metrics_port().await;
    w.until("open", |v| v["event"] == "open").await;
    (w, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_get_metrics_is_served() {
    let srv = common::echo_server().await;
    let (w, port) = watched(&srv).await;
    let ok = raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(ok.contains("wsmon_up{endpoint="), "{ok}");
    let ok = raw(port, b"GET /metrics?name[]=x HTTP/1.0\r\n\r\n").await;
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    for method in ["POST", "PUT", "DELETE", "HEAD"] {
        let a = raw(
            port,
            format!("{method} /metrics HTTP/1.1\r\n\r\n").as_bytes(),
        )
        .await;
        assert!(
            a.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{method}: {a}"
        );
        assert!(a.contains("\r\nAllow: GET\r\n"), "{method}: {a}");
    }
    let a = raw(port, b"GET /probe HTTP/1.1\r\n\r\n").await;
    assert!(a.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{a}");
    assert!(a.contains("Target parameter is missing"), "{a}");
    for path in ["/", "/probes", "/metricsz", "/../etc/passwd"] {
        let a = raw(port, format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes()).await;
        assert!(a.starts_with("HTTP/1.1 404 Not Found\r\n"), "{path}: {a}");
        assert!(
            a.contains("GET /metrics"),
            "{path}: says what is served: {a}"
        );
    }
    let a = raw(
        port,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    )
    .await;
    assert!(a.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{a}");
    // A head past 8 KiB is not read on: the connection is closed without an answer.
    let long = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(raw(port, long.as_bytes()).await, "");
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
}

/// 500 connections that never send a byte hold at most `MAX_CONNECTIONS` (128) of wsmon's files, and each is cut
/// when its 2 s for a request head are up; a client sending its head a byte at a time is cut
/// too. Once they are gone, a scrape is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_clients_are_capped_and_cut() {
    let srv = common::echo_server().await;
    let (w, port) = watched(&srv).await;
    let pid = w.child.id().unwrap();
    let before = open_fds(pid);
    let mut idle = Vec::new();
    for _ in 0..500 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = open_fds(pid) - before;
    let cap = wsmon::metrics::MAX_CONNECTIONS;
    assert!(held <= cap + 4, "500 idle connections hold {held} files");
    // The first ones served are cut at their deadline: the peer sees the close.
    let mut cut = 0;
    for tcp in idle.iter_mut().take(cap) {
        let mut b = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut b)).await {
            cut += 1;
        }
    }
    assert!(
        cut >= cap - 4,
        "only {cut} of the first {cap} idle connections were cut"
    );
    drop(idle);

    // A byte every 100 ms: a 60-byte head would take 6 s; it is cut after about 2.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let started = Instant::now();
    let request = b"GET /metrics HTTP/1.1\r\nHost: somewhere.example:9000\r\n\r\n";
    let mut cut_after = None;
    for b in request {
        if slow.write_all(&[*b]).await.is_err() {
            cut_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buf)).await
        {
            cut_after = Some(started.elapsed());
            break;
        }
    }
    let cut_after = cut_after.expect("the slow client was served or never cut");
    assert!(
        cut_after < Duration::from_millis(5000),
        "cut after {cut_after:?}"
    );

    let text = common::metrics_text(port).await;
    assert!(text.contains("wsmon_up{endpoint="), "{text}");
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
}

/// Eight clients scraping as fast as they can while 200,000 messages arrive: every message
/// is folded and output, and every scrape is answered (most with a shared rendering).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_flood_does_not_stop_the_fold() {
    const FLOOD: u64 = 200_000;
    let srv = common::server(ServeOptions {
        flood: FLOOD,
        flood_size: 32,
        ..Default::default()
    })
    .await;
    let mut w = Lines::spawn(&["--headless", "--metrics", "127.0.0.1:0", &srv.url()]);
    let port = w.metrics_port().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut scrapers = Vec::new();
    for _ in 0..8 {
        let stop = stop.clone();
        scrapers.push(tokio::spawn(async move {
            let (mut ok, mut other) = (0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let a = raw(port, b"GET /metrics HTTP/1.1\r\n\r\n").await;
                if a.starts_with("HTTP/1.1 200 OK") {
                    ok += 1;
                } else {
                    other += 1;
                }
            }
            (ok, other)
        }));
    }
    let mut got = 0;
    w.until("the whole flood", |v| {
        got += u64::from(v["event"] == "recv");
        got == FLOOD
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut other) = (0, 0);
    for s in scrapers {
        let (o, x) = s.await.unwrap();
        ok += o;
        other += x;
    }
    assert!(ok > 0, "no scrape was answered");
    assert_eq!(other, 0, "{other} scrapes were not answered 200");
    // Every answer is rendered after its request came: all that was output is counted.
    let received = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("wsmon_messages_total{") && l.contains("direction=\"in\""))
            .find_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
    };
    let text = common::metrics_text(port).await;
    assert_eq!(received(&text), Some(FLOOD as f64), "{text}");
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
}
