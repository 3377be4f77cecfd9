//! What keeps a real feed alive and honest, on tokio's paused clock over in-memory pipes:
//! writes that cannot stall the connection, the application heartbeat, on-open messages after
//! every reconnect, auto-replies, stale and fresh feeds, and a preset's handshake.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Probe;
use common::pipe::{Answer, Peer, Pipes, deaf, echo, frozen};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Ws;
use wsmon::engine::{
    AutoReply, ClosedBy, Command, ConnSettings, Dir, Event, Kind, Preset, StaleAction,
};

const S: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn settings() -> ConnSettings {
    ConnSettings {
        seed: Some(1),
        reconnect_min: 100 * MS,
        reconnect_max: 100 * MS,
        ..ConnSettings::default()
    }
}

fn text(t: &str) -> Command {
    Command::Send {
        kind: Kind::Text,
        data: t.to_string().into(),
    }
}

fn peer(f: impl FnOnce(Peer) -> common::pipe::PeerTask + Send + 'static) -> Answer {
    Answer::Open(Box::new(f))
}

/// A peer that reads texts into `got` (one list per connection) and answers pings.
fn recorder(got: Arc<Mutex<Vec<Vec<String>>>>) -> Answer {
    peer(move |mut ws| {
        Box::pin(async move {
            got.lock().unwrap().push(Vec::new());
            while let Some(Ok(m)) = ws.next().await {
                if let Ws::Text(t) = m {
                    got.lock().unwrap().last_mut().unwrap().push(t.to_string());
                }
            }
        })
    })
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_stops_reading_is_dead_while_reads_and_commands_go_on() {
    let pipes = Arc::new(Pipes::new(|n| if n == 1 { frozen() } else { echo() }));
    let mut s = settings();
    s.ping_interval = Some(S);
    s.pong_timeout = S;
    let mut p = Probe::start_with(s, pipes);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    // The pipe holds 64 KiB and the peer reads nothing: the first write fills it.
    let started = Instant::now();
    for _ in 0..64 {
        p.send(Command::Send {
            kind: Kind::Binary,
            data: vec![0u8; 256 << 10].into(),
        })
        .await;
    }
    let closed = p.until("closed", |e| matches!(e, Event::Closed(_))).await;
    let Event::Closed(c) = closed else {
        unreachable!()
    };
    assert_eq!(c.by, ClosedBy::Heartbeat);
    assert_eq!(c.reason, "nothing written for 1s");
    assert!(
        Instant::now() - started <= 2 * S,
        "judged within ping_interval + pong_timeout of the stall"
    );
    let failure = p.failure_messages().remove(0);
    assert!(failure.contains("the peer stopped reading"), "{failure}");
    // What was not written waits for the next connection, which echoes it.
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    p.until(
        "a held message sent",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::Out && m.id > 0),
    )
    .await;
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_is_served_while_a_write_is_stuck() {
    let pipes = Arc::new(Pipes::new(|_| frozen()));
    let mut s = settings();
    s.ping_interval = None;
    s.pong_timeout = 3600 * S;
    let mut p = Probe::start_with(s, pipes);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    for _ in 0..16 {
        p.send(Command::Send {
            kind: Kind::Binary,
            data: vec![0u8; 256 << 10].into(),
        })
        .await;
    }
    tokio::time::sleep(10 * S).await;
    let asked = Instant::now();
    p.send(Command::Shutdown).await;
    let closed = p.until("closed", |e| matches!(e, Event::Closed(_))).await;
    assert!(matches!(closed, Event::Closed(c) if c.by == ClosedBy::Client));
    assert!(
        Instant::now() - asked <= 3 * S,
        "the close waits at most its grace, not for the stuck write"
    );
}

#[tokio::test(start_paused = true)]
async fn the_application_heartbeat_measures_rtt_and_names_a_deaf_application() {
    // Connection 1 answers {"op":"ping"}; connection 2 answers WebSocket pings but never the
    // application's.
    let pipes = Arc::new(Pipes::new(|n| {
        peer(move |mut ws| {
            Box::pin(async move {
                while let Some(Ok(m)) = ws.next().await {
                    if n == 1
                        && let Ws::Text(t) = &m
                        && t.contains("\"ping\"")
                    {
                        let _ = ws.send(Ws::text(r#"{"op":"pong"}"#)).await;
                    }
                }
            })
        })
    }));
    let mut s = settings();
    s.ping_interval = Some(5 * S);
    s.pong_timeout = 2 * S;
    s.app_ping = Some(r#"{"op":"ping"}"#.into());
    s.app_pong = Some(regex::Regex::new(r#""op"\s*:\s*"pong""#).unwrap());
    let mut p = Probe::start_with(s, pipes);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    for _ in 0..3 {
        p.until("app ping", |e| matches!(e, Event::Ping { app: true, .. }))
            .await;
        p.until("app rtt", |e| matches!(e, Event::Rtt { app: true, .. }))
            .await;
    }
    // No application ping shows as data, nor its answer.
    assert!(!p.events().any(|e| matches!(e, Event::Message(_))));
    p.send(Command::Reconnect).await;
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    let opened = Instant::now();
    let Event::Closed(c) = p.until("closed", |e| matches!(e, Event::Closed(_))).await else {
        unreachable!()
    };
    assert_eq!(c.by, ClosedBy::Heartbeat);
    assert_eq!(c.reason, "no application pong for 2s");
    assert_eq!(
        Instant::now() - opened,
        2 * S + std::time::Duration::from_millis(1),
        "the first application ping goes right after the open, not an interval later; then the timeout"
    );
    let message = p.failure_messages().pop().unwrap();
    assert!(
        message.contains("the server's application is not answering"),
        "{message}"
    );
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_pings_is_named_as_such() {
    let (tx, _arrivals) = tokio::sync::mpsc::unbounded_channel();
    let pipes = Arc::new(Pipes::new(move |_| deaf(tx.clone())));
    let mut s = settings();
    s.ping_interval = Some(S);
    s.pong_timeout = S;
    let mut p = Probe::start_with(s, pipes);
    let e = p.until("error", |e| matches!(e, Event::Error(_))).await;
    let Event::Error(f) = e else { unreachable!() };
    assert!(
        wsmon::describe::message(&f)
            .contains("has answered no ping on it: it does not answer pings"),
        "{}",
        wsmon::describe::message(&f)
    );
    assert!(
        !wsmon::describe::message(&f).contains("half-open"),
        "{}",
        wsmon::describe::message(&f)
    );
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn on_open_messages_go_first_after_every_open_then_the_queue() {
    let got: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let g = got.clone();
    let pipes = Arc::new(Pipes::new(move |n| match n {
        1 => Answer::Refuse,
        _ => recorder(g.clone()),
    }));
    let mut s = settings();
    s.ping_interval = None;
    s.on_open = vec!["subscribe a".into(), "subscribe b".into()];
    let mut p = Probe::start_with(s, pipes);
    p.until("refused", |e| matches!(e, Event::Error(_))).await;
    p.send(text("typed while down")).await;
    p.until("queued", |e| matches!(e, Event::Queued { .. }))
        .await;
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    p.until(
        "queued sent",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::Out && m.id > 0),
    )
    .await;
    p.send(Command::Reconnect).await;
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    p.until(
        "on_open again",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::Out && m.data == "subscribe b"),
    )
    .await;
    tokio::time::sleep(S).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            vec!["subscribe a", "subscribe b", "typed while down"],
            vec!["subscribe a", "subscribe b"]
        ]
    );
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn auto_replies_answer_count_and_are_not_data() {
    let pipes = Arc::new(Pipes::new(|_| {
        peer(|mut ws| {
            Box::pin(async move {
                for _ in 0..5 {
                    let _ = ws.send(Ws::text("2")).await;
                    match ws.next().await {
                        Some(Ok(Ws::Text(t))) if t == "3" => {}
                        other => panic!("expected the auto-reply 3, got {other:?}"),
                    }
                }
                let _ = ws.send(Ws::text("real data")).await;
                std::future::pending::<()>().await;
            })
        })
    }));
    let mut s = settings();
    s.ping_interval = None;
    s.auto_reply = vec![AutoReply {
        when: regex::Regex::new("^2$").unwrap(),
        send: "3".into(),
    }];
    let mut p = Probe::start_with(s, pipes);
    for n in 1..=5u64 {
        let e = p
            .until("auto reply", |e| matches!(e, Event::AutoReply { .. }))
            .await;
        assert_eq!(
            e,
            Event::AutoReply {
                received: "2".into(),
                sent: "3".into(),
                count: n
            }
        );
    }
    p.until(
        "data",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::In),
    )
    .await;
    let received: Vec<_> = p
        .events()
        .filter_map(|e| match e {
            Event::Message(m) if m.dir == Dir::In => Some(m.data.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(received, ["real data"], "the pings were not data");
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_silent_feed_is_stale_at_stale_after_and_fresh_when_data_comes() {
    let pipes = Arc::new(Pipes::new(|_| {
        peer(|mut ws| {
            Box::pin(async move {
                let _ = ws.send(Ws::text("first")).await;
                tokio::time::sleep(10 * S).await;
                let _ = ws.send(Ws::text("again")).await;
                while ws.next().await.is_some() {}
            })
        })
    }));
    let mut s = settings();
    s.ping_interval = Some(S);
    s.stale_after = Some(3 * S);
    let mut p = Probe::start_with(s, pipes);
    p.until("data", |e| matches!(e, Event::Message(_))).await;
    let first = Instant::now();
    let e = p.until("stale", |e| matches!(e, Event::Stale { .. })).await;
    assert_eq!(e, Event::Stale { silent: 3 * S });
    assert_eq!(Instant::now() - first, 3 * S, "pongs do not keep it fresh");
    let e = p.until("fresh", |e| matches!(e, Event::Fresh { .. })).await;
    assert_eq!(e, Event::Fresh { silent: 10 * S });
    assert_eq!(
        p.events()
            .filter(|e| matches!(e, Event::Stale { .. }))
            .count(),
        1,
        "stale is said once"
    );
    p.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_stale_feed_can_reconnect_and_subscribe_again() {
    let got: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let g = got.clone();
    let pipes = Arc::new(Pipes::new(move |_| recorder(g.clone())));
    let mut s = settings();
    s.ping_interval = None;
    s.stale_after = Some(2 * S);
    s.stale_action = StaleAction::Reconnect;
    s.on_open = vec!["subscribe".into()];
    let mut p = Probe::start_with(s, pipes);
    p.until("open", |e| matches!(e, Event::Open(_))).await;
    let opened = Instant::now();
    let Event::Closed(c) = p.until("closed", |e| matches!(e, Event::Closed(_))).await else {
        unreachable!()
    };
    assert_eq!(c.by, ClosedBy::Stale);
    assert_eq!(Instant::now() - opened, 2 * S);
    // At once, not after a backoff delay.
    p.until("redial", |e| matches!(e, Event::Connecting { .. }))
        .await;
    assert_eq!(Instant::now() - opened, 2 * S);
    p.until("reopen", |e| matches!(e, Event::Open(_))).await;
    p.until(
        "subscribed again",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::Out),
    )
    .await;
    tokio::time::sleep(100 * MS).await;
    assert_eq!(got.lock().unwrap().len(), 2);
    assert!(got.lock().unwrap().iter().all(|c| c == &["subscribe"]));
    p.shutdown().await;
}

/// An Engine.IO v4 server in a few lines: its open packet, the namespace ack, pings, events.
fn engine_io(stop_pinging_after: usize) -> Answer {
    peer(move |mut ws| {
        Box::pin(async move {
            let _ = ws
                .send(Ws::text(
                    r#"0{"sid":"e","upgrades":[],"pingInterval":300,"pingTimeout":200}"#,
                ))
                .await;
            match ws.next().await {
                Some(Ok(Ws::Text(t))) if t == "40" => {}
                other => panic!("expected the namespace connect, got {other:?}"),
            }
            let _ = ws.send(Ws::text(r#"40{"sid":"s1"}"#)).await;
            for i in 0.. {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if i < stop_pinging_after {
                    let _ = ws.send(Ws::text("2")).await;
                }
                let _ = ws.send(Ws::text(format!(r#"42["tick",{i}]"#))).await;
                // Drain what the client sent (its 3s and emits).
                while let Some(Some(Ok(_))) = ws.next().now_or_never() {}
            }
        })
    })
}

#[tokio::test(start_paused = true)]
async fn the_socketio_preset_joins_answers_pings_and_sends_on_open_after_the_ack() {
    let pipes = Arc::new(Pipes::new(|_| engine_io(5)));
    let mut s = settings();
    s.ping_interval = None;
    s.preset = Some(Preset::SocketIo);
    s.on_open = vec![r#"42["subscribe","prices"]"#.into()];
    let mut p = Probe::start_with(s, pipes);
    let e = p.until("ready", |e| matches!(e, Event::Ready { .. })).await;
    assert_eq!(
        e,
        Event::Ready {
            protocol: "socket.io",
            detail: "joined / · server pings every 300ms, gone after 500ms without one · sid s1"
                .into(),
            offsets: false,
        }
    );
    // The handshake went first, the on_open message after the ack.
    p.until(
        "on_open",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::Out && m.data.starts_with(b"42")),
    )
    .await;
    let sent: Vec<String> = p
        .log
        .iter()
        .filter_map(|s| match &s.event {
            Event::Message(m) if m.dir == Dir::Out => {
                Some(String::from_utf8_lossy(&m.data).into_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(sent, ["40", r#"42["subscribe","prices"]"#]);
    let e = p
        .until("pong", |e| matches!(e, Event::AutoReply { .. }))
        .await;
    assert!(matches!(e, Event::AutoReply { ref sent, .. } if &**sent == "3"));
    p.until("an event", |e| {
        matches!(e, Event::Message(m) if m.dir == Dir::In && m.data.starts_with(b"42[\"tick\""))
    })
    .await;
    // After 5 pings the server stops: the session is judged gone at pingInterval +
    // pingTimeout after the last one.
    let e = p.until("verdict", |e| matches!(e, Event::Error(_))).await;
    let Event::Error(f) = e else { unreachable!() };
    assert!(
        wsmon::describe::message(&f).contains("Socket.IO: no ping from the server for 500ms"),
        "{}",
        wsmon::describe::message(&f)
    );
    p.shutdown().await;
}
