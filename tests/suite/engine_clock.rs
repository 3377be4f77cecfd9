//! The engine's timing, exactly: heartbeat, dead-peer verdict, backoff and stagger on tokio's
//! paused clock, over in-memory pipes (no sockets, so virtual time is the only time).

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::Probe;
use common::pipe::{Answer, Pipes, answers_then_vanishes, deaf, echo};
use tokio::time::Instant;
use wsmon::engine::{ClosedBy, ConnSettings, Event};

const S: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn settings() -> ConnSettings {
    ConnSettings {
        seed: Some(42),
        ..ConnSettings::default()
    }
}

/// Waits for an event and says when (virtual time) it arrived.
async fn at(p: &mut Probe, what: &str, pred: impl Fn(&Event) -> bool) -> (Event, Instant) {
    let e = p.until(what, pred).await;
    (e, Instant::now())
}

#[tokio::test(start_paused = true)]
async fn the_first_connection_is_pinged_and_a_silent_peer_is_dead_at_ping_plus_timeout() {
    let (tx, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let first = std::sync::Mutex::new(Some(tx));
    let pipes = Arc::new(Pipes::new(move |_| match first.lock().unwrap().take() {
        Some(tx) => deaf(tx),
        None => echo(),
    }));
    let mut s = settings();
    s.ping_interval = Some(15 * S);
    s.pong_timeout = 10 * S;
    let mut p = Probe::start_with(s, pipes.clone());
    let (_, opened) = at(&mut p, "open", |e| matches!(e, Event::Open(_))).await;
    // The origin of wsmon pinged only after a reconnect: here the first connection is pinged,
    // and the peer gets the ping on schedule.
    let pinged = tokio::time::timeout(3600 * S, arrivals.recv())
        .await
        .expect("a ping reached the peer within the hour")
        .expect("the peer is there");
    assert_eq!(pinged - opened, 15 * S);
    let (closed, dead) = at(&mut p, "closed", |e| matches!(e, Event::Closed(_))).await;
    let Event::Closed(c) = closed else {
        unreachable!()
    };
    assert_eq!(c.by, ClosedBy::Heartbeat);
    assert_eq!(c.reason, "no pong for 10s");
    assert_eq!(dead - opened, 25 * S, "the verdict comes at ping + timeout");
    // The next dial (after the first backoff delay) opens an answering connection.
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    assert_eq!(pipes.dialled(), 2);
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn pings_go_out_on_schedule_and_every_pong_is_an_rtt_sample() {
    let pipes = Arc::new(Pipes::new(|_| echo()));
    let mut s = settings();
    s.ping_interval = Some(S);
    let mut p = Probe::start_with(s, pipes);
    let (_, opened) = at(&mut p, "open", |e| matches!(e, Event::Open(_))).await;
    for i in 1..=10u32 {
        let (ping, when) = at(&mut p, "ping", |e| matches!(e, Event::Ping { .. })).await;
        assert_eq!(
            ping,
            Event::Ping {
                seq: u64::from(i),
                app: false
            }
        );
        assert_eq!(when - opened, S * i, "ping {i}");
        p.until("rtt", |e| matches!(e, Event::Rtt { .. })).await;
    }
    let log = p.shutdown().await;
    assert!(
        !log.iter()
            .any(|s| matches!(&s.event, Event::Closed(c) if c.by == ClosedBy::Heartbeat)),
        "an answering peer is never declared dead"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_delays_grow_within_their_ceilings_and_a_stable_connection_resets_them() {
    // Five refusals, a connection shorter than stable_after, two refusals, a connection
    // longer than stable_after, then refusals again.
    let pipes = Arc::new(Pipes::new(|n| match n {
        6 => answers_then_vanishes(3 * S),
        9 => answers_then_vanishes(12 * S),
        _ => Answer::Refuse,
    }));
    let mut s = settings();
    s.reconnect_min = 500 * MS;
    s.reconnect_max = 30 * S;
    s.stable_after = 10 * S;
    s.ping_interval = None;
    let mut p = Probe::start_with(s, pipes.clone());
    let mut delays = Vec::new();
    let mut dialled_at = Vec::new();
    while delays.len() < 9 {
        let (e, when) = at(&mut p, "retry or dial", |e| {
            matches!(e, Event::Retry { .. } | Event::Connecting { .. })
        })
        .await;
        match e {
            Event::Retry { delay, .. } => delays.push(delay),
            _ => dialled_at.push(when),
        }
    }
    // Each dial starts when its retry said (the paused clock's timers have 1 ms steps).
    for i in 1..dialled_at.len() {
        let gap = dialled_at[i] - dialled_at[i - 1];
        let open_for = match i {
            6 => 3 * S,
            _ => Duration::ZERO,
        };
        let due = delays[i - 1] + open_for;
        assert!(
            gap >= due && gap <= due + MS,
            "dial {}: {gap:?} after the last, {due:?} due",
            i + 1
        );
    }
    // An outage's n-th delay is within [min, min * 2^(n-1)], capped at max.
    let ceiling = |n: u32| (500 * MS * 2u32.pow(n - 1)).min(30 * S);
    for (i, d) in delays[..5].iter().enumerate() {
        let n = i as u32 + 1;
        assert!(*d >= 500 * MS && *d <= ceiling(n), "delay {n}: {d:?}");
    }
    // A connection of 3 s (less than stable_after) does not reset the backoff: the ceiling
    // keeps growing; one of 12 s does: the next delay is the floor again.
    assert!(
        delays[5] <= ceiling(6) && delays[6] <= ceiling(7),
        "{delays:?}"
    );
    assert_eq!(delays[8], 500 * MS, "{delays:?}");
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_fleet_engine_waits_a_random_part_of_its_stagger_before_the_first_dial() {
    let mut firsts = Vec::new();
    for seed in 0..8 {
        let pipes = Arc::new(Pipes::new(|_| echo()));
        let mut s = settings();
        s.seed = Some(seed);
        s.stagger = 5 * S;
        let start = Instant::now();
        let mut p = Probe::start_with(s, pipes);
        let (_, when) = at(&mut p, "dial", |e| matches!(e, Event::Connecting { .. })).await;
        firsts.push(when - start);
        p.shutdown().await;
    }
    assert!(firsts.iter().all(|d| *d <= 5 * S), "{firsts:?}");
    firsts.sort();
    firsts.dedup();
    assert!(firsts.len() >= 6, "spread out, not in lockstep: {firsts:?}");
}
