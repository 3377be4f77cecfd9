//! 200 server restarts in a row: every drop and reconnect counted exactly, never two dials at
//! once, and no growth in tasks, file descriptors or memory. A test binary of its own (the one
//! beside `tests/suite/`): the files and memory measured are the whole process's, so no other
//! test may run in it.

#[path = "suite/common/mod.rs"]
mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Probe, fast};
use wsmon::engine::Event;
use wsmon::model::ConnStats;
use wsmon::server::{ServeOptions, Server};

const CYCLES: usize = 200;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_restarts_counted_exactly_without_leaks() {
    let mut srv = common::echo_server().await;
    let port = srv.addr().port();
    let mut s = fast(&srv.url());
    s.reconnect_min = Duration::from_millis(5);
    s.reconnect_max = Duration::from_millis(20);
    let mut p = Probe::start(s);
    let metrics = tokio::runtime::Handle::current().metrics();
    let mut baseline = None;
    for cycle in 0..CYCLES {
        p.until("open", |e| matches!(e, Event::Open(_))).await;
        let st = srv.stats();
        assert_eq!(
            st.accepted.load(Ordering::SeqCst),
            1,
            "cycle {cycle}: one dial reached this server"
        );
        assert_eq!(
            st.max_live.load(Ordering::SeqCst),
            1,
            "cycle {cycle}: never two connections at once"
        );
        if cycle == 20 {
            baseline = Some((open_fds(), metrics.num_alive_tasks(), rss_kib()));
        }
        srv.kill().await;
        p.until("drop", |e| matches!(e, Event::Closed(_))).await;
        srv = Server::start(ServeOptions {
            port,
            ..Default::default()
        })
        .await
        .expect("the port is free again");
    }
    p.until("last open", |e| matches!(e, Event::Open(_))).await;
    // The last cycle's sockets and tasks end a moment after the open; wait for them (a
    // leak never settles, and fails below with what it grew to).
    let (fds0, tasks0, rss0) = baseline.unwrap();
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while (open_fds() > fds0 + 2 || metrics.num_alive_tasks() > tasks0 + 2)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (fds, tasks, rss) = (open_fds(), metrics.num_alive_tasks(), rss_kib());
    assert!(
        fds <= fds0 + 2,
        "file descriptors grew from {fds0} to {fds}"
    );
    assert!(tasks <= tasks0 + 2, "tasks grew from {tasks0} to {tasks}");
    assert!(
        rss <= rss0 + 4096,
        "memory grew from {rss0} KiB to {rss} KiB"
    );

    let log = p.shutdown().await;
    let mut stats = ConnStats::default();
    log.iter().for_each(|s| stats.apply(s));
    assert_eq!(stats.connects, CYCLES as u64 + 1);
    assert_eq!(stats.reconnects, CYCLES as u64);
    assert_eq!(stats.drops, CYCLES as u64);
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
    println!(
        "{CYCLES} restarts: {} dials, fds {fds0}->{fds}, tasks {tasks0}->{tasks}, RSS {rss0}->{rss} KiB",
        stats.total_attempts
    );
}
